"""The cases the desk recorded with its decisions, to be replayed under another policy (`sptui diff --db`, the
desk's policy screen on save): each incident's case (its latest: a dispatch adds the work) and each alarm's (as
routed at its latest call). The store only reads them; what replays them is sptui.desk.replay."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

import attrs
import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.database import Database


@attrs.frozen
class RecordedCase:
    """A recorded decision's case: `kind` incident or alarm, its id, the machine's label number, the notice's
    receipt (the case's `at`), the case as kept (None: an alarm filed before schema 0009 kept none), and the
    machine's id (to rebuild such an alarm's case)."""
    kind: str
    id: int
    label: str
    at: dt.datetime
    case: dict | None
    machine_id: int


def _query(table: sa.Table, kind: str, since: dt.datetime | None):
    q = (sa.select(table.c.id, table.c.received_at, table.c.case, table.c.machine_id, S.machines.c.label_number)
         .select_from(table.join(S.machines, S.machines.c.id == table.c.machine_id))
         .order_by(table.c.received_at, table.c.id))
    return q.where(table.c.received_at >= since) if since is not None else q


def recorded_cases(db: Database, since: dt.datetime | None = None, *, chunk: int = 2000) -> Iterator[RecordedCase]:
    """Every incident's case, then every alarm's, each received at `since` or later (None: all), oldest first;
    read in chunks (a store of 100,000 incidents is not held in memory at once)."""
    if since is not None and since.utcoffset() is None:
        raise S.NaiveDatetimeError(f"naive datetime {since.isoformat()}: give a zone (+09:00)")
    for table, kind in ((S.incidents, "incident"), (S.alarms, "alarm")):
        with db.read() as conn:
            result = conn.execution_options(yield_per=chunk).execute(_query(table, kind, since))
            for row in result:
                yield RecordedCase(kind, row.id, row.label_number, row.received_at, row.case, row.machine_id)


def count_recorded(db: Database, since: dt.datetime | None = None) -> int:
    """How many cases recorded_cases gives."""
    n = 0
    with db.read() as conn:
        for table in (S.incidents, S.alarms):
            q = sa.select(sa.func.count()).select_from(table)
            if since is not None:
                q = q.where(table.c.received_at >= since)
            n += conn.execute(q).scalar_one()
    return n
