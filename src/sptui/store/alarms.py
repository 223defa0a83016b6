"""Alarms: store a parsed alarm mail once, routed by the policy; quarantine what cannot be parsed or matched;
contact attempts, and next-day retries as data (they survive restarts).

Duplicates — the same Message-ID, or the same machine, event and time — are stored once: the unique
constraints decide, so two intake processes racing on one mail still store it once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import weakref
from typing import Any

import attrs
import sqlalchemy as sa

from sptui.errors import CaseError
from sptui.store import schema as S
from sptui.store.db import ConflictError, StoreError
from sptui.store.desk import case_for, stored_decision


@attrs.frozen
class Stored:
    """What became of one mail: `stored` (a new alarm), `duplicate` (already stored) or `quarantined`."""
    outcome: str
    id: int
    reason: str | None = None


_MACHINE_COLUMNS = (S.machines, S.packs.c.variant, S.packs.c.years, S.packs.c.purchased_on.label("pack_purchased_on"),
                    S.packs.c.registration_status, S.packs.c.submitted_on, S.packs.c.completed_on,
                    S.packs.c.agreed_end_on, S.packs.c.express_start_on)
# built once: the look-ups run for every alarm
_BY_COMPUTER_NOCASE = (sa.select(*_MACHINE_COLUMNS).select_from(S.machines.join(S.packs))
                       .where(sa.func.lower(S.machines.c.computer_name) == sa.bindparam("name")).limit(2))


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


_INSERT_IGNORE: dict = {}
_QUARANTINED = sa.select(S.quarantine.c.id).where(S.quarantine.c.sha256 == sa.bindparam("sha"))
_INSERT_QUARANTINE = S.quarantine.insert()
_BY_COMPUTERS = (sa.select(*_MACHINE_COLUMNS).select_from(S.machines.join(S.packs))
                 .where(S.machines.c.computer_name.in_(sa.bindparam("names", expanding=True))))
# one name (most batches): a statement SQLAlchemy compiles once, where IN (…) is rendered for each execution
_BY_COMPUTER = (sa.select(*_MACHINE_COLUMNS).select_from(S.machines.join(S.packs))
                .where(S.machines.c.computer_name == sa.bindparam("name")))
_DUPLICATE = sa.select(S.alarms.c.id).where(sa.or_(S.alarms.c.dedupe_key == sa.bindparam("key"),
                                                   S.alarms.c.message_id == sa.bindparam("mid"))).limit(1)


_ALARM_COLUMNS = tuple(c for c in S.alarms.c if c.name != "id")
_ROWS = 500  # rows (or names) per statement: 500 × the alarm's columns stays under SQLite's 32,766 values


class _SQLite:
    """The intake's two statements per batch on SQLite, as SQL of their own on the connection's sqlite3 handle,
    in its transaction: the machines of a batch's computer names, and the alarms' INSERT … ON CONFLICT DO NOTHING
    RETURNING. Values go through each column's own bind and result processors (the types' public
    `bind_processor` / `result_processor`), so what is stored and read is what SQLAlchemy stores and reads; a
    fault is raised as SQLAlchemy raises it (a locked database is an OperationalError: transient). The writer
    runs these for every batch, where SQLAlchemy's execution cost more than SQLite's work (bench/intake)."""

    def __init__(self, dialect):
        self.dialect, self.error = dialect, dialect.loaded_dbapi.Error
        self.bind = tuple((c.name, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in _ALARM_COLUMNS)
        self.result = tuple((c.name, c.type.dialect_impl(dialect).result_processor(dialect, None))
                            for c in _BY_COMPUTER.selected_columns)
        one = str(_BY_COMPUTER.compile(dialect=dialect))
        head, eq, tail = one.rpartition("= ?")
        if not eq or tail.strip():
            raise StoreError(f"unexpected SQL for the machine look-up: {one}")
        self._by_names = head + "IN ({})"
        self._inserts: dict[int, str] = {}

    def _run(self, conn, sql: str, params: list) -> list:
        try:
            return conn.connection.driver_connection.execute(sql, params).fetchall()
        except self.error as e:
            raise sa.exc.DBAPIError.instance(sql, params, e, self.error, dialect=self.dialect) from e

    def machines(self, conn, names: list[str]) -> list[dict]:
        """The machines (with their pack) whose computer name is one of `names`, as written."""
        result, out = self.result, []
        for at in range(0, len(names), _ROWS):
            some = names[at:at + _ROWS]
            out += [{name: (v if p is None else p(v)) for (name, p), v in zip(result, row)}
                    for row in self._run(conn, self._by_names.format(", ".join("?" * len(some))), some)]
        return out

    def insert_alarms(self, conn, rows: list[dict]) -> list[tuple[str, int]]:
        """(dedupe_key, id) of each row inserted; a row whose Message-ID or dedupe key is taken is not."""
        out = []
        for at in range(0, len(rows), _ROWS):
            some = rows[at:at + _ROWS]
            sql = self._inserts.get(len(some))
            if sql is None:
                one = "(" + ", ".join("?" * len(_ALARM_COLUMNS)) + ")"
                sql = self._inserts[len(some)] = (
                    f"INSERT INTO {S.alarms.name} ({', '.join(c.name for c in _ALARM_COLUMNS)}) VALUES "
                    + ", ".join([one] * len(some)) + " ON CONFLICT DO NOTHING RETURNING dedupe_key, id")
            params = []
            for row in some:
                for name, process in self.bind:
                    value = row[name]
                    params.append(value if process is None else process(value))
            out += self._run(conn, sql, params)
        return out


_FAST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # an engine's dialect -> its _SQLite


def _sqlite(conn) -> _SQLite | None:
    """The SQLite statements for this connection's engine; None on another database (SQLAlchemy's own there)."""
    if conn.dialect.name != "sqlite":
        return None
    fast = _FAST.get(conn.dialect)
    if fast is None:
        fast = _FAST[conn.dialect] = _SQLite(conn.dialect)
    return fast


def dedupe_key(machine_id: int, event_id: str | None, occurred_at: dt.datetime) -> str:
    return f"{machine_id}|{event_id or ''}|{occurred_at.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def alarm_case(machine: dict, received_at: dt.datetime, attempts: list[dict], repair_needed: bool = False) -> dict:
    """The case of an alarm on a machine, with the calls made since (each {"at", "reached"}): at its receipt."""
    alarm = {"received_at": received_at.isoformat(),
             "express_start_on": machine["express_start_on"].isoformat(),
             "contact_attempts": [{"at": a["at"].isoformat(), "reached": bool(a["reached"])} for a in attempts]}
    return case_for(machine, at=received_at, repair_needed=repair_needed, alarm=alarm)


def _alarm_conflict(aid: int) -> ConflictError:
    return ConflictError(f"alarm {aid} was changed by another operator after you read it; nothing was saved: "
                         "reload it and try again")


def _no_decision(machine: dict, e: Exception) -> str:
    hint = (" (a variant from a plugin that is not installed or failed to load? see sptui plugins -v)"
            if getattr(e, "field", "") == "pack.variant" else "")
    return f"the policy cannot decide for machine {machine['label_number']}: {e}{hint}"


def storable(value: str | None, column: sa.Column) -> str | None:
    """Text as a text column of either database holds it, the same on both: a NUL (which PostgreSQL text cannot
    hold) and a lone surrogate (which UTF-8 cannot encode) written as escapes (\\x00, \\udcff), and a value
    longer than the column's length cut to it, ending in "…". The quarantine, which must take every mail,
    stores every text value through this."""
    if value is None:
        return None
    value = value if isinstance(value, str) else str(value)
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    limit = getattr(column.type, "length", None)
    return value if limit is None or len(value) <= limit else value[:limit - 1] + "…"


_Q = S.quarantine.c


class AlarmOps:
    def quarantine_mail(self, raw: bytes, *, reason: str, message: str, via: str, received_at: dt.datetime,
                        message_id: str | None = None, sender: str | None = None) -> Stored:
        """Keep a mail that could not be stored as an alarm, with the reason. The same bytes are kept once."""
        with self.write() as conn:
            return self._quarantine(conn, raw, reason, message, via, received_at, message_id, sender)

    def _quarantine(self, conn, raw, reason, message, via, received_at, message_id=None, sender=None) -> Stored:
        digest = hashlib.sha256(raw).hexdigest()
        old = conn.execute(_QUARANTINED, {"sha": digest}).scalar()
        if old is not None:
            return Stored("duplicate", old, reason)
        reason, message, via = storable(reason, _Q.reason), storable(message, _Q.message), storable(via, _Q.via)
        qid = conn.execute(_INSERT_QUARANTINE, dict(
            received_at=received_at, reason=reason, message=message, message_id=storable(message_id, _Q.message_id),
            sender=storable(sender, _Q.sender), via=via, raw=raw, sha256=digest)).inserted_primary_key[0]
        self.audit(conn, "intake", "quarantine", qid, "quarantine", {"reason": reason, "message": message,
                                                                      "via": via}, None, received_at)
        return Stored("quarantined", qid, reason)

    def ingest_batch(self, policy, items: list[tuple]) -> list[Stored]:
        """Several mails in one transaction (one commit for all: group commit). Each item is
        (raw, mail or AlarmParseError, via, received_at); a mail that cannot be parsed is quarantined.

        The alarms of a batch are looked up and inserted with one statement each; the unique
        Message-ID and (machine, event, time) decide what is a duplicate, also within the batch and
        against another intake writing at the same time."""
        out: list[Stored | None] = [None] * len(items)
        with self.write() as conn:
            names = {m.computer.strip() for _, m, _, _ in items if not isinstance(m, Exception)}
            by_name: dict[str, list[dict]] = {}
            if names:
                fast = _sqlite(conn)
                if fast is not None:
                    found = fast.machines(conn, sorted(names))
                else:
                    found = [dict(row) for row in (
                        conn.execute(_BY_COMPUTER, {"name": next(iter(names))}) if len(names) == 1 else
                        conn.execute(_BY_COMPUTERS, {"names": sorted(names)})).mappings()]
                for row in found:
                    by_name.setdefault(row["computer_name"], []).append(row)
            pending = []  # (index in items, the alarm's row)
            for i, (raw, mail, via, received_at) in enumerate(items):
                if isinstance(mail, Exception):
                    mid, sender = getattr(mail, "message_id", None), getattr(mail, "sender", None)
                    out[i] = self._quarantine(conn, raw, mail.reason, mail.message, via, received_at, mid, sender)
                    continue
                rows = by_name.get(mail.computer.strip())
                if rows is None:  # not as written: perhaps in other letter case
                    rows = conn.execute(_BY_COMPUTER_NOCASE, {"name": mail.computer.strip().lower()}).mappings().all()
                machine = dict(rows[0]) if len(rows) == 1 else None  # two machines of one name: neither
                refusal = self._refusal(machine, mail)
                if refusal is not None:
                    out[i] = self._quarantine(conn, raw, *refusal, via, received_at, mail.message_id, mail.sender)
                    continue
                try:
                    values = self._alarm_values(policy, machine, mail, via, received_at)
                except CaseError as e:  # the policy cannot decide for this machine: kept, with why
                    out[i] = self._quarantine(conn, raw, "no-decision", _no_decision(machine, e), via, received_at,
                                              mail.message_id, mail.sender)
                    continue
                pending.append((i, values))
            if pending:
                self._insert_alarms(conn, pending, out)
        return out  # type: ignore[return-value]

    @staticmethod
    def _insert_alarms(conn, pending: list[tuple], out: list) -> None:
        rows = [v for _, v in pending]
        fast = _sqlite(conn)
        if fast is not None:
            inserted = dict(fast.insert_alarms(conn, rows))
        else:
            inserted = {row.dedupe_key: row.id for row in conn.execute(_insert_alarm(conn), rows)}
        taken: set[str] = set()
        for i, values in pending:
            key = values["dedupe_key"]
            aid = inserted.get(key)
            if aid is not None and key not in taken:
                taken.add(key)
                out[i] = Stored("stored", aid)
                continue
            old = aid if aid is not None else conn.execute(_DUPLICATE, {"key": key, "mid": values["message_id"]}).scalar()
            if old is None:
                raise StoreError(f"alarm {key} was neither stored nor found")
            out[i] = Stored("duplicate", old)

    @staticmethod
    def _refusal(machine: dict | None, mail) -> tuple[str, str] | None:
        """Why an alarm cannot be filed for this machine (reason, message), or None."""
        if machine is None:
            return "unknown-machine", f"no single registered machine has the computer name {mail.computer!r}"
        if machine["express_start_on"] is None:
            return "no-express", (f"machine {machine['label_number']} ({mail.computer}) has no Express alarm service "
                                  "registered (express_start_on)")
        return None

    def _alarm_values(self, policy, machine: dict, mail, via: str, received_at: dt.datetime) -> dict:
        """The alarm's row, routed by the policy. The row is the record of the receipt (when, via what, the
        policy digest): it has no separate audit row; every later change to it has one."""
        decision = policy.decide(alarm_case(machine, received_at, []))
        contact = decision.contact or {}
        closed = not contact.get("next_contact_at")
        values = dict(
            machine_id=machine["id"], message_id=mail.message_id,
            dedupe_key=dedupe_key(machine["id"], mail.event_id, mail.occurred_at), computer=mail.computer,
            product=mail.product, occurred_at=mail.occurred_at, relayed_at=mail.relayed_at, received_at=received_at,
            trap=mail.trap, source=mail.source, event_id=mail.event_id, detail=mail.detail, action=mail.action,
            alert_type=mail.alert_type, via=storable(via, S.alarms.c.via), status="closed" if closed else "new",
            decision=stored_decision(decision), next_contact_at=contact.get("next_contact_at"),
            arrange_technician=bool(contact.get("arrange_technician")), policy_digest=policy.digest, version=1,
            incident_id=None, closed_reason=contact.get("reason", "no call") if closed else None)
        return values

    def alarm(self, aid: int) -> dict:
        return self.record(S.alarms, aid, "alarm")

    def alarms(self, *, limit: int | None = None, newest_first: bool = False) -> list[dict]:
        q = sa.select(S.alarms).order_by(S.alarms.c.id.desc() if newest_first else S.alarms.c.id)
        if limit:
            q = q.limit(limit)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def quarantined(self) -> list[dict]:
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(S.quarantine).order_by(S.quarantine.c.id))]

    def contact_attempts(self, aid: int) -> list[dict]:
        """The calls made after an alarm, oldest first."""
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(S.contact_attempts).where(S.contact_attempts.c.alarm_id == aid)
                .order_by(S.contact_attempts.c.at, S.contact_attempts.c.id))]

    def save_contact(self, aid: int, *, operator: str, version: int | None, at: dt.datetime, reached: bool,
                     note: str, decision, status: str, closed_reason: str | None = None,
                     incident: dict | None = None, alarm_text: str = "") -> dict[str, Any]:
        """Keep a call the desk decided (sptui.desk.alarms): `decision` routes the alarm with this call; `status` is
        where it ends: retry (unreached; the next call is the decision's), closed (reached, no repair:
        `closed_reason`) or linked (reached, repair needed: the open incident of the machine, if there is one,
        else a new one from `incident`, the _insert_incident values; `alarm_text` is the alarm's line in the
        incident's timeline). One transaction: the call, the alarm's end and the incident are kept together or
        not at all. Returns the contact, the incident id and whether it was opened now."""
        contact = decision.contact or {}
        with self.write() as conn:
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
                iid = self._open_incident_of(conn, row.machine_id)
                opened = iid is None
                if opened:
                    iid = self._insert_incident(conn, **incident, alarm_id=aid, operator=operator)
                self._event(conn, iid, operator, "alarm", alarm_text, dt.datetime.now(S.TOKYO))
            res = conn.execute(S.alarms.update().where(S.alarms.c.id == aid, S.alarms.c.version == row.version).values(
                version=S.alarms.c.version + 1, decision=stored_decision(decision),
                next_contact_at=contact.get("next_contact_at"),
                arrange_technician=bool(contact.get("arrange_technician")), status=status,
                policy_digest=decision.policy_digest, incident_id=iid, closed_reason=closed_reason))
            if res.rowcount != 1:
                raise _alarm_conflict(aid)
            conn.execute(S.contact_attempts.insert().values(alarm_id=aid, incident_id=iid, at=at, reached=reached,
                                                            operator=operator, note=note))
            self.audit(conn, operator, "alarm", aid, "contact",
                       {"reached": reached, "at": at.isoformat(), "note": note, "status": status,
                        "incident_id": iid, "incident_opened": opened, "closed_reason": closed_reason,
                        "next_contact_at": contact.get("next_contact_at") and contact["next_contact_at"].isoformat()},
                       decision.policy_digest)
        return {"contact": contact, "status": status, "incident_id": iid, "opened": opened}

    @staticmethod
    def _open_incident_of(conn, machine_id: int) -> int | None:
        """The machine's newest incident that is not closed (an alarm that needs a repair joins it)."""
        i = S.incidents
        return conn.execute(sa.select(i.c.id).where(i.c.machine_id == machine_id, i.c.status != "closed",
                                                    i.c.support == "hw").order_by(i.c.id.desc()).limit(1)).scalar()

    def retries_due(self, at: dt.datetime) -> list[dict]:
        """Alarms whose next contact time has come (first calls and next-day retries alike)."""
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(S.alarms).where(S.alarms.c.next_contact_at <= at, S.alarms.c.status.in_(("new", "retry")))
                .order_by(S.alarms.c.next_contact_at))]
