"""Alarms, decided then kept. At intake each mail is routed by the policy (`file_mails`: when to call, whether to
arrange a technician) and filed, or quarantined with why. Then an alarm becomes work: each call after it is
decided by the policy, and a call that reaches the customer ends the alarm — a repair needed opens (or joins) the machine's incident, no repair closes it with the reason.
Nothing leaves the calls due without one of those ends; an unreached customer is called again (the next-day
retry the policy decides).

The incident is decided at the alarm's receipt: its case's `at` is when NEC received the alarm, the notice of
第1章 2.2 ※ (R: an ESMPRO alarm is a notice that a failure occurred, as a customer's call is), so its onsite
deadline runs 2 service hours from the receipt, not from the call that found the repair needed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sptui.desk.cases import alarm_case, decided
from sptui.errors import CaseError
from sptui.store import BadRequest, NewAlarm, NewIncident, Stored


def _request(at: dt.datetime, reached: bool, repair_needed: bool | None, reason: str | None) -> str | None:
    """The call's request checked: a reached customer's call says whether a repair is needed, and a call that
    finds none says why. Returns the closing reason, stripped."""
    if not isinstance(at, dt.datetime) or at.utcoffset() is None:
        raise BadRequest(f"the call's time must carry its zone (Asia/Tokyo, +09:00), not {at!r}")
    if not reached:
        if repair_needed is not None:
            raise BadRequest("whether a repair is needed is decided when the customer is reached")
        return None
    if repair_needed is None:
        raise BadRequest("say whether the machine needs a repair: repair needed (opens or joins its incident) or "
                         "no repair, with the reason (closes the alarm)")
    reason = (reason or "").strip()
    if not repair_needed and not reason:
        raise BadRequest("closing an alarm without a repair needs the reason (what the customer said)")
    return reason or None


def contact(store, policy, aid: int, *, at: dt.datetime, reached: bool, operator: str,
            repair_needed: bool | None = None, reason: str | None = None, note: str = "",
            version: int | None = None) -> dict[str, Any]:
    """A call after alarm `aid`, decided then kept (store.alarms.save_contact): unreached, the next call is decided;
    reached with a repair needed, the alarm is linked to the machine's open incident or to a new one decided at
    the alarm's receipt; reached without, the alarm is closed with `reason`. Returns the contact, the alarm's
    status, the incident id and whether the incident was opened now."""
    reason = _request(at, reached, repair_needed, reason)
    alarm = store.alarms.get(aid)
    if at < alarm["received_at"]:
        raise BadRequest(f"the call ({at:%Y-%m-%d %H:%M}) cannot be before the alarm was received "
                         f"({alarm['received_at']:%Y-%m-%d %H:%M})")
    machine = store.registry.machine_by_id(alarm["machine_id"])
    attempts = store.alarms.contact_attempts(aid) + [{"at": at, "reached": reached}]
    case = alarm_case(machine, alarm["received_at"], attempts, repair_needed=bool(repair_needed))
    decision = policy.decide(case)
    kept = decided(decision, case)
    incident = None
    if reached and repair_needed:
        what = " ".join(str(x) for x in (alarm["event_id"], alarm["trap"]) if x) or "alarm"
        incident = NewIncident(machine["id"], machine["label_number"], alarm["received_at"], case, kept,
                               f"alarm #{aid} on {alarm['computer']}: {what}")
    status = "retry" if not reached else "linked" if repair_needed else "closed"
    text = (f"alarm #{aid} received {alarm['received_at']:%Y-%m-%d %H:%M} ({alarm['computer']}): customer reached "
            f"at {at:%Y-%m-%d %H:%M}, repair needed")
    out = store.alarms.save_contact(aid, operator=operator, version=version if version is not None else alarm["version"],
                                    at=at, reached=reached, note=note, decided=kept, status=status,
                                    closed_reason=reason if status == "closed" else None, incident=incident,
                                    alarm_text=text)
    return dict(out, contact=decision.contact or {})


# ---- intake: each mail routed, then filed (or quarantined) -----------------------------------------------------
def file_mails(store, policy, items: list[tuple]) -> list[Stored]:
    """Several mails in one transaction (one commit for all: group commit). Each item is (raw, mail or
    AlarmParseError, via, received_at): a mail that cannot be parsed, matched to one registered machine or
    decided for is quarantined with why; the others are routed by the policy and filed. The alarms of a batch
    are looked up and inserted with one statement each; the unique Message-ID and (machine, event, time) decide
    what is a duplicate, also within the batch and against another intake writing at the same time."""
    out: list[Stored | None] = [None] * len(items)
    with store.db.write() as conn:
        machines = store.alarms.machines_named(conn, (m.computer.strip() for _, m, _, _ in items
                                                      if not isinstance(m, Exception)))
        pending: list[tuple[int, NewAlarm]] = []
        for i, (raw, mail, via, received_at) in enumerate(items):
            routed = route(policy, machines, mail, via, received_at)
            if isinstance(routed, NewAlarm):
                pending.append((i, routed))
                continue
            reason, message, machine_id = routed
            out[i] = store.quarantine.add(conn, raw, reason=reason, message=message, via=via, received_at=received_at,
                                          message_id=getattr(mail, "message_id", None),
                                          sender=getattr(mail, "sender", None), machine_id=machine_id)
        for (i, _), stored in zip(pending, store.alarms.insert(conn, [a for _, a in pending])):
            out[i] = stored
    return out  # type: ignore[return-value]


def route(policy, machines: dict[str, dict | None], mail, via: str, received_at: dt.datetime
          ) -> NewAlarm | tuple[str, str, int | None]:
    """The alarm a parsed mail becomes, routed by the policy at its receipt (the next call, whether to arrange a
    technician; `closed` when no call is due); or why it cannot be filed: (reason, message, the machine's id if one
    was found) for the quarantine. `machines`: the registered machine of each computer name
    (store.alarms.machines_named)."""
    if isinstance(mail, Exception):  # an AlarmParseError: its reason and message
        return mail.reason, mail.message, None
    machine = machines.get(mail.computer.strip())
    if machine is None:
        return "unknown-machine", f"no single registered machine has the computer name {mail.computer!r}", None
    if machine["express_start_on"] is None:
        return "no-express", (f"machine {machine['label_number']} ({mail.computer}) has no Express alarm service "
                              "registered (express_start_on)"), machine["id"]
    case = alarm_case(machine, received_at, [])
    try:
        decision = policy.decide(case)
    except CaseError as e:  # the policy cannot decide for this machine: kept, with why
        hint = (" (a variant from a plugin that is not installed or failed to load? see sptui plugins -v)"
                if getattr(e, "field", "") == "pack.variant" else "")
        return "no-decision", f"the policy cannot decide for machine {machine['label_number']}: {e}{hint}", machine["id"]
    contact = decision.contact or {}
    closed = not contact.get("next_contact_at")
    return NewAlarm(machine["id"], mail, via, received_at, decided(decision, case), "closed" if closed else "new",
                    contact.get("reason", "no call") if closed else None)
