"""Expressions: type-checked at load, compiled to Python closures over the case.

A compiled expression is `fn(ctx) -> value`; `ctx.case` is the parsed case, `ctx.verdict` the
verdict so far. Null propagates: a field that is null makes arithmetic and function calls null,
an ordered comparison with null is false, and a condition that is null counts as false.
"""
from __future__ import annotations

import datetime as dt
import operator
from typing import Any, Callable

from sptui.model.case import DECISION_FIELDS, FIELDS, ROOTS
from sptui.policy import literals as L
from sptui.policy.ast import Binary, Call, ClauseRef, ListLit, Literal, Path, SetLit, Unary
from sptui.policy.diagnostics import did_you_mean

Fn = Callable[[Any], Any]
ORDERED = {"int", "money", "date", "datetime", "time", "duration"}


class Compiled:
    __slots__ = ("fn", "type", "const", "value", "enum", "strict")

    def __init__(self, fn: Fn, type_: str, *, const: bool = False, value: Any = None, enum=None, strict: bool = False):
        self.fn, self.type, self.const, self.value, self.enum = fn, type_, const, value, enum
        self.strict = strict  # the function returns only True or False (never null)


def strict_bool(fn: Fn) -> Compiled:
    return Compiled(fn, "bool", strict=True)


def constant(value: Any, type_: str) -> Compiled:
    return Compiled(lambda ctx: value, type_, const=True, value=value)


def _fits(want: str, got: str) -> bool:
    if want == "any" or got in ("any", "null") or want == got:
        return True
    return {want, got} <= {"symbol", "string"}


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


def _getter(parts: tuple[str, ...]) -> Fn:
    if len(parts) == 1:
        (a,) = parts
        return lambda ctx: ctx.case.get(a)
    if len(parts) == 2:
        a, b = parts

        def get2(ctx):
            o = ctx.case.get(a)
            return None if o is None else o.get(b)
        return get2

    def get(ctx):
        o = ctx.case
        for p in parts:
            if o is None:
                return None
            o = o.get(p)
        return o
    return get


class ExprCompiler:
    """Compiles expressions for one policy; reports through `error(code, message, span, hint)`."""

    def __init__(self, rt, functions: dict[str, Any], error: Callable[..., None]):
        self.rt = rt
        self.functions = functions
        self.error = error

    # ---- entry points -----------------------------------------------------------------------------
    def compile(self, node, scope: Scope, want: str | None = None) -> Compiled:
        c = self._compile(node, scope)
        if want is not None and not _fits(want, c.type):
            self.error("E054", f"expected {_a(want)} here, got {_a(c.type)}", node.span, "")
        return c

    def condition(self, node, scope: Scope) -> Fn:
        c = self.compile(node, scope, "bool")
        fn = c.fn
        if c.strict:
            return fn
        return lambda ctx: fn(ctx) is True

    # ---- nodes --------------------------------------------------------------------------------------
    def _compile(self, node, scope: Scope) -> Compiled:
        cls = node.__class__  # the most frequent kinds first
        if cls is Path:
            return self._path(node, scope)
        if cls is Binary:
            return self._binary(node, scope)
        if isinstance(node, Literal):
            if node.kind == "wildcard":
                self.error("E054", "`_` matches anything only in a decision table's row", node.span, "")
                return constant(None, "any")
            if node.kind == "invalid":
                return constant(None, "any")
            return constant(node.value, {"null": "null"}.get(node.kind, node.kind))
        if isinstance(node, Path):
            return self._path(node, scope)
        if isinstance(node, ClauseRef):
            return constant(str(node), "clause")
        if isinstance(node, (SetLit, ListLit)):
            items = [self._compile(i, scope) for i in node.items]
            kind = "set" if isinstance(node, SetLit) else "list"
            if all(i.const for i in items):
                vals = [i.value for i in items]
                return constant(frozenset(vals) if kind == "set" else tuple(vals), kind)
            fns = [i.fn for i in items]
            if kind == "set":
                return Compiled(lambda ctx: frozenset(f(ctx) for f in fns), kind)
            return Compiled(lambda ctx: tuple(f(ctx) for f in fns), kind)
        if isinstance(node, Unary):
            f = self.condition(node.operand, scope)
            return strict_bool(lambda ctx: not f(ctx))
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
                return let
        if root in ROOTS:
            dotted = ".".join(parts)
            if dotted not in FIELDS:
                prefix = root + "."
                self.error("E051", f"the case has no field `{dotted}`", node.span,
                           did_you_mean(dotted, [k for k in FIELDS if k.startswith(prefix)]))
                return constant(None, "any")
            kind, allowed, _ = FIELDS[dotted]
            enum = allowed
            if dotted == "pack.variant":
                enum = tuple(self.rt.variant_names)
            return Compiled(_getter(node.parts), kind, enum=enum)
        if root in DECISION_FIELDS and len(node.parts) == 1:
            if not scope.decision_fields:
                self.error("E050", f"`{root}` is what the rules decide; a rule cannot read it", node.span,
                           "read it in later blocks: onsite, fee, recovery, express")
                return constant(None, "any")
            kind, allowed = DECISION_FIELDS[root]
            return Compiled(lambda ctx, r=root: getattr(ctx, r), kind, enum=allowed)
        if len(node.parts) > 1:
            cands = list(ROOTS) + list(scope.names())
            self.error("E050", f"unknown name `{root}`", node.span, did_you_mean(root, cands))
            return constant(None, "any")
        # a bare word that names nothing is a symbol: `accepted`, `disk-array`, `hw`; one that is a near
        # miss of a let is reported later as a likely typo (checked once per word)
        if root not in self.rt.known_symbols and root not in self.rt.checked_words:
            self.rt.checked_words.add(root)
            near = did_you_mean(root, scope.names())
            if near:
                self.rt.suspect_symbols.append((root, node.span, near))
        return constant(root, "symbol")

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
                self.error("E055", f"`{v}` is not a possible value here; expected one of {', '.join(field.enum)}",
                           node.span, did_you_mean(v, field.enum))

    def _binary(self, node: Binary, scope: Scope) -> Compiled:
        op = node.op
        if op in ("and", "or"):
            # a chain a and b and c … is flattened first: no recursion per term, one loop at run time
            terms, stack = [], [node]
            while stack:
                n = stack.pop()
                if isinstance(n, Binary) and n.op == op:
                    stack.append(n.right)
                    stack.append(n.left)
                else:
                    terms.append(n)
            fns = tuple(self.condition(t, scope) for t in terms)  # each returns True or False
            if len(fns) == 2:
                a, b = fns
                if op == "and":
                    return strict_bool(lambda ctx: a(ctx) and b(ctx))
                return strict_bool(lambda ctx: a(ctx) or b(ctx))
            if op == "and":
                return strict_bool(lambda ctx: all(f(ctx) for f in fns))
            return strict_bool(lambda ctx: any(f(ctx) for f in fns))
        left = self._compile(node.left, scope)
        right = self._compile(node.right, scope)
        lf, rf = left.fn, right.fn
        if op in ("==", "!="):
            if not _fits(left.type, right.type):
                self.error("E054", f"cannot compare {_a(left.type)} with {_a(right.type)}", node.span,
                           "compare like with like: a string with \"text\", a number with a number, a date with a date")
            self._check_enum(left, right, node.right)
            self._check_enum(right, left, node.left)
            if right.const:  # the common case: a field against a value
                v = right.value
                if op == "==":
                    return strict_bool(lambda ctx: lf(ctx) == v)
                return strict_bool(lambda ctx: lf(ctx) != v)
            if op == "==":
                return strict_bool(lambda ctx: lf(ctx) == rf(ctx))
            return strict_bool(lambda ctx: lf(ctx) != rf(ctx))
        if op in ("<", "<=", ">", ">="):
            if not (_fits(left.type, right.type) and (left.type in ORDERED or left.type == "any")):
                self.error("E054", f"cannot order {_a(left.type)} against {_a(right.type)}", node.span,
                           "`<` and friends compare numbers, amounts, dates, date-times, times and durations")
            cmp = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

            if right.const and right.value is not None:
                v = right.value

                def ordered_const(ctx):
                    x = lf(ctx)
                    return False if x is None else cmp(x, v)
                return strict_bool(ordered_const)

            def ordered(ctx):
                x, y = lf(ctx), rf(ctx)
                return False if x is None or y is None else cmp(x, y)
            return strict_bool(ordered)
        if op in ("in", "not-in"):
            neg = op == "not-in"
            if right.type in ("set", "list", "any"):
                self._check_enum(left, right, node.right)
                if right.const:
                    members = right.value

                    def member(ctx):
                        return lf(ctx) in members
                else:
                    def member(ctx):
                        return lf(ctx) in rf(ctx)
            elif right.type == "window" and left.type in ("time", "datetime", "any"):
                def member(ctx):
                    x, w = lf(ctx), rf(ctx)
                    if x is None:
                        return False
                    if isinstance(x, dt.datetime):
                        x = x.astimezone(L.TOKYO)
                        return w.contains(x.hour * 60 + x.minute)
                    return w.contains(x.minute)
            elif right.type == "mdrange" and left.type in ("date", "any"):
                def member(ctx):
                    x = lf(ctx)
                    return x is not None and rf(ctx).contains(x)
            else:
                self.error("E054", f"`in` needs a set, a list, a window or a month-day range on the right, got {_a(right.type)}",
                           node.right.span, "write a set like {disk-array, printer}")
                return constant(False, "bool")
            if neg:
                return strict_bool(lambda ctx: not member(ctx))
            return strict_bool(member)
        return self._arith(node, left, right)

    def _arith(self, node: Binary, left: Compiled, right: Compiled) -> Compiled:
        op, lt, rt_ = node.op, left.type, right.type
        lf, rf = left.fn, right.fn
        rounding = self.rt.rounding
        result: str | None = None
        impl: Callable[[Any, Any], Any] | None = None
        if op in ("+", "-") and lt in ("date", "datetime") and rt_ == "duration":
            sign = 1 if op == "+" else -1
            result = lt
            if lt == "date" and right.const and right.value.minutes:
                self.error("E054", "a date moves by days, months or years, not by hours or minutes", node.right.span,
                           "use a date-time, or a duration in days")

            def impl(x, y):
                return L.add_duration(x, y, rounding(), sign)
        elif op == "-" and lt == rt_ == "date":
            result, impl = "int", lambda x, y: (x - y).days
        elif op == "-" and lt == rt_ == "datetime":
            result, impl = "duration", lambda x, y: L.Duration(minutes=int((x - y).total_seconds() // 60))
        elif lt == rt_ and lt in ("int", "money", "duration") and op in ("+", "-"):
            result = lt
            if lt == "money":
                impl = (lambda x, y: L.Money(x.yen + y.yen)) if op == "+" else (lambda x, y: L.Money(x.yen - y.yen))
            elif lt == "duration":
                impl = (lambda x, y: x + y) if op == "+" else (lambda x, y: x + y * -1)
            else:
                impl = operator.add if op == "+" else operator.sub
        elif op == "*" and lt in ("int", "money", "duration") and rt_ == "int":
            result = lt
            impl = {"int": operator.mul, "money": lambda x, y: L.Money(x.yen * y),
                    "duration": lambda x, y: x * y}[lt]
        elif op == "/" and lt == rt_ == "int":
            result, impl = "int", operator.floordiv
        elif "any" in (lt, rt_):
            result, impl = "any", {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv}[op]
        if impl is None:
            self.error("E054", f"cannot compute {_a(lt)} {op} {_a(rt_)}", node.span,
                       "dates move by durations (date + 30 days); `-` between names needs spaces around it")
            return constant(None, "any")
        f = impl

        def arith(ctx):
            x, y = lf(ctx), rf(ctx)
            return None if x is None or y is None else f(x, y)
        return Compiled(arith, result or "any")

    def _call(self, node: Call, scope: Scope) -> Compiled:
        fn = self.functions.get(node.name)
        if fn is None:
            self.error("E052", f"unknown function `{node.name}`", node.span, did_you_mean(node.name, self.functions))
            return constant(None, "any")
        params = list(fn.params)
        n = len(node.args)
        if n < len(params) or (n > len(params) and fn.variadic is None):
            want = f"{len(params)}" + (" or more" if fn.variadic else "")
            self.error("E053", f"`{node.name}` takes {want} argument(s), got {n}", node.span,
                       f"{node.name}({', '.join(fn.params)}{', …' if fn.variadic else ''})")
            return constant(None, fn.returns)
        fns: list[Fn] = []
        table = None
        for i, arg in enumerate(node.args):
            want = params[i] if i < len(params) else fn.variadic
            if want == "table":
                name = arg.parts[0] if isinstance(arg, Path) and len(arg.parts) == 1 else None
                table = self.rt.tables.get(name) if name else None
                if table is None:
                    self.error("E065", f"no table named `{name or '?'}`", arg.span, did_you_mean(name or "", self.rt.tables))
                    return constant(None, "any")
                fns.append(lambda ctx, t=table: t)
                continue
            if want == "column":
                name = arg.parts[0] if isinstance(arg, Path) and len(arg.parts) == 1 else None
                if table is not None and name not in table.outputs:
                    self.error("E065", f"the table `{table.name}` has no output `{name}`", arg.span,
                               did_you_mean(name or "", table.outputs))
                    return constant(None, "any")
                fns.append(lambda ctx, c=name: c)
                continue
            c = self._compile(arg, scope)
            if want in ("support", "variant"):
                self._check_choice(want, c, arg)
            elif not _fits(want, c.type):
                self.error("E053", f"argument {i + 1} of `{node.name}` must be {_a(want)}, got {_a(c.type)}", arg.span,
                           f"{node.name}({', '.join(fn.params)}{', …' if fn.variadic else ''})")
            fns.append(c.fn)
        impl, rt = fn.impl, self.rt
        if len(fns) == 1:
            (a,) = fns

            def call1(ctx):
                x = a(ctx)
                return None if x is None else impl(rt, x)
            return Compiled(call1, fn.returns)
        if len(fns) == 2:
            a, b = fns

            def call2(ctx):
                x, y = a(ctx), b(ctx)
                return None if x is None or y is None else impl(rt, x, y)
            return Compiled(call2, fn.returns)

        def call(ctx):
            vals = [f(ctx) for f in fns]
            return None if any(v is None for v in vals) else impl(rt, *vals)
        return Compiled(call, fn.returns)


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
        return v.astimezone(L.TOKYO).strftime("%Y-%m-%d %H:%M")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (frozenset, tuple)):
        return ", ".join(sorted(format_value(x) for x in v))
    return str(v)
