"""Load policy files → check every block against its kind's schema → an immutable compiled Policy.

One pass both checks and compiles, so `sptui check` and `load_policy` can never disagree: check is
compile with the result thrown away. Every problem becomes a Diagnostic with its place.

A policy is compiled with the plugins it is given (`plugins`: a PluginManager, or anything with its
`unique(hook, key)`, `failures` and `fail(plugin, stage, error)`): the block kinds, functions, evaluators and
variant packs they registered. The caller chooses them (`sptui.load_policy` passes the process's manager).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path as FsPath
from typing import Any, Iterable

from sptui.clock.dates import ROUNDINGS
from sptui.errors import PolicyError
from sptui.model.case import DECISION_FIELDS, FIELDS, SUPPORTS
from sptui.model.decision import OUTCOMES
from sptui.policy.ast import Entry, Let, Module, Span
from sptui.policy.context import Block, Clause, Context, article, walk_refs
from sptui.policy.letcite import let_citations
from sptui.policy.decide import decide
from sptui.policy.diagnostics import Diagnostic, did_you_mean, sort_key
from sptui.policy.schema import BlockKind, EntrySpec
from sptui.policy.sources import EXT, TEST_SUFFIX, display_name, policy_files, read_modules, test_files

HEADER = ("policy", "version", "effective", "date-rounding")
SYNTAX = ("E001", "E002", "E003")  # the diagnostics of a line that does not parse


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
        """The Decision on `case` (a JSON-like dict as `sptui eval` reads it, or a Case); CaseError naming the first
        bad field. Every evaluator runs; one that raises becomes an `error` reason and the verdict at best consult."""
        return decide(self, case)


# ---- compiling, step by step ----------------------------------------------------------------------------------
def compile_modules(modules: list[Module], sources: dict[str, str], diags: list[Diagnostic], plugins
                    ) -> tuple[Policy | None, list[Diagnostic]]:
    """The policy of these parsed modules (None if it has errors), and every diagnostic."""
    kinds, ctx = _context(plugins, sources)
    ctx.diagnostics.extend(diags)
    header, top_lets, blocks = _sort_items(modules, kinds, ctx)
    ctx.rt.date_rounding = rounding = _check_header(header, modules, diags, ctx)
    named = _declare_blocks(blocks, kinds, ctx)
    _compile_blocks(named, kinds, top_lets, ctx)
    let_citations(named, top_lets, ctx)
    _check_names_and_citations(ctx)
    ds = _settled(ctx.diagnostics)
    if any(d.is_error for d in ds):
        return None, ds
    evaluators = sorted((obj for _, obj in plugins.unique("sptui_evaluators", lambda e: e.name).values()),
                        key=lambda e: e.order)
    policy = Policy(
        name=header["policy"][0], version=header["version"][0], effective=header["effective"][0],
        rounding=rounding, digest="sha256:" + hashlib.sha256(_canonical(modules).encode()).hexdigest(),
        clauses=ctx.clauses, citations=ctx.citations, blocks=ctx.blocks, block_order=ctx.block_order,
        lets=dict(ctx.policy_scope.lets), rt=ctx.rt, evaluators=evaluators, diagnostics=ds, sources=sources,
        plugins=plugins)
    return policy, ds


def _context(plugins, sources: dict[str, str]) -> tuple[dict[str, BlockKind], Context]:
    """The block kinds the plugins registered, and a Context with their functions."""
    kinds = {k: obj for k, (_, obj) in plugins.unique("sptui_block_kinds", lambda b: b.kind).items()}
    owners = plugins.unique("sptui_functions", lambda f: f.name)
    ctx = Context(kinds, {k: obj for k, (_, obj) in owners.items()}, sources)
    for name, (plugin, fn) in owners.items():  # to name a function (and its plugin) when it raises in a decision
        impl = getattr(fn.impl, "__wrapped__", fn.impl)  # (a plugin's function runs wrapped: its own code raises)
        code = getattr(impl, "__code__", None) or getattr(getattr(impl, "func", None), "__code__", None)
        if code is not None:
            ctx.rt.function_code[code] = (name, plugin)
    return kinds, ctx


def _sort_items(modules: list[Module], kinds: dict[str, BlockKind], ctx: Context
                ) -> tuple[dict[str, tuple[Any, Span]], list[Let], list[Entry]]:
    """The top-level items of every module: the header's entries (value, place), the policy's lets, the blocks of a
    known kind (an unknown kind, a header entry given twice: reported)."""
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
                _header_entry(item, header, ctx)
            elif item.key in kinds:
                blocks.append(item)
            else:
                ctx.error("E030", f"unknown block kind `{item.key}`", item.key_span,
                          did_you_mean(item.key, [*kinds, *HEADER, "include"]) or
                          f"known kinds: {', '.join(sorted(kinds))}")
    return header, top_lets, blocks


def _header_entry(item: Entry, header: dict[str, tuple[Any, Span]], ctx: Context) -> None:
    if item.key in header:
        ctx.error("E021", f"`{item.key}` is given twice", item.key_span,
                  f"the first is at {header[item.key][1]}; a policy has one header")
        return
    want = {"policy": "string", "version": "string", "effective": "date", "date-rounding": "name"}[item.key]
    ctx.validate_entry(item, EntrySpec(item.key, (want,)), "policy")
    header[item.key] = (ctx.convert(item.args[0], want, quiet=True) if item.args else None,
                        item.args[0].span if item.args else item.key_span)


def _check_header(header: dict[str, tuple[Any, Span]], modules: list[Module], diags: list[Diagnostic],
                  ctx: Context) -> str:
    """A header lacking entries is reported (not when no file could be read or parsed: those errors say why); the
    policy's date rounding (clamp unless it names a known one)."""
    missing = [k for k in HEADER if k not in header]
    syntax_broken = any(d.code in SYNTAX for d in diags)
    if missing and modules and not (syntax_broken and len(missing) == len(HEADER)):
        ctx.error("E020", f"the policy header lacks {', '.join('`' + m + '`' for m in missing)}",
                  Span(modules[0].file, 1, 1, 1, 1),
                  'start the policy with: policy "name" / version "1" / effective 2021-08-01 / date-rounding clamp')
    rounding = header.get("date-rounding", ("clamp", None))[0] or "clamp"
    if rounding not in ROUNDINGS:
        ctx.error("E022", f"unknown date-rounding `{rounding}`", header["date-rounding"][1],
                  "`clamp` (29 Feb + 1 year = 28 Feb) or `roll-forward` (= 1 Mar)")
        rounding = "clamp"
    return rounding


def _declare_blocks(blocks: list[Entry], kinds: dict[str, BlockKind], ctx: Context) -> list[tuple[Entry, str]]:
    """Every block's name first (so blocks may refer to each other whatever their order in the files), each block
    validated against its kind's schema; the blocks to compile, with their names (a nameless, duplicate or
    bodiless block is reported and left out)."""
    seen: dict[tuple[str, str], Span] = {}
    out: list[tuple[Entry, str]] = []
    for b in blocks:
        kind = kinds[b.key]
        name = b.name if kind.named else b.key
        if kind.named and not name:
            ctx.error("E037", f"{article(b.key)} {b.key} block needs a name", b.key_span, f"{b.key} my-name {{ … }}")
            continue
        if (b.key, name) in seen:
            ctx.error("E036", f"there is already a {b.key} named `{name}`", b.key_span, f"the first is at {seen[(b.key, name)]}")
            if b.body is not None:  # still compiled: every error inside it is reported too
                out.append((b, name))
            continue
        seen[(b.key, name)] = b.key_span
        if b.body is None:
            ctx.error("E033", f"{article(b.key)} {b.key} block needs a body in {{ … }}", b.key_span, f"{b.key} {name} {{")
            continue
        ctx.validate(b, kind.schema, b.key)
        out.append((b, name))
    ctx.rt.variant_names = sorted(n for (k, n) in seen if k == "variant")
    return out


def _compile_blocks(named: list[tuple[Entry, str]], kinds: dict[str, BlockKind], top_lets: list[Let],
                    ctx: Context) -> None:
    """Compile by phase: the register (0) first so citations can be checked; tables, calendars and variants (below
    20) before the policy's lets; rules and the rest after them. A kind's compile that raises is E090."""
    lets_done = False
    for b, name in sorted(named, key=lambda bn: kinds[bn[0].key].phase):
        kind = kinds[b.key]
        if kind.phase >= 20 and not lets_done:
            _compile_lets(top_lets, ctx)
            lets_done = True
        if kind.cited or kind.kind != "register":
            for ref in walk_refs(b):
                ctx.check_citation(ref, (b.key, name))
        block = Block(b, ctx)
        if block.first("note-ja") is not None and block.value("note") is not None:
            ctx.rt.notes_ja[block.value("note")] = block.value("note-ja")
        try:
            compiled = kind.compile(block, ctx)
        except Exception as e:  # a plugin's compile that raises is a diagnostic, not a traceback
            ctx.error("E090", f"the `{b.key}` block kind failed: {type(e).__name__}: {e}", b.key_span,
                      "this is a bug in the plugin that provides the block kind")
            continue
        ctx.blocks.setdefault(b.key, {})[name] = compiled
        ctx.block_order.append((b.key, name))
    if not lets_done:
        _compile_lets(top_lets, ctx)


def _compile_lets(top_lets: list[Let], ctx: Context) -> None:
    """Policy-level lets, in order (a let may use the ones above it, and the tables)."""
    for let in top_lets:
        if let.name in ctx.policy_scope.lets:
            first = next(x for x in top_lets if x.name == let.name)
            ctx.error("E057", f"`{let.name}` is defined twice", let.key_span,
                      f"the first is at {first.key_span}; give one of them another name")
            continue
        ctx.policy_scope.lets[let.name] = ctx.exprs.compile(let.value, ctx.policy_scope)


def _check_names_and_citations(ctx: Context) -> None:
    """Words that name nothing but look like a let (E050: not a word that is a value somewhere in the language, as
    `accepted` is beside a let `accepted-on`); clauses no rule cites (W044, once the policy has no errors: a broken
    block cites nothing)."""
    known = _vocabulary(ctx)
    for word, span, near in ctx.rt.suspect_symbols:
        if word not in known:
            ctx.error("E050", f"`{word}` names nothing and is read as a plain word", span, near)
    if any(d.is_error for d in ctx.diagnostics):
        return
    for cid, clause in ctx.clauses.items():
        if cid not in ctx.citations and clause.not_computable is None:
            ctx.error("W044", f"no rule cites `{cid}` ({clause.title})", clause.span,
                      'cite it from a rule, or mark it: not-computable("why")')


def _vocabulary(ctx: Context) -> set[str]:
    """Every word that is a value: of a case field or the decision (verdicts, statuses, kinds), of a field a table
    declares (`domain cause`), a variant, a support kind, an outcome, a table's cell, a plugin function's symbol."""
    out = set(ctx.rt.known_symbols) | set(ctx.rt.variant_names) | set(SUPPORTS) | set(OUTCOMES)
    for allowed in (*(f[1] for f in FIELDS.values()), *(f[1] for f in DECISION_FIELDS.values())):
        out.update(allowed or ())
    for domain in ctx.rt.domains.values():
        out.update(getattr(domain, "values", ()))
    return out


def _settled(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics in order, each once; a line with a syntax error gets that error alone, not the cascade it
    causes."""
    syntax_lines = {(d.span.file, d.span.line) for d in diagnostics if d.code in SYNTAX}
    return sorted({d for d in diagnostics if d.code in SYNTAX or (d.span.file, d.span.line) not in syntax_lines},
                  key=sort_key)


def _canonical(modules: list[Module]) -> str:
    from sptui.policy.fmt import format_module

    return "\n".join(format_module(m, comments=False) for m in modules)


# ---- checking and loading paths ---------------------------------------------------------------------------------
def variant_files(plugins, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """The policy files that plugins' variant packs bring: absolute path -> plugin (each file once; a variant
    name given twice keeps the first, and the manager reports the second)."""
    out: dict[str, str] = {}
    for plugin, vp in plugins.unique("sptui_variants", lambda o: o.name).values():
        if plugin in skip:
            continue
        for f in vp.policy_files:
            out.setdefault(os.path.abspath(f), plugin)
    return out


def _empty_folders(paths: list[FsPath]) -> list[Diagnostic]:
    """A folder given as a policy that holds no policy file: nothing to check is an error, said once, here."""
    return [Diagnostic("E010", f"`{display_name(p)}` holds no {EXT} policy file", Span(display_name(p), 1, 1, 1, 1),
                       "a policy is a folder of .sptp files, or .sptp files")
            for p in paths if p.is_dir() and not policy_files([p])]


def check(paths: Iterable[str | FsPath], *, plugins, extra_text: dict[str, str] | None = None,
          skip_plugins: frozenset[str] = frozenset()) -> tuple[Policy | None, list[Diagnostic], dict[str, str]]:
    """Check (and compile) a policy with `plugins`; returns the policy when it has no errors, every diagnostic,
    and the text of every file read. The policy files of plugins in `skip_plugins` are left out."""
    paths = [FsPath(p) for p in paths]
    files = policy_files(paths)
    files.extend(FsPath(f) for f in variant_files(plugins, skip_plugins))
    modules, diags, sources = read_modules(files, extra_text)
    diags.extend(_empty_folders(paths))
    policy, ds = compile_modules(modules, sources, diags, plugins)
    return policy, ds, sources


def check_live(paths: Iterable[str | FsPath], *, plugins, extra_text: dict[str, str] | None = None
               ) -> tuple[Policy | None, list[Diagnostic], dict[str, str], frozenset[str]]:
    """Check a policy to use it (to decide): as `check`, but a plugin whose own policy files have errors is
    a broken plugin: it is reported in the manager's failures (`plugins.fail`, stage `policy`, with the first
    error) and the policy is checked again without its files, so its variants are unknown but everything else
    works. Returns (policy or None, diagnostics, sources, the plugins left out); the diagnostics are those
    of the first check, every error included, so a caller can show them. Errors in the policy's own files
    give no policy, as ever. `extra_text` as `check`'s (an edit checked before it is saved)."""
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
            plugins.fail(plugin, "policy", f"its policy files are left out: {d.span}: error[{d.code}]: {d.message}")
        skip = skip | frozenset(broken)


def load_policy(path: str | FsPath | Iterable[str | FsPath], *, plugins) -> Policy:
    """Load, check and compile a policy (a folder of .sptp files, or files) with `plugins`. Raises PolicyError.

    A plugin whose own policy files have errors is left out and reported (see `check_live`); `sptui check`
    shows every error, the plugins' included."""
    paths = [path] if isinstance(path, (str, FsPath)) else list(path)
    policy, diags, sources, _ = check_live(paths, plugins=plugins)
    if policy is None:
        raise PolicyError(diags, sources)
    return policy


__all__ = ["Policy", "PolicyError", "load_policy", "check", "check_live", "compile_modules", "variant_files",
           "Block", "Context", "EXT", "TEST_SUFFIX", "policy_files", "test_files", "display_name"]
