"""What the built-in block kinds share: the `cite` and `note` entries, durations of a fixed length, and the gaps
a set of minutes leaves in a day."""
from __future__ import annotations

import attrs

from sptui.model.values import Duration, Window
from sptui.policy.schema import EntrySpec

CITE = EntrySpec("cite", variadic="clause", required=True, repeat=True,
                 doc="cite 第3章 2.2 (4): the clause(s) this block encodes")
CITE_OPT = attrs.evolve(CITE, required=False)
NOTE = EntrySpec("note", ("string",), doc="the reference interpretation this block encodes (shown by explain)")


def fixed_minutes(b, key: str, default: int, ctx, least: int, most: int | None = None) -> int:
    """A duration entry of block `b` as whole minutes (days and weeks count; months and years have no fixed
    length), at least `least` and at most `most` minutes (E033 otherwise, and `default`)."""
    d = b.value(key)
    if d is None:
        return default
    span = b.first(key).args[0].span
    if d.months:
        ctx.error("E033", f"`{key}` needs a fixed length, not {d}", span, "minutes, hours, days or weeks")
        return default
    minutes = d.days * 1440 + d.minutes
    if minutes < least or (most is not None and minutes > most):
        bound = f"at least {least} min" if minutes < least else f"at most {_duration(most)}"
        ctx.error("E033", f"`{key}` must be {bound}, got {d}", span, f"for example: {key} {_duration(default)}")
        return default
    return minutes


def _duration(minutes: int) -> Duration:
    return Duration(days=minutes // 1440) if minutes % 1440 == 0 else Duration(minutes=minutes)


def day_gaps(covered: set[int]) -> list[Window]:
    gaps, start = [], None
    for m in range(1441):
        inside = m in covered
        if not inside and m < 1440 and start is None:
            start = m
        elif (inside or m == 1440) and start is not None:
            gaps.append(Window(start, m))
            start = None
    return gaps
