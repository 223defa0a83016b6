"""The parsing of the policy language's literal text into values (model.values): amounts, durations, dates,
date-times, times, windows, month-days and weekday sets. A literal that lexed but is not a value raises
LiteralError with a hint."""
from __future__ import annotations

import calendar
import datetime as dt
import re

from sptui.errors import LiteralError
from sptui.model.values import WEEKDAYS, Duration, Money, MonthDay, MonthDayRange, WeekdaySet, Window
from sptui.tz import TOKYO, YEARS

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
