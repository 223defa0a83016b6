"""Load policy files → check every block against its kind's schema → an immutable compiled Policy.

One pass both checks and compiles, so `sptui check` and `load_policy` can never disagree: check is
compile with the result thrown away. Every problem becomes a Diagnostic with its place.
"""
from __future__ import annotations

import gc
import hashlib
from pathlib import Path as FsPath
from typing import Any, Iterable

import attrs

from sptui.policy import literals as L
from sptui.policy.ast import ClauseRef, Entry, Let, Literal, Module, Path, SetLit, Span
from sptui.engine import decide
from sptui.files import FileProblem, read_text
from sptui.policy.diagnostics import CODES, Diagnostic, did_you_mean, sort_key
from sptui.policy.expr import ExprCompiler, Scope
from sptui.policy.parse import parse_text
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec

HEADER = ("policy", "version", "effective", "date-rounding")
EXT = ".sptp"
TEST_SUFFIX = "_test.sptp"


class PolicyError(Exception):
    """The policy has errors; `diagnostics` lists all of them, `sources` the text to show them in."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str]):
        self.diagnostics = diagnostics
        self.sources = sources
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0] if errors else diagnostics[0]
        super().__init__(f"{len(errors)} error(s) in the policy; first: {first.span}: {first.message}")


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
        self.generated: dict[str, Any] = {}  # code generated on first use (the rules runner)

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
                except L.LiteralError as e:
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
                    self.error("E031", f"`let` is not allowed in {_article(kind)} {kind} block", item.span,
                               "let is allowed at the top level and in rule and recovery blocks")
                continue
            spec = schema.spec(item.key)
            if spec is None:
                self.error("E031", f"{_article(kind)} {kind} block takes no entry `{item.key}`", item.key_span,
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


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


_TYPE_NAMES = {"string": "a string", "int": "a whole number", "bool": "true or false", "date": "a date",
               "datetime": "a date-time", "duration": "a duration", "money": "an amount in yen",
               "time": "a time of day", "window": "a time window", "monthday": "a month-day",
               "mdrange": "a month-day range"}


def _walk_refs(entry: Entry, out: list[ClauseRef] | None = None) -> list[ClauseRef]:
    """The citations in an entry, its arguments, outputs and body, and the sets among them, in order."""
    if out is None:
        out = []
    _refs_in(entry.args, out)
    if entry.outputs:
        _refs_in(entry.outputs, out)
    for item in entry.body or ():
        if item.__class__ is Entry:
            _walk_refs(item, out)
    return out


def _refs_in(nodes, out: list[ClauseRef]) -> None:
    for node in nodes:
        cls = node.__class__
        if cls is ClauseRef:
            out.append(node)
        elif cls is SetLit:
            _refs_in(node.items, out)


# ---- loading files ----------------------------------------------------------------------------------------
def policy_files(paths: Iterable[str | FsPath]) -> list[FsPath]:
    """The policy's own files under the given paths: every .sptp that is not a test file."""
    out: list[FsPath] = []
    for p in map(FsPath, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.glob(f"*{EXT}") if not f.name.endswith(TEST_SUFFIX)))
        else:
            out.append(p)
    return out


def test_files(paths: Iterable[str | FsPath]) -> list[FsPath]:
    out: list[FsPath] = []
    for p in map(FsPath, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob(f"*{TEST_SUFFIX}")))
        elif p.name.endswith(TEST_SUFFIX):
            out.append(p)
    return out


def display_name(p: FsPath) -> str:
    try:
        return str(p.resolve().relative_to(FsPath.cwd()))
    except ValueError:
        return str(p)


def read_modules(files: list[FsPath], extra_text: dict[str, str] | None = None
                 ) -> tuple[list[Module], list[Diagnostic], dict[str, str]]:
    """Parse the files and, depth first, what they include (each file once; cycles reported). `extra_text`: text
    for a file by its name, read in that file's place (an edit not saved yet: the same order, so the same policy
    as once it is saved), or after the files if it is none of them."""
    modules: list[Module] = []
    diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    done: set[FsPath] = set()
    edited = {FsPath(name).resolve(): text for name, text in (extra_text or {}).items()}

    def visit(path: FsPath, stack: tuple[FsPath, ...], at: Span | None, text: str | None = None) -> None:
        key = path.resolve() if text is None else path
        if text is None:
            text = edited.get(key)
        if key in stack:
            chain = " → ".join(display_name(s) for s in (*stack, key)[stack.index(key):])
            diags.append(Diagnostic("E011", f"include cycle: {chain}", at or Span(display_name(path), 1, 1, 1, 1),
                                    "remove one of the includes"))
            return
        if key in done:
            return
        done.add(key)
        name = display_name(path)
        if text is None:
            try:
                text = read_text(path, name=name)
            except FileProblem as e:
                diags.append(Diagnostic("E010", f"`{name}` {e.reason}", at or Span(name, 1, 1, 1, 1),
                                        "paths in include are relative to the including file" if at else
                                        "a policy is a folder of .sptp files, or .sptp files"))
                return
        sources[name] = text
        module, ds = parse_text(text, name)
        diags.extend(ds)
        for item in module.items:
            if isinstance(item, Entry) and item.key == "include":
                if len(item.args) != 1 or not (isinstance(item.args[0], Literal) and item.args[0].kind == "string"):
                    diags.append(Diagnostic("E033", "include takes one file name in quotes", item.key_span,
                                            'include "calendars.sptp"'))
                    continue
                visit(path.parent / item.args[0].value, (*stack, key), item.args[0].span)
        modules.append(module)

    for f in files:
        visit(f, (), None)
    for name, text in (extra_text or {}).items():
        if FsPath(name).resolve() not in done:
            visit(FsPath(name), (), None, text)
    visit = None  # noqa: F841 -- the recursive closure holds itself (and so every parsed module) in a cycle
    return modules, diags, sources


# ---- the compiled policy -----------------------------------------------------------------------------------
class Policy:
    """A compiled policy: immutable once built. `decide(case)` gives a Decision."""

    def __init__(self, *, name, version, effective, rounding, digest, clauses, citations, blocks, block_order,
                 lets, rt, evaluators, diagnostics, sources, plugins):
        self.name: str = name
        self.version: str = version
        self.effective = effective
        self.date_rounding: str = rounding
        self.digest: str = digest
        self.clauses: dict[str, Clause] = clauses
        self.citations: dict[str, list[tuple[str, str]]] = citations
        self.blocks: dict[str, dict[str, Any]] = blocks
        self.block_order = block_order
        self.lets = lets
        self.rt = rt
        self.evaluators = evaluators
        self.diagnostics: list[Diagnostic] = diagnostics
        self.sources = sources
        self.plugins = plugins

    @property
    def variants(self) -> dict[str, Any]:
        return self.rt.variants

    def blocks_of(self, kind: str) -> list[Any]:
        return list(self.blocks.get(kind, {}).values())

    def decide(self, case):
        return decide(self, case)

    def explain(self, case, *, lang: str = "en") -> str:
        from sptui.explain import explain

        return explain(self, case, lang=lang)


def compile_modules(modules: list[Module], sources: dict[str, str], diags: list[Diagnostic], plugins
                    ) -> tuple[Policy | None, list[Diagnostic]]:
    kinds = {k: obj for k, (_, obj) in plugins.unique("sptui_block_kinds", lambda b: b.kind).items()}
    owners = plugins.unique("sptui_functions", lambda f: f.name)
    functions = {k: obj for k, (_, obj) in owners.items()}
    ctx = Context(kinds, functions, sources)
    for name, (plugin, fn) in owners.items():  # to name a function (and its plugin) when it raises in a decision
        code = getattr(fn.impl, "__code__", None) or getattr(getattr(fn.impl, "func", None), "__code__", None)
        if code is not None:
            ctx.rt.function_code[code] = (name, plugin)
    ctx.diagnostics.extend(diags)

    header: dict[str, tuple[Any, Span]] = {}
    top_lets: list[Let] = []
    blocks: list[Entry] = []
    for module in modules:
        for item in module.items:
            if isinstance(item, Let):
                top_lets.append(item)
            elif item.key == "include":
                continue
            elif item.key in HEADER:
                if item.key in header:
                    ctx.error("E021", f"`{item.key}` is given twice", item.key_span,
                              f"the first is at {header[item.key][1]}; a policy has one header")
                    continue
                want = {"policy": "string", "version": "string", "effective": "date",
                        "date-rounding": "name"}[item.key]
                ctx.validate_entry(item, EntrySpec(item.key, (want,)), "policy")
                header[item.key] = (ctx.convert(item.args[0], want, quiet=True) if item.args else None,
                                    item.args[0].span if item.args else item.key_span)
            elif item.key in kinds:
                blocks.append(item)
            else:
                ctx.error("E030", f"unknown block kind `{item.key}`", item.key_span,
                          did_you_mean(item.key, [*kinds, *HEADER, "include"]) or
                          f"known kinds: {', '.join(sorted(kinds))}")
    first = modules[0].file if modules else "<policy>"
    missing = [k for k in HEADER if k not in header]
    syntax_broken = any(d.code in ("E001", "E002", "E003") for d in diags)
    if missing and not (syntax_broken and len(missing) == len(HEADER)):
        ctx.error("E020", f"the policy header lacks {', '.join('`' + m + '`' for m in missing)}",
                  Span(first, 1, 1, 1, 1),
                  'start the policy with: policy "name" / version "1" / effective 2021-08-01 / date-rounding clamp')
    rounding = header.get("date-rounding", ("clamp", None))[0] or "clamp"
    if rounding not in L.ROUNDINGS:
        ctx.error("E022", f"unknown date-rounding `{rounding}`", header["date-rounding"][1],
                  "`clamp` (29 Feb + 1 year = 28 Feb) or `roll-forward` (= 1 Mar)")
        rounding = "clamp"
    ctx.rt.date_rounding = rounding

    # names first, so blocks may refer to each other whatever their order in the files
    seen: dict[tuple[str, str], Span] = {}
    for b in blocks:
        kind = kinds[b.key]
        name = b.name if kind.named else b.key
        if kind.named and not name:
            ctx.error("E037", f"{_article(b.key)} {b.key} block needs a name", b.key_span, f"{b.key} my-name {{ … }}")
            continue
        if (b.key, name) in seen:
            ctx.error("E036", f"there is already a {b.key} named `{name}`", b.key_span, f"the first is at {seen[(b.key, name)]}")
            continue
        seen[(b.key, name)] = b.key_span
        if b.body is None:
            ctx.error("E033", f"{_article(b.key)} {b.key} block needs a body in {{ … }}", b.key_span, f"{b.key} {name} {{")
            continue
        ctx.validate(b, kind.schema, b.key)
    ctx.rt.variant_names = sorted(n for (k, n) in seen if k == "variant")

    def compile_lets() -> None:
        """Policy-level lets, in order (a let may use the ones above it, and the tables)."""
        for let in top_lets:
            if let.name in ctx.policy_scope.lets:
                first = next(x for x in top_lets if x.name == let.name)
                ctx.error("E057", f"`{let.name}` is defined twice", let.key_span,
                          f"the first is at {first.key_span}; give one of them another name")
                continue
            ctx.policy_scope.lets[let.name] = ctx.exprs.compile(let.value, ctx.policy_scope)

    # compile by phase: the register (0) first so citations can be checked; tables, calendars and
    # variants (below 20) before the policy's lets; rules and the rest after them
    valid = [b for b in blocks if (b.key, b.name if kinds[b.key].named else b.key) in seen and b.body is not None]
    lets_done = False
    for b in sorted(valid, key=lambda e: kinds[e.key].phase):
        kind = kinds[b.key]
        if kind.phase >= 20 and not lets_done:
            compile_lets()
            lets_done = True
        name = b.name if kind.named else b.key
        if kind.cited or kind.kind != "register":
            for ref in _walk_refs(b):
                ctx.check_citation(ref, (b.key, name))
        try:
            compiled = kind.compile(Block(b, ctx), ctx)
        except Exception as e:  # a plugin's compile that raises is a diagnostic, not a traceback
            ctx.error("E090", f"the `{b.key}` block kind failed: {type(e).__name__}: {e}", b.key_span,
                      "this is a bug in the plugin that provides the block kind")
            continue
        ctx.blocks.setdefault(b.key, {})[name] = compiled
        ctx.block_order.append((b.key, name))
    if not lets_done:
        compile_lets()
    for word, span, near in ctx.rt.suspect_symbols:
        ctx.error("E050", f"`{word}` names nothing and is read as a plain word", span, near)
    has_errors = any(d.is_error for d in ctx.diagnostics)
    for cid, clause in ctx.clauses.items():
        if cid not in ctx.citations and clause.not_computable is None and not has_errors:
            ctx.error("W044", f"no rule cites `{cid}` ({clause.title})", clause.span,
                      'cite it from a rule, or mark it: not-computable("why")')

    # a line with a syntax error gets that error alone, not the cascade it causes
    syntax_lines = {(d.span.file, d.span.line) for d in ctx.diagnostics if d.code in ("E001", "E002", "E003")}
    ds = sorted({d for d in ctx.diagnostics if d.code in ("E001", "E002", "E003")
                 or (d.span.file, d.span.line) not in syntax_lines}, key=sort_key)
    if any(d.is_error for d in ds):
        return None, ds
    canonical = _canonical(modules)
    evaluators = sorted((obj for _, obj in plugins.unique("sptui_evaluators", lambda e: e.name).values()),
                        key=lambda e: e.order)
    policy = Policy(
        name=header["policy"][0], version=header["version"][0], effective=header["effective"][0],
        rounding=rounding, digest="sha256:" + hashlib.sha256(canonical.encode()).hexdigest(),
        clauses=ctx.clauses, citations=ctx.citations, blocks=ctx.blocks, block_order=ctx.block_order,
        lets={k: v for k, v in ctx.policy_scope.lets.items()}, rt=ctx.rt, evaluators=evaluators,
        diagnostics=ds, sources=sources, plugins=plugins)
    return policy, ds


def _canonical(modules: list[Module]) -> str:
    from sptui.policy.fmt import format_module

    return "\n".join(format_module(m, comments=False) for m in modules)


def variant_files(plugins, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """The policy files that plugins' variant packs bring: absolute path -> plugin (each file once; a variant
    name given twice keeps the first, and the manager reports the second)."""
    import os

    out: dict[str, str] = {}
    for plugin, vp in plugins.unique("sptui_variants", lambda o: o.name).values():
        if plugin in skip:
            continue
        for f in vp.policy_files:
            out.setdefault(os.path.abspath(f), plugin)
    return out


def check(paths: Iterable[str | FsPath], *, plugins=None, extra_text: dict[str, str] | None = None,
          skip_plugins: frozenset[str] = frozenset()) -> tuple[Policy | None, list[Diagnostic], dict[str, str]]:
    """Check (and compile) a policy; returns the policy when it has no errors, and every diagnostic.
    The policy files of plugins in `skip_plugins` are left out."""
    from sptui.plugins import default_manager

    plugins = plugins or default_manager()
    files = policy_files(paths)
    files.extend(FsPath(f) for f in variant_files(plugins, skip_plugins))
    # loading makes many small objects that all live on: the cyclic GC would rescan them again and
    # again (quadratic in the policy's size), so it pauses while the policy loads
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        modules, diags, sources = read_modules(files, extra_text)
        policy, ds = compile_modules(modules, sources, diags, plugins)
    finally:
        if was_enabled:
            gc.enable()
    return policy, ds, sources


def check_live(paths: Iterable[str | FsPath], *, plugins=None, extra_text: dict[str, str] | None = None
               ) -> tuple[Policy | None, list[Diagnostic], dict[str, str], frozenset[str]]:
    """Check a policy to use it (to decide): as `check`, but a plugin whose own policy files have errors is
    a broken plugin: it is reported in the manager's failures (stage `policy`, with the first error) and
    the policy is checked again without its files, so its variants are unknown but everything else
    works. Returns (policy or None, diagnostics, sources, the plugins left out); the diagnostics are those
    of the first check, every error included, so a caller can show them. Errors in the policy's own files
    give no policy, as ever. `extra_text` as `check`'s (an edit checked before it is saved)."""
    import os

    from sptui.plugins import PluginFailure, default_manager

    plugins = plugins or default_manager()
    paths = list(paths)
    skip: frozenset[str] = frozenset()
    first: tuple[list[Diagnostic], dict[str, str]] | None = None
    while True:
        policy, diags, sources = check(paths, plugins=plugins, skip_plugins=skip, extra_text=extra_text)
        if first is None:
            first = (diags, sources)
        if policy is not None:
            return policy, first[0], first[1], skip
        theirs = variant_files(plugins, skip)
        errors = [d for d in diags if d.is_error]
        broken = {theirs.get(os.path.abspath(d.span.file)) for d in errors}
        if None in broken or not broken:  # an error in the policy's own files (or one no plugin owns)
            return None, diags, sources, skip
        for plugin in sorted(broken):
            d = next(d for d in errors if theirs.get(os.path.abspath(d.span.file)) == plugin)
            failure = PluginFailure(plugin, "policy", f"its policy files are left out: {d.span}: "
                                                      f"error[{d.code}]: {d.message}")
            if failure not in plugins.failures:  # a policy loaded again (a reload) reports it once
                plugins.failures.append(failure)
        skip = skip | frozenset(broken)


def load_policy(path: str | FsPath | Iterable[str | FsPath] = "policies", *, plugins=None) -> Policy:
    """Load, check and compile a policy (a folder of .sptp files, or files). Raises PolicyError.

    A plugin whose own policy files have errors is left out and reported (see `check_live`); `sptui check`
    shows every error, the plugins' included."""
    paths = [path] if isinstance(path, (str, FsPath)) else list(path)
    policy, diags, sources, _ = check_live(paths, plugins=plugins)
    if policy is None:
        raise PolicyError(diags, sources)
    return policy


__all__ = ["Policy", "PolicyError", "load_policy", "check", "Block", "Context"]
