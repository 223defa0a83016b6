"""What the lead's views read: the recorded work over a period, as rows and counts (the store reads; what the
figures mean — met, missed, medians, totals — is computed by sptui.desk.report).

Every query is bounded by an indexed instant (an incident's receipt or deadline, an alarm's receipt, a
dispatch's departure, an audit row's time) or by the open records' status, so a period's figures cost what the
period holds, not what the database holds. Periods are half-open: `since <= t < until`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Iterator

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.database import Database

_OPEN = S.incidents.c.status != "closed"
_TO_CALL = S.alarms.c.status.in_(("new", "retry"))


def _between(column, since: dt.datetime, until: dt.datetime):
    return sa.and_(column >= since, column < until)


def _customer_variant():
    """incidents → machines → customers and packs: whose the record is, under which variant."""
    i, m, c, p = S.incidents, S.machines, S.customers, S.packs
    return i.join(m, m.c.id == i.c.machine_id).join(c, c.c.id == m.c.customer_id).join(p, p.c.machine_id == m.c.id)


def _first_dispatch(column):
    """The incident's first dispatch's `column` (the first technician sent is the one the deadline asked for)."""
    d, i = S.dispatches, S.incidents
    return sa.select(column).where(d.c.incident_id == i.c.id).order_by(d.c.id).limit(1).scalar_subquery()


def _hour(column, dialect: str):
    """An instant's hour as a whole number (hours since 1970, UTC): Japan has no summer time, so an hour of UTC is
    an hour of Japan time."""
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", column) / 3600), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.Integer) // 3600


class Reports:
    """Read-only queries over a period (see the module docstring). Each method reads on its own; `snapshot()` gives
    them all one transaction (one consistent view, one connection):

        with store.reports.snapshot() as r:
            r.deadlines(since, until); r.overdue(at) …
    """

    def __init__(self, db: Database):
        self.db = db

    @contextlib.contextmanager
    def snapshot(self) -> Iterator["Snapshot"]:
        with self.db.read() as conn:
            if conn.dialect.name == "postgresql":
                # short index look-ups: PostgreSQL's JIT compiling (40 ms a query here) costs more than it saves
                conn.exec_driver_sql("SET LOCAL jit = off")
            yield Snapshot(conn)

    def __getattr__(self, name: str):
        """Any of Snapshot's queries, in a read of its own."""
        if name.startswith("_") or not hasattr(Snapshot, name):
            raise AttributeError(name)

        def read(*args, **kwargs):
            with self.snapshot() as snap:
                return getattr(snap, name)(*args, **kwargs)
        return read


class Snapshot:
    """The queries of Reports, on one connection in one transaction."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn

    def _rows(self, q) -> list[dict]:
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def deadlines(self, since: dt.datetime, until: dt.datetime) -> list[dict]:
        """Incidents whose onsite deadline falls in the period: whose, the variant, the deadline, the status, the
        first dispatch's departure and late reason (None: none yet)."""
        i, c, p, d = S.incidents, S.customers, S.packs, S.dispatches
        return self._rows(sa.select(
            i.c.id, i.c.deadline, i.c.status, i.c.received_at, c.c.organisation.label("customer"),
            p.c.variant, _first_dispatch(d.c.departed_at).label("departed_at"),
            _first_dispatch(d.c.late_reason).label("late_reason"))
            .select_from(_customer_variant()).where(_between(i.c.deadline, since, until)).order_by(i.c.deadline, i.c.id))

    def reach_times(self, since: dt.datetime, until: dt.datetime) -> list[dict]:
        """Alarms received in the period: whose, the variant, the receipt and the first call that reached the
        customer (None: not yet)."""
        a, m, c, p, ca = S.alarms, S.machines, S.customers, S.packs, S.contact_attempts
        reached = (sa.select(sa.func.min(ca.c.at)).where(ca.c.alarm_id == a.c.id, ca.c.reached.is_(True))
                   .scalar_subquery())
        return self._rows(sa.select(a.c.id, a.c.received_at, c.c.organisation.label("customer"), p.c.variant,
                                    reached.label("reached_at"))
                          .select_from(a.join(m, m.c.id == a.c.machine_id).join(c, c.c.id == m.c.customer_id)
                                       .join(p, p.c.machine_id == m.c.id))
                          .where(_between(a.c.received_at, since, until)).order_by(a.c.received_at, a.c.id))

    def opened(self, since: dt.datetime, until: dt.datetime) -> list[dict]:
        """How many incidents were received in the period, per customer and variant."""
        i, c, p = S.incidents, S.customers, S.packs
        return self._rows(sa.select(c.c.organisation.label("customer"), p.c.variant, sa.func.count().label("n"))
                          .select_from(_customer_variant()).where(_between(i.c.received_at, since, until))
                          .group_by(c.c.organisation, p.c.variant))

    def open_incidents(self) -> list[dict]:
        """The incidents not closed, counted by verdict, status and whether they wait for a consultation (相談)."""
        i = S.incidents
        consult = i.c.consult.is_not(None).label("consult")
        return self._rows(sa.select(i.c.verdict, i.c.status, consult, sa.func.count().label("n"))
                          .where(_OPEN).group_by(i.c.verdict, i.c.status, consult))

    def overdue(self, at: dt.datetime) -> dict[str, int]:
        """Now: alarm calls whose time has passed (still to make), and open incidents past their onsite deadline
        with no technician sent."""
        i, a = S.incidents, S.alarms
        calls = self.conn.execute(sa.select(sa.func.count()).select_from(a)
                                  .where(_TO_CALL, a.c.next_contact_at < at)).scalar_one()
        late = self.conn.execute(sa.select(sa.func.count()).select_from(i)
                                 .where(i.c.status.in_(("open", "claimed")), i.c.deadline < at)).scalar_one()
        return {"calls": calls, "deadlines": late}

    def dispatches(self, since: dt.datetime, until: dt.datetime, *, billable_only: bool = False) -> list[dict]:
        """Dispatches whose technician departed in the period, with the incident's verdict, the customer, the
        contract (pack) and the consent; `billable_only`: those the customer pays (a 別表-1 fee or a quote)."""
        d, i, m, c, p = S.dispatches, S.incidents, S.machines, S.customers, S.packs
        q = (sa.select(d.c.id, d.c.incident_id, d.c.technician, d.c.technicians, d.c.departed_at, d.c.completed_at,
                       d.c.late_reason, d.c.fee, d.c.billing, d.c.operator, d.c.confirmed_by, d.c.consent_by,
                       d.c.consent_via, d.c.consent_at, i.c.verdict, i.c.support, m.c.label_number,
                       c.c.id.label("customer_id"), c.c.organisation.label("customer"), p.c.pack_serial, p.c.variant,
                       p.c.years)
             .select_from(d.join(i, i.c.id == d.c.incident_id).join(m, m.c.id == i.c.machine_id)
                          .join(c, c.c.id == m.c.customer_id).join(p, p.c.machine_id == m.c.id))
             .where(_between(d.c.departed_at, since, until)).order_by(d.c.departed_at, d.c.id))
        if billable_only:
            q = q.where(d.c.billing.in_(("fee", "quote-needed")))
        return self._rows(q)

    def per_hour(self, what: str, since: dt.datetime, until: dt.datetime) -> dict[int, int]:
        """How many incidents (`incidents`) or alarms (`alarms`) were received in each hour of the period: hour
        number (hours since 1970) → count; hours without any are left out."""
        table = {"incidents": S.incidents, "alarms": S.alarms}[what]
        hour = _hour(table.c.received_at, self.conn.dialect.name).label("hour")
        return {int(h): n for h, n in self.conn.execute(
            sa.select(hour, sa.func.count()).where(_between(table.c.received_at, since, until)).group_by(hour))}

    def activity(self, since: dt.datetime, until: dt.datetime) -> list[dict]:
        """The audit log's rows in the period (what every operator did), oldest first."""
        return self._rows(sa.select(S.audit).where(_between(S.audit.c.at, since, until)).order_by(S.audit.c.id))

    def alarms_received(self, since: dt.datetime, until: dt.datetime) -> list[dict]:
        """The alarms received in the period: id, computer, status."""
        a = S.alarms
        return self._rows(sa.select(a.c.id, a.c.computer, a.c.status, a.c.received_at, a.c.next_contact_at)
                          .where(_between(a.c.received_at, since, until)).order_by(a.c.id))

    def open_work(self) -> dict[str, list[dict]]:
        """What is left: the incidents not closed (with owner, status, deadline, customer) and the alarms still to
        call (with their next call)."""
        i, a, m, c = S.incidents, S.alarms, S.machines, S.customers
        incidents = self._rows(sa.select(i.c.id, i.c.owner, i.c.status, i.c.verdict, i.c.deadline, i.c.summary,
                                         i.c.consult, m.c.label_number, c.c.organisation.label("customer"))
                               .select_from(i.join(m, m.c.id == i.c.machine_id).join(c, c.c.id == m.c.customer_id))
                               .where(_OPEN).order_by(i.c.deadline.is_(None), i.c.deadline, i.c.id))
        alarms = self._rows(sa.select(a.c.id, a.c.computer, a.c.status, a.c.next_contact_at)
                            .where(_TO_CALL).order_by(a.c.next_contact_at.is_(None), a.c.next_contact_at, a.c.id))
        return {"incidents": incidents, "alarms": alarms}
