"""Diagnostics: every problem a policy author can cause, with its place, a caret and a hint.

The catalogue of codes lives here (CODES) and in docs/policy-language.md; a test keeps the two in step.
"""
from __future__ import annotations

import functools
import unicodedata
from typing import Iterable

import attrs

from sptui.policy.ast import Span

# code -> (severity, one-line description)
CODES: dict[str, tuple[str, str]] = {
    "E001": ("error", "syntax: a token that does not fit here"),
    "E002": ("error", "syntax: a character that starts no token"),
    "E003": ("error", "syntax: the file ends inside a block or an entry"),
    "E004": ("error", "a literal that is no value: a date, time or date-time that does not exist, a number too long"),
    "E005": ("error", "a naive date-time (no offset)"),
    "E006": ("error", "a time window that is empty"),
    "E007": ("error", "an expression or a block nested too deeply"),
    "E010": ("error", "an included file that cannot be read"),
    "E011": ("error", "an include cycle"),
    "E012": ("error", "includes nested too deep, or a policy of too many files"),
    "E020": ("error", "the policy header (policy, version, effective, date-rounding) is missing or incomplete"),
    "E021": ("error", "a header entry given twice"),
    "E022": ("error", "an unknown date-rounding"),
    "E030": ("error", "an unknown block kind or top-level entry"),
    "E031": ("error", "an entry that this block kind does not take"),
    "E032": ("error", "a required entry is missing"),
    "E033": ("error", "an argument of the wrong type (or out of its range)"),
    "E034": ("error", "the wrong number of arguments"),
    "E035": ("error", "an entry given twice where once is allowed"),
    "E036": ("error", "two blocks of one kind with the same name"),
    "E037": ("error", "a block that needs a name has none"),
    "E040": ("error", "a rule that cites no clause"),
    "E041": ("error", "a citation of a clause that is not in the register"),
    "E042": ("error", "a citation of an item the clause does not have"),
    "E043": ("error", "a clause registered twice"),
    "W044": ("warning", "a registered clause that no rule cites and that is not marked not-computable"),
    "E050": ("error", "an unknown name in an expression"),
    "E051": ("error", "an unknown field of the case"),
    "E052": ("error", "an unknown function"),
    "E053": ("error", "a function called with the wrong arguments"),
    "E054": ("error", "operands whose types do not fit the operator"),
    "E055": ("error", "a value that the field can never have"),
    "E056": ("error", "a message placeholder that names nothing"),
    "E057": ("error", "a name defined twice"),
    "E060": ("error", "decision table: two rows match the same input (hit unique)"),
    "E061": ("error", "decision table: the rows leave a gap (complete)"),
    "W062": ("warning", "decision table: a row that an earlier row always wins (hit first)"),
    "E063": ("error", "decision table: a row whose cells do not match the columns"),
    "E064": ("error", "decision table: an unknown hit policy"),
    "E065": ("error", "decision table: an unknown table or column"),
    "E066": ("error", "fee bands: a table that does not give one band to every minute of the day"),
    "E067": ("error", "decision table: a domain (`domain FIELD`) that the table or the field cannot be"),
    "E070": ("error", "a reference to an unknown variant, calendar or support kind"),
    "E071": ("error", "a set of weekdays that does not parse"),
    "E073": ("error", "a variant without service hours for hw and pp"),
    "E074": ("error", "a variant whose hours for hw (or pp) give a day twice"),
    "E075": ("error", "service hours that are never open (their calendar closes every day they have)"),
    "E080": ("error", "policy test: an unknown case or expected field"),
    "E081": ("error", "policy test: an unknown case template"),
    "E090": ("error", "a plugin failed while checking its block"),
    "W091": ("warning", "an installed plugin that failed to load: it does not import, misspells a hook, or clashes"),
}


@attrs.frozen
class Diagnostic:
    code: str
    message: str
    span: Span
    hint: str = ""

    @property
    def severity(self) -> str:
        return CODES.get(self.code, ("error", ""))[0]

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict:
        return {
            "file": self.span.file, "line": self.span.line, "col": self.span.col,
            "end_line": self.span.end_line, "end_col": self.span.end_col,
            "severity": self.severity, "code": self.code, "message": self.message, "hint": self.hint,
        }


# ---- lines: one rule for the parser, the renderer, fmt and the editor ------------------------------------------
# A line ends at \n, \r\n or a lone \r (editors on every system write one of them). Every other character that
# some reader takes for a line break is E002 wherever it stands (strings and comments too): with it, a terminal,
# an editor and Python's splitlines would each count the lines differently.
OTHER_SEPARATORS = {"\x0b": "U+000B (LINE TABULATION)", "\x0c": "U+000C (FORM FEED)", "\x1c": "U+001C (FILE SEPARATOR)",
                    "\x1d": "U+001D (GROUP SEPARATOR)", "\x1e": "U+001E (RECORD SEPARATOR)",
                    "\x85": "U+0085 (NEXT LINE)", "\u2028": "U+2028 (LINE SEPARATOR)",
                    "\u2029": "U+2029 (PARAGRAPH SEPARATOR)"}


def normal_breaks(text: str) -> str:
    """The text with each \r\n and lone \r as \n (the only line breaks; characters keep their columns)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def source_lines(text: str) -> list[str]:
    """The lines of a source as the parser counts them (line N is [N - 1])."""
    lines = normal_breaks(text).split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _visible(line: str) -> str:
    """A source line as shown under a diagnostic: a control character or a separator as its picture (one column
    each, so the caret stays under its place), never raw."""
    if all(" " <= c < "\x7f" or c > "\x9f" and c not in "\u2028\u2029" and not "\ud800" <= c <= "\udfff"
           for c in line):
        return line
    return "".join(chr(0x2400 + ord(c)) if c < " " else "\u2421" if c == "\x7f" else "\u2424"
                   if "\x80" <= c <= "\x9f" or c in "\u2028\u2029" else "\ufffd" if "\ud800" <= c <= "\udfff" else c
                   for c in line)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@functools.lru_cache(maxsize=16)
def _lines(src: str) -> tuple[str, ...]:
    """A source's lines, split once however many of its diagnostics are rendered (10,000 errors in one file were
    quadratic: each split the whole file again)."""
    return tuple(source_lines(src))


def render(d: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """`file:line:col: error[CODE]: message`, the source line, a caret under the place, the hint.

    Columns count characters; the caret is indented by display width so it lines up under
    Japanese (wide) characters in a terminal.
    """
    place = f"{d.span.file}:{d.span.line}:{d.span.col}" if d.span.line else d.span.file  # (line 0: no place in a file)
    head = _visible(f"{place}: {d.severity}[{d.code}]: {d.message}")
    lines = [head]
    src = (sources or {}).get(d.span.file)
    if src is not None and d.span.line >= 1:
        text_lines = _lines(src)
        if d.span.line <= len(text_lines):
            line = _visible(text_lines[d.span.line - 1].expandtabs(1))
            prefix = line[: max(d.span.col - 1, 0)]
            if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
                marked = line[d.span.col - 1 : d.span.end_col - 1]
            else:
                marked = line[d.span.col - 1 : d.span.col]
            n = f"{d.span.line}"
            lines.append(f" {n} | {line}")
            lines.append(f" {' ' * len(n)} | {' ' * _width(prefix)}{'^' * max(_width(marked), 1)}")
    if d.hint:
        lines.append(_visible(f"  = hint: {d.hint}"))
    return "\n".join(lines)


def sort_key(d: Diagnostic):
    return (d.span.file, d.span.line, d.span.col, d.code)


def summary(diags: Iterable[Diagnostic]) -> tuple[int, int]:
    ds = list(diags)
    return sum(d.is_error for d in ds), sum(not d.is_error for d in ds)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    import difflib

    got = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return got[0] if got else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    c = closest(name, candidates)
    return f"did you mean `{c}`?" if c else ""
