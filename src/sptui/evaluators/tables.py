"""Decision tables with a hit policy: the `table` block kind (and a table as a case field's domain)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from sptui.evaluators.common import CITE, NOTE, day_gaps
from sptui.model.case import DOMAIN_FIELDS, FIELDS, Domain
from sptui.model.values import TimeOfDay
from sptui.policy.ast import ClauseRef, Literal, Path, SetLit, Span
from sptui.policy import trace
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec
from sptui.tz import TOKYO


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
            v = v.astimezone(TOKYO)
            return self.value.contains(v.hour * 60 + v.minute)
        if isinstance(v, TimeOfDay):
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
        """The row that matches the keys (by the hit policy), or None; a coverage run records it (policy.trace)."""
        row = self._match(keys)
        if trace.rows is not None and row is not None:
            trace.rows.add((self.name, row.span.file, row.span.line))
        return row

    def _match(self, keys: tuple) -> Row | None:
        if self.by_minute is not None and len(keys) == 1 and isinstance(keys[0], dt.datetime):
            t = keys[0] if keys[0].tzinfo is TOKYO else keys[0].astimezone(TOKYO)
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
