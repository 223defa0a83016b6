"""The policy language's value types: amounts, durations, times of day, windows, month-days and weekday sets.

Frozen attrs classes, shared by the policy (which parses them from text: policy.literals), the calendars and
the clock (which compute with them) and the evaluators.
"""
from __future__ import annotations

import datetime as dt

import attrs

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@attrs.frozen(order=True)
class Money:
    yen: int

    def __str__(self) -> str:
        return f"{self.yen:,}円"


@attrs.frozen
class Duration:
    months: int = 0
    days: int = 0
    minutes: int = 0

    def __str__(self) -> str:
        if self.months and not (self.days or self.minutes):
            if self.months % 12 == 0:
                return "1 year" if self.months == 12 else f"{self.months // 12} years"
            return "1 month" if self.months == 1 else f"{self.months} months"
        if self.days and not (self.months or self.minutes):
            if self.days % 7 == 0:
                return "1 week" if self.days == 7 else f"{self.days // 7} weeks"
            return (
                "1 day" if self.days == 1 else f"{self.days} days")
        if self.minutes and not (self.months or self.days):
            return f"{self.minutes // 60}h" if self.minutes % 60 == 0 else f"{self.minutes}min"
        parts = []
        if self.months:
            parts.append(f"{self.months} months")
        if self.days:
            parts.append(f"{self.days} days")
        if self.minutes or not parts:
            parts.append(f"{self.minutes}min")
        return " + ".join(parts)

    @property
    def timedelta(self) -> dt.timedelta:
        if self.months:
            raise ValueError("a duration in months or years has no fixed length")
        return dt.timedelta(days=self.days, minutes=self.minutes)

    def _fixed(self, other: "Duration") -> tuple[dt.timedelta, dt.timedelta]:
        if self.months or other.months:
            raise TypeError("durations in months or years have no fixed length to compare")
        return self.timedelta, other.timedelta

    def __lt__(self, other: "Duration") -> bool:
        a, b = self._fixed(other)
        return a < b

    def __le__(self, other: "Duration") -> bool:
        a, b = self._fixed(other)
        return a <= b

    def __gt__(self, other: "Duration") -> bool:
        a, b = self._fixed(other)
        return a > b

    def __ge__(self, other: "Duration") -> bool:
        a, b = self._fixed(other)
        return a >= b

    def __add__(self, other: "Duration") -> "Duration":
        return Duration(self.months + other.months, self.days + other.days, self.minutes + other.minutes)

    def __mul__(self, n: int) -> "Duration":
        return Duration(self.months * n, self.days * n, self.minutes * n)


@attrs.frozen(order=True)
class TimeOfDay:
    minute: int  # minutes since 00:00, 0..1440 (24:00 allowed as a window end)

    def __str__(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"


@attrs.frozen
class Window:
    """A time-of-day window, half-open [start, end); end <= start wraps past midnight."""

    start: int
    end: int

    @property
    def wraps(self) -> bool:
        return self.end <= self.start and not (self.start == 0 and self.end == 1440)

    def contains(self, minute: int) -> bool:
        if self.wraps:
            return minute >= self.start or minute < self.end
        return self.start <= minute < self.end

    def pieces(self) -> list[tuple[int, int]]:
        """The window as non-wrapping [a, b) pieces of one day."""
        if self.wraps:
            return [p for p in ((self.start, 1440), (0, self.end)) if p[0] < p[1]]
        return [(self.start, self.end)]

    @property
    def length(self) -> int:
        return sum(b - a for a, b in self.pieces())

    def __str__(self) -> str:
        return f"{TimeOfDay(self.start)}-{TimeOfDay(self.end)}"


@attrs.frozen(order=True)
class MonthDay:
    month: int
    day: int

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@attrs.frozen
class MonthDayRange:
    """A yearly range of days, inclusive; 12-29..01-03 wraps the year end."""

    first: MonthDay
    last: MonthDay

    def contains(self, d: dt.date) -> bool:
        md = (d.month, d.day)
        a, b = (self.first.month, self.first.day), (self.last.month, self.last.day)
        return a <= md <= b if a <= b else (md >= a or md <= b)

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


@attrs.frozen
class WeekdaySet:
    days: frozenset[int]  # 0 = Monday

    def __str__(self) -> str:
        return format_weekdays(self.days)


def format_weekdays(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every-day"
    ds = sorted(days)
    if ds == list(range(ds[0], ds[-1] + 1)):
        return WEEKDAYS[ds[0]] if len(ds) == 1 else f"{WEEKDAYS[ds[0]]}-{WEEKDAYS[ds[-1]]}"
    return ", ".join(WEEKDAYS[d] for d in ds)
