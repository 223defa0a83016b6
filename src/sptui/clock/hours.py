"""Service hours and the service-minute clock.

ServiceHours is a weekly pattern (days and a window, possibly wrapping midnight) minus the closed
days of a calendar. Windows are half-open: 08:30 is inside, 17:30 is outside. A window that wraps
(21:00-08:30) belongs to the day it starts on.
"""
from __future__ import annotations

import datetime as dt
import functools
import heapq
from typing import Iterator

import attrs

from sptui.errors import NeverOpen
from sptui.model.values import MonthDayRange, Window
from sptui.tz import TOKYO

_DAY = dt.timedelta(days=1)
SEARCH_DAYS = 800  # how far ahead the clock looks for open minutes (the longest `within`, 30 days, fits in it)


@functools.cache
def _japan_holidays(year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.country_holidays("JP", years=year).keys())


def japan_holiday(d: dt.date) -> bool:
    return d in _japan_holidays(d.year)


def japan_holiday_name(d: dt.date) -> str | None:
    import holidays

    return holidays.country_holidays("JP", years=d.year).get(d)


@attrs.frozen
class Calendar:
    """Closing days: Japan's public holidays (from the holidays library) and named yearly ranges."""

    name: str
    public_holidays: bool
    closed_ranges: tuple[MonthDayRange, ...] = ()
    closed_dates: frozenset[dt.date] = frozenset()

    def closed(self, d: dt.date) -> bool:
        if d in self.closed_dates:
            return True
        if self.public_holidays and japan_holiday(d):
            return True
        return any(r.contains(d) for r in self.closed_ranges)


@attrs.frozen
class ServiceHours:
    days: frozenset[int]
    window: Window
    closed: Calendar | None = None
    name: str = attrs.field(default="the service hours", eq=False)  # for messages: "the hw hours of … (file:line)"

    always: bool = attrs.field(init=False, eq=False, repr=False)  # open every minute of every day

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "always", len(self.days) == 7 and self.window.start == 0 and self.window.end == 1440
                           and self.closed is None)

    def open_on(self, d: dt.date) -> bool:
        return d.weekday() in self.days and not (self.closed is not None and self.closed.closed(d))

    def _intervals_from(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open intervals of `day` and the days after, in order, merged where they touch."""
        pending: tuple[dt.datetime, dt.datetime] | None = None
        d = day - _DAY  # a window that wraps from the day before may still be open
        for _ in range(SEARCH_DAYS):
            if self.open_on(d):
                w = self.window
                base = dt.datetime(d.year, d.month, d.day, tzinfo=TOKYO)
                start = base + dt.timedelta(minutes=w.start)
                end = base + dt.timedelta(minutes=w.end if w.end > w.start else w.end + 1440)
                if pending is not None and pending[1] >= start:
                    pending = (pending[0], max(pending[1], end))
                else:
                    if pending is not None:
                        yield pending
                    pending = (start, end)
            d += _DAY
        if pending is not None:
            yield pending

    def opens_between(self, first: dt.date, last: dt.date) -> bool:
        """Whether any day from `first` to `last` (inclusive) is open (the window itself is never empty)."""
        d = first
        while d <= last:
            if self.open_on(d):
                return True
            d += _DAY
        return False

    def contains(self, t: dt.datetime) -> bool:
        t = _aware(t)
        if self.always:
            return True
        w = self.window
        minute = t.hour * 60 + t.minute
        day = t.date()
        if w.wraps:  # 21:00-08:30 belongs to the day it starts on
            if minute >= w.start:
                return self.open_on(day)
            return minute < w.end and self.open_on(day - _DAY)
        return w.start <= minute < w.end and self.open_on(day)

    def next_open(self, t: dt.datetime) -> dt.datetime:
        """The first in-hours instant at or after t (NeverOpen if there is none in SEARCH_DAYS days)."""
        t = _aware(t)
        if self.always:
            return t
        return _next_open(self._intervals_from(t.date()), t, self.name)

    def add_service_minutes(self, t: dt.datetime, minutes: int) -> dt.datetime:
        """The instant at which `minutes` of service hours have passed since t (NeverOpen if they do not pass
        in SEARCH_DAYS days)."""
        t = _aware(t)
        if self.always:
            return t + dt.timedelta(minutes=minutes)
        return _add_minutes(self._intervals_from(t.date()), t, minutes, self.name)


@attrs.frozen
class WeeklyHours:
    """Service hours with different windows on different days (Mon–Fri 08:30–17:30, Sat 09:00–13:00): several
    ServiceHours whose days do not overlap, with the same interface (contains, next_open, add_service_minutes)."""

    parts: tuple[ServiceHours, ...]

    @property
    def always(self) -> bool:
        return any(p.always for p in self.parts)

    def contains(self, t: dt.datetime) -> bool:
        t = _aware(t)
        return any(p.contains(t) for p in self.parts)

    def _intervals_from(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Every part's open intervals in order, merged where they touch or overlap (a window that wraps
        midnight may run into the next day's window of another part)."""
        pending: tuple[dt.datetime, dt.datetime] | None = None
        for a, b in heapq.merge(*(p._intervals_from(day) for p in self.parts)):
            if pending is not None and a <= pending[1]:
                pending = (pending[0], max(pending[1], b))
                continue
            if pending is not None:
                yield pending
            pending = (a, b)
        if pending is not None:
            yield pending

    @property
    def name(self) -> str:
        return self.parts[0].name if self.parts else "the service hours"

    def next_open(self, t: dt.datetime) -> dt.datetime:
        t = _aware(t)
        return _next_open(self._intervals_from(t.date()), t, self.name)

    def add_service_minutes(self, t: dt.datetime, minutes: int) -> dt.datetime:
        t = _aware(t)
        return _add_minutes(self._intervals_from(t.date()), t, minutes, self.name)


def _next_open(intervals: Iterator[tuple[dt.datetime, dt.datetime]], t: dt.datetime, name: str) -> dt.datetime:
    """The first instant at or after t inside one of the (ordered) open intervals."""
    for a, b in intervals:
        if t < b:
            return max(a, t)
    raise NeverOpen(f"{name} open no minute in the {SEARCH_DAYS} days after {t:%Y-%m-%d %H:%M}")


def _add_minutes(intervals: Iterator[tuple[dt.datetime, dt.datetime]], t: dt.datetime, minutes: int,
                 name: str) -> dt.datetime:
    """The instant at which `minutes` inside the (ordered) open intervals have passed since t."""
    left = dt.timedelta(minutes=minutes)
    for a, b in intervals:
        if b <= t:
            continue
        start = max(a, t)
        if start + left <= b:
            return start + left
        left -= b - start
    raise NeverOpen(f"{name} open less than {minutes:,} minutes in the {SEARCH_DAYS} days after "
                    f"{t:%Y-%m-%d %H:%M}: no deadline")


def _aware(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is TOKYO:
        return t
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t.isoformat()}: times must carry their offset (Asia/Tokyo)")
    return t.astimezone(TOKYO)
