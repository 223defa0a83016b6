"""Alarms: file a routed alarm mail once; contact attempts, and next-day retries as data (they survive restarts).
The desk routes each mail by the policy (sptui.desk.alarms) and hands over what it decided (`NewAlarm`); what
cannot be filed goes to the quarantine (quarantine.py).

Duplicates — the same Message-ID, or the same machine, event and time — are stored once: the unique
constraints decide, so two intake processes racing on one mail still store it once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.audit import AuditLog
from sptui.store.database import Database, now
from sptui.store.db import ConflictError, StoreError
from sptui.store.incidents import Incidents
from sptui.store.quarantine import storable
from sptui.store.records import Decided, NewAlarm, NewIncident, Stored

_MACHINE_COLUMNS = (S.machines, S.packs.c.variant, S.packs.c.years, S.packs.c.purchased_on.label("pack_purchased_on"),
                    S.packs.c.registration_status, S.packs.c.submitted_on, S.packs.c.completed_on,
                    S.packs.c.agreed_end_on, S.packs.c.express_start_on)
# built once: the look-ups run for every batch
_BY_COMPUTERS = (sa.select(*_MACHINE_COLUMNS).select_from(S.machines.join(S.packs))
                 .where(S.machines.c.computer_name.in_(sa.bindparam("names", expanding=True))))
# one name (most batches): a statement SQLAlchemy compiles once, where IN (…) is rendered for each execution
_BY_COMPUTER = (sa.select(*_MACHINE_COLUMNS).select_from(S.machines.join(S.packs))
                .where(S.machines.c.computer_name == sa.bindparam("name")))
_BY_COMPUTER_NOCASE = (sa.select(*_MACHINE_COLUMNS).select_from(S.machines.join(S.packs))
                       .where(sa.func.lower(S.machines.c.computer_name) == sa.bindparam("name")).limit(2))
_DUPLICATE = sa.select(S.alarms.c.id).where(sa.or_(S.alarms.c.dedupe_key == sa.bindparam("key"),
                                                   S.alarms.c.message_id == sa.bindparam("mid"))).limit(1)
_INSERT_IGNORE: dict = {}


def _insert_alarm(conn):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, in the connection's dialect (None: a duplicate)."""
    stmt = _INSERT_IGNORE.get(conn.dialect.name)
    if stmt is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = _INSERT_IGNORE[conn.dialect.name] = (insert(S.alarms).on_conflict_do_nothing()
                                                    .returning(S.alarms.c.id, S.alarms.c.dedupe_key))
    return stmt


def dedupe_key(machine_id: int, event_id: str | None, occurred_at: dt.datetime) -> str:
    return f"{machine_id}|{event_id or ''}|{occurred_at.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def _alarm_conflict(aid: int) -> ConflictError:
    return ConflictError(f"alarm {aid} was changed by another operator after you read it; nothing was saved: "
                         "reload it and try again")


def _row(new: NewAlarm) -> dict:
    """The alarm's row. It is the record of the receipt (when, via what, the policy digest): it has no separate
    audit row; every later change to it has one."""
    mail, d = new.mail, new.decided
    return dict(
        machine_id=new.machine_id, message_id=mail.message_id,
        dedupe_key=dedupe_key(new.machine_id, mail.event_id, mail.occurred_at), computer=mail.computer,
        product=mail.product, occurred_at=mail.occurred_at, relayed_at=mail.relayed_at, received_at=new.received_at,
        trap=mail.trap, source=mail.source, event_id=mail.event_id, detail=mail.detail, action=mail.action,
        alert_type=mail.alert_type, via=storable(new.via, S.alarms.c.via), status=new.status, decision=d.json, case=d.case,
        next_contact_at=d.next_contact_at, arrange_technician=d.arrange_technician, policy_digest=d.policy_digest,
        version=1, incident_id=None, closed_reason=new.closed_reason)


class Alarms:
    """The alarms and the calls made after them; a call that finds a repair needed links the alarm to an
    incident (`incidents`), in the call's transaction."""

    def __init__(self, db: Database, audit: AuditLog, incidents: Incidents):
        self.db, self.audit, self.incidents = db, audit, incidents

    @staticmethod
    def machines_named(conn, names: Iterable[str]) -> dict[str, dict | None]:
        """For each computer name, in the caller's transaction: the one registered machine (with its pack) that
        carries it, as written, else in any letter case; None if no machine does, or two do (neither then)."""
        names = sorted(set(names))
        by_name: dict[str, list[dict]] = {}
        if names:
            found = (conn.execute(_BY_COMPUTER, {"name": names[0]}) if len(names) == 1 else
                     conn.execute(_BY_COMPUTERS, {"names": names})).mappings()
            for row in found:
                by_name.setdefault(row["computer_name"], []).append(dict(row))
        out = {}
        for name in names:
            rows = by_name.get(name)
            if rows is None:  # not as written: perhaps in other letter case
                rows = conn.execute(_BY_COMPUTER_NOCASE, {"name": name.lower()}).mappings().all()
            out[name] = dict(rows[0]) if len(rows) == 1 else None
        return out

    @staticmethod
    def insert(conn, alarms: list[NewAlarm]) -> list[Stored]:
        """File routed alarms in the caller's transaction, with one statement: each `stored`, or a `duplicate`
        (also of another in the same list) of the alarm already kept."""
        rows = [_row(a) for a in alarms]
        inserted = {row.dedupe_key: row.id for row in conn.execute(_insert_alarm(conn), rows)} if rows else {}
        taken: set[str] = set()
        out = []
        for values in rows:
            key = values["dedupe_key"]
            aid = inserted.get(key)
            if aid is not None and key not in taken:
                taken.add(key)
                out.append(Stored("stored", aid))
                continue
            old = aid if aid is not None else conn.execute(_DUPLICATE, {"key": key, "mid": values["message_id"]}).scalar()
            if old is None:
                raise StoreError(f"alarm {key} was neither stored nor found")
            out.append(Stored("duplicate", old))
        return out

    def get(self, aid: int) -> dict:
        return self.db.record(S.alarms, aid, "alarm")

    def rows(self, *, limit: int | None = None, newest_first: bool = False) -> list[dict]:
        q = sa.select(S.alarms).order_by(S.alarms.c.id.desc() if newest_first else S.alarms.c.id)
        if limit:
            q = q.limit(limit)
        return self.db.rows(q)

    def contact_attempts(self, aid: int) -> list[dict]:
        """The calls made after an alarm, oldest first."""
        c = S.contact_attempts
        return self.db.rows(sa.select(c).where(c.c.alarm_id == aid).order_by(c.c.at, c.c.id))

    def due(self, at: dt.datetime) -> list[dict]:
        """Alarms whose next contact time has come (first calls and next-day retries alike)."""
        a = S.alarms
        return self.db.rows(sa.select(a).where(a.c.next_contact_at <= at, a.c.status.in_(("new", "retry")))
                            .order_by(a.c.next_contact_at))

    def save_contact(self, aid: int, *, operator: str, version: int | None, at: dt.datetime, reached: bool,
                     note: str, decided: Decided, status: str, closed_reason: str | None = None,
                     incident: NewIncident | None = None, alarm_text: str = "") -> dict[str, Any]:
        """Keep a call the desk decided (sptui.desk.alarms): `decided` routes the alarm with this call; `status` is
        where it ends: retry (unreached; the next call is the decision's), closed (reached, no repair:
        `closed_reason`) or linked (reached, repair needed: the open incident of the machine, if there is one,
        else a new one, `incident`; `alarm_text` is the alarm's line in the incident's timeline). One transaction:
        the call, the alarm's end and the incident are kept together or not at all. Returns the status, the
        incident id and whether it was opened now."""
        with self.db.write() as conn:
            row = conn.execute(sa.select(S.alarms.c.version, S.alarms.c.status, S.alarms.c.incident_id,
                                         S.alarms.c.machine_id).where(S.alarms.c.id == aid)).first()
            if row is None:
                raise StoreError(f"no alarm {aid}")
            if row.status in ("linked", "closed"):
                raise StoreError(f"alarm {aid} has ended already ({row.status}"
                                 + (f" to incident {row.incident_id})" if row.incident_id else ")"))
            if version is not None and version != row.version:
                raise _alarm_conflict(aid)
            iid, opened = None, False
            if incident is not None:
                iid, opened = self._link(conn, aid, row.machine_id, incident, operator, alarm_text)
            res = conn.execute(S.alarms.update().where(S.alarms.c.id == aid, S.alarms.c.version == row.version).values(
                version=S.alarms.c.version + 1, decision=decided.json, case=decided.case, next_contact_at=decided.next_contact_at,
                arrange_technician=decided.arrange_technician, status=status, policy_digest=decided.policy_digest,
                incident_id=iid, closed_reason=closed_reason))
            if res.rowcount != 1:
                raise _alarm_conflict(aid)
            conn.execute(S.contact_attempts.insert().values(alarm_id=aid, incident_id=iid, at=at, reached=reached,
                                                            operator=operator, note=note))
            self.audit.add(conn, operator, "alarm", aid, "contact",
                           {"reached": reached, "at": at.isoformat(), "note": note, "status": status,
                            "incident_id": iid, "incident_opened": opened, "closed_reason": closed_reason,
                            "next_contact_at": decided.next_contact_at and decided.next_contact_at.isoformat()},
                           decided.policy_digest)
        return {"status": status, "incident_id": iid, "opened": opened}

    def _link(self, conn, aid: int, machine_id: int, incident: NewIncident, operator: str,
              alarm_text: str) -> tuple[int, bool]:
        """The machine's newest incident that is not closed (the alarm joins it), else `incident` opened now;
        the alarm's line in its timeline. Returns the incident's id and whether it was opened."""
        i = S.incidents
        iid = conn.execute(sa.select(i.c.id).where(i.c.machine_id == machine_id, i.c.status != "closed",
                                                   i.c.support == "hw").order_by(i.c.id.desc()).limit(1)).scalar()
        opened = iid is None
        if opened:
            iid = self.incidents.insert(conn, incident, operator=operator, alarm_id=aid)
        self.incidents.event(conn, iid, operator, "alarm", alarm_text, now())
        return iid, opened
