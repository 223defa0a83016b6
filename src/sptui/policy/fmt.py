"""Canonical formatting: two-space indents, one entry a line, minimal parentheses, canonical literals.

Idempotent (fmt(fmt(x)) == fmt(x)), meaning-preserving (the AST is unchanged), and comments are kept:
a comment on its own line stays before the entry that follows it, a trailing comment stays on its line.
Blank lines between entries are kept (several collapse into one); top-level blocks get one between them.
"""
from __future__ import annotations

import re

from sptui.policy.ast import Binary, Call, ClauseRef, Entry, Let, ListLit, Literal, Module, Path, SetLit, Unary
from sptui.policy.depth import chained
from sptui.policy.diagnostics import source_lines

INDENT = "  "
_DURATION = re.compile(r"^(\d+) ?([a-z]+)$")
PREC = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4, "not-in": 4,
        "+": 5, "-": 5, "*": 6, "/": 6}


def _string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def literal(node: Literal) -> str:
    k, v = node.kind, node.value
    if k == "string":
        return _string(v)
    if k == "duration":  # keep the author's unit (14 days stays 14 days); normalise the spacing
        n, unit = _DURATION.match(node.text).groups()
        return f"{n}{unit}" if unit in ("min", "h") else f"{n} {unit}"
    if k in ("money", "window", "monthday", "mdrange", "time"):
        return str(v)
    if k == "date":
        return v.isoformat()
    if k == "bool":
        return "true" if v else "false"
    if k == "null":
        return "null"
    if k == "wildcard":
        return "_"
    return node.text  # int, datetime (as written), invalid


_NOT, _ABOVE_AND = PREC["not"], PREC["and"] + 1


def expr(node, parent: int = 0) -> str:
    cls = node.__class__  # the most frequent kinds first
    if cls is Path:
        return ".".join(node.parts)
    if cls is Binary:
        p = PREC[node.op]
        if p == 4:  # comparisons do not chain
            op = "not in" if node.op == "not-in" else node.op
            text = f"{expr(node.left, p + 1)} {op} {expr(node.right, p + 1)}"
        else:
            text = _chain(node, p)
        return f"({text})" if parent > p else text
    if cls is Literal:
        return literal(node)
    if cls is Call:
        return f"{node.name}({', '.join([expr(a) for a in node.args])})"
    if cls is ClauseRef:
        return str(node)
    if cls is SetLit:
        return "{" + ", ".join([expr(a) for a in node.items]) + "}"
    if cls is ListLit:
        return "[" + ", ".join([expr(a) for a in node.items]) + "]"
    if cls is Unary:
        text = f"not {expr(node.operand, _NOT)}"
        return f"({text})" if parent > _NOT else text
    raise AssertionError(node)  # pragma: no cover


def _chain(node: Binary, p: int) -> str:
    """`a op b op c …`: the operands along the left of a chain of one precedence, in a loop (a chain of a
    thousand `and`s recurses no deeper than one). `and` inside `or` keeps its parentheses, for the reader."""
    links = []
    while chained(node):
        links.append(node)
        node = node.left
    links.append(node)
    first, right = (_ABOVE_AND, _ABOVE_AND) if node.op == "or" else (p, p + 1)
    parts = [expr(node.left, first)]
    for link in reversed(links):
        parts.append(f"{link.op} {expr(link.right, right)}")
    return " ".join(parts)


def _clause(node: ClauseRef) -> str:
    return str(node)


class _Printer:
    def __init__(self, module: Module, comments: bool):
        self.out: list[str] = []
        ordered = sorted(module.comments, key=lambda c: c.line) if comments else []
        self.trailing = {c.line: c for c in ordered if not c.own_line}
        self.pending = [c for c in ordered if c.own_line]
        self.source_lines = source_lines(module.source)
        self.comments = comments
        self.last: int | None = None  # the last source line printed

    def _blank_before(self, line: int, force: bool = False) -> None:
        """Keep one blank line where the source had one (or where `force`), never two, never after `{`."""
        if not self.out or self.out[-1] == "" or self.out[-1].endswith("{"):
            return
        blank = force
        if self.comments and self.last is not None:
            blank = blank or any(not self.source_lines[n - 1].strip()
                                 for n in range(self.last + 1, line) if 0 < n <= len(self.source_lines))
        if blank:
            self.out.append("")

    def own_comments_before(self, line: int, depth: int) -> None:
        while self.pending and self.pending[0].line < line:
            c = self.pending.pop(0)
            self._blank_before(c.line)
            self.out.append(INDENT * depth + c.text)
            self.last = c.line

    def trail(self, line: int) -> str:
        c = self.trailing.pop(line, None)
        return f"  {c.text}" if c else ""

    def items(self, items, depth: int, close_line: int | None) -> None:
        prev_block = None  # None before the first item, else whether the item before was a block
        out = self.out
        for item in items:
            start = item.key_span[1]
            is_block = item.__class__ is Entry and item.body is not None
            force = depth == 0 and prev_block is not None and (is_block or prev_block)
            if self.pending and self.pending[0].line < start:
                self._blank_before(self.pending[0].line, force)
                self.own_comments_before(start, depth)
                self._blank_before(start)
            elif force or (self.comments and out and out[-1] and not out[-1].endswith("{")):
                self._blank_before(start, force)
            self.item(item, depth)
            prev_block = is_block
        if close_line is not None:
            self.own_comments_before(close_line, depth)

    def item(self, item, depth: int) -> None:
        pad = INDENT * depth
        trailing = self.trailing  # (empty when comments are left out: then there is nothing to look up)
        if item.__class__ is Let:
            cites = f" cite {', '.join(expr(c) for c in item.cites)}" if item.cites else ""
            self.out.append(f"{pad}let {item.name} = {expr(item.value)}{cites}"
                            f"{self.trail(item.key_span.line) if trailing else ''}")
            self.last = item.span.end_line
            return
        text = pad + item.key
        if item.args:
            text += " " + ", ".join([expr(a) for a in item.args])
        if item.outputs is not None:
            text += " => " + ", ".join([expr(a) for a in item.outputs])
        if item.body is None:
            self.out.append(text + self.trail(item.key_span.line) if trailing else text)
            self.last = item.span.end_line
            return
        self.out.append(text + " {" + self.trail(item.key_span.line))
        self.last = item.key_span.line
        close = item.span.end_line
        self.items(item.body, depth + 1, close)
        self.out.append(pad + "}" + self.trail(close))
        self.last = close


def format_module(module: Module, *, comments: bool = True) -> str:
    p = _Printer(module, comments)
    p.items(module.items, 0, None)
    if comments:
        p.own_comments_before(10**9, 0)
        for c in sorted(p.trailing.values(), key=lambda c: c.line):  # never lose a comment
            p.out.append(c.text)
    text = "\n".join(p.out).strip("\n")
    return text + "\n" if text else ""


def format_text(source: str, file: str = "<policy>"):
    """(formatted text, syntax diagnostics). A file with syntax errors is returned unchanged."""
    from sptui.policy.parse import parse_text

    module, diags = parse_text(source, file)
    if diags:
        return source, diags
    return format_module(module), []
