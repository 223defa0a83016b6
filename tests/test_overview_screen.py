"""The desk's `:overview` and `:handover` screens and the queue's export key, driven by Pilot on the day of
report_data.py (known figures), read as the terminal gets them."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from report_data import build, t
from test_tui import drive, terminal_lines, text_of

from sptui.store import Store
from sptui.tui import data
from sptui.tui.screens.handover import HandoverScreen
from sptui.tui.screens.overview import OverviewScreen
from sptui.tui.textual_compat import notifications


@pytest.fixture
def day(tmp_path, policy, monkeypatch):
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    ids = build(s, policy)
    monkeypatch.setattr(data, "now", lambda: t(26, 23))  # Thursday night: incident 5's deadline (22:00) has passed
    monkeypatch.setattr(data, "POLL_SECONDS", 3600.0)
    yield s, ids
    s.close()


def screen_text(app) -> str:
    return "\n".join(text_of(line) for line in terminal_lines(app))


def test_overview_says_three_of_five_deadlines_met_at_80_by_24_and_without_colour(day, policy, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    store, _ = day

    async def steps(app, pilot):
        await pilot.press("colon", *"overview", "enter")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        first = screen_text(app)
        await pilot.press("end")  # the rest of the body scrolls into view
        await pilot.pause()
        lower = screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        week = screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        return first, lower, week, type(app.screen).__name__

    first, lower, week, back = drive(store, policy, steps, size=(80, 24))
    assert "Overview — today 2026-11-26 00:00 – 2026-11-27 00:00" in first
    assert "onsite deadlines: 3 of 5 met (2 missed" in first
    assert "late reasons: traffic 1, not-dispatched 1" in first
    assert "median 22.5 min, worst 35 min" in first.replace("\n", " ")
    assert "overdue now: 1 call(s), 1 deadline(s)" in first
    assert "-60..0     1 ████" in lower and "weekday-9h: 5 3 1 1 22.5" in lower  # bars and words, no colour needed
    assert "4 of 6 met" in week and "this week" in week
    assert back == "QueueScreen"


def test_overview_charts_are_sparklines_of_the_hours(day, policy):
    from textual.widgets import Sparkline

    store, _ = day

    async def steps(app, pilot):
        app.push_screen(OverviewScreen())
        await pilot.pause()
        return [list(app.screen.query_one(f"#{k}-chart", Sparkline).data) for k in ("incidents", "alarms")]

    incidents, alarms = drive(store, policy, steps, size=(80, 24))
    assert len(incidents) == 24 and incidents[9] == incidents[18] == 1 and sum(incidents) == 6
    assert sum(alarms) == 3 and alarms[16] == 1


def test_overview_in_japanese(day, policy):
    store, _ = day

    async def steps(app, pilot):
        app.push_screen(OverviewScreen())
        await pilot.pause()
        return screen_text(app)

    text = drive(store, policy, steps, size=(80, 24), lang="ja")
    assert "到着期限: 3 / 5 件達成" in text and "概況 — 今日" in text


def test_handover_screen_lists_the_shift_and_who_owns_what(day, policy, monkeypatch):
    store, ids = day
    from sptui.tz import now

    at = now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)  # after the setup the audit log recorded
    monkeypatch.setattr(data, "now", lambda: at)

    async def steps(app, pilot):
        await pilot.press("colon", *"handover", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HandoverScreen)
        default_since = app.screen.since
        box = app.screen.query_one("#since")
        box.value = ""
        box.focus()
        await pilot.press(*"2000-01-01 00:00", "enter")  # everything recorded since then: the whole setup
        await pilot.pause()
        return default_since, app.screen.shown, screen_text(app)

    since, shown, text = drive(store, policy, steps, size=(100, 40))
    assert since == at - dt.timedelta(hours=8)
    kinds = [e.kind for e in shown.events]
    assert kinds.count("opened") == 6 and kinds.count("dispatched") == 5 and kinds.count("reached") == 2
    assert "6 opened" in text and "left: 6 open incident(s), 1 alarm(s) to call" in text and shown.owners["suzuki"] == [ids[6]]


def test_the_queue_export_key_writes_the_rows_shown_and_says_where(day, policy, tmp_path, monkeypatch):
    store, ids = day
    monkeypatch.setenv("SPTUI_EXPORT_DIR", str(tmp_path / "out"))

    async def steps(app, pilot):
        await pilot.press("slash", *"fan stopped", "enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        return [n.message for n in notifications(app)]

    said = drive(store, policy, steps)
    [path] = (tmp_path / "out").iterdir()
    assert any(f"1 row(s) exported to {path}" in m for m in said), said
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [r["key"] for r in rows] == [f"i{ids[6]}"] and rows[0]["customer"] == "顧客2株式会社"
    assert path.name.startswith("sptui-queue-20261126-230000")  # named by the desk's time
