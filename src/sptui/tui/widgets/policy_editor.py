"""The Policy screen's editor: a TextArea highlighted by the policy language's own Lark lexer.

The language has no tree-sitter grammar, so the highlights come from the terminals of `grammar.lark`,
lexed line by line (no token spans two lines): keywords, clause citations, strings, numbers (amounts,
durations, dates and times too), comments, operators and brackets, and the key that starts an entry. A
line the lexer cannot read all of (a typing mistake) keeps the highlights of what it can read: the bad
character is skipped and lexing goes on after it.

Each line's highlights are kept by its text, so an edit lexes only the lines it changed. Textual 8 has no
public way to give a TextArea highlights without tree-sitter: the hook is in textual_compat (HighlightHook),
and the tests check its result on the shipped policy.
"""
from __future__ import annotations

from textual.widgets import TextArea

from sptui.tui.textual_compat import Guarded, HighlightHook

# the grammar's terminals → TextArea highlight names (names every built-in TextArea theme styles)
HIGHLIGHT = {
    "LET": "keyword", "NOT": "keyword", "_AND": "keyword", "_OR": "keyword", "_IN": "keyword",
    "TRUE": "constant.builtin", "FALSE": "constant.builtin", "NULL": "constant.builtin",
    "WILDCARD": "constant.builtin",
    "STRING": "string", "COMMENT": "comment",
    "INT": "number", "MONEY": "number", "DURATION": "number", "DATE": "number", "DATETIME": "number",
    "TIME": "number", "WINDOW": "number", "MONTHDAY": "number", "MDRANGE": "number",
    "CLAUSE": "tag", "APPENDIX": "tag", "TABLE": "tag", "PREFACE": "tag",
    "COMP_OP": "operator", "ADD_OP": "operator", "MUL_OP": "operator", "_ARROW": "operator", "_EQ": "operator",
    "LBRACE": "punctuation.bracket", "RBRACE": "punctuation.bracket", "LBRACK": "punctuation.bracket",
    "RBRACK": "punctuation.bracket", "_LPAR": "punctuation.bracket", "RPAR": "punctuation.bracket",
    "_COMMA": "punctuation.delimiter",
}
ENTRY_KEY = "function"  # the key an entry starts with: rule, cite, require, clause…
LET_NAME = "variable"  # the name a `let` binds


def line_tokens(line: str) -> list[tuple[int, int, str]]:
    """(start, end, terminal) of each token of one line, in characters, comments and spaces included (Lark's
    public `lex(text, dont_ignore=True)`); an unreadable character is skipped."""
    from lark.exceptions import UnexpectedCharacters

    from sptui.policy.parse import parser

    out: list[tuple[int, int, str]] = []
    at = 0
    while at < len(line):
        try:
            for tok in parser().lex(line[at:], dont_ignore=True):
                out.append((at + tok.start_pos, at + tok.end_pos, tok.type))
            break
        except UnexpectedCharacters as e:
            at += e.pos_in_stream + 1
    return out


def line_highlights(line: str) -> list[tuple[int, int, str]]:
    """(start, end, highlight name) of one line, in UTF-8 bytes (what TextArea's highlights count)."""
    out = []
    first = True
    after_let = False
    for start, end, terminal in line_tokens(line):
        if terminal.startswith("__"):  # whitespace
            continue
        name = HIGHLIGHT.get(terminal)
        if terminal == "KEY":
            name = LET_NAME if after_let else ENTRY_KEY if first else None
        first, after_let = False, terminal == "LET"
        if name is not None:
            out.append((len(line[:start].encode()), len(line[:end].encode()), name))
    return out


class PolicyEditor(Guarded, HighlightHook, TextArea):
    """A TextArea for policy files, highlighted by the language's lexer (see the module docstring)."""

    def line_spans(self, line: str) -> list[tuple[int, int, str]]:
        return line_highlights(line)


def write_atomic(path, text: str) -> None:
    """Replace a file's text all at once (sptui.files.write_file: a temporary file beside it, flushed, renamed over
    it; never written through a symbolic link). A desk starting meanwhile reads the old file or the new one, never
    half of one. FileProblem if it cannot be written."""
    from sptui.files import write_file

    write_file(path, text)


def aside_path(path):
    """Where an edit that does not check is kept: beside its file, under a name no policy load reads
    (`coverage.sptp.draft`)."""
    from pathlib import Path

    path = Path(path)
    return path.with_name(path.name + ".draft")
