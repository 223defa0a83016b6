"""Citations on lets: `let re-performance-due = … cite 第3章 1.5 (1), 第3章 1.5 (4)`. A let's citations are checked
as a block's are, and every block that uses the let (directly, or through other lets) inherits them: the
register's look-up (`sptui clauses`) lists the block with the let it came through, so a clause that shapes a
value many rules read (第3章 1.5 lengthening the service period) is traced to those rules."""
from __future__ import annotations

from typing import Any, Iterable

from sptui.policy.ast import Binary, Call, ClauseRef, Entry, Let, ListLit, Path, SetLit, Unary


def names_used(node: Any, out: set[str] | None = None) -> set[str]:
    """The first part of every name an expression (or an entry, with its body and lets) reads."""
    if out is None:
        out = set()
    cls = node.__class__
    if cls is Path:
        out.add(node.parts[0])
    elif cls is Call:
        out.add(node.name)
        for a in node.args:
            names_used(a, out)
    elif cls is Binary:
        names_used(node.left, out)
        names_used(node.right, out)
    elif cls is Unary:
        names_used(node.operand, out)
    elif cls in (SetLit, ListLit):
        for a in node.items:
            names_used(a, out)
    elif cls is Let:
        names_used(node.value, out)
    elif cls is Entry:
        for a in (*node.args, *(node.outputs or ())):
            names_used(a, out)
        for item in node.body or ():
            names_used(item, out)
    return out


def _check(let: Let, owner: tuple[str, str], ctx) -> list[ClauseRef]:
    refs = []
    for c in let.cites:
        if c.__class__ is not ClauseRef:
            ctx.error("E033", f"`let {let.name}` cites clauses, not this", c.span, "let NAME = VALUE cite 第3章 1.5 (4)")
            continue
        ctx.check_citation(c, owner)
        refs.append(c)
    return refs


def let_citations(named: Iterable[tuple[Entry, str]], top_lets: list[Let], ctx) -> None:
    """Check every let's citations (a block's own let cites for its block), and give each block the citations of
    the policy's lets it uses: ctx.rt.let_cites[let] = its ClauseRefs; ctx.rt.inherited_cites[(kind, name)] =
    [(ClauseRef, let, the block's place), …]."""
    rt = ctx.rt
    rt.let_cites = {let.name: _check(let, ("let", let.name), ctx) for let in top_lets if let.cites}
    rt.inherited_cites = {}
    uses = {let.name: names_used(let.value) for let in top_lets}
    for b, name in named:
        for item in b.body or ():
            if item.__class__ is Let and item.cites:
                _check(item, (b.key, name), ctx)
        if not rt.let_cites:
            continue
        found: list[tuple[ClauseRef, str, Any]] = []
        seen: set[str] = set()
        todo = sorted(names_used(b) & uses.keys())
        while todo:
            let = todo.pop()
            if let in seen:
                continue
            seen.add(let)
            found += [(ref, let, b.key_span) for ref in rt.let_cites.get(let, ())]
            todo += sorted((uses[let] & uses.keys()) - seen)
        if found:
            rt.inherited_cites[(b.key, name)] = found
