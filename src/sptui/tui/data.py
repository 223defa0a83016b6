"""What the desk shows, read from the store: the queue (open incidents and alarms waiting for a call)."""
from __future__ import annotations

import datetime as dt

import attrs
import sqlalchemy as sa

from sptui.store import schema as S


@attrs.frozen
class QueueRow:
    kind: str  # incident | alarm
    id: int
    label: str
    customer: str
    verdict: str
    in_hours: bool | None
    deadline: dt.datetime | None  # incidents: the onsite deadline
    next_contact: dt.datetime | None  # alarms: when to phone the customer
    status: str
    owner: str | None
    summary: str
    received_at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.kind[0]}{self.id}"

    def due(self) -> dt.datetime | None:
        return self.deadline if self.kind == "incident" else self.next_contact

    def matches(self, needle: str) -> bool:
        n = needle.casefold()
        return any(n in str(v).casefold() for v in (self.key, self.label, self.customer, self.verdict, self.status,
                                                    self.summary, self.owner or "", self.kind))


_FAR = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def queue(store, *, limit: int = 5000) -> tuple[list[QueueRow], int]:
    """Open incidents and alarms still to be called, the most urgent first; and how many there are in all."""
    m, c = S.machines, S.customers
    i, a = S.incidents, S.alarms
    inc_where = i.c.status != "closed"
    al_where = a.c.status.in_(("new", "retry"))
    rows: list[QueueRow] = []
    with store.read() as conn:
        total = (conn.execute(sa.select(sa.func.count()).select_from(i).where(inc_where)).scalar_one()
                 + conn.execute(sa.select(sa.func.count()).select_from(a).where(al_where)).scalar_one())
        q = (sa.select(i.c.id, i.c.verdict, i.c.deadline, i.c.status, i.c.owner, i.c.summary, i.c.received_at,
                       i.c.decision, m.c.label_number, c.c.organisation)
             .select_from(i.join(m, m.c.id == i.c.machine_id).join(c, c.c.id == m.c.customer_id))
             .where(inc_where).order_by(i.c.deadline.is_(None), i.c.deadline, i.c.id).limit(limit))
        for r in conn.execute(q):
            rows.append(QueueRow("incident", r.id, r.label_number, r.organisation, r.verdict,
                                 (r.decision or {}).get("in_service_hours"), r.deadline, None, r.status, r.owner,
                                 r.summary, r.received_at))
        q = (sa.select(a.c.id, a.c.decision, a.c.next_contact_at, a.c.status, a.c.received_at, a.c.trap,
                       a.c.computer, a.c.event_id, m.c.label_number, c.c.organisation)
             .select_from(a.join(m, m.c.id == a.c.machine_id).join(c, c.c.id == m.c.customer_id))
             .where(al_where).order_by(a.c.next_contact_at, a.c.id).limit(limit))
        for r in conn.execute(q):
            d = r.decision or {}
            rows.append(QueueRow("alarm", r.id, r.label_number, r.organisation, d.get("verdict", "?"),
                                 d.get("in_service_hours"), None, r.next_contact_at, r.status, None,
                                 f"{r.computer} {r.trap or ''} {r.event_id or ''}".strip(), r.received_at))
    rows.sort(key=lambda r: (r.due() or _FAR, r.kind, r.id))
    return rows[:limit], total


def machine_of(store, machine_id: int) -> dict:
    return store.machine_rows(S.machines.c.id == machine_id, 1)[0]


def attempts(store, alarm_id: int) -> list[dict]:
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(S.contact_attempts).where(S.contact_attempts.c.alarm_id == alarm_id)
            .order_by(S.contact_attempts.c.at))]
