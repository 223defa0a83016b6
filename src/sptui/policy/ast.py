"""The policy AST: frozen attrs nodes, every one with its span (file, line, column, end).

The grammar is generic (entries with arguments and bodies); what an entry means is decided by the
block kind's schema in the checker, so the AST stays small and plugins add meaning, not syntax.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import attrs


class Span(NamedTuple):
    """Where a node is: file, line and column of its start, line and column just past its end (columns count
    characters). Immutable like the nodes; a named tuple, not an attrs class, because a policy has thousands
    of spans and a tuple is small and quick to make."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Span("<builtin>", 0, 0, 0, 0)


# ---- expressions -------------------------------------------------------------------------------
@attrs.frozen
class Literal:
    kind: str  # string int money duration date datetime time window monthday mdrange bool null wildcard
    value: Any
    text: str = attrs.field(eq=False)
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Path:
    parts: tuple[str, ...]
    span: Span = attrs.field(eq=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@attrs.frozen
class Call:
    name: str
    args: tuple[Any, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Unary:
    op: str  # "not"
    operand: Any
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Binary:
    op: str  # and or == != < <= > >= in not-in + - * /
    left: Any
    right: Any
    span: Span = attrs.field(eq=False)


@attrs.frozen
class SetLit:
    items: tuple[Any, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class ListLit:
    items: tuple[Any, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class ClauseRef:
    """A citation: 第3章 2.2 (4), 別表-1, 表2, はじめに."""

    head: str  # "第3章", "別表-1", "表2", "はじめに"
    section: str | None
    item: str | None
    span: Span = attrs.field(eq=False)

    @property
    def clause(self) -> str:
        """The registered clause this cites (without the item)."""
        return self.head if self.section is None else f"{self.head} {self.section}"

    def __str__(self) -> str:
        return self.clause if self.item is None else f"{self.clause} ({self.item})"


Expr = Literal | Path | Call | Unary | Binary | SetLit | ListLit | ClauseRef


# ---- structure -----------------------------------------------------------------------------------
@attrs.frozen
class Entry:
    key: str
    args: tuple[Any, ...]
    outputs: tuple[Any, ...] | None
    body: tuple[Any, ...] | None  # Entry | Let
    span: Span = attrs.field(eq=False)
    key_span: Span = attrs.field(eq=False)

    @property
    def name(self) -> str | None:
        """A block's name: its first argument when that is a bare identifier or a string."""
        if self.args:
            first = self.args[0]
            if isinstance(first, Path) and len(first.parts) == 1:
                return first.parts[0]
            if isinstance(first, Literal) and first.kind == "string":
                return first.value
        return None


@attrs.frozen
class Let:
    name: str
    value: Any
    span: Span = attrs.field(eq=False)
    key_span: Span = attrs.field(eq=False)
    cites: tuple[Any, ...] = ()  # `let NAME = VALUE cite 第3章 1.5 (4)`: the clauses the value follows


@attrs.frozen
class Comment:
    line: int
    col: int
    text: str
    own_line: bool


@attrs.frozen
class Module:
    file: str
    items: tuple[Any, ...]
    comments: tuple[Comment, ...]
    source: str = attrs.field(eq=False, repr=False)

