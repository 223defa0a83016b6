"""Alarm mails from files: .eml files, folders of them, and maildirs (new/ and cur/)."""
from __future__ import annotations

import datetime as dt
import email.utils
from pathlib import Path
from typing import Iterator

from sptui.store.schema import TOKYO


def mail_files(paths) -> Iterator[Path]:
    """Every mail file under the paths: a file itself; in a maildir, new/ and cur/; in a folder, *.eml."""
    for p in map(Path, paths):
        if p.is_file():
            yield p
        elif (p / "new").is_dir() or (p / "cur").is_dir():
            for sub in ("new", "cur"):
                if (p / sub).is_dir():
                    yield from sorted(f for f in (p / sub).iterdir() if f.is_file() and not f.name.startswith("."))
        elif p.is_dir():
            yield from sorted(p.rglob("*.eml"))
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")


def received_at(raw: bytes, path: Path) -> dt.datetime:
    """When the mail arrived: its Date header when it has a zone, else the file's modification time."""
    try:
        head = raw[:16384].decode("ascii", "replace")
        for line in head.splitlines():
            if not line.strip():
                break
            if line.lower().startswith("date:"):
                t = email.utils.parsedate_to_datetime(line[5:].strip())
                if t.tzinfo is not None:
                    return t.astimezone(TOKYO)
    except (TypeError, ValueError, IndexError):
        pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime, TOKYO)
