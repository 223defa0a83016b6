"""One database for every repository of the store: the engine, transactions, the change feed, and counts.

    db = Database.open(url)          # None: SPTUI_DB, else the user's SQLite file (db.py)
    with db.write() as conn: …       # BEGIN IMMEDIATE on SQLite; NOTIFY sptui_changes on PostgreSQL
    with db.read() as conn: …
    db.data_version()                # SQLite: changes whenever anything was committed (the desk's poll)
    db.listen_for_changes(on_change) # PostgreSQL: other writers' commits as they happen (changes.py)
"""
from __future__ import annotations

import contextlib
import getpass
import os
import threading
from typing import Iterator

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.changes import NOTIFY, ChangeListener
from sptui.store.db import BUSY_TIMEOUT_MS, StoreError, ensure_schema, make_engine, normalise_url
from sptui.tz import now  # noqa: F401  (sptui.store.now)


def operator_name(given: str | None = None) -> str:
    if given:
        return given
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no passwd entry (a container): still somebody
        return "unknown"




class Database:
    """The engine and its transactions, shared by the store's repositories (sptui.store.Store)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._hold = False  # hold_connection()
        self._held: sa.Connection | None = None
        self._depth = 0
        self._probe = None  # data_version's own connection
        self._probe_lock = threading.Lock()
        self.wait_limit_ms: int | None = None  # limit_waits()

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> "Database":
        engine = make_engine(normalise_url(url))
        if check_schema:
            ensure_schema(engine)
        return cls(engine)

    def hold_connection(self) -> None:
        """Use one connection for every transaction, for a process that does nothing else (the intake's
        writer): no pool checkout per transaction, and on PostgreSQL no ping. After a failed transaction the
        connection is dropped and the next one connects afresh."""
        self._hold = True

    def limit_waits(self, seconds: float) -> None:
        """Every write transaction of this process gives up (a transient OperationalError, its sender retries)
        rather than wait longer than `seconds` for another's lock, or run a statement 4× as long: for a process that
        must answer someone (the intake's 451). PostgreSQL: lock_timeout and statement_timeout of the transaction;
        SQLite: the connection's busy timeout."""
        self.wait_limit_ms = max(1, int(seconds * 1000))
        if self.engine.dialect.name == "sqlite":
            self.wait_limit_ms = min(self.wait_limit_ms, BUSY_TIMEOUT_MS)  # (SPTUI_SQLITE_BUSY_MS: shorter still)
            sa.event.listen(self.engine, "connect", self._sqlite_wait)
            self.engine.dispose()  # (connections opened before this one wait as long as they did)

    def _sqlite_wait(self, dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={self.wait_limit_ms}")
        cur.close()

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
                    if self.wait_limit_ms is not None and conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {self.wait_limit_ms}")
                        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {4 * self.wait_limit_ms}")
                    yield conn
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(NOTIFY)
            finally:
                conn.info.pop("write", None)

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self._connection() as conn:
            yield conn

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

    def record(self, table: sa.Table, rid: int, what: str) -> dict:
        """One row by id, as a dict; StoreError `no {what} {rid}` if there is none."""
        with self.read() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == rid)).first()
        if row is None:
            raise StoreError(f"no {what} {rid}")
        return dict(row._mapping)

    def rows(self, query) -> list[dict]:
        """Every row a query selects, as dicts, in a read of its own."""
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """How many rows each of the desk's tables holds."""
        out = {}
        with self.read() as conn:
            for t in (S.customers, S.machines, S.incidents, S.alarms, S.quarantine, S.dispatches, S.audit):
                out[t.name] = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        return out
