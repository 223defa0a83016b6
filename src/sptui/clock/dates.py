"""Date arithmetic with a stated rounding.

Adding months or years to a day that the target month lacks (29 Feb + 1 year, 31 Jan + 1 month) follows the
policy's `date-rounding`: `clamp` lands on the month's last day (28 Feb), `roll-forward` on the next month's
first (1 Mar).
"""
from __future__ import annotations

import calendar
import datetime as dt

from sptui.model.values import Duration
from sptui.tz import TOKYO

ROUNDINGS = ("clamp", "roll-forward")


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
