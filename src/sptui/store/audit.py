"""The audit log: who did what, when, to which record, under which policy digest. Every change to an incident
or alarm writes one row, in the change's own transaction."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.database import Database, now

_INSERT_AUDIT = S.audit.insert()


class AuditLog:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def add(conn: sa.Connection, operator: str, entity: str, entity_id: int | None, action: str, detail: dict,
            digest: str | None = None, at: dt.datetime | None = None) -> None:
        """One row, in the caller's transaction."""
        conn.execute(_INSERT_AUDIT, dict(at=at or now(), operator=operator, entity=entity, entity_id=entity_id,
                                         action=action, detail=detail, policy_digest=digest))

    def rows(self, entity: str | None = None, entity_id: int | None = None) -> list[dict]:
        """The log, oldest first; of one kind of record (`entity`), or of one record."""
        q = sa.select(S.audit).order_by(S.audit.c.id)
        if entity is not None:
            q = q.where(S.audit.c.entity == entity)
        if entity_id is not None:
            q = q.where(S.audit.c.entity_id == entity_id)
        return self.db.rows(q)
