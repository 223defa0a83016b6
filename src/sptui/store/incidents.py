"""Incidents: open, claim, take over, assign, dispatch, the work's completion, notes, 相談 (consult) marks, close.

The store persists what the desk decided (sptui.desk): a dispatch comes with its decision and who pays. Every
update is optimistic: it names the version it read, and the UPDATE matches only that version (and bumps it). If
another operator got there first nothing is written and ConflictError says who did what.

One rule for who may act on an incident (`_owner_row`, used by every action below and by `check_owner`): its
owner; or anyone while nobody owns it, who thereby becomes its owner (a note excepted: it is information, and
makes nobody responsible). Anyone else takes it over first, explicitly (`take_over`, audited) — or the owner
assigns it to them (`assign`, audited).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.audit import AuditLog
from sptui.store.database import Database, now
from sptui.store.db import BadRequest, ConflictError, StoreError
from sptui.store.records import Decided, NewIncident

# what each action is, in the refusal a non-owner gets
_DOING = {"note": "add a note to it", "dispatch": "dispatch for it", "complete": "record its completion",
          "close": "close it",
          "consult": "mark it for consultation", "unconsult": "clear its consultation mark", "assign": "assign it"}


def _iso(v):
    return v.isoformat() if v is not None else None


def fits(what: str, value: str, column) -> str:
    """`value` if it fits the column it is kept in (a name of at most N characters), else BadRequest."""
    limit = column.type.length
    if limit is not None and len(value) > limit:
        raise BadRequest(f"{what} is {len(value)} characters long: at most {limit}")
    return value


class Incidents:
    """The incidents, their timelines and dispatches (see the module docstring); each change audited."""

    def __init__(self, db: Database, audit: AuditLog):
        self.db, self.audit = db, audit

    def open(self, new: NewIncident, *, operator: str, alarm_id: int | None = None) -> int:
        """Open an incident the desk decided (sptui.desk.open_incident); returns its id."""
        with self.db.write() as conn:
            return self.insert(conn, new, operator=operator, alarm_id=alarm_id)

    def insert(self, conn, new: NewIncident, *, operator: str, alarm_id: int | None = None) -> int:
        """A decided incident, its `opened` line and its audit row, in the caller's transaction."""
        when = now()
        d = new.decided
        iid = conn.execute(S.incidents.insert().values(
            machine_id=new.machine_id, alarm_id=alarm_id, received_at=new.received_at, support=new.support,
            summary=new.summary, status="open", owner=None, version=1, case=new.case, decision=d.json,
            verdict=d.verdict, deadline=d.deadline, policy_digest=d.policy_digest, updated_at=when,
            updated_by=operator)).inserted_primary_key[0]
        self.event(conn, iid, operator, "opened", new.summary, when)
        detail = {"label": new.label, "verdict": d.verdict, "summary": new.summary}
        if alarm_id is not None:
            detail["alarm_id"] = alarm_id
        self.audit.add(conn, operator, "incident", iid, "open", detail, d.policy_digest, when)
        return iid

    def get(self, iid: int) -> dict:
        return self.db.record(S.incidents, iid, "incident")

    def rows(self, *, status: str | None = None, limit: int | None = None) -> list[dict]:
        q = sa.select(S.incidents).order_by(S.incidents.c.id)
        if status:
            q = q.where(S.incidents.c.status == status)
        if limit:
            q = q.limit(limit)
        return self.db.rows(q)

    def timeline(self, iid: int) -> list[dict]:
        e = S.incident_events
        return self.db.rows(sa.select(e).where(e.c.incident_id == iid).order_by(e.c.id))

    def dispatches(self, iid: int) -> list[dict]:
        d = S.dispatches
        return self.db.rows(sa.select(d).where(d.c.incident_id == iid).order_by(d.c.id))

    @staticmethod
    def event(conn, iid: int, operator: str, kind: str, text: str, at: dt.datetime) -> None:
        """A line in the incident's timeline, in the caller's transaction."""
        conn.execute(S.incident_events.insert().values(incident_id=iid, at=at, operator=operator, kind=kind, text=text))

    @staticmethod
    def _conflict(conn, iid: int, action: str) -> StoreError:
        row = conn.execute(sa.select(S.incidents).where(S.incidents.c.id == iid)).first()
        if row is None:
            return StoreError(f"no incident {iid}")
        who = (f"{row.updated_by} ({row.status} at {row.updated_at:%Y-%m-%d %H:%M:%S})" if row.updated_by
               else "another operator")
        return ConflictError(f"incident {iid} was changed by {who} after you read it; nothing was saved "
                             f"by your {action}: reload it and try again")

    def _update(self, conn, iid: int, version: int, action: str, operator: str, **values) -> None:
        """UPDATE … WHERE version = the one the operator read; nothing written if it moved on."""
        values.setdefault("updated_at", now())
        res = conn.execute(S.incidents.update().where(S.incidents.c.id == iid, S.incidents.c.version == version)
                           .values(version=S.incidents.c.version + 1, updated_by=operator, **values))
        if res.rowcount != 1:
            raise self._conflict(conn, iid, action)

    @staticmethod
    def _row(conn, iid: int, *columns, open_only: bool = True):
        """The incident's version, status, owner and policy digest (and `columns`), in this transaction; a
        StoreError if there is no such incident, or (`open_only`) it is closed."""
        row = conn.execute(sa.select(S.incidents.c.version, S.incidents.c.status, S.incidents.c.policy_digest,
                                     S.incidents.c.owner, *columns).where(S.incidents.c.id == iid)).first()
        if row is None:
            raise StoreError(f"no incident {iid}")
        if open_only and row.status == "closed":
            raise StoreError(f"incident {iid} is closed")
        return row

    def _owner_row(self, conn, iid: int, operator: str, action: str, version: int | None, *columns,
                   open_only: bool = True):
        """The one rule for acting on an incident (see the module docstring), checked in the action's transaction:
        a stale `version` is a conflict; an incident another operator owns is refused."""
        row = self._row(conn, iid, *columns, open_only=open_only)
        if version is not None and version != row.version:
            raise self._conflict(conn, iid, action)
        if row.owner is not None and row.owner != operator:
            raise ConflictError(f"incident {iid} is owned by {row.owner}: only its owner can {_DOING[action]}; "
                                f"take it over first (sptui incident take-over {iid}; on the desk, c) or ask "
                                f"{row.owner} to assign it to you")
        return row

    def check_owner(self, iid: int, *, operator: str, action: str, version: int | None = None) -> None:
        """The same rule, read only: so that the desk refuses before it decides anything."""
        with self.db.read() as conn:
            self._owner_row(conn, iid, operator, action, version, open_only=action != "note")

    def _claimed_with(self, conn, iid: int, row, operator: str, action: str, when: dt.datetime) -> str:
        """An unowned incident acted on becomes the actor's: said in the timeline and the audit log."""
        if row.owner is None:
            self.event(conn, iid, operator, "claimed", f"claimed by {operator} (with the {action})", when)
            self.audit.add(conn, operator, "incident", iid, "claim", {"owner": operator, "with": action},
                       row.policy_digest, when)
        return operator

    def claim(self, iid: int, *, operator: str, version: int | None = None) -> int:
        """Take ownership. Fails with ConflictError if someone else owns it, or it changed since `version`."""
        with self.db.write() as conn:
            row = self._row(conn, iid)
            expected = row.version if version is None else version
            if row.owner is not None and row.owner != operator:
                raise ConflictError(f"incident {iid} is already claimed by {row.owner}; to act on it, take it over "
                                    f"(sptui incident take-over {iid}; on the desk, c asks)")
            self._update(conn, iid, expected, "claim", operator, owner=operator,
                         status="claimed" if row.status == "open" else row.status)
            when = now()
            self.event(conn, iid, operator, "claimed", f"claimed by {operator}", when)
            self.audit.add(conn, operator, "incident", iid, "claim", {"owner": operator}, row.policy_digest, when)
            return expected + 1

    def take_over(self, iid: int, *, operator: str, version: int | None = None) -> int:
        """Take an incident another operator owns (audited, in the timeline). Returns the new version."""
        with self.db.write() as conn:
            row = self._row(conn, iid)
            expected = row.version if version is None else version
            if expected == row.version and row.owner == operator:
                raise StoreError(f"incident {iid} is yours already")
            self._update(conn, iid, expected, "take-over", operator, owner=operator,
                         status="claimed" if row.status == "open" else row.status)
            when = now()
            self.event(conn, iid, operator, "take-over", f"taken over from {row.owner or 'nobody'} by {operator}", when)
            self.audit.add(conn, operator, "incident", iid, "take-over", {"from": row.owner, "to": operator},
                       row.policy_digest, when)
            return expected + 1

    def assign(self, iid: int, to: str, *, operator: str, version: int | None = None) -> int:
        """The owner (or anyone, while nobody owns it) hands the incident to another operator. Audited, in the
        timeline; returns the new version."""
        to = fits("the operator's name", to.strip(), S.incidents.c.owner)
        if not to:
            raise BadRequest("assigning an incident needs the operator it goes to")
        with self.db.write() as conn:
            row = self._owner_row(conn, iid, operator, "assign", version)
            if row.owner == to:
                raise StoreError(f"incident {iid} is owned by {to} already")
            self._update(conn, iid, row.version, "assign", operator, owner=to,
                         status="claimed" if row.status == "open" else row.status)
            when = now()
            self.event(conn, iid, operator, "assigned", f"assigned to {to} by {operator}", when)
            self.audit.add(conn, operator, "incident", iid, "assign", {"from": row.owner, "to": to}, row.policy_digest,
                       when)
            return row.version + 1

    def add_note(self, iid: int, text: str, *, operator: str, version: int | None = None) -> None:
        """A line in the timeline, by the owner (or anyone while nobody owns it; a note claims nothing). The
        version is checked, not bumped: a note changes nothing another operator may have read."""
        if not text.strip():
            raise BadRequest("a note needs text")
        with self.db.write() as conn:
            self._owner_row(conn, iid, operator, "note", version, open_only=False)
            when = now()
            self.event(conn, iid, operator, "note", text, when)
            self.audit.add(conn, operator, "incident", iid, "note", {"text": text}, None, when)

    def record_dispatch(self, iid: int, *, operator: str, version: int | None, technician: str, technicians: int,
                        departed_at: dt.datetime, completed_at: dt.datetime | None, late_reason: str | None,
                        billing: str, summary: str, case: dict | None = None, decided: Decided | None = None,
                        confirmed_by: str | None = None, consent: dict | None = None) -> dict[str, Any]:
        """Keep a dispatch the desk decided (sptui.desk.dispatch): `decided`, when the work's times are known,
        becomes the incident's decision (with its fee) and `case` its case; `billing` is who pays (free, fee,
        quote-needed); `consent` the customer's ({"by", "via", "at"}); `summary` the timeline's words for it."""
        fee = decided.fee if decided is not None else None
        consent = consent or {}
        with self.db.write() as conn:
            row = self._owner_row(conn, iid, operator, "dispatch", version)
            when = now()
            owner = row.owner or self._claimed_with(conn, iid, row, operator, "dispatch", when)
            values: dict[str, Any] = {"status": "dispatched", "owner": owner, "billing": billing}
            if decided is not None:  # the decision with the work, and what the row keeps of it, agree
                values.update(case=case, decision=decided.json, policy_digest=decided.policy_digest,
                              verdict=decided.verdict, deadline=decided.deadline)
            self._update(conn, iid, row.version, "dispatch", operator, **values)
            conn.execute(S.dispatches.insert().values(
                incident_id=iid, technician=technician, technicians=technicians, departed_at=departed_at,
                completed_at=completed_at, late_reason=late_reason, fee=fee, operator=operator, created_at=when,
                billing=billing, confirmed_by=confirmed_by, consent_by=consent.get("by"),
                consent_via=consent.get("via"), consent_at=consent.get("at")))
            self.event(conn, iid, operator, "dispatched", summary, when)
            self.audit.add(conn, operator, "incident", iid, "dispatch",
                       {"technician": technician, "departed_at": departed_at.isoformat(),
                        "completed_at": _iso(completed_at), "technicians": technicians, "late_reason": late_reason,
                        "fee_total_jpy": fee and fee["total_jpy"], "billing": billing, "confirmed_by": confirmed_by,
                        "consent": {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in consent.items()}
                        or None},
                       decided.policy_digest if decided is not None else row.policy_digest, when)
        return {"fee": fee, "billing": billing, "version": row.version + 1}

    def record_completion(self, iid: int, *, operator: str, version: int | None, dispatch_id: int,
                          completed_at: dt.datetime, billing: str, summary: str, case: dict,
                          decided: Decided) -> dict[str, Any]:
        """Keep the real end of a dispatch's work, reported after it (sptui.desk.complete): the dispatch `dispatch_id`
        (the incident's latest) gets its completion and the fee `decided` charges, the incident that decision, its
        case and who pays; `summary` is the timeline's words (the fee before → after). Returns the stored fee (or
        None), billing and the new version."""
        fee = decided.fee
        d = S.dispatches
        with self.db.write() as conn:
            row = self._owner_row(conn, iid, operator, "complete", version)
            last = conn.execute(sa.select(d.c.id, d.c.completed_at, d.c.fee, d.c.billing).where(d.c.incident_id == iid)
                                .order_by(d.c.id.desc()).limit(1)).first()
            if row.status != "dispatched" or last is None:
                raise StoreError(f"incident {iid} is {row.status}: only a dispatched incident's completion is recorded")
            if last.id != dispatch_id:
                raise self._conflict(conn, iid, "completion")
            when = now()
            self._update(conn, iid, row.version, "completion", operator, case=case, decision=decided.json,
                         policy_digest=decided.policy_digest, verdict=decided.verdict, deadline=decided.deadline,
                         billing=billing)
            conn.execute(d.update().where(d.c.id == dispatch_id).values(completed_at=completed_at, fee=fee,
                                                                         billing=billing))
            self.event(conn, iid, operator, "completed", summary, when)
            self.audit.add(conn, operator, "incident", iid, "complete",
                           {"dispatch_id": dispatch_id, "completed_at": completed_at.isoformat(),
                            "completed_at_before": _iso(last.completed_at),
                            "fee_total_jpy_before": last.fee and last.fee["total_jpy"], "billing_before": last.billing,
                            "fee_total_jpy": fee and fee["total_jpy"], "billing": billing},
                           decided.policy_digest, when)
        return {"fee": fee, "billing": billing, "version": row.version + 1}

    def mark_consult(self, iid: int, text: str, *, operator: str, version: int | None = None) -> int:
        """相談: the operator decided the case must be discussed with the customer or NEC before work goes on
        (what the terms leave to consultation, not to a fee). `text` says why; returns the new version."""
        if not text.strip():
            raise BadRequest("marking an incident for consultation needs a reason")
        return self._consult(iid, text.strip(), operator=operator, version=version)

    def clear_consult(self, iid: int, *, operator: str, version: int | None = None) -> int:
        """Undo `mark_consult` (consulted, or marked by mistake); the timeline keeps both. Returns the new version."""
        return self._consult(iid, None, operator=operator, version=version)

    def _consult(self, iid: int, text: str | None, *, operator: str, version: int | None) -> int:
        action = "consult" if text is not None else "unconsult"
        with self.db.write() as conn:
            row = self._owner_row(conn, iid, operator, action, version, S.incidents.c.consult)
            if (row.consult is None) == (text is None):
                raise StoreError(f"incident {iid} is already marked for consultation" if text is not None
                                 else f"incident {iid} is not marked for consultation")
            when = now()
            owner = row.owner or self._claimed_with(conn, iid, row, operator, action, when)
            self._update(conn, iid, row.version, action, operator, consult=text, owner=owner,
                         status="claimed" if row.status == "open" else row.status)
            self.event(conn, iid, operator, action, text if text is not None else "consultation mark cleared", when)
            self.audit.add(conn, operator, "incident", iid, action, {"text": text}, row.policy_digest, when)
            return row.version + 1

    def close(self, iid: int, *, operator: str, version: int | None = None, text: str = "") -> None:
        with self.db.write() as conn:
            if self._row(conn, iid, open_only=False).status == "closed":
                raise StoreError(f"incident {iid} is already closed")
            row = self._owner_row(conn, iid, operator, "close", version)
            when = now()
            owner = row.owner or self._claimed_with(conn, iid, row, operator, "close", when)
            self._update(conn, iid, row.version, "close", operator, status="closed", owner=owner)
            self.event(conn, iid, operator, "closed", text or "closed", when)
            self.audit.add(conn, operator, "incident", iid, "close", {"text": text}, row.policy_digest, when)
