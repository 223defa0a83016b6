"""The desk's queue and screens driven by Textual's Pilot, read as the terminal gets them (the compositor's lines):
sideways scrolling, the cursor kept on screen, what fits 80×24, keys, escaping, words in both languages."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from conftest import registry_csv, registry_row
from test_tui import drive, terminal_lines, text_of

from sptui.store import Store
from sptui.store import schema as S
from sptui.tui.app import DeskApp, QueueScreen, TriageScreen
from sptui.tui.table import RowTable


def screen_text(app) -> list[str]:
    return [text_of(line) for line in terminal_lines(app)]


@pytest.fixture
def busy(tmp_path, policy):
    """40 open incidents: 6 long overdue (opened two weeks ago), the rest opened within the hour."""
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.import_registry(registry_csv([registry_row(i) for i in range(1, 41)]))
    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    for i in range(1, 41):
        at = now - (dt.timedelta(days=14, minutes=i) if i <= 6 else dt.timedelta(minutes=i))
        s.open_incident(policy, label=f"1234-000-{i:03d}", at=at, summary=f"disk failure on SV{i:04d}", operator="setup")
    yield s
    s.close()


def test_the_column_titles_move_with_the_rows_on_the_terminal(busy, policy):
    """What the terminal shows (not a fresh render of the header): after `l` seven times at 80×24 each title stands
    over its own column."""
    async def steps(app, pilot):
        for _ in range(7):
            await pilot.press("l")
        await pilot.pause()
        return screen_text(app)

    lines = drive(busy, policy, steps, size=(80, 24))
    title = next(n for n, line in enumerate(lines) if "summary" in line or "label no." in line)
    head, row = lines[title], lines[title + 1]
    assert "summary" in head and "disk failure" in row, lines[:4]
    from rich.cells import cell_len

    assert cell_len(head[:head.index("summary")]) == cell_len(row[:row.index("disk failure")])


def test_last_row_is_shown_above_the_horizontal_scrollbar_and_enter_opens_the_row_shown(busy, policy):
    async def steps(app, pilot):
        table = app.screen.query_one(RowTable)
        last = table.rows[-1]
        await pilot.press("G")
        await pilot.pause()
        lines = terminal_lines(app)
        drawn = [n for n, line in enumerate(lines) if last.label in text_of(line)]
        await pilot.press("enter")
        await pilot.pause()
        return last, lines, drawn, (app.screen.kind, app.screen.rid) if isinstance(app.screen, TriageScreen) else None

    last, lines, drawn, opened = drive(busy, policy, steps, size=(80, 24))
    assert drawn, "the last row is not on the screen after G"
    line = lines[drawn[0]]
    assert any(style.reverse for text, style in line if last.label in text or text.strip() in last.label and text.strip())
    assert opened == ("incident", last.id)
    # and the row below it is the horizontal scrollbar, or the count: no row hidden under it
    assert "of 40 shown" in text_of(lines[drawn[0] + 2]) or "of 40 shown" in text_of(lines[drawn[0] + 1])
