"""What a coverage run (`sptui test --coverage`) records while the tests' decisions are made, beyond their reasons:
the table rows that matched. Nothing is recorded outside a coverage run (`rows` is None)."""
from __future__ import annotations

import contextlib
from typing import Iterator

rows: set[tuple[str, str, int]] | None = None  # (table, file, line) of each row that matched


@contextlib.contextmanager
def recording_rows() -> Iterator[set[tuple[str, str, int]]]:
    """Record the rows matched inside the block (one coverage run at a time)."""
    global rows
    before, rows = rows, set()
    try:
        yield rows
    finally:
        rows = before
