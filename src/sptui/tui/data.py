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
    haystack: str = attrs.field(eq=False, repr=False, default="")  # what a filter searches, case-folded

    @property
    def key(self) -> str:
        return f"{self.kind[0]}{self.id}"

    def due(self) -> dt.datetime | None:
        return self.deadline if self.kind == "incident" else self.next_contact

    def matches(self, needle: str) -> bool:
        return needle.casefold() in self.haystack


def _row(kind, rid, label, customer, verdict, in_hours, deadline, next_contact, status, owner, summary, received):
    hay = "\t".join((f"{kind[0]}{rid}", kind, label, customer, verdict or "", status, owner or "", summary)).casefold()
    return QueueRow(kind, rid, label, customer, verdict or "?", in_hours, deadline, next_contact, status, owner,
                    summary, received, hay)


_FAR = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
_OPEN_INCIDENT = S.incidents.c.status != "closed"
_TO_CALL = S.alarms.c.status.in_(("new", "retry"))


def queue(store) -> list[QueueRow]:
    """Every open incident and every alarm still to be called, the most urgent first (light rows: the stored
    decision is not read, only its in_service_hours and verdict)."""
    m, c = S.machines, S.customers
    i, a = S.incidents, S.alarms
    rows: list[QueueRow] = []
    with store.read() as conn:
        q = (sa.select(i.c.id, i.c.verdict, i.c.decision["in_service_hours"].as_boolean(), i.c.deadline, i.c.status,
                       i.c.owner, i.c.summary, i.c.received_at, m.c.label_number, c.c.organisation)
             .select_from(i.join(m, m.c.id == i.c.machine_id).join(c, c.c.id == m.c.customer_id))
             .where(_OPEN_INCIDENT))
        for r in conn.execute(q):
            rows.append(_row("incident", r[0], r[8], r[9], r[1], r[2], r[3], None, r[4], r[5], r[6], r[7]))
        q = (sa.select(a.c.id, a.c.decision["verdict"].as_string(), a.c.decision["in_service_hours"].as_boolean(),
                       a.c.next_contact_at, a.c.status, a.c.received_at, a.c.computer, a.c.trap, a.c.event_id,
                       m.c.label_number, c.c.organisation)
             .select_from(a.join(m, m.c.id == a.c.machine_id).join(c, c.c.id == m.c.customer_id))
             .where(_TO_CALL))
        for r in conn.execute(q):
            summary = " ".join(x for x in (r[6], r[7], r[8]) if x)
            rows.append(_row("alarm", r[0], r[9], r[10], r[1], r[2], None, r[3], r[4], None, summary, r[5]))
    rows.sort(key=lambda r: (r.due() or _FAR, r.kind, r.id))
    return rows


def fingerprint(store) -> tuple:
    """Changes when the queue would: rows opened, changed or closed (polled; cheap against a full read)."""
    i, a = S.incidents, S.alarms
    with store.read() as conn:
        inc = conn.execute(sa.select(sa.func.count(), sa.func.max(i.c.updated_at), sa.func.sum(i.c.version))
                           .where(_OPEN_INCIDENT)).one()
        al = conn.execute(sa.select(sa.func.count(), sa.func.max(a.c.id), sa.func.sum(a.c.version))
                          .where(_TO_CALL)).one()
    return tuple(inc) + tuple(al)


def machine_of(store, machine_id: int) -> dict:
    return store.machine_rows(S.machines.c.id == machine_id, 1)[0]


def attempts(store, alarm_id: int) -> list[dict]:
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(S.contact_attempts).where(S.contact_attempts.c.alarm_id == alarm_id)
            .order_by(S.contact_attempts.c.at))]
