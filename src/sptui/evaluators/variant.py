"""Pack variants and their service hours: the `variant` block kind."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from sptui.clock.hours import ServiceHours, WeeklyHours
from sptui.evaluators.common import CITE, NOTE
from sptui.model.values import format_weekdays
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec


# ---- variant ---------------------------------------------------------------------------------------------
@attrs.frozen
class Variant:
    name: str
    title_ja: str
    title_en: str
    years: tuple[int, ...]
    hours: dict
    reception: str
    cites: tuple[str, ...]


HOURS = BlockSchema((
    EntrySpec("days", ("weekdays",), required=True, doc="days mon-fri (or every-day, sat-sun, …)"),
    EntrySpec("window", ("window",), required=True, doc="window 08:30-17:30 (half-open; 00:00-24:00 is all day)"),
    EntrySpec("closed", ("ref:calendar",), doc="closed nec-holidays: days of this calendar are closed; "
                                                 "leave it out when holidays are included"),
))


def compile_variant(b, ctx):
    parts: dict[str, list[tuple[ServiceHours, Any]]] = {}  # support -> its hours per set of days, with the entry
    for e in b.all("hours"):
        support = ctx.convert(e.args[0], "one-of:hw|pp", quiet=True) if e.args else None
        part = _hours_part(e, ctx) if support is not None else None
        if part is None:
            continue
        hours, days_arg = part
        what = f"the {support} hours of variant {b.name}"
        hours = attrs.evolve(hours, name=f"{what} ({e.key_span.file}:{e.key_span.line})")
        _check_opens(hours, what, e, ctx)
        earlier = parts.setdefault(support, [])
        clash = next(((h, x) for h, x in earlier if h.days & hours.days), None)
        if clash is not None:
            again = format_weekdays(clash[0].days & hours.days)
            ctx.error("E074", f"the {support} hours give {again} a second time (the hours at line "
                      f"{clash[1].key_span.line} have {again})", days_arg.span,
                      "give each day its window once: days mon-fri in one `hours`, days sat in another")
            continue
        earlier.append((hours, e))
    hours = {s: ps[0][0] if len(ps) == 1 else WeeklyHours(tuple(h for h, _ in ps)) for s, ps in parts.items()}
    given = {ctx.convert(e.args[0], "one-of:hw|pp", quiet=True) for e in b.all("hours") if e.args}
    missing = [s for s in ("hw", "pp") if s not in given]  # a bad value inside `hours` is reported where it is
    if missing and b.all("hours"):
        ctx.error("E073", f"variant `{b.name}` has no service hours for {' and '.join(missing)}", b.entry.key_span,
                  "add: hours hw { days … window … } and hours pp { … }")
    elif missing:
        ctx.error("E073", f"variant `{b.name}` has no service hours", b.entry.key_span,
                  "add: hours hw { days … window … } and hours pp { … }")
    years = tuple(y for y in b.values("years") if isinstance(y, int))
    v = Variant(b.name, b.value("title-ja", b.name), b.value("title-en", b.name), years, hours,
                b.value("reception", "always"), b.cites())
    ctx.rt.variants[b.name] = v
    ctx.rt.known_symbols.add(b.name)
    return v


# the years in which `check` looks for an open day: a leap year and every weekday of every date, holidays included
CHECKED_FROM, CHECKED_TO = dt.date(2021, 1, 1), dt.date(2028, 12, 31)


def _check_opens(hours: ServiceHours, what: str, e, ctx) -> None:
    """Hours whose every day is closed (a calendar closing the whole year, or every one of their weekdays) would
    leave every deadline and call to search in vain: E075."""
    if hours.opens_between(CHECKED_FROM, CHECKED_TO):
        return
    cal = f" once calendar `{hours.closed.name}` closes its days" if hours.closed is not None else ""
    ctx.error("E075", f"{what} are never open: no day of {format_weekdays(hours.days)} is open "
              f"from {CHECKED_FROM:%Y} to {CHECKED_TO:%Y}{cal}", e.key_span,
              "give the hours days that the calendar does not close (or leave the calendar out)")


def _hours_part(e, ctx) -> tuple[ServiceHours, Any] | None:
    """One `hours hw { days … window … closed … }` entry: its hours and its `days` argument (None if it is broken,
    as reported where it is)."""
    get = {i.key: i for i in e.body or () if hasattr(i, "key")}
    days = ctx.convert(get["days"].args[0], "weekdays", quiet=True) if "days" in get and get["days"].args else None
    window = ctx.convert(get["window"].args[0], "window", quiet=True) if "window" in get and get["window"].args else None
    closed = None
    if "closed" in get and get["closed"].args:
        cname = ctx.convert(get["closed"].args[0], "name", quiet=True)
        closed = ctx.rt.calendars.get(cname)
        if closed is None:
            ctx.error("E070", f"no calendar named `{cname}`", get["closed"].args[0].span,
                      did_you_mean(cname or "", ctx.rt.calendars) or "declare it: calendar NAME { … }")
    if days is None or window is None:
        return None
    return ServiceHours(days.days, window, closed), get["days"].args[0]


VARIANT = BlockKind(
    "variant",
    BlockSchema((CITE, NOTE,
                 EntrySpec("title-ja", ("string",)), EntrySpec("title-en", ("string",)),
                 EntrySpec("years", variadic="int", required=True, doc="years 1, 3, 5, 7: the terms sold"),
                 EntrySpec("reception", ("name",), doc="reception always: when calls and alarms are taken"),
                 EntrySpec("hours", ("one-of:hw|pp",), repeat=True, body=HOURS,
                           doc="hours hw { … }: service hours for hardware (hw) or program products (pp)"))),
    compile_variant, cited=True, phase=10,
    doc="A pack variant: its terms and service hours per support kind.",
    example="variant weekday-9h {\n  cite 第1章 3\n  years 1, 3, 5, 7\n  hours hw {\n    days mon-fri\n"
            "    window 08:30-17:30\n  }\n  hours pp {\n    days mon-fri\n    window 08:30-17:30\n    closed nec-holidays\n  }\n}",
)
