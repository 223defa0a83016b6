"""Incidents: open (decided by the policy), claim, dispatch, notes, 相談 (consult) marks, contact attempts, close.

Every update is optimistic: it names the version it read, and the UPDATE matches only that version (and
bumps it). If another operator got there first nothing is written and ConflictError says who did what.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.db import ConflictError, StoreError

LATE_REASONS = ("traffic", "weather", "site", "parts")


def _iso(v):
    return v.isoformat() if v is not None else None


def case_for(machine: dict, *, at: dt.datetime, support: str = "hw", repair_needed: bool = True,
             cause: str | None = None, component: dict | None = None, alarm: dict | None = None,
             work: dict | None = None) -> dict:
    """The eval.md case for a registered machine and a notice received at `at`."""
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


def stored_decision(decision) -> dict:
    """What is kept of a decision: eval.md's JSON (English) and the Japanese messages beside it."""
    out = decision.to_json("en")
    out["messages_ja"] = [r.message("ja") for r in decision.reasons]
    return out


class DeskOps:
    def open_incident(self, policy, *, label: str, at: dt.datetime, summary: str, operator: str, support: str = "hw",
                      repair_needed: bool = True, cause: str | None = None, component: dict | None = None,
                      alarm_id: int | None = None) -> int:
        machine = self.machine(label)
        case = case_for(machine, at=at, support=support, repair_needed=repair_needed, cause=cause,
                        component=component)
        decision = policy.decide(case)
        when = dt.datetime.now(S.TOKYO)
        with self.write() as conn:
            iid = conn.execute(S.incidents.insert().values(
                machine_id=machine["id"], alarm_id=alarm_id, received_at=at, support=support, summary=summary,
                status="open", owner=None, version=1, case=case, decision=stored_decision(decision),
                verdict=decision.verdict, deadline=decision.dispatch_deadline, policy_digest=policy.digest,
                updated_at=when, updated_by=operator)).inserted_primary_key[0]
            self._event(conn, iid, operator, "opened", summary, when)
            self.audit(conn, operator, "incident", iid, "open",
                       {"label": label, "verdict": decision.verdict, "summary": summary}, policy.digest, when)
        return iid

    def incident(self, iid: int) -> dict:
        return self.record(S.incidents, iid, "incident")

    def incidents(self, *, status: str | None = None, limit: int | None = None) -> list[dict]:
        q = sa.select(S.incidents).order_by(S.incidents.c.id)
        if status:
            q = q.where(S.incidents.c.status == status)
        if limit:
            q = q.limit(limit)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def timeline(self, iid: int) -> list[dict]:
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(S.incident_events).where(S.incident_events.c.incident_id == iid)
                .order_by(S.incident_events.c.id))]

    @staticmethod
    def _event(conn, iid: int, operator: str, kind: str, text: str, at: dt.datetime) -> None:
        conn.execute(S.incident_events.insert().values(incident_id=iid, at=at, operator=operator, kind=kind, text=text))

    def _update(self, conn, iid: int, version: int, action: str, operator: str, **values) -> None:
        """UPDATE … WHERE version = the one the operator read; nothing written if it moved on."""
        values.setdefault("updated_at", dt.datetime.now(S.TOKYO))
        res = conn.execute(S.incidents.update().where(S.incidents.c.id == iid, S.incidents.c.version == version)
                           .values(version=S.incidents.c.version + 1, updated_by=operator, **values))
        if res.rowcount != 1:
            row = conn.execute(sa.select(S.incidents).where(S.incidents.c.id == iid)).first()
            if row is None:
                raise StoreError(f"no incident {iid}")
            who = (f"{row.updated_by} ({row.status} at {row.updated_at:%Y-%m-%d %H:%M:%S})" if row.updated_by
                   else "another operator")
            raise ConflictError(f"incident {iid} was changed by {who} after you read it; nothing was saved "
                                f"by your {action}: reload it and try again")

    @staticmethod
    def _open_row(conn, iid: int, *columns):
        """The incident's version, status and policy digest (and `columns`), in this transaction; a StoreError
        if there is no such incident or it is closed."""
        row = conn.execute(sa.select(S.incidents.c.version, S.incidents.c.status, S.incidents.c.policy_digest,
                                     *columns).where(S.incidents.c.id == iid)).first()
        if row is None:
            raise StoreError(f"no incident {iid}")
        if row.status == "closed":
            raise StoreError(f"incident {iid} is closed")
        return row

    def claim(self, iid: int, *, operator: str, version: int | None = None) -> int:
        """Take ownership. Fails with ConflictError if someone else owns it, or it changed since `version`."""
        with self.write() as conn:
            row = self._open_row(conn, iid, S.incidents.c.owner)
            expected = row.version if version is None else version
            if row.owner is not None and row.owner != operator:
                raise ConflictError(f"incident {iid} is already claimed by {row.owner}")
            self._update(conn, iid, expected, "claim", operator, owner=operator,
                         status="claimed" if row.status == "open" else row.status)
            when = dt.datetime.now(S.TOKYO)
            self._event(conn, iid, operator, "claimed", f"claimed by {operator}", when)
            self.audit(conn, operator, "incident", iid, "claim", {"owner": operator}, row.policy_digest, when)
            return expected + 1

    def add_note(self, iid: int, text: str, *, operator: str) -> None:
        if not text.strip():
            raise StoreError("a note needs text")
        with self.write() as conn:
            when = dt.datetime.now(S.TOKYO)
            if conn.execute(sa.select(S.incidents.c.id).where(S.incidents.c.id == iid)).first() is None:
                raise StoreError(f"no incident {iid}")
            self._event(conn, iid, operator, "note", text, when)
            self.audit(conn, operator, "incident", iid, "note", {"text": text}, None, when)

    def dispatch(self, policy, iid: int, *, operator: str, technician: str, departed_at: dt.datetime,
                 completed_at: dt.datetime | None = None, technicians: int = 1, late_reason: str | None = None,
                 version: int | None = None) -> dict[str, Any]:
        """Record a dispatch; the 別表-1 fee is decided by the policy when the work's times are known.
        A departure after the onsite deadline needs a late reason (traffic, weather, site, parts)."""
        if late_reason is not None and late_reason not in LATE_REASONS:
            raise StoreError(f"late reason must be one of {', '.join(LATE_REASONS)}, not {late_reason!r}")
        if technicians < 1:
            raise StoreError(f"technicians must be 1 or more, not {technicians}")
        if completed_at is not None and completed_at <= departed_at:
            raise StoreError(f"the work cannot be complete ({completed_at:%Y-%m-%d %H:%M}) before the departure "
                             f"({departed_at:%Y-%m-%d %H:%M})")
        inc = self.incident(iid)
        if inc["status"] == "closed":
            raise StoreError(f"incident {iid} is closed")
        if inc["owner"] is not None and inc["owner"] != operator:
            raise ConflictError(f"incident {iid} is claimed by {inc['owner']}: only its owner dispatches for it")
        expected = inc["version"] if version is None else version
        deadline = inc["deadline"]
        if deadline is not None and departed_at > deadline and late_reason is None:
            raise StoreError(f"the onsite deadline was {deadline:%Y-%m-%d %H:%M}: give the reason it was missed "
                             f"({', '.join(LATE_REASONS)})")
        fee = None
        decision = None
        if completed_at is not None:
            case = dict(inc["case"], work={"departed_at": departed_at.isoformat(),
                                           "completed_at": completed_at.isoformat(), "technicians": technicians})
            decision = policy.decide(case)
            fee = decision.fee.to_json() if decision.fee is not None else None
        with self.write() as conn:
            when = dt.datetime.now(S.TOKYO)
            values: dict[str, Any] = {"status": "dispatched", "owner": inc["owner"] or operator}
            if decision is not None:
                values.update(case=case, decision=stored_decision(decision), policy_digest=policy.digest)
            self._update(conn, iid, expected, "dispatch", operator, **values)
            conn.execute(S.dispatches.insert().values(
                incident_id=iid, technician=technician, technicians=technicians, departed_at=departed_at,
                completed_at=completed_at, late_reason=late_reason, fee=fee, operator=operator, created_at=when))
            self._event(conn, iid, operator, "dispatched", f"{technician} departs {departed_at:%Y-%m-%d %H:%M}", when)
            self.audit(conn, operator, "incident", iid, "dispatch",
                       {"technician": technician, "departed_at": departed_at.isoformat(),
                        "completed_at": _iso(completed_at), "technicians": technicians, "late_reason": late_reason,
                        "fee_total_jpy": fee and fee["total_jpy"]}, policy.digest, when)
        return {"fee": fee, "version": expected + 1}

    def mark_consult(self, iid: int, text: str, *, operator: str, version: int | None = None) -> int:
        """相談: the operator decided the case must be discussed with the customer or NEC before work goes on
        (what the terms leave to consultation, not to a fee). `text` says why; returns the new version."""
        if not text.strip():
            raise StoreError("marking an incident for consultation needs a reason")
        return self._consult(iid, text.strip(), operator=operator, version=version)

    def clear_consult(self, iid: int, *, operator: str, version: int | None = None) -> int:
        """Undo `mark_consult` (consulted, or marked by mistake); the timeline keeps both. Returns the new version."""
        return self._consult(iid, None, operator=operator, version=version)

    def _consult(self, iid: int, text: str | None, *, operator: str, version: int | None) -> int:
        action = "consult" if text is not None else "unconsult"
        with self.write() as conn:
            row = self._open_row(conn, iid, S.incidents.c.consult)
            expected = row.version if version is None else version
            if expected == row.version and (row.consult is None) == (text is None):
                raise StoreError(f"incident {iid} is already marked for consultation" if text is not None
                                 else f"incident {iid} is not marked for consultation")
            self._update(conn, iid, expected, action, operator, consult=text)
            when = dt.datetime.now(S.TOKYO)
            self._event(conn, iid, operator, action, text if text is not None else "consultation mark cleared", when)
            self.audit(conn, operator, "incident", iid, action, {"text": text}, row.policy_digest, when)
            return expected + 1

    def close_incident(self, iid: int, *, operator: str, version: int | None = None, text: str = "") -> None:
        inc = self.incident(iid)
        if inc["status"] == "closed":
            raise StoreError(f"incident {iid} is already closed")
        with self.write() as conn:
            when = dt.datetime.now(S.TOKYO)
            self._update(conn, iid, inc["version"] if version is None else version, "close", operator, status="closed")
            self._event(conn, iid, operator, "closed", text or "closed", when)
            self.audit(conn, operator, "incident", iid, "close", {"text": text}, inc["policy_digest"], when)
