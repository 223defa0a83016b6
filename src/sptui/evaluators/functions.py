"""The core DSL functions: dates and times of day in Japan time, date arithmetic, holidays, table look-ups."""
from __future__ import annotations

import datetime as dt

from sptui.clock.dates import add_months
from sptui.clock.hours import japan_holiday
from sptui.model.values import TimeOfDay
from sptui.policy.schema import Function
from sptui.tz import TOKYO


def _date(rt, t: dt.datetime) -> dt.date:
    return (t if t.tzinfo is TOKYO else t.astimezone(TOKYO)).date()


def _time_of(rt, t: dt.datetime) -> TimeOfDay:
    t = t.astimezone(TOKYO)
    return TimeOfDay(t.hour * 60 + t.minute)


FUNCTIONS = (
    Function("date", ("datetime",), "date", _date, doc="the calendar date of an instant, in Japan time",
             example="date(at) >= registration.completed_on", total=True),
    Function("time_of", ("datetime",), "time", _time_of, doc="the time of day of an instant, in Japan time",
             example="time_of(at) in 08:30-17:30", total=True),
    Function("add_years", ("date", "int"), "date", lambda rt, d, n: add_months(d, 12 * n, rt.date_rounding),
             doc="a date plus whole years; 29 Feb rounds as the policy's date-rounding says",
             example="date(at) < add_years(device.purchased_on, pack.years)", total=True),
    Function("add_months", ("date", "int"), "date", lambda rt, d, n: add_months(d, n, rt.date_rounding),
             doc="a date plus whole months; a missing day rounds as the policy's date-rounding says",
             example="add_months(previous_service.on, 3)", total=True),
    Function("days_between", ("date", "date"), "int", lambda rt, a, b: (b - a).days,
             doc="days from the first date to the second (negative if the second is earlier)",
             example="days_between(pack.purchased_on, registration.submitted_on) <= 30", total=True),
    Function("is_public_holiday", ("date",), "bool", lambda rt, d: japan_holiday(d),
             doc="whether a date is a public holiday in Japan (from the holidays library)",
             example="is_public_holiday(date(at))", total=True),
    Function("lookup", ("table", "column"), "any", lambda rt, t, c, *keys: t.lookup(c, *keys), variadic="any",
             doc="the output column of the decision-table row that matches the keys (null if none)",
             example="lookup(exclusions, treatment, cause)"),
)
