"""Expressions: type-checked at load, compiled to Python source over the case.

A compiled expression is Python source (`Compiled.src`) that reads the parsed case as `C` and the
decision so far as `ctx` (`ctx.verdict`, `ctx.in_service_hours`); constants, tables and function
implementations live in the policy's namespace (`ExprCompiler.ns`). `Compiled.fn` is that source as a
function of `ctx`, built on first use (so loading a policy executes no generated code): the one way an
expression is computed. Python source, not a tree of closures, because a decision computes a few dozen
conditions and the source computes them in less than half the time of closures over the AST;
tests/test_expr_oracle.py checks it against a plain interpreter of the same AST.

Null propagates: a field that is null makes arithmetic and function calls null, an ordered
comparison with null is false, and a condition that is null counts as false.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any, Callable

from sptui.clock.dates import add_duration, add_months
from sptui.model.case import DECISION_FIELDS, FIELDS, ROOTS, never_null
from sptui.model.values import Duration, Money, Window
from sptui.policy.ast import Binary, Call, ClauseRef, ListLit, Literal, Path, SetLit, Unary
from sptui.policy.depth import chained
from sptui.policy.diagnostics import did_you_mean
from sptui.tz import TOKYO

Fn = Callable[[Any], Any]
ORDERED = {"int", "money", "date", "datetime", "time", "duration"}
_PLAIN = (int, str, bool, type(None))


_MEMO = re.compile(r"\b_m\d+\b")
_LET_MEMO = re.compile(r"\b_l\d+\b")
# the case's records that are never null, read once into a local by generated code
_RECORD = re.compile(r"\bC_(" + "|".join(sorted(r for r in ROOTS if FIELDS[r][0] == "record" and never_null(r))) + r")\b")


def prelude(code: str, indent: str = "    ") -> str:
    """The lines generated code starts with: `C = ctx.case`, a local for each record it reads that is
    never null (`C_device = C['device']`), each memo it uses set to None (see ExprCompiler._call), and each let it
    keeps set to _U, "not computed yet" (see ExprCompiler._let)."""
    lines = [f"{indent}C = ctx.case"]
    lines += [f"{indent}C_{r} = C[{r!r}]" for r in sorted(set(_RECORD.findall(code)))]
    memos = sorted(set(_MEMO.findall(code)))
    if memos:
        lines.append(f"{indent}{' = '.join(memos)} = None")
    lets = sorted(set(_LET_MEMO.findall(code)))
    if lets:
        lines.append(f"{indent}{' = '.join(lets)} = _U")
    return "\n".join(lines)


def function_of(src: str, ns: dict) -> Fn:
    """The expression source as `fn(ctx)`; `ctx.case` is the case."""
    local: dict[str, Any] = {}
    exec(f"def _expr(ctx):\n{prelude(src)}\n    return {src}\n", ns, local)
    return local["_expr"]


class Compiled:
    """An expression's Python source, its type, and what the checker knows of it."""

    __slots__ = ("src", "type", "const", "value", "enum", "strict", "nullable", "pure", "ns", "_fn")

    def __init__(self, src: str, type_: str, ns: dict, *, const: bool = False, value: Any = None, enum=None,
                 strict: bool = False, nullable: bool = True, pure: bool = False):
        self.src, self.type, self.ns = src, type_, ns
        self.const, self.value, self.enum = const, value, enum
        self.strict = strict  # the source gives only True or False (never null)
        self.nullable = nullable and not strict and not (const and value is not None)
        self.pure = pure or const  # reads only the case and constants: the same value all through a decision
        self._fn: Fn | None = None

    @property
    def fn(self) -> Fn:
        if self._fn is None:
            self._fn = function_of(self.src, self.ns)
        return self._fn


class Scope:
    """Names visible to an expression: block-local lets, policy lets, case fields."""

    def __init__(self, lets: dict[str, Compiled], *, decision_fields: bool = True, parent: "Scope | None" = None):
        self.lets = lets
        self.decision_fields = decision_fields
        self.parent = parent

    def lookup(self, name: str) -> Compiled | None:
        s: Scope | None = self
        while s is not None:
            if name in s.lets:
                return s.lets[name]
            s = s.parent
        return None

    def names(self) -> set[str]:
        out: set[str] = set()
        s: Scope | None = self
        while s is not None:
            out |= set(s.lets)
            s = s.parent
        return out


def _fits(want: str, got: str) -> bool:
    if want == "any" or got in ("any", "null") or want == got:
        return True
    return {want, got} <= {"symbol", "string"}


_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITH = frozenset({"+", "-", "*", "/"})
_MAX_DAYS = dt.timedelta.max.days  # a constant duration longer than this is added when deciding (and fails there)
_DEEP = 120  # Python's parser takes 200 nested brackets; a source nested deeper than this becomes a function
_LONG = 240  # a source this short cannot be nested that deep (each level takes two characters or more)
_BIG_LET = 400  # a let's source longer than this is used through a function, not copied into each use


def _nesting(src: str) -> int:
    """How deep brackets nest in generated source (text inside string literals does not count)."""
    depth = deepest = 0
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
        elif ch in "'\"":
            j = i + 1
            while j < n and src[j] != ch:
                j += 2 if src[j] == "\\" else 1
            i = j
        i += 1
    return deepest


_U = object()  # a let not computed yet (its value may be null)
LARGEST = 10 ** 18  # the largest number (or amount of yen, or minutes) a product may give when deciding


def _mul(a, n: int):
    """`a * n` for a number, an amount or a duration; an OverflowError past LARGEST (squaring again and again
    would otherwise grow without bound)."""
    out = a * n if a.__class__ is not Money else Money(a.yen * n)
    size = out.yen if out.__class__ is Money else out if out.__class__ is int else \
        max(abs(out.months), abs(out.days), abs(out.minutes))
    if not -LARGEST <= size <= LARGEST:
        raise OverflowError(f"a product past {LARGEST:.0e}")
    return out


def _any_op(a, op: str, b):
    """`+ - * /` on values known only when deciding (a table's outputs): numbers, amounts, durations and dates,
    never text or sets (adding text up doubles it each time)."""
    if isinstance(a, (str, frozenset, tuple, bool)) or isinstance(b, (str, frozenset, tuple, bool)):
        raise TypeError(f"cannot compute {format_value(a)} {op} {format_value(b)}"[:200])
    if op == "*":
        return _mul(a, b)
    return a + b if op == "+" else a - b if op == "-" else a // b


def _minute_in(x, w: Window) -> bool:
    """`x in 08:30-17:30` for a time of day or an instant (read in Japan time)."""
    if isinstance(x, dt.datetime):
        x = x.astimezone(TOKYO)
        return w.contains(x.hour * 60 + x.minute)
    return w.contains(x.minute)


class ExprCompiler:
    """Compiles expressions for one policy; reports through `error(code, message, span, hint)`."""

    def __init__(self, rt, functions: dict[str, Any], error: Callable[..., None]):
        self.rt = rt
        self.functions = functions
        self.error = error
        self.ns: dict[str, Any] = {"_rt": rt, "_minute_in": _minute_in, "_Money": Money, "_Duration": Duration,
                                   "_add_duration": add_duration, "_add_months": add_months, "_U": _U, "_mul": _mul,
                                   "_any_op": _any_op}
        rt.ns = self.ns
        self._names = itertools.count()
        self._bound: dict[int, str] = {}  # id(object) -> its name in ns, so a table or set is bound once
        self._memos: dict[str, str] = {}  # call source -> the local that keeps its value through a decision
        self._getters: dict[tuple[str, ...], str] = {}
        self._fields: dict[tuple[str, ...], Compiled] = {}  # a case field read: one Compiled for every read
        self._symbols: dict[str, Compiled] = {}  # a bare word: one constant for every use
        self._hoists: dict[int, tuple[Compiled, Compiled]] = {}
        self._kept: dict[int, tuple[Compiled, Compiled]] = {}  # a let used through its function -> its kept use

    # ---- source helpers ----------------------------------------------------------------------------
    def temp(self) -> str:
        return f"_t{next(self._names)}"

    def bind(self, value: Any) -> str:
        """A name in the namespace for a value that has no plain literal form."""
        name = self._bound.get(id(value))
        if name is None:
            name = f"_k{next(self._names)}"
            self.ns[name] = value
            self._bound[id(value)] = name
        return name

    def constant(self, value: Any, type_: str) -> Compiled:
        src = repr(value) if type(value) in _PLAIN else self.bind(value)
        return Compiled(src, type_, self.ns, const=True, value=value)

    def _bool(self, src: str) -> Compiled:
        return Compiled(src, "bool", self.ns, strict=True)

    def _null_guarded(self, parts: list[Compiled], body: Callable[[list[str]], str], null: str = "None") -> str:
        """`(NULL if any part is null else BODY)`. Every part is computed before the test (`|`, not `or`), as
        each operand of a call or an operator is, so an error in a later part is never hidden by a null."""
        if not any(p.nullable for p in parts):
            return f"({body([p.src for p in parts])})"
        names, guards = [], []
        for p in parts:
            if p.const and p.value is not None:  # nothing to compute or test
                names.append(p.src)
                continue
            t = self.temp()
            names.append(t)
            guards.append(f"(({t} := {p.src}) is None)")
        return f"({null} if {' | '.join(guards)} else {body(names)})"

    # ---- entry points -----------------------------------------------------------------------------
    def compile(self, node, scope: Scope, want: str | None = None) -> Compiled:
        c = self._compile(node, scope)
        if want is not None and not _fits(want, c.type):
            self.error("E054", f"expected {_a(want)} here, got {_a(c.type)}", node.span, "")
        return c

    def cond(self, node, scope: Scope) -> Compiled:
        """A condition: true or false, never null (null counts as false)."""
        c = self._compile(node, scope)
        if c.type != "bool" and not _fits("bool", c.type):  # (as compile(node, scope, "bool") checks)
            self.error("E054", f"expected {_a('bool')} here, got {_a(c.type)}", node.span, "")
        if c.const:
            return self._bool("True" if c.value is True else "False")
        if c.strict:
            return c
        return self._bool(f"({c.src} is True)")

    def condition(self, node, scope: Scope) -> Fn:
        return self.cond(node, scope).fn

    # ---- size limits of generated source ---------------------------------------------------------------
    def _hoisted(self, c: Compiled) -> Compiled:
        """The expression as a call of a generated function of its own (made now): for sources nested
        deeper than Python's parser takes, and for lets too large to copy into every use."""
        h = self._hoists.get(id(c), (None, None))[1]
        if h is None:
            name = f"_e{next(self._names)}"
            self.ns[name] = c.fn
            h = Compiled(f"{name}(ctx)", c.type, self.ns, enum=c.enum, strict=c.strict, nullable=c.nullable,
                         pure=c.pure)
            self._hoists[id(c)] = (c, h)  # (c kept alive, so its id is not reused)
        return h

    def _let(self, let: Compiled) -> Compiled:
        """A large let, used through its function and computed once in each generated function that uses it (kept
        in a local `_lN`, which generated code starts as _U): a let that uses the one before it twice, sixty times
        over, is sixty calls, not 2**60."""
        kept = self._kept.get(id(let), (None, None))[1]
        if kept is None:
            h = self._hoisted(let)
            memo = f"_l{next(self._names)}"
            kept = Compiled(f"({memo} if {memo} is not _U else ({memo} := {h.src}))", let.type, self.ns, enum=let.enum,
                            strict=let.strict, nullable=let.nullable, pure=let.pure)
            self._kept[id(let)] = (let, kept)
        return kept

    def _settle(self, c: Compiled) -> Compiled:
        if len(c.src) > _LONG and _nesting(c.src) > _DEEP:
            return self._hoisted(c)
        return c

    # ---- nodes --------------------------------------------------------------------------------------
    def _compile(self, node, scope: Scope) -> Compiled:
        cls = node.__class__  # the most frequent kinds first, without the call through _node
        if cls is Path:
            c = self._path(node, scope)
        elif cls is Binary:
            c = self._binary(node, scope)
        else:
            c = self._node(node, scope)
        return c if c.const or len(c.src) <= _LONG else self._settle(c)

    def _node(self, node, scope: Scope) -> Compiled:
        cls = node.__class__  # the most frequent kinds first
        if cls is Path:
            return self._path(node, scope)
        if cls is Binary:
            return self._binary(node, scope)
        if cls is Literal:
            if node.kind == "wildcard":
                self.error("E054", "`_` matches anything only in a decision table's row", node.span, "")
                return self.constant(None, "any")
            if node.kind == "invalid":
                return self.constant(None, "any")
            return self.constant(node.value, node.kind)
        if isinstance(node, ClauseRef):
            return self.constant(str(node), "clause")
        if isinstance(node, (SetLit, ListLit)):
            items = [self._compile(i, scope) for i in node.items]
            kind = "set" if isinstance(node, SetLit) else "list"
            if all(i.const for i in items):
                vals = [i.value for i in items]
                return self.constant(frozenset(vals) if kind == "set" else tuple(vals), kind)
            inner = ", ".join(i.src for i in items)
            return Compiled(f"frozenset(({inner},))" if kind == "set" else f"({inner},)", kind, self.ns, nullable=False)
        if isinstance(node, Unary):
            return self._bool(f"(not {self.cond(node.operand, scope).src})")
        if isinstance(node, Binary):
            return self._binary(node, scope)
        if isinstance(node, Call):
            return self._call(node, scope)
        raise AssertionError(node)  # pragma: no cover

    def _path(self, node: Path, scope: Scope) -> Compiled:
        parts = node.parts
        root = parts[0]
        if len(parts) == 1:
            let = scope.lookup(root)
            if let is not None:
                return self._let(let) if len(let.src) > _BIG_LET else let
        if root in ROOTS:
            field = self._fields.get(parts)
            if field is not None:
                return field
            dotted = ".".join(parts)
            if dotted not in FIELDS:
                prefix = root + "."
                self.error("E051", f"the case has no field `{dotted}`", node.span,
                           did_you_mean(dotted, [k for k in FIELDS if k.startswith(prefix)]))
                return self.constant(None, "any")
            kind, allowed, _ = FIELDS[dotted]
            enum = allowed
            domain = self.rt.domains.get(dotted)
            if dotted == "pack.variant":
                enum = tuple(self.rt.variant_names)
            elif domain is not None:  # the values the policy's table declares (`domain cause`)
                enum = tuple(sorted(domain.values))
            field = Compiled(self._getter(node.parts), kind, self.ns, enum=enum, nullable=not never_null(dotted),
                             pure=True)
            if dotted != "pack.variant" and domain is None:  # (known only once the variants and tables are read)
                self._fields[parts] = field
            return field
        if root in DECISION_FIELDS and len(node.parts) == 1:
            if not scope.decision_fields:
                self.error("E050", f"`{root}` is what the rules decide; a rule cannot read it", node.span,
                           "read it in later blocks: onsite, fee, recovery, express")
                return self.constant(None, "any")
            kind, allowed = DECISION_FIELDS[root]
            return Compiled(f"ctx.{root}", kind, self.ns, enum=allowed, nullable=False)
        if len(node.parts) > 1:
            cands = list(ROOTS) + list(scope.names())
            self.error("E050", f"unknown name `{root}`", node.span, did_you_mean(root, cands))
            return self.constant(None, "any")
        # a bare word that names nothing is a symbol: `accepted`, `disk-array`, `hw`; one that is a near
        # miss of a let is reported later as a likely typo (checked once per word)
        if root not in self.rt.known_symbols and root not in self.rt.checked_words:
            self.rt.checked_words.add(root)
            near = did_you_mean(root, scope.names())
            if near:
                self.rt.suspect_symbols.append((root, node.span, near))
        symbol = self._symbols.get(root)
        if symbol is None:
            symbol = self._symbols[root] = self.constant(root, "symbol")
        return symbol

    def _getter(self, parts: tuple[str, ...]) -> str:
        """`C_device['purchased_on']`, with a null guard after each record that may be null. (One source per
        field: its temporaries are set and read inside it, so it may stand twice in one expression.)"""
        src = self._getters.get(parts)
        if src is None:
            src = self._getters[parts] = self._getter_source(parts)
        return src

    def _getter_source(self, parts: tuple[str, ...]) -> str:
        src = f"C_{parts[0]}" if len(parts) > 1 and never_null(parts[0]) else f"C[{parts[0]!r}]"
        for i, key in enumerate(parts[1:], 1):
            if never_null(".".join(parts[:i])):
                src = f"{src}[{key!r}]"
            else:
                t = self.temp()
                src = f"(None if ({t} := {src}) is None else {t}[{key!r}])"
        return src

    def _check_choice(self, want: str, c: Compiled, arg) -> None:
        """A `support` argument is hw or pp; a `variant` one names a variant of the policy."""
        choices = ("hw", "pp") if want == "support" else tuple(self.rt.variant_names)
        if c.const:
            if c.value not in choices:
                self.error("E070", f"`{c.value}` is not a {want}; expected one of {', '.join(choices)}", arg.span,
                           did_you_mean(str(c.value), choices) or f"write one of: {', '.join(choices)}")
        elif c.type not in ("symbol", "any"):
            self.error("E053", f"expected a {want} name, got {_a(c.type)}", arg.span, ", ".join(choices))

    def _check_enum(self, field: Compiled, other: Compiled, node) -> None:
        if field.enum is None or not other.const:
            return
        values = other.value if isinstance(other.value, (frozenset, tuple)) else (other.value,)
        for v in values:
            if isinstance(v, str) and v not in field.enum:
                listed = ", ".join(field.enum) if len(field.enum) <= 8 else \
                    f"{field.enum[0]} … {field.enum[-1]} ({len(field.enum)} values)"
                self.error("E055", f"`{v}` is not a possible value here; expected one of {listed}",
                           node.span, did_you_mean(v, field.enum) or f"the possible values: {listed}")

    def _binary(self, node: Binary, scope: Scope) -> Compiled:
        op = node.op
        if op in ("and", "or"):
            # a chain a and b and c … is flattened first: no recursion per term
            terms, stack = [], [node]
            while stack:
                n = stack.pop()
                if isinstance(n, Binary) and n.op == op:
                    stack.append(n.right)
                    stack.append(n.left)
                else:
                    terms.append(n)
            return self._bool("(" + f" {op} ".join(self.cond(t, scope).src for t in terms) + ")")
        if op in _ARITH:
            return self._arith_chain(node, scope)
        left = self._compile(node.left, scope)
        right = self._compile(node.right, scope)
        if op in ("==", "!="):
            if not _fits(left.type, right.type):
                self.error("E054", f"cannot compare {_a(left.type)} with {_a(right.type)}", node.span,
                           "compare like with like: a string with \"text\", a number with a number, a date with a date")
            self._check_enum(left, right, node.right)
            self._check_enum(right, left, node.left)
            if left.const and right.const:
                return self.constant((left.value == right.value) == (op == "=="), "bool")
            if right.const and right.value is None:
                return self._bool(f"({left.src} {'is' if op == '==' else 'is not'} None)")
            return self._bool(f"({left.src} {op} {right.src})")
        if op in _CMP:
            if not (_fits(left.type, right.type) and (left.type in ORDERED or left.type == "any")):
                self.error("E054", f"cannot order {_a(left.type)} against {_a(right.type)}", node.span,
                           "`<` and friends compare numbers, amounts, dates, date-times, times and durations")
            return self._bool(self._null_guarded([left, right], lambda v: f"{v[0]} {op} {v[1]}", "False"))
        if op in ("in", "not-in"):
            neg = "not " if op == "not-in" else ""
            if right.type in ("set", "list", "any"):
                self._check_enum(left, right, node.right)
                return self._bool(f"({left.src} {neg}in {right.src})")  # `in null` is an error, as it always was
            if right.type == "window" and left.type in ("time", "datetime", "any"):
                member = "_minute_in({0}, {1})"
            elif right.type == "mdrange" and left.type in ("date", "any"):
                member = "{1}.contains({0})"
            else:
                self.error("E054", f"`in` needs a set, a list, a window or a month-day range on the right, got {_a(right.type)}",
                           node.right.span, "write a set like {disk-array, printer}")
                return self.constant(False, "bool")
            t = self.temp()
            src = f"(False if ({t} := {left.src}) is None else {member.format(t, right.src)})"
            return self._bool(f"(not {src})" if neg else src)
        return self._arith(node, left, right)

    def _arith_chain(self, node: Binary, scope: Scope) -> Compiled:
        """`a + b - c …` along its chain in a loop (a chain of thousands of terms recurses no deeper than one);
        each partial result is settled as _compile settles an operand."""
        links = []
        while chained(node):
            links.append(node)
            node = node.left
        links.append(node)
        acc = self._compile(node.left, scope)
        last = len(links) - 1
        for i, link in enumerate(reversed(links)):
            acc = self._arith(link, acc, self._compile(link.right, scope))
            if i < last and not acc.const and len(acc.src) > _LONG:
                acc = self._settle(acc)
        return acc

    def _arith(self, node: Binary, left: Compiled, right: Compiled) -> Compiled:
        op, lt, rt_ = node.op, left.type, right.type
        result: str | None = None
        form: str | None = None  # the operation on the two (non-null) operands {0} and {1}
        if op in ("+", "-") and lt in ("date", "datetime") and rt_ == "duration":
            result = lt
            if lt == "date" and right.const and right.value.minutes:
                self.error("E054", "a date moves by days, months or years, not by hours or minutes", node.right.span,
                           "use a date-time, or a duration in days")
            sign = 1 if op == "+" else -1
            d = right.value if right.const else None
            if lt == "date" and d is not None and not d.minutes and not d.months and abs(d.days) <= _MAX_DAYS:
                form = "({0} + " + self.bind(dt.timedelta(days=sign * d.days)) + ")"
            elif lt == "date" and d is not None and not d.minutes and not d.days:
                form = "_add_months({0}, " + str(sign * d.months) + ", _rt.date_rounding)"
            else:
                form = "_add_duration({0}, {1}, _rt.date_rounding, " + str(sign) + ")"
        elif op == "-" and lt == rt_ == "date":
            result, form = "int", "({0} - {1}).days"
        elif op == "-" and lt == rt_ == "datetime":
            result, form = "duration", "_Duration(minutes=int(({0} - {1}).total_seconds() // 60))"
        elif lt == rt_ and lt in ("int", "money", "duration") and op in ("+", "-"):
            result = lt
            if lt == "money":
                form = "_Money({0}.yen " + op + " {1}.yen)"
            elif lt == "duration":
                form = "({0} + {1})" if op == "+" else "({0} + {1} * -1)"
            else:
                form = "({0} " + op + " {1})"
        elif op == "*" and lt in ("int", "money", "duration") and rt_ == "int":
            result, form = lt, "_mul({0}, {1})"
        elif op == "/" and lt == rt_ == "int":
            result, form = "int", "({0} // {1})"
        elif "any" in (lt, rt_):
            result, form = "any", "_any_op({0}, " + repr(op) + ", {1})"
        if form is None:
            self.error("E054", f"cannot compute {_a(lt)} {op} {_a(rt_)}", node.span,
                       "dates move by durations (date + 30 days); `-` between names needs spaces around it")
            return self.constant(None, "any")
        f = form
        src = self._null_guarded([left, right], lambda v: f.format(*v))
        return Compiled(src, result or "any", self.ns, nullable=left.nullable or right.nullable)

    def _table_arg(self, want: str, arg, table, node: Call, keys: int) -> Compiled | None:
        """A `table` or `column` argument (of lookup) as a constant; None when it names nothing (E065), or when the
        keys after the column are not one for each of the table's inputs (E053: a missing key is no `_`)."""
        name = arg.parts[0] if isinstance(arg, Path) and len(arg.parts) == 1 else None
        if want == "table":
            found = self.rt.tables.get(name) if name else None
            if found is None:
                self.error("E065", f"no table named `{name or '?'}`", arg.span, did_you_mean(name or "", self.rt.tables))
                return None
            return self.constant(found, "table")
        if table is None:
            return self.constant(name, "column")
        if name not in table.outputs:
            self.error("E065", f"the table `{table.name}` has no output `{name}`", arg.span,
                       did_you_mean(name or "", table.outputs))
            return None
        if keys != len(table.inputs):
            self.error("E053", f"the table `{table.name}` has {len(table.inputs)} input(s) ({', '.join(table.inputs)}); "
                       f"`{node.name}` gives {keys} key(s)", node.span,
                       f"{node.name}({table.name}, {name}, {', '.join(table.inputs)})")
            return None
        return self.constant(name, "column")

    def _call(self, node: Call, scope: Scope) -> Compiled:
        fn = self.functions.get(node.name)
        if fn is None:
            self.error("E052", f"unknown function `{node.name}`", node.span, did_you_mean(node.name, self.functions))
            return self.constant(None, "any")
        params = list(fn.params)
        n = len(node.args)
        if n < len(params) or (n > len(params) and fn.variadic is None):
            want = f"{len(params)}" + (" or more" if fn.variadic else "")
            self.error("E053", f"`{node.name}` takes {want} argument(s), got {n}", node.span,
                       f"{node.name}({', '.join(fn.params)}{', …' if fn.variadic else ''})")
            return self.constant(None, fn.returns)
        args: list[Compiled] = []
        table = None
        for i, arg in enumerate(node.args):
            want = params[i] if i < len(params) else fn.variadic
            if want in ("table", "column"):
                got = self._table_arg(want, arg, table, node, n - (i + 1))
                if got is None:
                    return self.constant(None, "any")
                args.append(got)
                table = got.value if want == "table" else table
                continue
            c = self._compile(arg, scope)
            if want == "symbol" and c.const and c.type == "symbol":  # a word the function takes as a value
                self.rt.known_symbols.add(c.value)
            if want in ("support", "variant"):
                self._check_choice(want, c, arg)
            elif not _fits(want, c.type):
                self.error("E053", f"argument {i + 1} of `{node.name}` must be {_a(want)}, got {_a(c.type)}", arg.span,
                           f"{node.name}({', '.join(fn.params)}{', …' if fn.variadic else ''})")
            args.append(c)
        impl = self.bind(fn.impl)
        src = self._null_guarded(args, lambda v: f"{impl}(_rt, {', '.join(v)})")
        if fn.total and all(a.pure and not a.nullable for a in args):
            # never null, and the same all through a decision (`date(at)`, `add_years(device.purchased_on, …)`):
            # computed on first use and kept in a local `_mN` that generated code starts as None
            memo = self._memos.setdefault(src, f"_m{next(self._names)}")
            return Compiled(f"({memo} if {memo} is not None else ({memo} := {src}))", fn.returns, self.ns,
                            nullable=False, pure=True)
        return Compiled(src, fn.returns, self.ns, nullable=not fn.total or any(a.nullable for a in args))


def _a(t: str) -> str:
    names = {"any": "a value", "int": "a number", "money": "an amount", "date": "a date", "datetime": "a date-time",
             "time": "a time", "window": "a time window", "duration": "a duration", "bool": "a condition (true/false)",
             "string": "a string", "symbol": "a name", "set": "a set", "list": "a list", "null": "null",
             "clause": "a clause", "monthday": "a month-day", "mdrange": "a month-day range", "table": "a table name"}
    return names.get(t, t)


def format_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, dt.datetime):
        return v.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (frozenset, tuple)):
        return ", ".join(sorted(format_value(x) for x in v))
    return str(v)
