"""Source text → AST (with spans), collecting every syntax error in one pass.

The Lark parser (LALR, contextual lexer, strict) is built once per process and cached. Errors do
not stop the parse: Lark's `on_error` drops the offending token and resumes, and only the first error
on a line is reported, so one mistake gives one diagnostic.
"""
from __future__ import annotations

import functools
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from sptui.policy import literals as L
from sptui.policy.ast import (Binary, Call, ClauseRef, Comment, Entry, Let, ListLit, Literal, Module,
                              Path, SetLit, Span, Unary)
from sptui.policy.diagnostics import Diagnostic

_TOKEN_NAMES = {
    "_NL": "the end of the line", "_LBRACE": "`{`", "_RBRACE": "`}`", "_LPAR": "`(`", "_RPAR": "`)`",
    "_LBRACK": "`[`", "_RBRACK": "`]`", "_COMMA": "`,`", "_ARROW": "`=>`", "_EQ": "`=`", "_DOT": "`.`",
    "KEY": "a name", "STRING": "a string", "INT": "a number", "MONEY": "an amount like 10,000円",
    "DURATION": "a duration like 2h", "DATE": "a date like 2026-04-01", "TIME": "a time like 08:30",
    "WINDOW": "a window like 08:30-17:30", "DATETIME": "a date-time like 2026-11-27T17:00+09:00",
    "COMP_OP": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`", "CHAPTER": "a clause like 第1章",
    "_AND": "`and`", "_OR": "`or`", "_NOT": "`not`", "_IN": "`in`", "$END": "the end of the file",
}


@functools.cache
def parser() -> Lark:
    grammar = resources.files("sptui.policy").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", strict=True, propagate_positions=True,
                maybe_placeholders=True, cache=False)


def _span(file: str, meta_or_tok) -> Span:
    return Span(file, meta_or_tok.line, meta_or_tok.column, meta_or_tok.end_line, meta_or_tok.end_column)


class _ToAst(Transformer):
    def __init__(self, file: str, diags: list[Diagnostic]):
        super().__init__(visit_tokens=False)
        self.file = file
        self.diags = diags

    def _s(self, x) -> Span:
        return _span(self.file, x)

    @v_args(meta=True)
    def start(self, meta, items):
        return tuple(i for i in items if i is not None)

    @v_args(meta=True)
    def entry(self, meta, children):
        key, args, outputs, body = children
        last = body[1] if body is not None else (outputs or args or [None])[-1]
        end = last if isinstance(last, Span) else (last.span if last is not None else self._s(key))
        span = Span(self.file, key.line, key.column, end.end_line, end.end_col)
        return Entry(str(key), tuple(args or ()), tuple(outputs) if outputs is not None else None,
                     body[0] if body is not None else None, span, self._s(key))

    @v_args(meta=True)
    def let(self, meta, children):
        key, value = children
        span = Span(self.file, meta.line, meta.column, value.span.end_line, value.span.end_col)
        return Let(str(key), value, span, self._s(key))

    @v_args(meta=True)
    def body(self, meta, items):
        return (tuple(i for i in items if i is not None), self._s(meta))

    def args(self, items):
        return list(items)

    @v_args(meta=True)
    def or_expr(self, meta, items):
        return self._fold("or", items, meta)

    @v_args(meta=True)
    def and_expr(self, meta, items):
        return self._fold("and", items, meta)

    def _fold(self, op, items, meta):
        out = items[0]
        for nxt in items[1:]:
            out = Binary(op, out, nxt, Span(self.file, out.span.line, out.span.col, nxt.span.end_line, nxt.span.end_col))
        return out

    @v_args(meta=True)
    def not_(self, meta, items):
        return Unary("not", items[0], self._s(meta))

    @v_args(meta=True)
    def compare(self, meta, items):
        return Binary(str(items[1]), items[0], items[2], self._s(meta))

    @v_args(meta=True)
    def binary(self, meta, items):
        return Binary(str(items[1]), items[0], items[2], self._s(meta))

    @v_args(meta=True)
    def in_(self, meta, items):
        return Binary("in", items[0], items[1], self._s(meta))

    @v_args(meta=True)
    def not_in(self, meta, items):
        return Binary("not-in", items[0], items[1], self._s(meta))

    @v_args(meta=True)
    def path(self, meta, items):
        return Path(tuple(str(t) for t in items), self._s(meta))

    @v_args(meta=True)
    def call(self, meta, items):
        return Call(str(items[0]), tuple(i for i in items[1:] if i is not None), self._s(meta))

    @v_args(meta=True)
    def set(self, meta, items):
        return SetLit(tuple(i for i in items if i is not None), self._s(meta))

    @v_args(meta=True)
    def list(self, meta, items):
        return ListLit(tuple(i for i in items if i is not None), self._s(meta))

    @v_args(meta=True)
    def clause_ref(self, meta, items):
        head = str(items[0])
        head = head.replace("－", "-").translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        section = str(items[1]) if len(items) > 1 and items[1] is not None else None
        item = str(items[2]) if len(items) > 2 and items[2] is not None else None
        return ClauseRef(head, section, item, self._s(meta))

    def literal(self, items):
        tok: Token = items[0]
        text = str(tok)
        span = self._s(tok)
        kind, conv = _LITERALS[tok.type]
        try:
            value = conv(text)
        except L.LiteralError as e:
            code = "E005" if "naive" in str(e) else "E006" if "empty" in str(e) else "E004"
            self.diags.append(Diagnostic(code, str(e), span, e.hint))
            return Literal("invalid", None, text, span)
        return Literal(kind, value, text, span)


def _string(text: str) -> str:
    out, i = [], 1
    while i < len(text) - 1:
        c = text[i]
        if c == "\\" and i + 1 < len(text) - 1:
            nxt = text[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


_LITERALS = {
    "STRING": ("string", _string),
    "INT": ("int", int),
    "MONEY": ("money", L.parse_money),
    "DURATION": ("duration", L.parse_duration),
    "DATE": ("date", L.parse_date),
    "DATETIME": ("datetime", L.parse_datetime),
    "TIME": ("time", lambda t: L.TimeOfDay(L.parse_time(t))),
    "WINDOW": ("window", L.parse_window),
    "MONTHDAY": ("monthday", L.parse_monthday),
    "MDRANGE": ("mdrange", L.parse_mdrange),
    "TRUE": ("bool", lambda t: True),
    "FALSE": ("bool", lambda t: False),
    "NULL": ("null", lambda t: None),
    "WILDCARD": ("wildcard", lambda t: None),
}


def _expected(names) -> str:
    shown = sorted({_TOKEN_NAMES.get(n, n.lower().lstrip("_")) for n in names})
    if len(shown) > 6:
        shown = shown[:6] + ["…"]
    return ", ".join(shown)


def _syntax_diag(e: UnexpectedInput, file: str, source: str) -> Diagnostic:
    lines = source.splitlines()
    if isinstance(e, UnexpectedCharacters):
        ch = source[e.pos_in_stream] if e.pos_in_stream < len(source) else ""
        line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
        hint = ""
        rest = line[e.column - 1:]
        before = line[: e.column - 1]
        if ch == '"':
            hint = 'a string ends with `"` on the same line'
        elif ch in "「」“”":
            hint = 'strings are written between ASCII double quotes: "…"'
        elif ch == ":" and before[-2:].strip().isdigit():
            hint = "expected a time like 08:30 (two digits for the hour)"
        elif ch == "-" and before[-1:].isdigit():
            hint = "expected a date like 2026-04-01, a month-day like 12-29, or spaces around `-`"
        elif ch in "!&|":
            hint = "use `and`, `or`, `not` and `!=`"
        span = Span(file, e.line, e.column, e.line, e.column + 1)
        what = repr(ch) if ch.strip() else "whitespace"
        return Diagnostic("E002", f"unexpected character {what}", span, hint or f"expected {_expected(e.allowed or [])}")
    tok = e.token
    if tok.type == "$END" or isinstance(e, UnexpectedEOF):
        last = len(lines)
        span = Span(file, max(last, 1), 1, max(last, 1), 1)
        return Diagnostic("E003", "the file ends before the block or entry does", span,
                          "a block opened with `{` is closed by `}` on a line of its own")
    expected = getattr(e, "expected", None) or getattr(e, "accepts", None) or set()
    got = "the end of the line" if tok.type == "_NL" else f"`{tok}`"
    # the _NL token's own position is the line it ends
    if tok.type == "_NL":
        line_no = tok.line
        col = (len(lines[line_no - 1]) + 1) if 0 < line_no <= len(lines) else tok.column
        span = Span(file, line_no, col, line_no, col + 1)
    else:
        span = Span(file, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + 1)
    hint = f"expected {_expected(expected)}"
    if tok.type == "_EQ" and "COMP_OP" in expected:
        hint = "compare with `==`; `=` only names a value in `let NAME = …`"
    elif tok.type == "_NL" and "_RPAR" in expected:
        hint = "a `(` is closed by `)` on the same line"
    elif tok.type == "_NL" and "_RBRACE" in expected:
        hint = "a set `{a, b}` is closed on the same line; a block's `{` ends its line"
    elif tok.type == "_LBRACE" and "_NL" in expected:
        hint = "a block's body starts on the line after `{`"
    return Diagnostic("E001", f"unexpected {got}", span, hint)


def _comments(source: str) -> tuple[Comment, ...]:
    out = []
    for n, line in enumerate(source.splitlines(), 1):
        in_str = False
        i = 0
        while i < len(line):
            c = line[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "#":
                out.append(Comment(n, i + 1, line[i:].rstrip(), own_line=not line[:i].strip()))
                break
            i += 1
    return tuple(out)


def parse_text(source: str, file: str = "<policy>") -> tuple[Module, list[Diagnostic]]:
    """Parse one file. Returns the module (what could be parsed) and every syntax diagnostic."""
    diags: list[Diagnostic] = []
    text = source if source.endswith("\n") else source + "\n"
    reported_lines: set[int] = set()
    budget = [200]

    def on_error(e: UnexpectedInput) -> bool:
        budget[0] -= 1
        if budget[0] <= 0:
            return False
        d = _syntax_diag(e, file, text)
        if d.span.line not in reported_lines:
            reported_lines.add(d.span.line)
            diags.append(d)
        return True

    tree = None
    try:
        tree = parser().parse(text, on_error=on_error)
    except UnexpectedInput as e:
        d = _syntax_diag(e, file, text)
        if d.span.line not in reported_lines:
            diags.append(d)
    items: tuple = ()
    if tree is not None:
        try:
            items = _ToAst(file, diags).transform(tree)
        except Exception:  # a tree mangled by error recovery; the syntax errors already say why
            if not diags:
                raise
            items = ()
    return Module(file, tuple(items), _comments(source), source), diags
