"""Service hours, the 2-service-hour deadline and the 別表-1 fee: table-driven pitfalls and properties."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sptui.evaluators.fees import fee_quote
from sptui.evaluators.hours import service_deadline, service_hours
from sptui.tz import TOKYO


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


@pytest.mark.parametrize("at, variant, deadline", [
    ("2026-11-27T17:00:00+09:00", "weekday-9h", "2026-11-30T10:00:00+09:00"),  # Friday 17:00 → Monday 10:00
    ("2026-11-27T16:45:00+09:00", "weekday-9h", "2026-11-30T09:45:00+09:00"),  # Friday 16:45
    ("2026-11-27T17:30:00+09:00", "weekday-9h", "2026-11-30T10:30:00+09:00"),  # 17:30 is outside
    ("2026-11-27T17:29:59+09:00", "weekday-9h", "2026-11-30T10:29:59+09:00"),
    ("2026-05-05T20:00:00+09:00", "weekday-9h", "2026-05-06T10:30:00+09:00"),  # holiday Wednesday: HW hours include it
    ("2026-09-21T12:00:00+09:00", "weekday-9h", "2026-09-21T14:00:00+09:00"),  # silver week, holidays included
    ("2026-12-28T17:00:00+09:00", "weekday-9h", "2026-12-29T10:00:00+09:00"),  # NEC closing days: still HW hours
    ("2027-03-22T07:00:00+09:00", "weekday-9h", "2027-03-22T10:30:00+09:00"),
    ("2026-11-27T08:00:00Z", "weekday-9h", "2026-11-30T10:00:00+09:00"),  # input in UTC
    ("2026-12-31T23:30:00+09:00", "24x7", "2027-01-01T01:30:00+09:00"),
])
def test_onsite_deadline(policy, at, variant, deadline):
    assert service_deadline(policy, variant, t(at)) == t(deadline)


def test_naive_datetime_is_an_error(policy):
    with pytest.raises(ValueError, match="naive"):
        service_deadline(policy, "weekday-9h", dt.datetime(2026, 11, 27, 17, 0))


@pytest.mark.parametrize("at, support, inside", [
    ("2026-09-22T10:00:00+09:00", "hw", True), ("2026-09-22T10:00:00+09:00", "pp", False),
    ("2026-12-29T10:00:00+09:00", "pp", False), ("2027-01-04T08:30:00+09:00", "pp", True),
    ("2026-11-28T10:00:00+09:00", "hw", False),  # Saturday
])
def test_hours_per_support_kind(policy, at, support, inside):
    assert service_hours(policy, "weekday-9h", support).contains(t(at)) is inside


instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31),
                        timezones=st.just(TOKYO)).map(lambda x: x.replace(second=0, microsecond=0))
variants = st.sampled_from(["weekday-9h", "24x7"])


@settings(max_examples=200, deadline=None)
@given(instants, instants, variants)
def test_deadline_never_before_notice_and_monotonic(policy, a, b, variant):
    early, late = sorted((a, b))
    d_early = service_deadline(policy, variant, early)
    d_late = service_deadline(policy, variant, late)
    assert d_early >= early + dt.timedelta(hours=2) or variant == "weekday-9h" and d_early >= early
    assert d_late >= late
    assert d_early <= d_late


@settings(max_examples=200, deadline=None)
@given(instants, variants)
def test_in_service_hours_agrees_with_the_clock(policy, at, variant):
    hours = service_hours(policy, variant, "hw")
    inside = hours.contains(at)
    # inside hours, the next opening is now; outside, it is later
    assert (hours.next_open(at) == at) is inside
    if inside:
        # a notice inside hours has 2 service hours no later than 2 wall hours… unless the window closes first
        assert service_deadline(policy, variant, at) >= at + dt.timedelta(hours=2)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(1, 600), st.integers(1, 120), st.integers(1, 3))
def test_fee_never_decreases_as_completion_moves_later(policy, depart, minutes, more, techs):
    a = fee_quote(policy, depart, depart + dt.timedelta(minutes=minutes), techs)
    b = fee_quote(policy, depart, depart + dt.timedelta(minutes=minutes + more), techs)
    assert b.total_jpy >= a.total_jpy
    assert a.total_jpy == a.per_technician_jpy * techs
    assert a.needs_quote is (techs >= 2)
    assert a.lines[0].kind == "base" and sum(ln.amount_jpy for ln in a.lines) == a.per_technician_jpy


@pytest.mark.parametrize("depart, complete, total", [
    ("2026-11-27T20:30+09:00", "2026-11-27T22:10+09:00", 22500),
    ("2026-11-27T17:00+09:00", "2026-11-27T18:00+09:00", 10000),   # 60 minutes: base alone
    ("2026-11-27T17:00+09:00", "2026-11-27T18:01+09:00", 13000),   # 61: one block, in the evening band
    ("2026-11-27T08:00+09:00", "2026-11-27T09:15+09:00", 16500),   # night base, block at 09:00 is day
    ("2026-11-27T17:29:59+09:00", "2026-11-27T18:00+09:00", 10000),  # departure's band decides the base
    ("2026-11-27T17:30:00+09:00", "2026-11-27T18:00+09:00", 12000),
])
def test_fee_bands(policy, depart, complete, total):
    assert fee_quote(policy, t(depart), t(complete)).total_jpy == total
