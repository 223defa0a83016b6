"""A list of records (the queue, a filtered queue, the month's billing) written as CSV or JSON: one writer for the
CLI and the desk. Every CSV cell goes through `sptui.csvcell.to_cell` (a customer named `=HYPERLINK(…)` is text in
a spreadsheet); `bom` starts a CSV with the UTF-8 BOM, which Excel needs to read Japanese as UTF-8. Instants are
ISO 8601 in Japan time; an empty value is an empty cell (null in JSON)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Iterable

from sptui.csvcell import to_cell
from sptui.store import BadRequest
from sptui.tz import iso

FORMATS = ("csv", "json")
BOM = "\ufeff"


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return iso(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _cell(v: Any) -> str:
    v = _value(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):  # a number is no formula: -2500 stays a number in the spreadsheet
        return str(v)
    return to_cell(str(v))


def export_text(rows: Iterable[dict], columns: tuple[str, ...] | list[str], fmt: str, *, bom: bool = False) -> str:
    """The rows (dicts; the keys in `columns`, in that order) as the text of a CSV or JSON file."""
    if fmt not in FORMATS:
        raise BadRequest(f"the format is {' or '.join(FORMATS)}, not {fmt!r}")
    if fmt == "json":
        if bom:
            raise BadRequest("--bom is for CSV (Excel); JSON is UTF-8 without one")
        return json.dumps([{c: _value(r.get(c)) for c in columns} for r in rows], ensure_ascii=False, indent=1) + "\n"
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return (BOM if bom else "") + out.getvalue()
