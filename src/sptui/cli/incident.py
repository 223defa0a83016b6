"""`sptui incident`: open, show, claim, take-over, assign, note, dispatch, complete, close. An action is decided by the desk
(sptui.desk) and kept by the store under its one rule for who may act."""
from __future__ import annotations

import sys

import click

from sptui.cli import main
from sptui.cli.common import db_option, instant, load, open_store, operator_option, policy_option
from sptui.cli.errors import BadInput, Commands, say
from sptui.cli.options import ID, VERSION

version_option = click.option("--version", "version", type=VERSION, default=None,
                              help="the version you read: refused if it moved on")


@main.group(cls=Commands)
def incident():
    """Incidents: open, show, claim, take-over, assign, dispatch, complete, note, close."""


@incident.command("open")
@click.option("--label", required=True, help="the machine's label number")
@click.option("--at", "at", required=True, help="when the notice was received, e.g. 2026-11-27T16:45+09:00")
@click.option("--summary", required=True)
@click.option("--support", type=click.Choice(["hw", "pp"]), default="hw")
@click.option("--cause", default=None, help="an exclusion cause (ex-01 …), if known")
@db_option
@operator_option
@policy_option
def incident_open(label, at, summary, support, cause, db_url, operator, policy_path):
    """Open an incident for a registered machine; the policy decides it now and the decision is kept."""
    from sptui.desk import open_incident
    from sptui.store import StoreError, operator_name

    when = instant(at, "at")
    policy = load(policy_path)
    store = open_store(db_url)
    try:
        iid = open_incident(store, policy, label=label, at=when, summary=summary, support=support, cause=cause,
                            operator=operator_name(operator))
    except StoreError as e:  # no machine with that label number, a summary the store cannot keep
        raise BadInput(str(e)) from None
    inc = store.incidents.get(iid)
    say(f"incident {iid}: {inc['verdict']}"
               + (f", on site by {inc['deadline']:%Y-%m-%d %H:%M}" if inc["deadline"] else ""))


@incident.command("show", reads_only=True)
@click.argument("iid", type=ID)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
@db_option
def incident_show(iid, lang, db_url):
    """One incident: the decision with its reasons and clauses, and the timeline."""
    store = open_store(db_url)
    inc = store.incidents.get(iid)
    d = inc["decision"]
    pays = " · customer pays" if inc["billing"] in ("fee", "quote-needed") else ""
    say(f"incident {iid}  {inc['status']}{pays}  owner {inc['owner'] or '-'}  version {inc['version']}")
    say(f"received {inc['received_at']:%Y-%m-%d %H:%M}  verdict {inc['verdict']}"
        + (f"  on site by {inc['deadline']:%Y-%m-%d %H:%M}" if inc["deadline"] else ""))
    say(f"policy {d['policy']['name']} {d['policy']['version']} {inc['policy_digest'][:19]}")
    for i, r in enumerate(d["reasons"]):
        msg = d["messages_ja"][i] if lang == "ja" else r["message"]
        say(f"  {r['outcome']:<8} {r['rule']:<24} [{r['cite']}] {msg}")
    for e in store.incidents.timeline(iid):
        say(f"  {e['at']:%Y-%m-%d %H:%M:%S}  {e['operator']:<10} {e['kind']:<10} {e['text']}")


@incident.command("claim")
@click.argument("iids", type=ID, nargs=-1, required=True)
@db_option
@operator_option
def incident_claim(iids, db_url, operator):
    """Take ownership of incidents; one that another operator owns is refused with who owns it (and the others
    are claimed still)."""
    from sptui.cli.errors import exit_code_and_message
    from sptui.store import StoreError, operator_name

    store = open_store(db_url)
    who = operator_name(operator)
    failed = 0
    for iid in iids:
        try:
            store.incidents.claim(iid, operator=who)
            say(f"incident {iid}: claimed by {who}")
        except StoreError as e:
            failed += 1
            say(f"error: {exit_code_and_message(e)[1]}", err=True)
    sys.exit(1 if failed else 0)


@incident.command("note")
@click.argument("iid", type=ID)
@click.argument("text")
@version_option
@db_option
@operator_option
def incident_note(iid, text, version, db_url, operator):
    """Add a note to an incident's timeline (its owner, or anyone while nobody owns it)."""
    from sptui.store import operator_name

    open_store(db_url).incidents.add_note(iid, text, operator=operator_name(operator), version=version)


@incident.command("take-over")
@click.argument("iid", type=ID)
@version_option
@db_option
@operator_option
def incident_take_over(iid, version, db_url, operator):
    """Take over an incident another operator owns (audited, in its timeline)."""
    from sptui.store import operator_name

    who = operator_name(operator)
    open_store(db_url).incidents.take_over(iid, operator=who, version=version)
    say(f"incident {iid}: taken over by {who}")


@incident.command("assign")
@click.argument("iid", type=ID)
@click.option("--to", "to", required=True, help="the operator it goes to")
@version_option
@db_option
@operator_option
def incident_assign(iid, to, version, db_url, operator):
    """Hand an incident to another operator (its owner, or anyone while nobody owns it); audited."""
    from sptui.store import operator_name

    open_store(db_url).incidents.assign(iid, to, operator=operator_name(operator), version=version)
    say(f"incident {iid}: assigned to {to.strip()}")


def _consent(by, via, at):
    """--consent-by/--consent-via/--consent-at as a Consent, or None when none was given."""
    from sptui.desk import Consent
    from sptui.store import now

    if by is None and via is None and at is None:
        return None
    if by is None or via is None:
        raise BadInput("the customer's consent needs both --consent-by NAME and --consent-via phone|mail")
    return Consent(by, via, instant(at, "consent-at") if at else now())  # (a BadRequest is bad input)


@incident.command("dispatch")
@click.argument("iid", type=ID)
@click.option("--technician", required=True)
@click.option("--depart", required=True, help="departure, e.g. 2026-11-27T17:10+09:00")
@click.option("--complete", default=None, help="end of the work, when known: the 別表-1 fee is then decided")
@click.option("--technicians", default=1, type=click.IntRange(1, 99), show_default=True)
@click.option("--late-reason", default=None,
              help="why the onsite deadline was missed: traffic, weather, site or parts (the desk checks it)")
@click.option("--confirm-uncovered", is_flag=True,
              help="dispatch although the machine's verdict is not-covered, not-started or consult (the customer pays)")
@click.option("--consent-by", default=None, help="who at the customer consented to work they pay for")
@click.option("--consent-via", type=click.Choice(["phone", "mail"]), default=None, help="how they consented")
@click.option("--consent-at", default=None, help="when they consented (default: now)")
@click.option("--version", "version", type=VERSION, default=None,
              help="the version you read (`incident show`): refused if someone changed it since")
@db_option
@operator_option
@policy_option
def incident_dispatch(iid, technician, depart, complete, technicians, late_reason, confirm_uncovered, consent_by,
                      consent_via, consent_at, version, db_url, operator, policy_path):
    """Dispatch a technician. The incident is decided with the work (the 別表-1 fee once --complete is known);
    work the customer pays for needs their consent, work on an uncovered machine --confirm-uncovered."""
    from sptui.desk import Work, dispatch
    from sptui.store import operator_name

    consent = _consent(consent_by, consent_via, consent_at)
    departed, completed = instant(depart, "depart"), instant(complete, "complete") if complete else None
    policy = load(policy_path)
    store = open_store(db_url)
    dispatch(store, policy, iid, operator=operator_name(operator), technician=technician,
             work=Work(departed, completed, technicians), late_reason=late_reason, version=version,
             confirm_uncovered=confirm_uncovered, consent=consent)
    line = [e["text"] for e in store.incidents.timeline(iid) if e["kind"] == "dispatched"][-1]
    say(f"incident {iid}: dispatched {line}")


@incident.command("complete")
@click.argument("iid", type=ID)
@click.option("--at", "at", required=True, help="when the work really ended, e.g. 2026-11-27T19:40+09:00")
@version_option
@db_option
@operator_option
@policy_option
def incident_complete(iid, at, version, db_url, operator, policy_path):
    """Record when a dispatched incident's work really ended (as the technician reports it): the 別表-1 fee is
    decided again for the departure and this completion, and kept (the fee before → after in the timeline)."""
    from sptui.desk import complete
    from sptui.store import operator_name

    when = instant(at, "at")
    policy = load(policy_path)
    store = open_store(db_url)
    complete(store, policy, iid, operator=operator_name(operator), completed_at=when, version=version)
    line = [e["text"] for e in store.incidents.timeline(iid) if e["kind"] == "completed"][-1]
    say(f"incident {iid}: {line}")


@incident.command("close")
@click.argument("iid", type=ID)
@click.option("--text", default="")
@version_option
@db_option
@operator_option
def incident_close(iid, text, version, db_url, operator):
    """Close an incident (its owner, or anyone while nobody owns it)."""
    from sptui.store import operator_name

    open_store(db_url).incidents.close(iid, operator=operator_name(operator), text=text, version=version)
