"""What a block kind's compile function is given: a checked view of its block (`Block`), and the compilation
state the block kinds share (`Context`: diagnostics, the runtime, the expression compiler, the clause register).

The checker validates every block against its kind's schema here, and converts each argument to its type.
"""
from __future__ import annotations

from typing import Any

import attrs

from sptui.errors import LiteralError
from sptui.policy import literals as L
from sptui.policy.ast import ClauseRef, Entry, Let, Literal, Path, SetLit, Span
from sptui.policy.diagnostics import CODES, Diagnostic, did_you_mean
from sptui.policy.expr import ExprCompiler, Scope
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec


@attrs.frozen
class Clause:
    id: str
    title: str
    items: int | tuple[str, ...] | None
    not_computable: str | None
    span: Span


class Runtime:
    """What compiled closures see at decision time: rounding, variants, calendars, tables."""

    def __init__(self) -> None:
        self.date_rounding = "clamp"
        self.variants: dict[str, Any] = {}
        self.calendars: dict[str, Any] = {}
        self.tables: dict[str, Any] = {}
        self.fee_bands: dict[str, str] = {}  # variant -> its own fee-band table, where a block kind gives one
        self.domains: dict[str, Any] = {}  # case field -> model.case.Domain, declared by a table (`domain cause`)
        self.case_checks: list[Any] = []  # check(values) raising CaseError: what blocks require of a case
        self.function_code: dict[Any, tuple[str, str]] = {}  # a DSL function's code -> (its name, its plugin)
        self.variant_names: list[str] = []
        self.known_symbols: set[str] = set()
        self.checked_words: set[str] = set()
        self.suspect_symbols: list[tuple[str, Span, str]] = []
        self.ns: dict[str, Any] = {}  # the namespace of generated code (set by the expression compiler)
        self.derived: dict[str, Any] = {}  # what is worked out from the compiled policy on first use, then kept
        self.citation_refs: list[tuple[Any, tuple[str, str]]] = []  # each checked citation: (ClauseRef, its block)
        self.notes_ja: dict[str, str] = {}  # a block's note -> its note-ja, where it gives one (explain --lang ja)
        self.let_cites: dict[str, list[Any]] = {}  # a policy let's citations (policy.letcite)
        self.inherited_cites: dict[tuple[str, str], list[tuple[Any, str, Span]]] = {}  # a block's, from the lets it uses

    def rounding(self) -> str:
        return self.date_rounding


class Block:
    """A checked view of one block's body for its kind's compile function."""

    def __init__(self, entry: Entry, ctx: "Context"):
        self.entry = entry
        self.ctx = ctx
        self.kind = entry.key
        self.name = entry.name or ""
        self.entries: list[Entry] = [i for i in (entry.body or ()) if isinstance(i, Entry)]
        self.lets: list[Let] = [i for i in (entry.body or ()) if isinstance(i, Let)]
        self._by_key: dict[str, list[Entry]] = {}
        for e in self.entries:
            self._by_key.setdefault(e.key, []).append(e)

    def all(self, key: str) -> list[Entry]:
        return list(self._by_key.get(key, ()))

    def first(self, key: str) -> Entry | None:
        found = self._by_key.get(key)
        return found[0] if found else None

    def value(self, key: str, default: Any = None, index: int = 0) -> Any:
        e = self.first(key)
        if e is None or len(e.args) <= index:
            return default
        return self.ctx.convert(e.args[index], self._spec(key, index), quiet=True)

    def values(self, key: str) -> list[Any]:
        e = self.first(key)
        if e is None:
            return []
        return [self.ctx.convert(a, self._spec(key, i), quiet=True) for i, a in enumerate(e.args)]

    def _spec(self, key: str, index: int) -> str:
        kind = self.ctx.kinds[self.kind]
        spec = kind.schema.spec(key)
        if spec is None:
            return "any"
        return spec.args[index] if index < len(spec.args) else (spec.variadic or "any")

    def cites(self) -> tuple[str, ...]:
        return tuple(str(a) for e in self.all("cite") for a in e.args if isinstance(a, ClauseRef))

    def note(self) -> str | None:
        return self.value("note")

    def scope(self, *, decision_fields: bool = True) -> Scope:
        """The block's own `let`s (compiled in order) over the policy's."""
        local = Scope({}, decision_fields=decision_fields, parent=self.ctx.policy_scope)
        for let in self.lets:
            if let.name in local.lets:
                first = next(x for x in self.lets if x.name == let.name)
                self.ctx.error("E057", f"`{let.name}` is defined twice in this block", let.key_span,
                               f"the first is at {first.key_span}; give one of them another name")
            local.lets[let.name] = self.ctx.exprs.compile(let.value, local)
        return local


def _reporter(diagnostics: list[Diagnostic]):
    def error(code: str, message: str, span: Span, hint: str = "") -> None:
        assert code in CODES, code
        diagnostics.append(Diagnostic(code, message, span, hint))

    return error


class Context:
    """Compilation state shared by the block kinds: diagnostics, the runtime, expression compiler."""

    def __init__(self, kinds: dict[str, BlockKind], functions: dict[str, Any], sources: dict[str, str]):
        self.kinds = kinds
        self.functions = functions
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []
        self.rt = Runtime()
        # the compiler reports into the list, not through a bound method: a Context → compiler → Context cycle
        # would keep every parsed module alive until the cyclic GC finds it (see check)
        self._report = _reporter(self.diagnostics)
        self.exprs = ExprCompiler(self.rt, functions, self._report)
        self.policy_scope = Scope({}, decision_fields=True)
        self.blocks: dict[str, dict[str, Any]] = {}
        self.block_order: list[tuple[str, str]] = []
        self.clauses: dict[str, Clause] = {}
        self.citations: dict[str, list[tuple[str, str]]] = {}

    def error(self, code: str, message: str, span: Span, hint: str = "") -> None:
        self._report(code, message, span, hint)

    # ---- argument conversion by schema type -------------------------------------------------------
    def convert(self, node, type_: str, *, quiet: bool = False) -> Any:
        def bad(expected: str, hint: str = "") -> None:
            if not quiet:
                self.error("E033", f"expected {expected}", node.span, hint)

        if type_ in ("expr", "cell", "any"):
            return node
        if type_ == "clause":
            if not isinstance(node, ClauseRef):
                bad("a clause like 第3章 2.2 (4), 別表-1 or はじめに")
                return None
            return node
        if type_ in ("name", "weekdays") or type_.startswith(("ref:", "one-of:")):
            word = node.parts[0] if isinstance(node, Path) and len(node.parts) == 1 else None
            if word is None:
                bad("a name", "a bare word such as weekday-9h")
                return None
            if type_ == "weekdays":
                try:
                    return L.parse_weekdays(word)
                except LiteralError as e:
                    if not quiet:
                        self.error("E071", str(e), node.span, e.hint)
                    return None
            if type_.startswith("one-of:"):
                options = type_[7:].split("|")
                if word not in options:
                    if not quiet:
                        self.error("E033", f"`{word}` is not one of {', '.join(options)}", node.span,
                                   did_you_mean(word, options))
                    return None
            return word
        if isinstance(node, Literal):
            if node.kind == "invalid":
                return None
            if node.kind == type_ or (type_ == "time" and node.kind == "time"):
                return node.value
            if type_ == "money" and node.kind == "int":
                bad("an amount in yen", f"write {node.value:,}円 or {node.value} JPY")
                return None
        hints = {"time": "expected a time like 08:30", "window": "a window like 08:30-17:30 or 21:00-08:30",
                 "duration": "a duration like 2h, 15min, 30 days, 3 months, 5 years",
                 "money": "an amount like 10,000円", "date": "a date like 2026-04-01", "string": 'text in "…"',
                 "mdrange": "a yearly range like 12-29..01-03", "int": "a whole number", "bool": "true or false"}
        bad(_TYPE_NAMES.get(type_, type_), hints.get(type_, ""))
        return None

    # ---- schema validation ---------------------------------------------------------------------------
    def validate(self, entry: Entry, schema: BlockSchema, kind: str) -> None:
        counts: dict[str, int] = {}
        for item in entry.body or ():
            if isinstance(item, Let):
                if not schema.lets:
                    self.error("E031", f"`let` is not allowed in {article(kind)} {kind} block", item.span,
                               "let is allowed at the top level and in rule and recovery blocks")
                continue
            spec = schema.spec(item.key)
            if spec is None:
                self.error("E031", f"{article(kind)} {kind} block takes no entry `{item.key}`", item.key_span,
                           did_you_mean(item.key, schema.keys) or f"it takes: {', '.join(schema.keys)}")
                continue
            counts[spec.key] = counts.get(spec.key, 0) + 1
            if counts[spec.key] == 2 and not spec.repeat:
                self.error("E035", f"`{spec.key}` is given more than once", item.key_span, "give it once")
            self.validate_entry(item, spec, kind)
        for spec in schema.entries:
            if spec.required and spec.key not in counts:
                code = "E040" if spec.key == "cite" else "E032"
                what = "cites no clause" if spec.key == "cite" else f"needs `{spec.key}`"
                self.error(code, f"{kind} `{entry.name or ''}` {what}".replace(" `` ", " "), entry.key_span,
                           "add `cite 第… 章 …` naming the clause it encodes" if spec.key == "cite"
                           else (spec.doc or f"add `{spec.key} …`"))

    def validate_entry(self, item: Entry, spec: EntrySpec, kind: str) -> None:
        n, need = len(item.args), len(spec.args)
        if n < need or (n > need and spec.variadic is None) or (spec.variadic and n == 0):
            want = f"{need}" if spec.variadic is None else f"{max(need, 1)} or more"
            self.error("E034", f"`{item.key}` takes {want} argument(s), got {n}", item.key_span, spec.doc)
        for i, arg in enumerate(item.args):
            t = spec.args[i] if i < len(spec.args) else spec.variadic
            if t is not None:
                self.convert(arg, t)
        if item.outputs is not None and spec.outputs is None:
            self.error("E033", f"`{item.key}` takes no `=>` outputs", item.key_span, "")
        if item.body is not None and spec.body is None:
            self.error("E033", f"`{item.key}` takes no `{{ … }}` body", item.key_span, "")
        elif spec.body is not None and item.body is not None:
            self.validate(item, spec.body, item.key)

    # ---- citations ----------------------------------------------------------------------------------
    def check_citation(self, ref: ClauseRef, owner: tuple[str, str]) -> None:
        clause = self.clauses.get(ref.clause)
        if clause is None:
            self.error("E041", f"`{ref.clause}` is not in the clause register", ref.span,
                       did_you_mean(ref.clause, self.clauses) or "add it to the `register` block")
            return
        if ref.item is not None:
            items = clause.items
            ok = (isinstance(items, int) and ref.item.isdigit() and 1 <= int(ref.item) <= items) or (
                isinstance(items, tuple) and ref.item in items)
            if not ok:
                have = (f"(1)–({items})" if isinstance(items, int) else
                        ", ".join(f"({i})" for i in items) if items else "no items")
                self.error("E042", f"`{ref.clause}` has no item ({ref.item})", ref.span, f"it has {have}")
                return
        self.citations.setdefault(ref.clause, []).append(owner)
        self.rt.citation_refs.append((ref, owner))


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


_TYPE_NAMES = {"string": "a string", "int": "a whole number", "bool": "true or false", "date": "a date",
               "datetime": "a date-time", "duration": "a duration", "money": "an amount in yen",
               "time": "a time of day", "window": "a time window", "monthday": "a month-day",
               "mdrange": "a month-day range"}


def walk_refs(entry: Entry, out: list[ClauseRef] | None = None) -> list[ClauseRef]:
    """The citations in an entry, its arguments, outputs and body, and the sets among them, in order."""
    if out is None:
        out = []
    _refs_in(entry.args, out)
    if entry.outputs:
        _refs_in(entry.outputs, out)
    for item in entry.body or ():
        if item.__class__ is Entry:
            walk_refs(item, out)
    return out


def _refs_in(nodes, out: list[ClauseRef]) -> None:
    for node in nodes:
        cls = node.__class__
        if cls is ClauseRef:
            out.append(node)
        elif cls is SetLit:
            _refs_in(node.items, out)
