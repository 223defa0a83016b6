"""The queue (all of it, or the rows a filter shows) as records to export: `sptui queue --format csv|json` and the
desk's export key write the same columns through the one writer (sptui.desk.export)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from sptui.desk.export import export_text
from sptui.tui import data

COLUMNS = ("key", "kind", "id", "label", "customer", "verdict", "status", "owner", "consult", "customer_pays",
           "in_hours", "deadline", "next_contact", "departed", "summary")


def record(r: data.QueueRow) -> dict:
    return {"key": r.key, "kind": r.kind, "id": r.id, "label": r.label, "customer": r.customer, "verdict": r.verdict,
            "status": r.status, "owner": r.owner, "consult": r.consult, "customer_pays": r.pays,
            "in_hours": r.in_hours, "deadline": r.deadline, "next_contact": r.next_contact, "departed": r.departed(),
            "summary": r.summary}


def records(rows: list[data.QueueRow]) -> list[dict]:
    """The rows as JSON values (instants in ISO 8601, Japan time)."""
    from sptui.tz import iso

    return [{k: iso(v) if isinstance(v, dt.datetime) else v for k, v in record(r).items()} for r in rows]


def queue_text(rows: list[data.QueueRow], fmt: str, *, bom: bool = False) -> str:
    return export_text((record(r) for r in rows), COLUMNS, fmt, bom=bom)


def filtered(rows: list[data.QueueRow], needle: str) -> list[data.QueueRow]:
    """The rows the desk's filter shows for `needle` (the same search: any word as stored or shown, either
    language), in the queue's order."""
    return data.matching(rows, {}, "deadline", False, needle.strip().casefold())


def export_folder() -> Path:
    """Where the desk writes exports: $SPTUI_EXPORT_DIR, else `exports` in the user's sptui data folder."""
    import os

    from platformdirs import user_data_dir

    return Path(os.environ.get("SPTUI_EXPORT_DIR") or Path(user_data_dir("sptui")) / "exports")


def save(rows: list[data.QueueRow], fmt: str, folder: Path, at: dt.datetime) -> Path:
    """Write the rows to a new file in `folder` (`sptui-queue-20261127-1000.csv`, a number added if it exists)
    and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"sptui-queue-{at:%Y%m%d-%H%M%S}"
    path, n = folder / f"{stem}.{fmt}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.{fmt}"
    text = queue_text(rows, fmt, bom=fmt == "csv")
    with open(path, "x", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path
