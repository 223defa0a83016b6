"""The desk's records on SQLite or PostgreSQL: repositories over one database. The store persists; it does not
decide: what it keeps of a decision, the desk decided (sptui.desk) and hands over (`Decided`, `NewIncident`,
`NewAlarm`).

    store = Store.open(url)              # None: SPTUI_DB, else the user's SQLite file
    store.db                             # the engine, transactions, the change feed, counts (database.py)
    store.registry.import_csv(text)      # registry.py: CSV rows checked per 第2章 1.1; look-ups
    store.incidents.claim(iid, …)        # incidents.py: optimistic: one of two operators wins, the other gets
                                         # ConflictError
    store.alarms, store.quarantine       # alarms.py, quarantine.py: filed alarm mails and calls; kept mails
    store.purge                          # purge.py: erasing personal data (第3章 1.8)
    store.audit.rows("incident", iid)    # audit.py
    store.reports.deadlines(since, until)  # reports.py: what the lead's views read over a period

Each repository is given what it uses (the database, the audit log, for alarms the incidents). Every change to
an incident or alarm writes an audit row: who, when, what, and the policy digest.
"""
from __future__ import annotations

from sptui.store.alarms import Alarms
from sptui.store.audit import AuditLog
from sptui.store.database import Database, now, operator_name
from sptui.store.db import BadRequest, ConflictError, OutdatedSchema, StoreError
from sptui.store.incidents import Incidents
from sptui.store.purge import Purge
from sptui.store.quarantine import Quarantine
from sptui.store.records import Decided, NewAlarm, NewIncident, Stored
from sptui.store.registry import Registry
from sptui.store.reports import Reports

__all__ = ["Store", "Database", "StoreError", "BadRequest", "ConflictError", "OutdatedSchema", "Decided",
           "NewAlarm", "NewIncident", "Stored", "operator_name", "now"]


class Store:
    """One desk's records: `Store.open(url)`; see the module docstring."""

    def __init__(self, db: Database):
        self.db = db
        self.audit = AuditLog(db)
        self.registry = Registry(db, self.audit)
        self.incidents = Incidents(db, self.audit)
        self.alarms = Alarms(db, self.audit, self.incidents)
        self.quarantine = Quarantine(db, self.audit)
        self.purge = Purge(db, self.audit)
        self.reports = Reports(db)

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> "Store":
        """The store at `url` (a SQLite path or postgresql://…); a new database is created at the newest schema
        revision, an older one refused with how to upgrade it (OutdatedSchema)."""
        return cls(Database.open(url, check_schema=check_schema))

    def close(self) -> None:
        self.db.close()
