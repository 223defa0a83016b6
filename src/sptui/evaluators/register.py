"""The clause register and closing-day calendars: the `register` and `calendar` block kinds."""
from __future__ import annotations

from typing import Any

from sptui.clock.hours import Calendar
from sptui.evaluators.common import CITE_OPT, NOTE
from sptui.policy.ast import Call, ClauseRef, Literal, Path
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec


# ---- register ------------------------------------------------------------------------------------------
def compile_register(b, ctx):
    from sptui.policy.compile import Clause

    for e in b.all("clause"):
        if len(e.args) < 2 or not isinstance(e.args[0], ClauseRef):
            continue
        ref = e.args[0]
        title = ctx.convert(e.args[1], "string")
        if ref.item is not None:
            ctx.error("E033", "the register lists clauses; items are declared with items(N)", ref.span,
                      f"clause {ref.clause}, \"…\", items({ref.item})")
        items: Any = None
        reason = None
        for extra in e.args[2:]:
            if isinstance(extra, Call) and extra.name == "items":
                vals = [a.value if isinstance(a, Literal) and a.kind == "int" else
                        a.parts[0] if isinstance(a, Path) else None for a in extra.args]
                if len(vals) == 1 and isinstance(vals[0], int):
                    items = vals[0]
                elif vals and all(isinstance(v, str) for v in vals):
                    items = tuple(vals)
                else:
                    ctx.error("E033", "items takes a count or the item names", extra.span, "items(19) or items(i, ii, iii)")
            elif isinstance(extra, Call) and extra.name == "not-computable" and len(extra.args) == 1 and \
                    isinstance(extra.args[0], Literal) and extra.args[0].kind == "string":
                reason = extra.args[0].value
            else:
                name = extra.name if isinstance(extra, Call) else ""
                ctx.error("E033", "expected items(N) or not-computable(\"why\")", extra.span,
                          did_you_mean(name, ["items", "not-computable"]) or 'items(19), items(i, ii, iii) or not-computable("why")')
        if ref.clause in ctx.clauses:
            ctx.error("E043", f"`{ref.clause}` is registered twice", ref.span, f"the first is at {ctx.clauses[ref.clause].span}")
            continue
        ctx.clauses[ref.clause] = Clause(ref.clause, title or "", items, reason, ref.span)
    return tuple(ctx.clauses)


REGISTER = BlockKind(
    "register",
    BlockSchema((EntrySpec("clause", ("clause", "string"), variadic="any", repeat=True,
                           doc='clause 第3章 2.2, "除外作業", items(19)'),)),
    compile_register, named=False, phase=0, singleton=True,
    doc="The terms' clause tree. Every citation must name a clause listed here; a clause that no rule cites "
        "is a warning unless marked not-computable(\"why\").",
    example='register {\n  clause 第1章 4, "本サービスの提供期間", items(i, ii, iii)\n  clause 第3章 1.9, "反社会的勢力との取引排除", '
            'not-computable("a legal undertaking, not a desk decision")\n}',
)


# ---- calendar ------------------------------------------------------------------------------------------
def compile_calendar(b, ctx):
    ranges = tuple(r for e in b.all("closed") for r in (ctx.convert(a, "mdrange", quiet=True) for a in e.args) if r)
    dates = frozenset(d for e in b.all("closed-on") for d in (ctx.convert(a, "date", quiet=True) for a in e.args) if d)
    cal = Calendar(b.name, b.value("public-holidays") == "japan", ranges, dates)
    ctx.rt.calendars[b.name] = cal
    return cal


CALENDAR = BlockKind(
    "calendar",
    BlockSchema((CITE_OPT, NOTE,
                 EntrySpec("public-holidays", ("one-of:japan|none",), doc="public-holidays japan: Japan's, from the holidays library"),
                 EntrySpec("closed", variadic="mdrange", repeat=True, doc="closed 12-29..01-03: yearly closing days"),
                 EntrySpec("closed-on", variadic="date", repeat=True, doc="closed-on 2027-05-06: one-off closing days"))),
    compile_calendar, phase=5,
    doc="Closing days: Japan's public holidays and named yearly ranges such as NEC's 12-29..01-03.",
    example="calendar nec-holidays {\n  cite 第1章 3\n  public-holidays japan\n  closed 12-29..01-03\n}",
)
