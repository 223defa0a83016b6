"""The lead's figures (sptui.desk.report over store.reports) on a real SQLite file and the real PostgreSQL server,
from a day whose figures are known (report_data.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from report_data import AT, THURSDAY, build, t

from sptui.desk.report import Period, overview
from sptui.store import BadRequest


@pytest.fixture
def day(store, policy):
    return store, build(store, policy)


def test_three_of_five_deadlines_met_with_the_late_reasons(day):
    store, _ = day
    ov = overview(store, Period.today(t(26, 12)), at=AT)
    assert ov.deadlines == {"met": 3, "missed": 2, "pending": 0, "closed_without_dispatch": 0}
    assert ov.late_reasons == {"traffic": 1, "not-dispatched": 1}


def test_the_week_counts_the_off_hours_dispatch_and_its_deadline(day):
    store, _ = day
    ov = overview(store, Period.week(AT), at=AT)
    assert ov.period.since == dt.datetime.combine(THURSDAY - dt.timedelta(days=3), dt.time(), AT.tzinfo)
    assert ov.deadlines["met"] == 4 and ov.deadlines["missed"] == 2
    assert ov.dispatches == {"total": 5, "off_hours": 1, "customer_pays": 1}


def test_alarm_receipt_to_customer_reached_median_and_worst(day):
    store, _ = day
    ov = overview(store, Period.today(t(26, 12)), at=AT)
    assert ov.reach == {"alarms": 3, "reached": 2, "unreached": 1, "median_minutes": 22.5, "worst_minutes": 35.0}


def test_now_overdue_calls_open_work_and_consults(day, policy):
    store, ids = day
    store.incidents.mark_consult(ids[5], "whose cable?", operator="sato")
    ov = overview(store, Period.today(t(26, 12)), at=AT)
    assert ov.overdue == {"calls": 1, "deadlines": 1}  # alarm C's call; incident 5, nobody sent
    assert ov.open_by_status == {"dispatched": 5, "claimed": 1}
    assert ov.open_by_verdict == {"covered": 6}
    assert ov.consults_waiting == 1


def test_per_customer_and_per_variant(day):
    store, _ = day
    ov = overview(store, Period.today(t(26, 12)), at=AT)
    variants = {g["variant"]: g for g in ov.by_variant}
    assert (variants["weekday-9h"]["met"], variants["weekday-9h"]["missed"]) == (3, 1)
    assert (variants["24x7"]["met"], variants["24x7"]["missed"]) == (0, 1)
    assert variants["weekday-9h"]["opened"] == 5 and variants["24x7"]["opened"] == 1
    customers = {g["customer"]: g for g in ov.by_customer}
    assert customers["顧客2株式会社"]["opened"] == 2 and customers["顧客2株式会社"]["off_hours"] == 1
    assert customers["顧客4株式会社"]["missed"] == 1 and customers["顧客3株式会社"]["median_reach_minutes"] == 10.0


def test_per_hour_series_and_slack(day):
    store, _ = day
    ov = overview(store, Period.today(t(26, 12)), at=AT)
    assert len(ov.incidents_per_hour) == 24 and sum(ov.incidents_per_hour) == 6
    assert ov.incidents_per_hour[9] == 1 and ov.incidents_per_hour[18] == 1
    assert ov.alarms_per_hour[9] == 1 and sum(ov.alarms_per_hour) == 3
    # slack = deadline − departure: 30, 60, 60 minutes, −30 (late); incident 6's deadline is Friday's
    assert dict(ov.slack) == {"<= -60": 0, "-60..0": 1, "0..30": 1, "30..60": 2, "60..90": 0, "90..120": 0,
                              "> 120": 0}


def test_a_period_is_japan_days_and_a_reversed_range_is_refused():
    p = Period.today(dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.timezone.utc))  # 08:30 on the 27th in Tokyo
    assert p.since.isoformat() == "2026-11-27T00:00:00+09:00" and len(p.hours()) == 24
    with pytest.raises(BadRequest):
        Period.between(t(27, 0), t(26, 0))


# ---- invariants of the figures, whatever the data (Hypothesis) -----------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_minutes = st.integers(min_value=-600, max_value=600)
_row = st.fixed_dictionaries({
    "deadline_min": st.integers(min_value=0, max_value=24 * 60 - 1), "departed": st.one_of(st.none(), _minutes),
    "status": st.sampled_from(["open", "claimed", "dispatched", "closed"]),
    "late_reason": st.sampled_from([None, "traffic", "weather", "site", "parts"]),
    "customer": st.sampled_from(["A", "B", "[bold]C[/]"]), "variant": st.sampled_from(["weekday-9h", "24x7"])})


class _Fake:
    """A snapshot of store.reports that returns the generated rows."""

    def __init__(self, rows):
        self.rows = rows

    def deadlines(self, since, until):
        return self.rows

    def reach_times(self, since, until):
        return []

    def dispatches(self, since, until):
        return []

    def opened(self, since, until):
        return []

    def open_incidents(self):
        return []

    def overdue(self, at):
        return {"calls": 0, "deadlines": 0}

    def per_hour(self, what, since, until):
        return {}


@settings(max_examples=200, deadline=None)
@given(st.lists(_row, max_size=40), st.integers(min_value=0, max_value=48 * 60))
def test_every_deadline_is_counted_once_and_the_parts_add_up(specs, now_min):
    from sptui.desk.report import _overview

    day = Period.today(t(26, 0))
    rows = []
    for n, s in enumerate(specs):
        deadline = day.since + dt.timedelta(minutes=s["deadline_min"])
        departed = None if s["departed"] is None else deadline + dt.timedelta(minutes=s["departed"])
        rows.append({"id": n, "deadline": deadline, "departed_at": departed, "late_reason": s["late_reason"],
                     "status": s["status"], "customer": s["customer"], "variant": s["variant"],
                     "received_at": deadline - dt.timedelta(hours=2)})
    at = day.since + dt.timedelta(minutes=now_min)
    ov = _overview(_Fake(rows), day, at)
    d = ov.deadlines
    assert sum(d.values()) == len(rows)
    assert d["met"] == sum(r["departed_at"] is not None and r["departed_at"] <= r["deadline"] for r in rows)
    assert sum(ov.late_reasons.values()) == d["missed"]
    assert sum(n for _, n in ov.slack) == sum(r["departed_at"] is not None for r in rows)
    for groups in (ov.by_customer, ov.by_variant):
        assert sum(g["met"] for g in groups) == d["met"] and sum(g["missed"] for g in groups) == d["missed"]
    assert d["pending"] == sum(r["departed_at"] is None and r["status"] != "closed" and r["deadline"] >= at
                               for r in rows)
