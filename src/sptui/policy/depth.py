"""How deep a policy may nest: blocks inside blocks, and expressions inside expressions (E007).

The parser reads any depth (LALR: its stack is a list), but what reads the AST afterwards walks it by
recursion: the checker, the expression compiler, the formatter. MAX_DEPTH keeps every such walk far from
Python's recursion limit. A chain of one operator (`a and b and c …`, `x + y - z …`) is one level however
long: the compiler and the formatter go along it in a loop.
"""
from __future__ import annotations

import attrs

from sptui.policy.ast import Binary, Call, Entry, Let, ListLit, Literal, SetLit, Span, Unary
from sptui.policy.diagnostics import Diagnostic

MAX_DEPTH = 100  # levels of blocks, and of an expression; a policy needs a handful of each
# operators whose left operand, when it is of the same group, continues one chain (a level of its own otherwise)
CHAIN = {"or": 1, "and": 2, "+": 3, "-": 3, "*": 4, "/": 4}


def chained(node: Binary) -> bool:
    """Whether the left operand of `node` continues the chain `node` is on (a + b + c: the left `a + b`)."""
    left = node.left
    return left.__class__ is Binary and CHAIN.get(left.op, 0) == CHAIN.get(node.op, -1)


def expr_depth(node) -> int:
    """How deep an expression nests, counting a chain of one operator as one level (computed in a loop)."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        if d > deepest:
            deepest = d
        cls = n.__class__
        if cls is Binary:
            stack.append((n.left, d if chained(n) else d + 1))
            stack.append((n.right, d + 1))
        elif cls is Unary:
            stack.append((n.operand, d + 1))
        elif cls is Call:
            stack.extend((a, d + 1) for a in n.args)
        elif cls is SetLit or cls is ListLit:
            stack.extend((a, d + 1) for a in n.items)
    return deepest


def within_depth(items: tuple, diags: list[Diagnostic]) -> tuple:
    """The items with what nests deeper than MAX_DEPTH taken out, each reported (E007): a top-level item whose
    blocks nest too deep is left out whole; an expression too deep becomes an invalid value in its entry. (One
    walk in a loop over the entries; an item is rebuilt only where a value is long enough to nest too deep.)"""
    out = None
    for i, item in enumerate(items):
        deep, long = _walk(item)
        if deep is None and not long:
            if out is not None:
                out.append(item)
            continue
        if out is None:
            out = list(items[:i])
        if deep is not None:  # the item is left out
            diags.append(Diagnostic("E007", f"blocks nested more than {MAX_DEPTH} levels deep",
                                    getattr(deep, "key_span", deep.span),
                                    "a block holds entries and a few levels of blocks; close each `{` with `}`"))
        else:
            out.append(_bounded(item, diags))
    return items if out is None else tuple(out)


def _walk(item) -> tuple[Entry | None, bool]:
    """(the first entry nested deeper than MAX_DEPTH inside `item`, or None; whether a value in it is long enough
    to nest too deep: each level takes a character), found level by level in a loop."""
    long = False
    level, d = [item], 1
    while level:
        below = []
        for node in level:
            span = node.span
            if (span[1] != span[3] or span[4] - span[2] > MAX_DEPTH) and not long:
                long = _long_value(node)
            if node.__class__ is Entry and node.body:
                below += node.body
        if below and d == MAX_DEPTH:
            return next((i for i in below if i.__class__ is Entry), below[0]), long
        level, d = below, d + 1
    return None, long


def _long_value(node) -> bool:
    values = (*node.args, *(node.outputs or ())) if node.__class__ is Entry else (node.value,)
    return any(v.span[1] != v.span[3] or v.span[4] - v.span[2] > MAX_DEPTH for v in values)


def _bounded(item, diags: list[Diagnostic]):
    """The item (its blocks nest at most MAX_DEPTH: this recursion is bounded) with each expression that nests too
    deep replaced by an invalid value."""
    if item.__class__ is Let:
        value = _checked(item.value, diags)
        return item if value is item.value else attrs.evolve(item, value=value)
    args = tuple(_checked(a, diags) for a in item.args)
    outputs = None if item.outputs is None else tuple(_checked(a, diags) for a in item.outputs)
    body = None if item.body is None else tuple(_bounded(i, diags) for i in item.body)
    if (all(a is b for a, b in zip(args, item.args)) and (outputs is None or all(
            a is b for a, b in zip(outputs, item.outputs))) and (body is None or all(
            a is b for a, b in zip(body, item.body)))):
        return item
    return attrs.evolve(item, args=args, outputs=outputs, body=body)


def _checked(node, diags: list[Diagnostic]):
    span: Span = node.span
    if span.line == span.end_line and span.end_col - span.col <= MAX_DEPTH:
        return node  # each level takes a character or more: this one cannot nest that deep
    depth = expr_depth(node)
    if depth <= MAX_DEPTH:
        return node
    diags.append(Diagnostic("E007", f"this expression nests {depth:,} levels deep; at most {MAX_DEPTH}", span,
                            "name inner parts with `let` (a chain like a and b and c … is one level however long)"))
    return Literal("invalid", None, "", span)
