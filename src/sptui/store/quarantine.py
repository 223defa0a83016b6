"""The quarantine: every mail that could not be filed as an alarm, kept whole with the reason. The same bytes are
kept once. It must take every mail, so every text value goes in through `storable`."""
from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.audit import AuditLog
from sptui.store.database import Database
from sptui.store.records import Stored

_Q = S.quarantine.c
_QUARANTINED = sa.select(_Q.id).where(_Q.sha256 == sa.bindparam("sha"))
_INSERT_QUARANTINE = S.quarantine.insert()


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


class Quarantine:
    def __init__(self, db: Database, audit: AuditLog):
        self.db, self.audit = db, audit

    def keep(self, raw: bytes, *, reason: str, message: str, via: str, received_at: dt.datetime,
             message_id: str | None = None, sender: str | None = None, machine_id: int | None = None) -> Stored:
        """Keep a mail that could not be stored as an alarm, with the reason, in a transaction of its own."""
        with self.db.write() as conn:
            return self.add(conn, raw, reason=reason, message=message, via=via, received_at=received_at,
                            message_id=message_id, sender=sender, machine_id=machine_id)

    def add(self, conn, raw: bytes, *, reason: str, message: str, via: str, received_at: dt.datetime,
            message_id: str | None = None, sender: str | None = None, machine_id: int | None = None) -> Stored:
        """The same, in the caller's transaction. Bytes kept before: a `duplicate` of that entry. `machine_id`: the
        registered machine the mail was found to be about, if any (purge erases the mail with its customer)."""
        digest = hashlib.sha256(raw).hexdigest()
        old = conn.execute(_QUARANTINED, {"sha": digest}).scalar()
        if old is not None:
            return Stored("duplicate", old, reason)
        reason, message, via = storable(reason, _Q.reason), storable(message, _Q.message), storable(via, _Q.via)
        qid = conn.execute(_INSERT_QUARANTINE, dict(
            received_at=received_at, reason=reason, message=message, message_id=storable(message_id, _Q.message_id),
            sender=storable(sender, _Q.sender), via=via, raw=raw, sha256=digest,
            machine_id=machine_id)).inserted_primary_key[0]
        self.audit.add(conn, "intake", "quarantine", qid, "quarantine", {"reason": reason, "message": message,
                                                                          "via": via}, None, received_at)
        return Stored("quarantined", qid, reason)

    def rows(self) -> list[dict]:
        return self.db.rows(sa.select(S.quarantine).order_by(_Q.id))
