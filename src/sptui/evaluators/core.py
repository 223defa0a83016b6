"""Core block kinds (register, calendar, variant, table, rule), core DSL functions and the rule runner."""
from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any, Iterable

import attrs

from sptui.clock.hours import Calendar, ServiceHours, WeeklyHours, japan_holiday
from sptui.engine import RANK, DecisionContext
from sptui.hookspecs import hookimpl
from sptui.model.case import DOMAIN_FIELDS, FIELDS, VERDICTS, Domain
from sptui.model.decision import Outcome, Reason
from sptui.policy import literals as L
from sptui.policy.ast import Call, ClauseRef, Literal, Path, SetLit, Span, maker
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.expr import format_value, prelude
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, Function

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


def _duration(minutes: int) -> L.Duration:
    return L.Duration(days=minutes // 1440) if minutes % 1440 == 0 else L.Duration(minutes=minutes)


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
        earlier = parts.setdefault(support, [])
        clash = next(((h, x) for h, x in earlier if h.days & hours.days), None)
        if clash is not None:
            again = L.format_weekdays(clash[0].days & hours.days)
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


# ---- decision tables -------------------------------------------------------------------------------------
@attrs.frozen
class Cell:
    kind: str  # any eq set window
    value: Any = None

    def matches(self, v: Any) -> bool:
        k = self.kind
        if k == "any":
            return True
        if k == "eq":
            return v == self.value
        if k == "set":
            return v in self.value
        if v is None:
            return False
        if isinstance(v, dt.datetime):
            v = v.astimezone(L.TOKYO)
            return self.value.contains(v.hour * 60 + v.minute)
        if isinstance(v, L.TimeOfDay):
            return self.value.contains(v.minute)
        return False

    def values(self) -> set | None:
        return {self.value} if self.kind == "eq" else set(self.value) if self.kind == "set" else None

    def minutes(self) -> set[int]:
        return {m for a, b in self.value.pieces() for m in range(a, b)}

    def intersects(self, other: "Cell") -> bool:
        if "any" in (self.kind, other.kind):
            return True
        if self.kind == other.kind == "window":
            return bool(self.minutes() & other.minutes())
        a, b = self.values(), other.values()
        if a is not None and b is not None:
            return bool(a & b)
        return True

    def covers(self, other: "Cell") -> bool:
        if self.kind == "any":
            return True
        if other.kind == "any":
            return False
        if self.kind == other.kind == "window":
            return other.minutes() <= self.minutes()
        a, b = self.values(), other.values()
        return a is not None and b is not None and b <= a


@attrs.frozen
class Row:
    cells: tuple[Cell, ...]
    out: dict
    span: Span
    out_spans: dict = attrs.field(factory=dict, eq=False)


@attrs.frozen
class Table:
    name: str
    hit: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[Row, ...]
    cites: tuple[str, ...]
    span: Span = attrs.field(default=Span("<table>", 0, 0, 0, 0), eq=False)  # where the block starts
    complete_day: bool = attrs.field(default=False, eq=False)  # `complete day`: its windows tile the day (E061)
    # a table of one column of windows (fee bands), as the row for each minute of the day
    by_minute: tuple | None = attrs.field(init=False, eq=False, repr=False)
    # a table whose first column holds values, sets and `_` only: for each value there, the rows its
    # first cell matches, in order (`any_first`: those of a value not there, the rows of `_`)
    by_first: dict | None = attrs.field(init=False, eq=False, repr=False)
    any_first: tuple = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_minute = by_first = None
        if len(self.inputs) == 1 and self.rows and all(r.cells[0].kind == "window" for r in self.rows):
            by_minute = tuple(next((r for r in self.rows if r.cells[0].value.contains(m)), None) for m in range(1440))
        firsts = [r.cells[0] for r in self.rows if r.cells]
        if self.inputs and len(firsts) == len(self.rows) and all(c.kind in ("eq", "set", "any") for c in firsts):
            values = {v for c in firsts for v in (c.values() or ())}
            by_first = {v: tuple(r for r in self.rows if r.cells[0].matches(v)) for v in values}
        object.__setattr__(self, "by_minute", by_minute)
        object.__setattr__(self, "by_first", by_first)
        object.__setattr__(self, "any_first", tuple(r for r in self.rows if r.cells and r.cells[0].kind == "any"))

    def match(self, *keys) -> Row | None:
        if self.by_minute is not None and len(keys) == 1 and isinstance(keys[0], dt.datetime):
            t = keys[0] if keys[0].tzinfo is L.TOKYO else keys[0].astimezone(L.TOKYO)
            return self.by_minute[t.hour * 60 + t.minute]
        rows = self.rows
        if self.by_first is not None and len(keys) == len(self.inputs):
            try:
                rows = self.by_first.get(keys[0], self.any_first)
            except TypeError:  # a key that cannot be hashed: the rows in turn
                pass
            else:
                if len(keys) == 1:  # the first cell was the whole match
                    return rows[0] if rows else None
        for row in rows:
            if all(c.matches(k) for c, k in zip(row.cells, keys)):
                return row
        return None

    def lookup(self, column: str, *keys) -> Any:
        row = self.match(*keys)
        return None if row is None else row.out.get(column)

    def keys(self) -> list[Any]:
        return [r.cells[0].value for r in self.rows if r.cells and r.cells[0].kind == "eq"]


def _cell(node, ctx) -> Cell | None:
    if isinstance(node, Literal):
        if node.kind == "wildcard":
            return Cell("any")
        if node.kind == "window":
            return Cell("window", node.value)
        return Cell("eq", node.value)
    if isinstance(node, Path) and len(node.parts) == 1:
        ctx.rt.known_symbols.add(node.parts[0])
        return Cell("eq", node.parts[0])
    if isinstance(node, SetLit):
        vals = []
        for i in node.items:
            c = _cell(i, ctx)
            if c is None or c.kind != "eq":
                ctx.error("E063", "a set in a table cell holds plain values", i.span, "{a, b, c}")
                return None
            vals.append(c.value)
        return Cell("set", frozenset(vals))
    if isinstance(node, ClauseRef):
        return Cell("eq", str(node))
    ctx.error("E063", "a table cell is a value, a name, a set, a window or `_`", node.span, "")
    return None


HIT_POLICIES = ("unique", "first")


def compile_table(b, ctx):
    hit = b.value("hit", "unique")
    if hit not in HIT_POLICIES:
        e = b.first("hit")
        ctx.error("E064", f"unknown hit policy `{hit}`", e.args[0].span,
                  did_you_mean(str(hit), HIT_POLICIES) or "hit unique (rows never overlap) or hit first (first match wins)")
        hit = "unique"
    inputs = tuple(x for x in b.values("input") if x)
    outputs = tuple(x for x in b.values("output") if x)
    rows = []
    for e in b.all("row"):
        cells = [_cell(a, ctx) for a in e.args]
        outs = [_cell(a, ctx) for a in (e.outputs or ())]
        if len(cells) != len(inputs) or len(outs) != len(outputs):
            ctx.error("E063", f"this row has {len(cells)} input(s) and {len(outs)} output(s); the table has "
                      f"{len(inputs)} input(s) ({', '.join(inputs)}) and {len(outputs)} output(s) ({', '.join(outputs)})",
                      e.key_span, "row IN, … => OUT, …")
            continue
        if any(c is None for c in cells + outs):
            continue
        out = {name: (c.value if c.kind == "eq" else c.value) for name, c in zip(outputs, outs)}
        rows.append(Row(tuple(cells), out, e.key_span, {n: a.span for n, a in zip(outputs, e.outputs or ())}))
    if hit == "unique":
        for j, r2 in enumerate(rows):
            for r1 in rows[:j]:
                if all(a.intersects(c) for a, c in zip(r1.cells, r2.cells)):
                    ctx.error("E060", f"table `{b.name}` is hit unique, but this row and the row at line "
                              f"{r1.span.line} match the same input", r2.span,
                              "make the rows disjoint, or use `hit first` if order decides")
                    break
    elif hit == "first":
        for j, r2 in enumerate(rows):
            for r1 in rows[:j]:
                if all(a.covers(c) for a, c in zip(r1.cells, r2.cells)):
                    ctx.error("W062", f"the row at line {r1.span.line} always wins over this one", r2.span,
                              "remove this row or move it up")
                    break
    if b.value("complete") == "day":
        covered: set[int] = set()
        for r in rows:
            if len(r.cells) != 1 or r.cells[0].kind != "window":
                ctx.error("E061", "`complete day` needs one input column of time windows", r.span, "")
                break
            covered |= r.cells[0].minutes()
        else:
            gaps = day_gaps(covered)
            if gaps:
                ctx.error("E061", f"table `{b.name}` leaves {', '.join(str(g) for g in gaps)} uncovered",
                          b.entry.key_span, "the rows' windows must tile the whole day")
    t = Table(b.name, hit, inputs, outputs, tuple(rows), b.cites(), b.entry.key_span, b.value("complete") == "day")
    ctx.rt.tables[b.name] = t
    _declare_domain(b, t, ctx)
    return t


def _declare_domain(b, table: Table, ctx) -> None:
    """`domain cause`: the table's keys (its first input column) are every value the case field may take."""
    entry = b.first("domain")
    if entry is None or not entry.args:
        return
    node = entry.args[0]
    field = ".".join(node.parts) if isinstance(node, Path) else None
    if field is None or field not in FIELDS:
        ctx.error("E051", f"the case has no field `{field or getattr(node, 'text', '?')}`", node.span,
                  did_you_mean(field or "", DOMAIN_FIELDS) or f"a domain is one of: {', '.join(DOMAIN_FIELDS)}")
        return
    if field not in DOMAIN_FIELDS:
        ctx.error("E067", f"the field `{field}` cannot take its values from a table", node.span,
                  f"a table can be the domain of {', '.join(DOMAIN_FIELDS)}; `{field}` has its values fixed")
        return
    if field in ctx.rt.domains:
        ctx.error("E067", f"`{field}` already takes its values from {ctx.rt.domains[field].source}", node.span,
                  "one table is the domain of a field")
        return
    firsts = [r.cells[0] for r in table.rows if r.cells]
    if not table.inputs or any(c.kind not in ("eq", "set") for c in firsts):
        ctx.error("E067", f"the table `{table.name}` cannot be the domain of `{field}`: its first column must "
                  "hold values (a `_` or a window matches values no row names)", node.span,
                  "write each value the field may take in the first column")
        return
    values = frozenset(v for c in firsts for v in c.values() if isinstance(v, str))
    cites = f" ({', '.join(table.cites)})" if table.cites else ""
    ctx.rt.domains[field] = Domain(values, f"the table `{table.name}`{cites}")


def day_gaps(covered: set[int]) -> list[L.Window]:
    gaps, start = [], None
    for m in range(1441):
        inside = m in covered
        if not inside and m < 1440 and start is None:
            start = m
        elif (inside or m == 1440) and start is not None:
            gaps.append(L.Window(start, m))
            start = None
    return gaps


TABLE = BlockKind(
    "table",
    BlockSchema((CITE, NOTE,
                 EntrySpec("hit", ("name",), doc="hit unique (rows never overlap) or hit first (first match wins)"),
                 EntrySpec("complete", ("one-of:day",), doc="complete day: the rows' windows tile 00:00-24:00"),
                 EntrySpec("input", variadic="name", required=True, doc="input cause: the input columns"),
                 EntrySpec("output", variadic="name", required=True, doc="output treatment, cite: the output columns"),
                 EntrySpec("row", variadic="cell", outputs="cell", repeat=True, doc="row ex-01 => billable, 第3章 2.2 (1)"),
                 EntrySpec("domain", ("expr",), doc="domain cause: the rows' keys are every value this case field may "
                                                    "take (a case with another is refused; rules are checked against them)"))),
    compile_table, cited=True, phase=5,
    doc="A decision table with a hit policy. The checker reports overlapping rows (hit unique), rows that can "
        "never win (hit first) and gaps in a day (complete day). Cells: a value, a name, a set {a, b}, a window, or _.",
    example="table fee-band {\n  cite 別表-1\n  hit unique\n  complete day\n  input departure\n  output band, base, add\n"
            "  row 08:30-17:30 => day, 10,000円, 2,500円\n  row 17:30-21:00 => evening, 12,000円, 3,000円\n"
            "  row 21:00-08:30 => night, 14,000円, 3,500円\n}",
)


# ---- rules -----------------------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")
_path = maker(Path)


@attrs.frozen
class Template:
    text: str
    parts: tuple  # str | Compiled

    def render(self, ctx) -> str:
        return "".join(p if isinstance(p, str) else _placeholder(p, ctx) for p in self.parts)

    @property
    def constant(self) -> str | None:
        """The text, when it names no field."""
        return "".join(self.parts) if all(isinstance(p, str) for p in self.parts) else None


def _placeholder(part, ctx) -> str:
    """A placeholder's value as text; `?` where it cannot be computed (a date past year 9999), so the message
    still shows. A rule whose decision needed that value has an `error` reason of its own."""
    try:
        return format_value(part.fn(ctx))
    except Exception:
        return "?"


def compile_template(text: str | None, span: Span, scope, ctx) -> Template | None:
    if text is None:
        return None
    if "{" not in text:
        return Template(text, (text,) if text else ())
    parts: list[Any] = []
    pos = 0
    reported = ctx.diagnostics  # where the expression compiler reports (Context._report)
    for m in _PLACEHOLDER.finditer(text):
        parts.append(text[pos:m.start()])
        name = m.group(1)
        before = len(reported)
        compiled = ctx.exprs.compile(_path(tuple(name.split(".")), span), scope)
        failed = len(reported) > before  # what compiling the name reported is replaced by E056 below
        del reported[before:]
        if failed or (compiled.const and compiled.type == "symbol"):
            at = Span(span.file, span.line, span.col + 1 + m.start(), span.line, span.col + 1 + m.end()) \
                if span.line == span.end_line else span
            ctx.error("E056", f"the placeholder {{{name}}} names nothing", at,
                      did_you_mean(name, scope.names()) or "placeholders name a case field or a let")
            parts.append(m.group(0))
        else:
            parts.append(compiled)
        pos = m.end()
    parts.append(text[pos:])
    return Template(text, tuple(p for p in parts if p != ""))


@attrs.frozen
class Rule:
    id: str
    cites: tuple[str, ...]
    note: str | None
    when: Any  # Compiled condition, or None
    require: Any  # Compiled condition
    on_fail: Any  # Compiled: a verdict, warn or info
    cite_from: Any  # Compiled, or None
    messages: dict
    span: Span
    skipped: Any = attrs.field(default=None, eq=False)  # the (constant) reason when it does not apply

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "skipped", Reason(self.id, "skip", self.cites, "", "", self.note, "rules"))


OUTCOMES_ON_FAIL = (*VERDICTS, "warn", "info")


def compile_rule(b, ctx):
    scope = b.scope(decision_fields=False)
    when = b.first("when")
    require = b.first("require")
    exprs = ctx.exprs
    when_c = exprs.cond(when.args[0], scope) if when and when.args else None
    req_c = exprs.cond(require.args[0], scope) if require and require.args else exprs.constant(True, "bool")
    on_fail_e = b.first("on-fail")
    on_fail = exprs.constant("not-covered", "symbol")
    if on_fail_e and on_fail_e.args:
        node = on_fail_e.args[0]
        on_fail = exprs.compile(node, scope)
        if on_fail.const and on_fail.value is not None and on_fail.value not in OUTCOMES_ON_FAIL:
            ctx.error("E055", f"on-fail takes a verdict, warn or info; `{on_fail.value}` is neither", node.span,
                      did_you_mean(str(on_fail.value), OUTCOMES_ON_FAIL) or ", ".join(OUTCOMES_ON_FAIL))
    cite_from = None
    cf = b.first("cite-from")
    if cf and cf.args:
        cite_from = exprs.compile(cf.args[0], scope)
    messages = {}
    for key in ("pass-ja", "pass-en", "fail-ja", "fail-en"):
        e = b.first(key)
        text = b.value(key)
        if e is not None:
            messages[key] = compile_template(text, e.args[0].span if e.args else e.key_span, scope, ctx)
    return Rule(b.name, b.cites(), b.note(), when_c, req_c, on_fail, cite_from, messages, b.entry.key_span)


RULE = BlockKind(
    "rule",
    BlockSchema((CITE, NOTE,
                 EntrySpec("when", ("expr",), doc="when EXPR: the rule applies only when this holds"),
                 EntrySpec("require", ("expr",), required=True, doc="require EXPR: what must hold for the rule to pass"),
                 EntrySpec("on-fail", ("expr",), doc="on-fail not-covered: the verdict (or warn, info) when require fails"),
                 EntrySpec("cite-from", ("expr",), doc="cite-from EXPR: a clause computed from the case (a table item)"),
                 EntrySpec("pass-ja", ("string",)), EntrySpec("pass-en", ("string",)),
                 EntrySpec("fail-ja", ("string",), required=True, doc='fail-ja "…": the message when it fails, in Japanese'),
                 EntrySpec("fail-en", ("string",), required=True, doc='fail-en "…": the message when it fails, in English')),
                lets=True),
    compile_rule, cited=True, phase=50,
    doc="A rule of the terms: when it applies, what it requires, and the verdict if that fails. Messages may "
        "name case fields and lets in {braces}.",
    example='rule installed-in-japan {\n  cite 第1章 1, 第3章 2.8\n  require device.country == "JP"\n  on-fail not-covered\n'
            '  fail-ja "設置場所が日本国外です（{device.country}）"\n  fail-en "installed outside Japan ({device.country})"\n}',
)


# ---- the rules runner: every rule of the policy inlined into generated Python, built on first use ------------
_CHUNK = 100  # rules per generated function (a policy may have thousands)


def _dynamic_fail(ctx, rule: Rule, cites: tuple, effect, view) -> Reason:
    """A rule whose on-fail is computed (a table's treatment): its outcome is known only now. The Reason
    (the verdict updated as DecisionContext.add does)."""
    outcome = "fail" if effect in VERDICTS else (effect if effect in ("warn", "info") else "fail")
    m = rule.messages
    reason = Reason(rule.id, outcome, cites, _text(m.get("fail-ja"), ""), _text(m.get("fail-en"), ""), rule.note,
                    "rules", effect if outcome == "fail" else None, view)
    if outcome == "fail" and effect in RANK and RANK[effect] < RANK[ctx.verdict]:
        ctx.verdict = effect
    return reason


def _text(template: Template | None, default: str) -> Any:
    """A message as Reason takes it: the text when it names no field, else the template."""
    if template is None:
        return default
    return template.constant if template.constant is not None else template


def _outcome(rule: Rule, outcome: str, ja: Any, en: Any, effect: str | None = None) -> Reason | Outcome:
    """The constant a rule records for this outcome: a Reason when its text is fixed, else an Outcome."""
    if isinstance(ja, str) and isinstance(en, str):
        return Reason(rule.id, outcome, rule.cites, ja, en, rule.note, "rules", effect)
    return Outcome(rule.id, outcome, rule.cites, ja, en, rule.note, "rules", effect)


def _rule_source(i: int, rule: Rule, ns: dict, tag: str = "") -> list[str]:
    """The rule's code: what it records goes into the local `_o{i}` (see rules_runner); its constants are
    the globals `_r{tag}{i}_…` of the shared namespace."""
    p = f"_r{tag}{i}_"
    o = f"_o{i}"
    m = rule.messages
    pass_ja, pass_en = _text(m.get("pass-ja"), "条件を満たしています"), _text(m.get("pass-en"), "holds")
    fail_ja, fail_en = _text(m.get("fail-ja"), ""), _text(m.get("fail-en"), "")
    ns[p + "rule"], ns[p + "skip"] = rule, rule.skipped
    eff = rule.on_fail
    out = [f"    # rule {i}"]  # (the id is never written into code: it may hold any text)
    body: list[str] = []
    if rule.cite_from is not None:  # the cites depend on the case: the Reason is made now
        for key, text in (("pja", pass_ja), ("pen", pass_en), ("fja", fail_ja), ("fen", fail_en)):
            ns[p + key] = text
        body.append(f"_x = {rule.cite_from.src}")
        body.append(f"_cites = (*{p}rule.cites, str(_x)) if _x else {p}rule.cites")
        body.append(f"if {rule.require.src}:")
        body.append(f"    {o} = _new(_Reason, ({p}rule.id, 'pass', _cites, {p}pja, {p}pen, {p}rule.note, 'rules', None, view))")
        body.append("else:")
        body.append(f"    {o} = _dynamic_fail(ctx, {p}rule, _cites, {eff.src}, view)")
    else:
        ns[p + "pass"] = _outcome(rule, "pass", pass_ja, pass_en)
        body += [f"if {rule.require.src}:", f"    {o} = {p}pass", "else:"]
        if eff.const and eff.value in VERDICTS:
            v = eff.value
            ns[p + "fail"] = _outcome(rule, "fail", fail_ja, fail_en, v)
            body += [f"    {o} = {p}fail", f"    if {RANK[v]} < _RANK[ctx.verdict]:", f"        ctx.verdict = {v!r}"]
        elif eff.const and eff.value in ("warn", "info"):
            ns[p + "fail"] = _outcome(rule, eff.value, fail_ja, fail_en)
            body.append(f"    {o} = {p}fail")
        else:
            body.append(f"    {o} = _dynamic_fail(ctx, {p}rule, {p}rule.cites, {eff.src}, view)")
    # the rule in a try of its own: an error in it (a division by zero, a date past year 9999, a plugin's function
    # that raises) is its own `error` reason, and the rules after it still run
    out.append("    try:")
    if rule.when is None:
        out += ["        " + line for line in body]
    else:
        out.append(f"        if {rule.when.src}:")
        out += ["            " + line for line in body]
        out += ["        else:", f"            {o} = {p}skip"]
    out += ["    except Exception as _e:", f"        {o} = _rule_error(ctx, {p}rule, _e, view, _rt)"]
    return out


def _rule_error(ctx, rule: Rule, error: Exception, view, rt) -> Reason:
    """The `error` reason of a rule that raised: it names the rule, its place, the error and the DSL function (and
    its plugin) it came from; the verdict becomes `consult` at best (a person decides)."""
    where = f"{rule.span.file}:{rule.span.line}"
    what = f"{type(error).__name__}: {str(error)[:200]}"
    fn = _raising_function(error, rt.function_code)
    if fn is not None:
        what += f" (in the function `{fn[0]}` of the plugin {fn[1]})"
    if RANK["consult"] < RANK[ctx.verdict]:
        ctx.verdict = "consult"
    return Reason(rule.id, "error", rule.cites, f"ルール {rule.id}（{where}）を判定できませんでした: {what}（要確認）",
                  f"rule {rule.id} ({where}) could not be decided: {what}; a person must decide", rule.note, "rules",
                  None, view)


def _raising_function(error: Exception, owners: dict) -> tuple[str, str] | None:
    """The DSL function (name, plugin) whose code the error passed through first, from the traceback."""
    tb = error.__traceback__
    while tb is not None:
        found = owners.get(tb.tb_frame.f_code)
        if found is not None:
            return found
        tb = tb.tb_next
    return None


_GENERATE = threading.Lock()  # code generation writes the policy's shared namespace: one at a time


def rules_runner(policy, only: frozenset[str] | None = None) -> Any:
    """The policy's rules as one generated function `run(ctx)` (made once per policy, on first use); with
    `only`, the rules of those names alone, in policy order (made once per set of names)."""
    rt = policy.rt
    key = "rules" if only is None else ("rules", only)
    run = rt.generated.get(key)
    if run is not None:
        return run
    with _GENERATE:
        run = rt.generated.get(key)
        if run is None:
            run = _generate_rules(policy, only, key)
    return run


def _generate_rules(policy, only: frozenset[str] | None, key) -> Any:
    rt = policy.rt
    ns = rt.ns
    ns.update(_new=tuple.__new__, _Reason=Reason, _RANK=RANK, _dynamic_fail=_dynamic_fail, _rule_error=_rule_error)
    rules = [r for r in policy.blocks.get("rule", {}).values() if only is None or r.id in only]
    tag = "" if only is None else f"s{sum(1 for k in rt.generated if isinstance(k, tuple))}_"
    chunks = []
    for start in range(0, len(rules), _CHUNK):
        # each rule keeps what it records in a local `_oN`, every path of its code sets it (an error included);
        # the trace gets them all at the end
        chunk = range(start, min(start + _CHUNK, len(rules)))
        body = [line for i in chunk for line in _rule_source(i, rules[i], ns, tag)]
        outcomes = ", ".join(f"_o{i}" for i in chunk)
        code = [f"def _rules_{tag}{start}(ctx):", prelude("\n".join(body)), "    view = ctx.view"]
        code += body
        code += [f"    ctx.trace.extend(({outcomes},))"]
        exec("\n".join(code) + "\n", ns)
        chunks.append(ns[f"_rules_{tag}{start}"])
    if len(chunks) == 1:
        run = chunks[0]
    else:
        def run(ctx):
            for chunk in chunks:
                chunk(ctx)
    rt.generated[key] = run
    return run


def run_rules(policy, ctx: DecisionContext, only: Iterable[str] | None = None) -> None:
    """Every rule block in order, or with `only` those rules alone (a part of the decision, such as coverage);
    a name that is no rule of the policy is a KeyError, not a rule silently left out."""
    if only is None:
        (policy.rt.generated.get("rules") or rules_runner(policy))(ctx)
        return
    if not isinstance(only, frozenset):
        only = frozenset(only)
    run = policy.rt.generated.get(("rules", only))
    if run is None:
        unknown = only - policy.blocks.get("rule", {}).keys()
        if unknown:
            raise KeyError(f"no rule named {', '.join(sorted(unknown))} in this policy")
        run = rules_runner(policy, only)
    run(ctx)


# ---- core functions ---------------------------------------------------------------------------------------------
def _date(rt, t: dt.datetime) -> dt.date:
    return (t if t.tzinfo is L.TOKYO else t.astimezone(L.TOKYO)).date()


def _time_of(rt, t: dt.datetime) -> L.TimeOfDay:
    t = t.astimezone(L.TOKYO)
    return L.TimeOfDay(t.hour * 60 + t.minute)


FUNCTIONS = (
    Function("date", ("datetime",), "date", _date, doc="the calendar date of an instant, in Japan time",
             example="date(at) >= registration.completed_on", total=True),
    Function("time_of", ("datetime",), "time", _time_of, doc="the time of day of an instant, in Japan time",
             example="time_of(at) in 08:30-17:30", total=True),
    Function("add_years", ("date", "int"), "date", lambda rt, d, n: L.add_months(d, 12 * n, rt.date_rounding),
             doc="a date plus whole years; 29 Feb rounds as the policy's date-rounding says",
             example="date(at) < add_years(device.purchased_on, pack.years)", total=True),
    Function("add_months", ("date", "int"), "date", lambda rt, d, n: L.add_months(d, n, rt.date_rounding),
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


@hookimpl
def sptui_block_kinds(register):
    for kind in (REGISTER, CALENDAR, VARIANT, TABLE, RULE):
        register(kind)


@hookimpl
def sptui_functions(register):
    for f in FUNCTIONS:
        register(f)


@hookimpl
def sptui_evaluators(register):
    register(Evaluator("rules", 10, run_rules, doc="runs every rule block in order; failing rules set the verdict"))
