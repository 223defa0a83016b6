"""A registered machine's case (eval.md's JSON) for the policy to decide, and what the store keeps of the decision."""
from __future__ import annotations

import datetime as dt

from sptui.model.case import YEARS
from sptui.store import Decided
from sptui.store import schema as S


def _iso(v):
    return v.isoformat() if v is not None else None


def case_for(machine: dict, *, at: dt.datetime, support: str = "hw", repair_needed: bool = True,
             cause: str | None = None, component: dict | None = None, alarm: dict | None = None,
             work: dict | None = None) -> dict:
    """The eval.md case for a registered machine (a row of `store.registry`) and a notice received at `at`."""
    if at.tzinfo is None:
        raise S.NaiveDatetimeError(f"naive datetime {at.isoformat()}: give a zone (+09:00)")
    return {
        "at": at.isoformat(), "support": support, "repair_needed": repair_needed,
        "pack": {"variant": machine["variant"], "years": machine["years"],
                 "purchased_on": _iso(machine["pack_purchased_on"])},
        "registration": {"status": machine["registration_status"], "submitted_on": _iso(machine["submitted_on"]),
                         "completed_on": _iso(machine["completed_on"]),
                         "agreed_end_on": _iso(machine["agreed_end_on"])},
        "device": {"purchased_on": _iso(machine["purchased_on"]),
                   "manufacture_ended_on": _iso(machine["manufacture_ended_on"]),
                   "country": machine["country"], "config_info": bool(machine["config_info"])},
        "component": component or {"kind": "body", "category": None, "connection": None},
        "cause": cause, "failure": None, "work": work, "alarm": alarm,
    }


def work_case(variant: str, years: int, at: dt.datetime, cause: str | None = None) -> dict:
    """The case of a machine the pack covers — of `variant`, bought with its pack and registered 30 days before
    `at`, in Japan — whose notice came at `at`: what `sptui fee` quotes a work on, by the desk's one fee path."""
    bought = max((at - dt.timedelta(days=30)).date(), dt.date(YEARS[0], 1, 1))
    machine = {"variant": variant, "years": years, "pack_purchased_on": bought, "registration_status": "accepted",
               "submitted_on": bought, "completed_on": bought, "agreed_end_on": None, "purchased_on": bought,
               "manufacture_ended_on": None, "country": "JP", "config_info": True}
    return case_for(machine, at=at, cause=cause)


def alarm_case(machine: dict, received_at: dt.datetime, attempts: list[dict], repair_needed: bool = False) -> dict:
    """The case of an alarm on a machine, with the calls made since (each {"at", "reached"}): at its receipt."""
    alarm = {"received_at": received_at.isoformat(),
             "express_start_on": machine["express_start_on"].isoformat(),
             "contact_attempts": [{"at": a["at"].isoformat(), "reached": bool(a["reached"])} for a in attempts]}
    return case_for(machine, at=received_at, repair_needed=repair_needed, alarm=alarm)


def decided(decision, case: dict | None = None) -> Decided:
    """What the store keeps of a decision: eval.md's JSON (English) with the Japanese messages beside it, and the
    facts the desk's rows carry apart (verdict, deadline, fee, an alarm's next call); an alarm's `case` with it
    (an incident keeps its case apart: NewIncident.case)."""
    out = decision.to_json("en")
    out["messages_ja"] = [r.message("ja") for r in decision.reasons]
    contact = decision.contact or {}
    return Decided(out, decision.verdict, decision.dispatch_deadline, decision.policy_digest,
                   fee=decision.fee.to_json() if decision.fee is not None else None,
                   next_contact_at=contact.get("next_contact_at"),
                   arrange_technician=bool(contact.get("arrange_technician")), case=case)
