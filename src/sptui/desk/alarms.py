"""An alarm becomes work: each call after it is decided by the policy, and a call that reaches the customer ends
the alarm — a repair needed opens (or joins) the machine's incident, no repair closes it with the reason.
Nothing leaves the calls due without one of those ends; an unreached customer is called again (the next-day
retry the policy decides).

The incident is decided at the alarm's receipt: its case's `at` is when NEC received the alarm, the notice of
第1章 2.2 ※ (R: an ESMPRO alarm is a notice that a failure occurred, as a customer's call is), so its onsite
deadline runs 2 service hours from the receipt, not from the call that found the repair needed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sptui.store import schema as S
from sptui.store.db import BadRequest
from sptui.store.alarms import alarm_case


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
    """A call after alarm `aid`, decided then kept (Store.save_contact): unreached, the next call is decided;
    reached with a repair needed, the alarm is linked to the machine's open incident or to a new one decided at
    the alarm's receipt; reached without, the alarm is closed with `reason`. Returns the contact, the alarm's
    status, the incident id and whether the incident was opened now."""
    reason = _request(at, reached, repair_needed, reason)
    alarm = store.alarm(aid)
    if at < alarm["received_at"]:
        raise BadRequest(f"the call ({at:%Y-%m-%d %H:%M}) cannot be before the alarm was received "
                         f"({alarm['received_at']:%Y-%m-%d %H:%M})")
    machine = store.machine_rows(S.machines.c.id == alarm["machine_id"], 1)[0]
    attempts = store.contact_attempts(aid) + [{"at": at, "reached": reached}]
    case = alarm_case(machine, alarm["received_at"], attempts, repair_needed=bool(repair_needed))
    decision = policy.decide(case)
    incident = None
    if reached and repair_needed:
        what = " ".join(str(x) for x in (alarm["event_id"], alarm["trap"]) if x) or "alarm"
        incident = {"machine_id": machine["id"], "label": machine["label_number"], "case": case,
                    "decision": decision, "summary": f"alarm #{aid} on {alarm['computer']}: {what}", "support": "hw"}
    status = "retry" if not reached else "linked" if repair_needed else "closed"
    text = (f"alarm #{aid} received {alarm['received_at']:%Y-%m-%d %H:%M} ({alarm['computer']}): customer reached "
            f"at {at:%Y-%m-%d %H:%M}, repair needed")
    return store.save_contact(aid, operator=operator, version=version if version is not None else alarm["version"],
                              at=at, reached=reached, note=note, decision=decision, status=status,
                              closed_reason=reason if status == "closed" else None, incident=incident,
                              alarm_text=text)
