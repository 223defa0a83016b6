"""The queue's screens in a real terminal (tmux): what `capture-pane -e` shows, cell by cell, with its colours."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import time

import pytest
from rich.cells import cell_len
from conftest import registry_csv, registry_row
from test_desk_terminal import Tmux, pytestmark  # noqa: F401  (tmux, or the skip without it)

from sptui.store import Store
from sptui.testing import tokyo
from sptui.desk import open_incident

LABEL = re.compile(r"\d{4}-\d{3}-\d{3}")


def capture(t: Tmux) -> str:
    return t.screen(escapes=True)


class Cell:
    __slots__ = ("ch", "fg", "bg", "reverse", "bold")

    def __init__(self, ch, fg, bg, reverse, bold):
        self.ch, self.fg, self.bg, self.reverse, self.bold = ch, fg, bg, reverse, bold


def cells_of(captured: str) -> list[list[Cell]]:
    """The screen as tmux holds it: each line's characters with the colours and attributes in force there. tmux
    writes only changes of attributes, so the state carries over from one line to the next."""
    fg = bg = None
    reverse = bold = False
    out = []
    for line in captured.splitlines():
        row: list[Cell] = []
        at = 0
        for m in re.finditer(r"\x1b\[([0-9;:]*)m", line):
            row.extend(Cell(ch, fg, bg, reverse, bold) for ch in line[at:m.start()])
            at = m.end()
            params = (m.group(1) or "0").split(";")
            while params:
                p = params.pop(0)
                if p in ("38", "48"):
                    n = 2 if params[:1] == ["5"] else 4
                    value, params = ";".join(params[:n]), params[n:]
                    fg, bg = (value, bg) if p == "38" else (fg, value)
                elif p in ("0", ""):
                    fg = bg = None
                    reverse = bold = False
                elif p == "1":
                    bold = True
                elif p == "22":
                    bold = False
                elif p == "7":
                    reverse = True
                elif p == "27":
                    reverse = False
                elif p == "39":
                    fg = None
                elif p == "49":
                    bg = None
                elif p.isdigit() and (30 <= int(p) <= 37 or 90 <= int(p) <= 97):
                    fg = p
                elif p.isdigit() and (40 <= int(p) <= 47 or 100 <= int(p) <= 107):
                    bg = p
        row.extend(Cell(ch, fg, bg, reverse, bold) for ch in line[at:])
        out.append(row)
    return out


def text(row: list[Cell]) -> str:
    return "".join(c.ch for c in row)


def at(row: list[Cell], needle: str) -> list[Cell]:
    start = text(row).index(needle)
    return row[start:start + len(needle)]


@pytest.fixture
def busy_desk(tmp_path, policy):
    """A desk of 40 open incidents: 6 long overdue (opened two weeks ago), the rest opened within the hour."""
    db = tmp_path / "desk.db"
    s = Store.open(f"sqlite:///{db}")
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 41)]))
    now = dt.datetime.now(tokyo("2026-01-01 00:00").tzinfo).replace(microsecond=0)
    for i in range(1, 41):
        at_ = now - (dt.timedelta(days=14, minutes=i) if i <= 6 else dt.timedelta(minutes=i))
        open_incident(s, policy, label=f"1234-000-{i:03d}", at=at_, summary=f"disk failure on SV{i:04d}",
                        operator="setup")
    s.close()
    return db


def open_desk(sptui_bin, db, *, width=160, height=48, lang="en") -> Tmux:
    t = Tmux([sptui_bin, "--db", str(db), "--operator", "tmux", "--lang", lang], width=width, height=height)
    t.wait_for("shown")
    time.sleep(0.5)
    return t


def test_every_row_of_the_queue_carries_its_verdict_colour_and_the_red_overdue(busy_desk, sptui_bin):
    t = open_desk(sptui_bin, busy_desk)
    try:
        screen = cells_of(capture(t))
    finally:
        t.kill()
    rows = [r for r in screen if LABEL.search(text(r))]
    assert len(rows) >= 30
    overdue = [r for r in rows if "overdue" in text(r)]
    assert len(overdue) == 6
    for r in rows:
        if r[LABEL.search(text(r)).start()].reverse:
            continue  # the cursor row: drawn reversed (its colours were always there)
        assert {c.fg for c in at(r, "covered")} - {None}, text(r)  # the verdict's colour, on every row
        assert all(c.fg == at(r, "covered")[0].fg for c in at(r, "covered"))
        label = at(r, LABEL.search(text(r)).group())
        assert at(r, "covered")[0].fg != label[0].fg  # a colour of its own, not the row's text colour
    reds = {at(r, "overdue")[0].fg for r in overdue if not r[LABEL.search(text(r)).start()].reverse}
    assert len(reds) == 1 and None not in reds  # one red, on every overdue row
    header = next(r for r in screen if text(r).lstrip().startswith("kind"))
    assert all(c.bold for c in at(header, "kind"))  # the column titles bold, as written


def test_the_column_titles_scroll_sideways_with_the_rows_at_80_by_24(busy_desk, sptui_bin):
    t = open_desk(sptui_bin, busy_desk, width=80, height=24)
    try:
        before = t.screen().splitlines()
        for _ in range(7):
            t.keys("l")
        time.sleep(0.5)
        after = t.screen().splitlines()
    finally:
        t.kill()
    head = next(n for n, line in enumerate(before) if line.startswith("kind"))
    title, first_row = after[head], after[head + 1]
    assert not title.startswith("kind")  # the titles moved with the rows …
    # … and each title stands over its own column: the summary's title above the summary
    assert "summary" in title and "disk failure" in first_row
    column = lambda line, word: cell_len(line[:line.index(word)])  # noqa: E731  (in cells: 顧客 is 4 wide)
    assert column(title, "summary") == column(first_row, "disk failure"), (title, first_row)


def test_in_the_browser_every_row_carries_its_verdict_colour_too(busy_desk, sptui_bin):
    """`sptui serve`: the screen the browser's terminal is sent has each verdict in its colour, every row (each
    `covered` right after a colour change), not only the cursor row's."""
    import asyncio
    import socket

    import aiohttp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sptui_bin, "serve", "--port", str(port), "--db", str(busy_desk), "--lang", "en"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    async def session() -> bytes:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # the server may still be starting
                try:
                    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=160&height=48")
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.3)
            else:
                raise AssertionError("sptui serve did not answer")
            seen = b""
            deadline = time.monotonic() + 60
            try:
                while b"of 40 shown" not in seen or seen.count(b"covered") < 30:
                    left = deadline - time.monotonic()
                    assert left > 0, seen[-400:]
                    msg = await ws.receive(timeout=left)
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        seen += msg.data
                    elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
            finally:
                await ws.close()
            return seen

    try:
        seen = asyncio.run(session())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    words = seen.count(b"covered")
    coloured = len(re.findall(rb"\x1b\[[0-9;]*m(?:\x1b\[[0-9;]*m)*covered", seen))
    assert words >= 30 and coloured == words, (words, coloured)
