"""What the desk shows, read from the store: the queue (open incidents and alarms waiting for a call)."""
from __future__ import annotations

import datetime as dt

import heapq

import sqlalchemy as sa

from sptui.tz import now  # noqa: F401 - the desk's one clock: every screen reads it here (tests freeze it here)
from sptui.store import schema as S
from sptui.tui.i18n import billing_words, value_words

POLL_SECONDS = 5.0  # how often the queue (and, on PostgreSQL, an open triage) looks for other desks' changes
SHOW = 500  # the queue's first page, read at once; the rest follows in the background


class QueueRow:
    """One line of the queue. Light: read for 100,000 rows at a time, so its time (the deadline of an incident,
    the next contact of an alarm) is kept as the database gave it and converted only when shown."""

    __slots__ = ("kind", "id", "label", "customer", "verdict", "in_hours", "due_raw", "status", "owner", "summary",
                 "consult", "pays", "billing", "departed_raw", "haystack", "_conv", "_due")

    def __init__(self, kind, rid, label, customer, verdict, in_hours, due_raw, status, owner, summary, conv,
                 consult=False, departed_raw=None, billing=None):
        self.kind, self.id, self.label, self.customer = kind, rid, label, customer
        self.verdict, self.in_hours, self.due_raw, self.status = verdict or "?", in_hours, due_raw, status
        self.owner, self.summary, self._conv, self._due = owner, summary, conv, _UNSET
        self.consult = bool(consult)  # 相談: an operator marked it for consultation
        self.departed_raw = departed_raw  # a dispatched incident: its technician's (latest) departure
        self.pays = billing in ("fee", "quote-needed")  # dispatched, and the customer pays
        self.billing = billing if self.dispatched else None  # who pays for the dispatch: free, fee, quote-needed
        self.haystack = "\t".join((  # what a filter searches: the words as stored and as shown in either language
            f"{kind[0]}{rid}", kind, label, customer, value_words("verdict", verdict), value_words("status", status),
            owner or "", "consult 相談" if consult else "", billing_words(self.billing),
            summary)).casefold()

    @property
    def key(self) -> str:
        return f"{self.kind[0]}{self.id}"

    def due(self) -> dt.datetime | None:
        if self._due is _UNSET:
            self._due = None if self.due_raw is None else self._conv(self.due_raw)
        return self._due

    @property
    def deadline(self) -> dt.datetime | None:
        return self.due() if self.kind == "incident" else None

    @property
    def next_contact(self) -> dt.datetime | None:
        return self.due() if self.kind == "alarm" else None

    @property
    def dispatched(self) -> bool:
        return self.status == "dispatched"

    def departed(self) -> dt.datetime | None:
        return None if self.departed_raw is None else self._conv(self.departed_raw)

    def sort_key(self) -> tuple:
        """The queue's order: what still waits for someone, the most urgent first; dispatched incidents after it
        (their technician is on the way: their deadline no longer calls for the desk)."""
        return (self.dispatched, self.due_raw is None, self.due_raw or "", self.kind, self.id)


_UNSET = object()
# the queue's orders besides its own (the deadline's: QueueRow.sort_key). Each sorts the rows as read, which are in
# the deadline's order, by its own key only: the sort is stable, so rows alike stay in the deadline's order
STATUS_ORDER = {s: n for n, s in enumerate(("open", "new", "retry", "claimed", "dispatched"))}
VERDICT_ORDER = {v: n for n, v in enumerate(("covered", "billable", "consult", "not-covered", "not-started"))}
SORTS = {
    "deadline": None,
    "customer": lambda r: r.customer.casefold(),
    "status": lambda r: (STATUS_ORDER.get(r.status, len(STATUS_ORDER)), not r.consult),
    "verdict": lambda r: VERDICT_ORDER.get(r.verdict, len(VERDICT_ORDER)),
}


def ordered(rows: list[QueueRow], sort: str, descending: bool) -> list[QueueRow]:
    """The rows (in the deadline's order, as read) in the order asked for."""
    if sort == "deadline":
        return rows[::-1] if descending else rows
    return sorted(rows, key=SORTS[sort], reverse=descending)


def matching(rows: list[QueueRow], cache: dict[str, list[QueueRow]], sort: str, descending: bool,
             needle: str) -> list[QueueRow]:
    """The rows whose text contains the (casefolded) needle, in the order asked for. Typing narrows: a needle that
    extends an earlier one searches only that one's matches; each needle's matches are kept in `cache` (to be
    cleared when the rows or their order change)."""
    if needle in cache:
        return cache[needle]
    if "" not in cache:  # every row, in the order asked for (a filter of a sorted list stays sorted)
        cache[""] = ordered(rows, sort, descending)
    base = cache[""]
    if not needle:
        return base
    for n in range(len(needle) - 1, 0, -1):
        if needle[:n] in cache:
            base = cache[needle[:n]]
            break
    found = cache[needle] = [r for r in base if needle in r.haystack]
    return found
_OPEN_INCIDENT = S.incidents.c.status != "closed"
_TO_CALL = S.alarms.c.status.in_(("new", "retry"))
_DISPATCHED = S.incidents.c.status == "dispatched"


def _instant(store):
    """The Instant columns' conversion (database value → aware Asia/Tokyo), to apply when a row is shown."""
    dialect = store.db.engine.dialect
    proc = S.incidents.c.deadline.type.dialect_impl(dialect).result_processor(dialect, None)
    return proc or (lambda v: v)


def _incidents(conv, where, order, limit=None):
    m, c, i, d = S.machines, S.customers, S.incidents, S.dispatches
    departed = sa.select(sa.func.max(d.c.departed_at)).where(d.c.incident_id == i.c.id).scalar_subquery()
    q = (sa.select(i.c.id, m.c.label_number, c.c.organisation, i.c.verdict,
                   i.c.decision["in_service_hours"].as_boolean(), sa.type_coerce(i.c.deadline, sa.String()),
                   i.c.status, i.c.owner, i.c.summary, i.c.consult.is_not(None),
                   sa.case((_DISPATCHED, sa.type_coerce(departed, sa.String())), else_=sa.null()),  # only those
                   i.c.billing)
         .select_from(i.join(m, m.c.id == i.c.machine_id).join(c, c.c.id == m.c.customer_id))
         .where(_OPEN_INCIDENT, *where).order_by(*order).limit(limit))
    return q, lambda r: QueueRow("incident", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], conv, r[9], r[10], r[11])


def _alarms(conv, limit=None, where=()):
    m, c, a = S.machines, S.customers, S.alarms
    q = (sa.select(a.c.id, m.c.label_number, c.c.organisation, a.c.decision["verdict"].as_string(),
                   a.c.decision["in_service_hours"].as_boolean(), sa.type_coerce(a.c.next_contact_at, sa.String()),
                   a.c.status, a.c.computer, a.c.trap, a.c.event_id)
         .select_from(a.join(m, m.c.id == a.c.machine_id).join(c, c.c.id == m.c.customer_id))
         .where(_TO_CALL, *where).order_by(a.c.next_contact_at.is_(None), a.c.next_contact_at, a.c.id).limit(limit))
    return q, lambda r: QueueRow("alarm", r[0], r[1], r[2], r[3], r[4], r[5], r[6], None,
                                 " ".join(x for x in (r[7], r[8], r[9]) if x), conv)


def queue(store, *, limit: int | None = None) -> list[QueueRow]:
    """Open incidents and alarms still to be called, in QueueRow.sort_key's order (all of them, or the first
    `limit`: those come from the deadline's index at once, however many there are)."""
    conv = _instant(store)
    i = S.incidents
    out: list[QueueRow] = []
    parts = (([~_DISPATCHED, i.c.deadline.is_not(None)], [i.c.deadline, i.c.id]),  # each in sort_key's order,
             ([~_DISPATCHED, i.c.deadline.is_(None)], [i.c.id]),  # one after the other
             ([_DISPATCHED], [i.c.deadline.is_(None), i.c.deadline, i.c.id]))
    with store.db.read() as conn:
        for where, order in parts:
            if limit is not None and len(out) >= limit:
                break
            q, make = _incidents(conv, where, order, None if limit is None else limit - len(out))
            out.extend(make(r) for r in conn.execute(q))
        q, make = _alarms(conv, limit)
        alarms = [make(r) for r in conn.execute(q)]
    rows = list(heapq.merge(out, alarms, key=QueueRow.sort_key))
    return rows if limit is None else rows[:limit]


def queue_row(store, kind: str, rid: int) -> QueueRow | None:
    """One row of the queue as it is now; None if it has left the queue (closed, called)."""
    conv = _instant(store)
    if kind == "incident":
        q, make = _incidents(conv, [S.incidents.c.id == rid], [S.incidents.c.id])
    else:
        q, make = _alarms(conv, where=[S.alarms.c.id == rid])
    with store.db.read() as conn:
        r = conn.execute(q).first()
    return make(r) if r is not None else None


def counts(store) -> int:
    """How many rows the queue has in all."""
    with store.db.read() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(S.incidents).where(_OPEN_INCIDENT)).scalar_one()
                + conn.execute(sa.select(sa.func.count()).select_from(S.alarms).where(_TO_CALL)).scalar_one())


def fingerprint(store) -> tuple:
    """Changes when the queue would: rows opened, changed or closed (polled; cheap against a full read)."""
    i, a = S.incidents, S.alarms
    with store.db.read() as conn:
        inc = conn.execute(sa.select(sa.func.count(), sa.func.max(i.c.updated_at), sa.func.sum(i.c.version))
                           .where(_OPEN_INCIDENT)).one()
        al = conn.execute(sa.select(sa.func.count(), sa.func.max(a.c.id), sa.func.sum(a.c.version))
                          .where(_TO_CALL)).one()
    return tuple(inc) + tuple(al)


def record_fingerprint(store, kind: str, rid: int) -> tuple:
    """Changes when the triage screen of an incident (its row, a new timeline line) or an alarm would."""
    with store.db.read() as conn:
        if kind == "incident":
            i, e = S.incidents, S.incident_events
            return tuple(conn.execute(sa.select(i.c.version, sa.select(sa.func.max(e.c.id))
                                                .where(e.c.incident_id == rid).scalar_subquery())
                                      .where(i.c.id == rid)).one_or_none() or ())
        return tuple(conn.execute(sa.select(S.alarms.c.version).where(S.alarms.c.id == rid)).one_or_none() or ())


def machine_of(store, machine_id: int) -> dict:
    return store.registry.rows(S.machines.c.id == machine_id, 1)[0]


def attempts(store, alarm_id: int) -> list[dict]:
    with store.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(S.contact_attempts).where(S.contact_attempts.c.alarm_id == alarm_id)
            .order_by(S.contact_attempts.c.at))]
