"""CSV cells a spreadsheet will not run: every CSV sptui writes goes through `to_cell`, every cell it reads
through `from_cell`.

A spreadsheet opening a CSV runs a cell that begins with `=`, `+`, `-` or `@` as a formula (and some treat a
leading tab or carriage return the same way): `=HYPERLINK(…)` or a DDE payload in a customer's name would run on
the desk's machine. As OWASP recommends (CSV Injection), such a cell is written with a leading `'`, the
spreadsheet's own "this is text" mark, which it shows without the mark. The full-width forms (＝＋－＠) and a
trigger after leading spaces are marked too.

The mark is undone on reading: a cell's one leading `'` is dropped. So that this is exact, a value that itself
begins with `'` is written with one more: `from_cell(to_cell(v)) == v` for every value (a phone `+81…`, a name
`'t Hooft`), and a cell typed in a spreadsheet as `'0312345678` (to keep its leading zero) reads `0312345678`.
"""
from __future__ import annotations

TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
MARK = "'"
_MARKED = TRIGGERS | {MARK}


def to_cell(value: str) -> str:
    """The cell that holds `value` in a CSV a spreadsheet may open."""
    return MARK + value if value.lstrip(" \u3000")[:1] in _MARKED else value


def from_cell(cell: str) -> str:
    """The value a cell holds: without the one leading `'` a spreadsheet (or `to_cell`) put there."""
    return cell[1:] if cell.startswith(MARK) else cell
