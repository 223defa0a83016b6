"""Source text → AST (with spans), collecting every syntax error in one pass.

The Lark parser (LALR, contextual lexer, strict) is built once per process and cached. Errors do
not stop the parse: Lark's `on_error` drops the offending token and resumes, and only the first error
on a line is reported, so one mistake gives one diagnostic.
"""
from __future__ import annotations

import functools
import re
import threading
from importlib import resources

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from sptui.errors import LiteralError
from sptui.model.values import TimeOfDay
from sptui.policy import literals as L
from sptui.policy.ast import (
    Binary,
    Call,
    ClauseRef,
    Comment,
    Entry,
    Let,
    ListLit,
    Literal,
    Module,
    Path,
    SetLit,
    Span,
    Unary,
)
from sptui.policy.depth import within_depth
from sptui.policy.diagnostics import OTHER_SEPARATORS, Diagnostic, normal_breaks, source_lines

_TOKEN_NAMES = {
    "_NL": "the end of the line", "_LPAR": "`(`",
    "LBRACK": "`[`", "RBRACK": "`]`", "LBRACE": "`{`", "RBRACE": "`}`", "RPAR": "`)`", "NOT": "`not`", "_COMMA": "`,`", "_ARROW": "`=>`", "_EQ": "`=`",
    "KEY": "a name", "DOTTED": "a dotted name", "STRING": "a string", "INT": "a number", "MONEY": "an amount like 10,000円",
    "DURATION": "a duration like 2h", "DATE": "a date like 2026-04-01", "TIME": "a time like 08:30",
    "WINDOW": "a window like 08:30-17:30", "DATETIME": "a date-time like 2026-11-27T17:00+09:00",
    "COMP_OP": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`", "CLAUSE": "a clause like 第3章 2.2 (4)",
    "_AND": "`and`", "_OR": "`or`", "_NOT": "`not`", "_IN": "`in`", "$END": "the end of the file",
}


_state = threading.local()  # the file being parsed and its diagnostics, for the inline transformer


def _cache_file() -> str | bool:
    """Lark's analysed parser, cached per user; Lark stores the grammar's sha256 in it and rebuilds when it differs."""
    import os
    import tempfile

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        os.makedirs(os.path.join(base, "sptui"), exist_ok=True)
        return os.path.join(base, "sptui", "grammar.lark.cache")
    except OSError:
        return os.path.join(tempfile.gettempdir(), "sptui-grammar.lark.cache")


@functools.cache
def parser() -> Lark:
    """The parser, built once: the AST is built inline while parsing (no intermediate tree)."""
    grammar = resources.files("sptui.policy").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", strict=True, maybe_placeholders=True,
                transformer=_ToAst(), cache=_cache_file())


def _tok_span(t: Token) -> Span:
    return Span(_state.file, t.line, t.column, t.end_line, t.end_column)


def _between(first, last) -> Span:
    """The span from the start of `first` to the end of `last` (each a Token or an AST node)."""
    if isinstance(first, Token):
        l1, c1 = first.line, first.column
    else:
        s = first.span
        l1, c1 = s.line, s.col
    if isinstance(last, Token):
        return Span(_state.file, l1, c1, last.end_line, last.end_column)
    s = last.span
    return Span(_state.file, l1, c1, s.end_line, s.end_col)


def _span_of(first, last) -> Span:
    """The span from the start of node `first` to the end of node `last` (both AST nodes)."""
    a, b = first.span, last.span
    return Span(a[0], a[1], a[2], b[3], b[4])


class _ToAst(Transformer):
    """Builds the AST while the LALR parser reduces (no parse tree); spans come from the tokens."""

    def __init__(self):
        super().__init__(visit_tokens=False)

    def start(self, items):
        return tuple(i for i in items if i is not None)

    def entry(self, children):
        key, args, outputs, body = children
        file, line, col = _state.file, key.line, key.column
        if body is not None:
            close = body[1]
            end = (close.end_line, close.end_column)
        elif outputs or args:
            s = (outputs or args)[-1].span
            end = (s[3], s[4])
        else:
            end = (key.end_line, key.end_column)
        return Entry(key.value, args or (), outputs, body[0] if body is not None else None,
                     Span(file, line, col, *end), Span(file, line, col, key.end_line, key.end_column))

    def let(self, children):
        let, key, value, *cites = children
        cites = cites[0] if cites and cites[0] is not None else ()
        return Let(key.value, value, _between(let, cites[-1] if cites else value), _tok_span(key), tuple(cites))

    def body(self, items):
        close = items[-1]
        return (tuple(i for i in items[1:-1] if i is not None), close)

    def args(self, items):
        return tuple(items)

    def or_expr(self, items):
        return self._fold("or", items)

    def and_expr(self, items):
        return self._fold("and", items)

    def _fold(self, op, items):
        out = items[0]
        for nxt in items[1:]:
            out = Binary(op, out, nxt, _span_of(out, nxt))
        return out

    def not_(self, items):
        return Unary("not", items[1], _between(items[0], items[1]))

    def compare(self, items):
        return Binary(items[1].value, items[0], items[2], _span_of(items[0], items[2]))

    binary = compare

    def in_(self, items):
        return Binary("in", items[0], items[1], _between(items[0], items[1]))

    def not_in(self, items):
        return Binary("not-in", items[0], items[2], _between(items[0], items[2]))

    def paren(self, items):
        return items[0]

    def path(self, items):
        tok = items[0]
        return Path((tok.value,) if tok.type == "KEY" else tuple(tok.value.split(".")), _tok_span(tok))

    def call(self, items):
        return Call(items[0].value, tuple(i for i in items[1:-1] if i is not None), _between(items[0], items[-1]))

    def set(self, items):
        return SetLit(tuple(i for i in items[1:-1] if i is not None), _between(items[0], items[-1]))

    def list(self, items):
        return ListLit(tuple(i for i in items[1:-1] if i is not None), _between(items[0], items[-1]))

    def clause_ref(self, items):
        # one spelling per clause: 別表1 and 別表－１ are 別表-1, 表-2 is 表2, full-width digits are ASCII
        tok = items[0]
        section = item = None
        if tok.type == "CLAUSE":
            head, section, item = _CLAUSE.fullmatch(tok.value).groups()
            section = section and section.translate(_DIGITS)
            item = item and item.translate(_DIGITS)
        else:
            head = tok.value.replace("－", "-")
            if head.startswith("別表") and not head.startswith("別表-"):
                head = "別表-" + head[2:]
            elif head.startswith("表-"):
                head = "表" + head[2:]
        return ClauseRef(head.translate(_DIGITS), section, item, _tok_span(tok))

    def literal(self, items):
        tok: Token = items[0]
        text = str(tok)
        span = _tok_span(tok)
        kind, conv = _LITERALS[tok.type]
        try:
            value = conv(text)
        except LiteralError as e:
            code = "E005" if "naive" in str(e) else "E006" if "empty" in str(e) else "E004"
            _state.diags.append(Diagnostic(code, str(e), span, e.hint))
            return Literal("invalid", None, text, span)
        return Literal(kind, value, text, span)


_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# the parts of a CLAUSE token (grammar.lark): chapter, section, item
_CLAUSE = re.compile(r"(第[0-9０-９]+章)(?:[\t \f]*(\d+(?:\.\d+)*))?(?:[\t \f]*\([\t \f]*([^\s)]+)[\t \f]*\))?")


def _string(text: str) -> str:
    if "\\" not in text:
        return text[1:-1]
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
    "INT": ("int", L.parse_int),
    "MONEY": ("money", L.parse_money),
    "DURATION": ("duration", L.parse_duration),
    "DATE": ("date", L.parse_date),
    "DATETIME": ("datetime", L.parse_datetime),
    "TIME": ("time", lambda t: TimeOfDay(L.parse_time(t))),
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
    lines = source_lines(source)
    if isinstance(e, UnexpectedCharacters):
        ch = source[e.pos_in_stream] if e.pos_in_stream < len(source) else ""
        line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
        hint = ""
        before = line[: e.column - 1]
        if ch == '"':
            hint = 'a string ends with `"` on the same line'
        elif ch in "「」“”":
            hint = 'strings are written between ASCII double quotes: "…"'
        elif ch == ":" and before[-2:].strip().isdigit():
            hint = "expected a time like 08:30 (two digits each for the hour and the minute)"
        elif ch == "-" and before[-1:].isdigit():
            hint = "expected a date like 2026-04-01, a month-day like 12-29, or spaces around `-`"
        elif ch == "." and (before[-1:] in _BLANKS or source[e.pos_in_stream + 1:e.pos_in_stream + 2] in _BLANKS):
            hint = "a dotted name has no spaces around its dots: component.category"
        elif ch in "!&|":
            hint = "use `and`, `or`, `not` and `!=`"
        elif ch == "\u3000":
            hint = "a full-width space (U+3000): use an ordinary space"
        elif ch in "、，（）：＝":
            hint = f"a full-width `{ch}`: use its ASCII form `{ch.translate(str.maketrans('、，（）：＝', ',,():='))}`"
        span = Span(file, e.line, e.column, e.line, e.column + 1)
        what = "a full-width space" if ch == "\u3000" else repr(ch) if ch.strip() else "whitespace"
        return Diagnostic("E002", f"unexpected character {what}", span, hint or f"expected {_expected(e.allowed or [])}")
    tok = e.token
    if tok.type == "$END" or isinstance(e, UnexpectedEOF):
        last = len(lines)
        span = Span(file, max(last, 1), 1, max(last, 1), 1)
        return Diagnostic("E003", "the file ends before the block or entry does", span,
                          "a block opened with `{` is closed by `}` on a line of its own")
    expected = getattr(e, "expected", None) or getattr(e, "accepts", None) or set()
    got = "end of line" if tok.type == "_NL" else f"`{tok}`" if len(tok) <= 40 else f"`{str(tok)[:37]}…`"
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
    elif tok.type == "_NL" and "RPAR" in expected:
        hint = "a `(` is closed by `)` on the same line"
    elif tok.type == "_NL" and "RBRACE" in expected:
        hint = "a set `{a, b}` is closed on the same line; a block's `{` ends its line"
    elif tok.type == "LBRACE" and "_NL" in expected:
        hint = "a block's body starts on the line after `{`"
    elif tok.type == "_LPAR" and _AFTER_CLAUSE.search(lines[tok.line - 1][: tok.column - 1] if 0 < tok.line <= len(lines) else ""):
        hint = "a clause's item is one number or name in parentheses, closed on the same line: 第3章 2.2 (19)"
    return Diagnostic("E001", f"unexpected {got}", span, hint)


# the text before a `(` that follows a citation: its chapter, section and item, if any
_AFTER_CLAUSE = re.compile(r"第[0-9０-９]+章[\t \f]*[0-9０-９.]*[\t \f]*(\([^()]*\))?[\t \f]*$")
_BLANKS = (" ", "\t", "\f")  # a space (or tab) beside a dot, which a dotted name does not have


def _comments(source: str) -> tuple[Comment, ...]:
    if "#" not in source:
        return ()
    out = []
    for n, line in enumerate(source_lines(source), 1):
        if "#" not in line:
            continue
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


_CLOSERS = ("RPAR", "RBRACK", "RBRACE")


def _recover(e: UnexpectedInput) -> None:
    """Put the parser back at the start of a line after an error, so one mistake gives one diagnostic.

    At an unexpected end of line or of file, the constructs left open on that line are closed (a
    missing `)`, a value after a trailing comma); at the end of the file, open blocks are closed too.
    """
    if not isinstance(e, UnexpectedToken) or e.token.type not in ("_NL", "$END"):
        return
    ip = e.interactive_parser
    tok = e.token
    line, col = tok.line or 1, tok.column or 1

    def fake(kind: str, value: str) -> Token:
        return Token(kind, value, tok.start_pos, line, col, line, col, tok.start_pos)

    for _ in range(64):
        accepts = ip.accepts()
        if tok.type in accepts:
            if tok.type == "_NL":
                ip.feed_token(tok)  # the line ends here, as written
            return
        if tok.type == "$END" and "_NL" in accepts:
            ip.feed_token(fake("_NL", "\n"))
            continue
        closer = next((c for c in _CLOSERS if c in accepts), None)
        try:
            if closer is not None:
                ip.feed_token(fake(closer, ")]}"[_CLOSERS.index(closer)]))
            elif "KEY" in accepts:  # a value is missing (a trailing comma, a dangling operator)
                ip.feed_token(fake("KEY", "_missing_"))
            else:
                return
        except UnexpectedInput:
            return


def parse_text(source: str, file: str = "<policy>") -> tuple[Module, list[Diagnostic]]:
    """Parse one file. Returns the module (what could be parsed) and every syntax diagnostic.

    The result depends on the text and the name alone and is immutable, so the last parse of each file is kept:
    a file read again unchanged is not parsed again (a keystroke in the policy editor parses only the file it
    changed)."""
    kept = _last_parse.get(file)
    if kept is not None and kept[0] == source:
        return kept[1], list(kept[2])
    module, diags = _parse(source, file)
    if len(_last_parse) >= _KEPT_FILES and file not in _last_parse:
        _last_parse.pop(next(iter(_last_parse)), None)  # the file parsed longest ago
    _last_parse[file] = (source, module, tuple(diags))
    return module, diags


_KEPT_FILES = 256
_last_parse: dict[str, tuple[str, Module, tuple[Diagnostic, ...]]] = {}  # file -> (text, module, diagnostics)


def _parse(source: str, file: str) -> tuple[Module, list[Diagnostic]]:
    """Parse one file with Lark: every syntax error becomes a diagnostic, and parsing resumes after it."""
    diags: list[Diagnostic] = []
    if source.startswith("\ufeff"):  # a byte-order mark from an editor on Windows: not part of the text
        source = source[1:]
    source = normal_breaks(source)  # \r\n and a lone \r end a line as \n does
    reported_lines: set[int] = set()  # one diagnostic per line: the first
    text = _separators(source if source.endswith("\n") else source + "\n", file, diags, reported_lines)
    budget = [200]

    def on_error(e: UnexpectedInput) -> bool:
        budget[0] -= 1
        if budget[0] <= 0:
            return False
        d = _syntax_diag(e, file, text)
        if d.span.line not in reported_lines:
            reported_lines.add(d.span.line)
            diags.append(d)
        try:
            _recover(e)
        except Exception:  # recovery is best effort; the diagnostic is already recorded
            pass
        return True

    items: tuple = ()
    _state.file, _state.diags = file, diags
    try:
        items = parser().parse(text, on_error=on_error) or ()
    except UnexpectedInput as e:
        d = _syntax_diag(e, file, text)
        if d.span.line not in reported_lines:
            diags.append(d)
    except Exception:  # a shape that error recovery left behind; the syntax errors already say why
        if not diags:
            raise
    if not isinstance(items, tuple):
        items = ()
    return Module(file, within_depth(items, diags), _comments(source), source), diags


_SEPARATOR = re.compile("[" + "".join(OTHER_SEPARATORS) + "\ud800-\udfff]")


def _separators(text: str, file: str, diags: list[Diagnostic], seen: set[int]) -> str:
    """Each character that some reader takes for a line break but the language does not (U+2028, a form feed…), or
    that is no text at all (a lone surrogate): E002 at its place (the first on each line), and a space in the text
    parsed, so the rest still parses."""
    if _SEPARATOR.search(text) is None:
        return text
    for n, line in enumerate(text.split("\n"), 1):
        m = _SEPARATOR.search(line)
        if m is not None and n not in seen:
            seen.add(n)
            c, ch = m.start() + 1, m.group()
            if ch in OTHER_SEPARATORS:
                diags.append(Diagnostic("E002", f"unexpected line separator {OTHER_SEPARATORS[ch]}",
                                        Span(file, n, c, n, c + 1),
                                        "a line ends with a line break (\\n, or \\r\\n); take this character out"))
            else:  # (text from an editor, never from a file: a file is read as UTF-8)
                diags.append(Diagnostic("E002", f"unexpected lone surrogate U+{ord(ch):04X}: no Unicode text",
                                        Span(file, n, c, n, c + 1), "take this character out"))
    return _SEPARATOR.sub(" ", text)
