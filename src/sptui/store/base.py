"""The store's base: the engine, transactions, the audit log and registry look-ups."""
from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import threading
import unicodedata
from typing import Iterator

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.changes import NOTIFY, ChangeListener
from sptui.store.db import StoreError, ensure_schema, make_engine, normalise_url
from sptui.tz import now  # noqa: F401  (sptui.store.now)

_INSERT_AUDIT = S.audit.insert()


def operator_name(given: str | None = None) -> str:
    if given:
        return given
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no passwd entry (a container): still somebody
        return "unknown"




class StoreBase:
    """Opening, transactions, audit and registry look-ups; the operations are mixins (see Store)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._hold = False  # hold_connection()
        self._held: sa.Connection | None = None
        self._depth = 0
        self._probe = None  # data_version's own connection
        self._probe_lock = threading.Lock()

    def hold_connection(self) -> None:
        """Use one connection for every transaction, for a process that does nothing else (the intake's
        writer): no pool checkout per transaction, and on PostgreSQL no ping. After a failed transaction the
        connection is dropped and the next one connects afresh."""
        self._hold = True

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        if not self._hold:
            with self.engine.connect() as conn:
                yield conn
            return
        if self._held is None:
            self._held = self.engine.connect()
        conn = self._held
        outer, self._depth = self._depth == 0, self._depth + 1
        try:
            yield conn
            if outer and conn.in_transaction():  # a read's implicit transaction: ended, as closing would end it
                conn.rollback()
        except BaseException:
            if outer:  # an inner failure propagates to the outer level, which drops the connection
                self._held = None
                with contextlib.suppress(Exception):
                    conn.close()
            raise
        finally:
            self._depth -= 1

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> "StoreBase":
        engine = make_engine(normalise_url(url))
        if check_schema:
            ensure_schema(engine)
        return cls(engine)

    def close(self) -> None:
        if self._probe is not None:
            with contextlib.suppress(Exception):
                self._probe.close()
            self._probe = None
        if self._held is not None:
            with contextlib.suppress(Exception):
                self._held.close()
            self._held = None
        self.engine.dispose()

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, so writers queue instead of failing late). On PostgreSQL
        it ends with NOTIFY sptui_changes, delivered to listening desks when (and only if) it commits."""
        with self._connection() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    yield conn
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(NOTIFY)
            finally:
                conn.info.pop("write", None)

    def listen_for_changes(self, on_change) -> ChangeListener | None:
        """Other writers' commits as they happen (PostgreSQL's LISTEN, on a connection of its own): a listener to
        start(), calling on_change() from its thread; None on SQLite, where only polling tells. See changes.py."""
        if self.engine.dialect.name != "postgresql":
            return None
        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return ChangeListener(conninfo, on_change)

    def data_version(self) -> int | None:
        """On SQLite, a number that changes whenever anything was committed to the database since it was last
        asked (PRAGMA data_version, on a connection of its own that never writes, so this process's own commits
        count too): a look at one page instead of a query over every open incident. None on PostgreSQL."""
        if self.engine.dialect.name != "sqlite" or self.engine.url.database in (None, "", ":memory:"):
            return None  # (in memory, every connection is a database of its own)
        with self._probe_lock:
            if self._probe is None:
                self._probe = self.engine.raw_connection()
            try:
                return self._probe.execute("PRAGMA data_version").fetchone()[0]
            except Exception:  # a broken connection: the next look opens another; this one says "changed"
                with contextlib.suppress(Exception):
                    self._probe.close()
                self._probe = None
                return None

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self._connection() as conn:
            yield conn

    def record(self, table: sa.Table, rid: int, what: str) -> dict:
        """One row by id, as a dict; StoreError `no {what} {rid}` if there is none."""
        with self.read() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == rid)).first()
        if row is None:
            raise StoreError(f"no {what} {rid}")
        return dict(row._mapping)

    # ---- audit -------------------------------------------------------------------------------------------
    @staticmethod
    def audit(conn: sa.Connection, operator: str, entity: str, entity_id: int | None, action: str,
              detail: dict, digest: str | None = None, at: dt.datetime | None = None) -> None:
        conn.execute(_INSERT_AUDIT, dict(at=at or now(), operator=operator, entity=entity, entity_id=entity_id,
                                         action=action, detail=detail, policy_digest=digest))

    def audit_log(self, entity: str | None = None, entity_id: int | None = None) -> list[dict]:
        q = sa.select(S.audit).order_by(S.audit.c.id)
        if entity is not None:
            q = q.where(S.audit.c.entity == entity)
        if entity_id is not None:
            q = q.where(S.audit.c.entity_id == entity_id)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # ---- registry look-ups ----------------------------------------------------------------------------------
    def machine_rows(self, where=None, limit: int | None = None) -> list[dict]:
        j = S.machines.join(S.customers).join(S.packs)
        q = (sa.select(S.machines, S.packs.c.pack_serial, S.packs.c.variant, S.packs.c.years,
                       S.packs.c.purchased_on.label("pack_purchased_on"), S.packs.c.registration_status,
                       S.packs.c.submitted_on, S.packs.c.completed_on, S.packs.c.agreed_end_on,
                       S.packs.c.express_start_on, S.packs.c.os_name, S.packs.c.report_method, S.packs.c.seller,
                       S.customers.c.organisation.label("customer_organisation"),
                       S.customers.c.name.label("customer_name"), S.customers.c.address.label("customer_address"),
                       S.customers.c.phone.label("customer_phone"), S.customers.c.email.label("customer_email"),
                       S.customers.c.purged_at)
             .select_from(j).order_by(S.machines.c.label_number))
        if where is not None:
            q = q.where(where)
        if limit:
            q = q.limit(limit)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def find_machines(self, *, label: str | None = None, serial: str | None = None, customer: str | None = None,
                      phone: str | None = None, support_id: str | None = None, limit: int = 100) -> list[dict]:
        """Look-up by label number (機器管理番号), serial (製造番号), customer organisation/name, or phone.

        Codes match as the registry keeps them (code_key: １２３４－５６７－８９０ finds 1234-567-890); phones
        match on their digits (03-1234-5678 finds 0312345678); names by substring."""
        from sptui.store.registry import code_key

        conds = []
        if label:
            conds.append(S.machines.c.label_number == code_key(label))
        if serial:
            conds.append(S.machines.c.serial_number == code_key(serial))
        if support_id:
            conds.append(S.machines.c.support_id == code_key(support_id))
        if customer:
            text = customer.strip()  # a substring, in any letter case; % and _ are plain characters
            conds.append(sa.or_(*(c.icontains(text, autoescape=True) for c in (
                S.customers.c.organisation, S.customers.c.name, S.machines.c.site_organisation))))
        if phone:
            digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isascii() and ch.isdigit())
            if not digits:
                raise StoreError("a phone number look-up needs digits")

            def bare(col):  # the stored number without its separators (imports store phones NFKC-normalised)
                for sep in ("-", " ", "+", "(", ")", "."):
                    col = sa.func.replace(col, sep, "")
                return col
            conds.append(sa.or_(bare(S.customers.c.phone) == digits, bare(S.machines.c.site_phone) == digits))
        if not conds:
            raise StoreError("give a label number, serial, support ID, customer or phone to look up")
        return self.machine_rows(sa.and_(*conds), limit)

    def machine(self, label: str) -> dict:
        rows = self.find_machines(label=label)
        if not rows:
            raise StoreError(f"no machine with label number {label}")
        return rows[0]

    def counts(self) -> dict[str, int]:
        out = {}
        with self.read() as conn:
            for t in (S.customers, S.machines, S.incidents, S.alarms, S.quarantine, S.dispatches, S.audit):
                out[t.name] = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        return out
