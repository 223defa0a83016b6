"""Typed literal values of the policy language and their parsing.

Date arithmetic states its rounding: adding months or years to a day that the target month lacks
(29 Feb + 1 year, 31 Jan + 1 month) follows the policy's `date-rounding`:
`clamp` lands on the month's last day (28 Feb), `roll-forward` on the next month's first (1 Mar).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo

import attrs

TOKYO = ZoneInfo("Asia/Tokyo")
# the years of the instants and dates sptui accepts from a user (a case, a CLI option, a policy's date-times), as
# written: wide enough for any contract, narrow enough that every computation on them stays inside Python's calendar
# (years 1-9999) and Japan time is +09:00 (Asia/Tokyo is local mean time before 1888)
YEARS = (1900, 2999)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROUNDINGS = ("clamp", "roll-forward")


class LiteralError(ValueError):
    """A literal that lexed but is not a valid value (2026-02-30, 25:00). `hint` says what fits."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


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


# ---- parsing ----------------------------------------------------------------------------------------
# a number in a policy (a count, an amount of yen, a duration's count) has at most this many digits: far more than
# any term needs, and every value computed from it still prints (Python refuses to print ints of 4,300 digits)
MAX_DIGITS = 15


def parse_int(text: str) -> int:
    """A whole number as written in a policy (digits, with thousands commas in an amount)."""
    digits = text.replace(",", "")
    if len(digits) > MAX_DIGITS:
        shown = text if len(text) <= 24 else text[:20] + "…"
        raise LiteralError(f"`{shown}` has {len(digits):,} digits; a number has at most {MAX_DIGITS}",
                           "no term needs a larger number: check for a typo")
    return int(digits)


def parse_time(text: str, *, allow_24: bool = False) -> int:
    h, m = int(text[:2]), int(text[3:5])
    if m > 59 or h > 24 or (h == 24 and (m or not allow_24)):
        raise LiteralError(f"`{text}` is not a time of day", "expected a time like 08:30 (00:00 to 23:59)")
    return h * 60 + m


def parse_window(text: str) -> Window:
    a, b = text.split("-")
    start = parse_time(a)
    end = parse_time(b, allow_24=True)
    if start == end:
        raise LiteralError(f"the window `{text}` is empty", "a window runs from start to a different end, like 08:30-17:30")
    return Window(start, end)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise LiteralError(f"`{text}` is not a calendar date", "expected a date like 2026-04-01") from None


def parse_monthday(text: str) -> MonthDay:
    m, d = int(text[:2]), int(text[3:5])
    if not (1 <= m <= 12) or not (1 <= d <= calendar.monthrange(2024, m)[1]):
        raise LiteralError(f"`{text}` is not a month and day", "expected a month-day like 12-29")
    return MonthDay(m, d)


def parse_mdrange(text: str) -> MonthDayRange:
    a, b = text.split("..")
    return MonthDayRange(parse_monthday(a), parse_monthday(b))


def parse_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LiteralError(f"`{text}` is not a date and time", "expected an instant like 2026-11-27T17:00+09:00") from None
    if value.tzinfo is None:
        raise LiteralError(
            f"`{text}` is a naive date-time", "give its offset: 2026-11-27T17:00+09:00 (Asia/Tokyo) or ...Z for UTC"
        )
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise LiteralError(f"`{text}` is outside the years {YEARS[0]}–{YEARS[1]}",
                           "a date-time is compared with the case's, which lie in those years")
    return value.astimezone(TOKYO)


_MONEY = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+) ?(?:JPY|円)$")


def parse_money(text: str) -> Money:
    m = _MONEY.match(text)
    if not m:  # pragma: no cover - the lexer only passes matching text
        raise LiteralError(f"`{text}` is not an amount of yen", "expected 10,000円 or 10000 JPY")
    return Money(parse_int(m.group(1)))


_UNITS = {
    "min": (0, 0, 1), "minute": (0, 0, 1), "minutes": (0, 0, 1),
    "h": (0, 0, 60), "hour": (0, 0, 60), "hours": (0, 0, 60),
    "day": (0, 1, 0), "days": (0, 1, 0), "week": (0, 7, 0), "weeks": (0, 7, 0),
    "month": (1, 0, 0), "months": (1, 0, 0), "year": (12, 0, 0), "years": (12, 0, 0),
}
_DURATION = re.compile(r"^(\d+) ?([a-z]+)$")


def parse_duration(text: str) -> Duration:
    m = _DURATION.match(text)
    assert m, text
    n = parse_int(m.group(1))
    mo, d, mi = _UNITS[m.group(2)]
    return Duration(mo * n, d * n, mi * n)


def parse_weekdays(text: str) -> WeekdaySet:
    """`mon-fri`, `sat`, `every-day`, `sat-sun`; a range may wrap (fri-mon)."""
    if text == "every-day":
        return WeekdaySet(frozenset(range(7)))
    parts = text.split("-")
    if len(parts) in (1, 2) and all(p in WEEKDAYS for p in parts):
        a = WEEKDAYS.index(parts[0])
        b = WEEKDAYS.index(parts[-1])
        days = {(a + i) % 7 for i in range(((b - a) % 7) + 1)}
        return WeekdaySet(frozenset(days))
    raise LiteralError(f"`{text}` is not a set of weekdays", "expected weekdays like mon-fri, sat, or every-day")


def format_weekdays(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every-day"
    ds = sorted(days)
    if ds == list(range(ds[0], ds[-1] + 1)):
        return WEEKDAYS[ds[0]] if len(ds) == 1 else f"{WEEKDAYS[ds[0]]}-{WEEKDAYS[ds[-1]]}"
    return ", ".join(WEEKDAYS[d] for d in ds)


# ---- date arithmetic ----------------------------------------------------------------------------------
def add_months(d: dt.date, months: int, rounding: str = "clamp") -> dt.date:
    """`d` plus whole months; a day the target month lacks rounds as the policy states."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    if d.day <= 28:  # every month has it
        return dt.date(year, month, d.day)
    last = calendar.monthrange(year, month)[1]
    if d.day <= last:
        return dt.date(year, month, d.day)
    if rounding == "clamp":
        return dt.date(year, month, last)
    return dt.date(year, month, last) + dt.timedelta(days=1)


def add_duration(value, dur: Duration, rounding: str = "clamp", sign: int = 1):
    """date or datetime plus (sign=1) or minus (sign=-1) a duration."""
    if isinstance(value, dt.datetime):
        local = value.astimezone(TOKYO)
        day = add_months(local.date(), sign * dur.months, rounding) if dur.months else local.date()
        base = dt.datetime.combine(day, local.timetz())
        return base + sign * dt.timedelta(days=dur.days, minutes=dur.minutes)
    if dur.minutes:
        raise TypeError("a date plus a time of day needs a date-time")
    day = add_months(value, sign * dur.months, rounding) if dur.months else value
    return day + sign * dt.timedelta(days=dur.days)
