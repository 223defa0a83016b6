"""`sptui alarm`: the alarm inbox, the quarantine, the calls due now, and the call after an alarm (decided by the
desk: sptui.desk.contact)."""
from __future__ import annotations

import click

from sptui.cli import main
from sptui.cli.common import db_option, instant, load, open_store, operator_option, policy_option
from sptui.cli.errors import Commands, say
from sptui.cli.options import ID, VERSION


@main.group(cls=Commands)
def alarm():
    """Alarms: the inbox, the quarantine, calls due now, and contact attempts."""


@alarm.command("list", reads_only=True)
@click.option("--due", is_flag=True, help="only alarms whose next contact time has come (first calls and retries)")
@click.option("--quarantine", is_flag=True, help="the quarantine instead: mails that could not be filed, with why")
@db_option
def alarm_list(due, quarantine, db_url):
    """The alarm inbox (or the quarantine), oldest first."""
    from sptui.store import now

    store = open_store(db_url)
    if quarantine:
        for q in store.quarantine.rows():
            say(f"Q{q['id']:<5} {q['received_at']:%Y-%m-%d %H:%M}  {q['reason']:<16} {q['via']}  {q['message']}")
        return
    rows = store.alarms.due(now()) if due else store.alarms.rows()
    for a in rows:
        nxt = f"{a['next_contact_at']:%Y-%m-%d %H:%M}" if a["next_contact_at"] else "-"
        say(f"{a['id']:<6} {a['occurred_at']:%Y-%m-%d %H:%M}  {a['computer']:<12} {a['event_id'] or '-':<12} "
            f"{a['status']:<8} next contact {nxt}{'  arrange technician' if a['arrange_technician'] else ''}"
            + (f"  incident {a['incident_id']}" if a["incident_id"] else "")
            + (f"  ({a['closed_reason']})" if a["closed_reason"] else ""))


@alarm.command("contact")
@click.argument("aid", type=ID)
@click.option("--at", "at", default=None, help="when the call was made (default: now)")
@click.option("--reached/--not-reached", required=True, help="whether the customer's contact person was reached")
@click.option("--repair-needed/--no-repair", "repair_needed", default=None,
              help="reached: the machine needs an onsite repair (opens, or joins, its incident) or not (closes the "
                   "alarm, with --reason)")
@click.option("--reason", default=None, help="--no-repair: why no repair follows (what the customer said)")
@click.option("--note", default="")
@click.option("--version", "version", type=VERSION, default=None, help="the alarm's version you read")
@db_option
@operator_option
@policy_option
def alarm_contact(aid, at, reached, repair_needed, reason, note, version, db_url, operator, policy_path):
    """Record a call after an alarm. Unreached: the customer is called again the next day, in hours. Reached: the
    alarm ends — linked to the machine's incident when a repair is needed, else closed with the reason."""
    from sptui.desk import contact
    from sptui.store import now, operator_name

    when = instant(at, "at") if at else now()
    policy = load(policy_path)
    store = open_store(db_url)
    out = contact(store, policy, aid, at=when, reached=reached, repair_needed=repair_needed, reason=reason,
                  operator=operator_name(operator), note=note, version=version)
    if out["status"] == "linked":
        inc = store.incidents.get(out["incident_id"])
        say(f"alarm {aid}: incident {inc['id']} " + ("opened" if out["opened"] else "(open already) joined")
                   + f": {inc['verdict']}" + (f", on site by {inc['deadline']:%Y-%m-%d %H:%M}" if inc["deadline"] else ""))
    elif out["status"] == "closed":
        say(f"alarm {aid}: closed, no repair ({reason.strip()})")
    else:
        nxt = out["contact"].get("next_contact_at")
        say(f"alarm {aid}: " + (f"call again at {nxt:%Y-%m-%d %H:%M}" if nxt else "no further call is due"))
