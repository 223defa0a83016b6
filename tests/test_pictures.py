"""The pictures in the README and docs/desk.md (docs/img/*.svg) are the desk as it is: this test makes them again —
the queue, an incident's triage, the overview and the handover, on the day of report_data.py with the desk's clock
and every recorded time fixed — and fails if a committed one differs (stale). To accept a change on purpose:

    SPTUI_UPDATE_PICTURES=1 .venv/bin/python -m pytest -q -n 0 tests/test_pictures.py
"""
from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from report_data import build, t

from sptui.store import Store
from sptui.store import schema as S
from sptui.tui import data
from sptui.tui.app import DeskApp
from sptui.tui.screens.handover import HandoverScreen
from sptui.tui.screens.overview import OverviewScreen

PICTURES = Path(__file__).resolve().parents[1] / "docs" / "img"
NAMES = ("queue", "triage", "overview", "handover")
SIZE = (100, 30)
NOW = t(26, 21, 30)  # Thursday evening: incident 5 has half an hour left, alarm C's call is overdue
_ID = re.compile(r"terminal-\d+")


def normalised(svg: str) -> str:
    """What may differ between two runs that show the same screen: rich's id for the picture (its CSS classes)."""
    return _ID.sub("terminal", svg)


@pytest.fixture
def fixed_day(tmp_path, policy, monkeypatch):
    monkeypatch.setattr(data, "now", lambda: NOW)
    monkeypatch.setattr(data, "POLL_SECONDS", 3600.0)
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    build(s, policy)
    with s.db.write() as conn:  # the records' own times (the test run's clock) fixed too
        conn.execute(sa.update(S.incident_events).values(at=t(26, 20, 5)))
        conn.execute(sa.update(S.audit).values(at=t(26, 20, 5)))
        conn.execute(sa.update(S.incidents).values(updated_at=t(26, 20, 5)))
    yield s
    s.close()


def make_pictures(store, policy) -> dict[str, str]:
    async def main():
        app = DeskApp(store, policy, lang="en", operator="sato")
        out = {}
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            out["queue"] = app.export_screenshot(title="sptui: the queue")
            await pilot.press("slash", *"fan stopped", "enter", "enter")
            for _ in range(200):  # the counterfactuals are worked out off the UI thread
                await pilot.pause(0.05)
                if str(app.screen.query_one("#whatif").render()).strip():
                    break
            await pilot.pause()
            out["triage"] = app.export_screenshot(title="sptui: an incident's triage")
            await pilot.press("escape", "escape")
            app.push_screen(OverviewScreen())
            await pilot.pause()
            out["overview"] = app.export_screenshot(title="sptui: :overview")
            app.pop_screen()
            app.push_screen(HandoverScreen(since=t(26, 8)))
            await pilot.pause()
            out["handover"] = app.export_screenshot(title="sptui: :handover")
        return out
    return asyncio.run(main())


def test_the_pictures_of_the_desk_are_current(fixed_day, policy):
    made = make_pictures(fixed_day, policy)
    if os.environ.get("SPTUI_UPDATE_PICTURES"):
        PICTURES.mkdir(parents=True, exist_ok=True)
        for name, svg in made.items():
            (PICTURES / f"{name}.svg").write_text(svg, encoding="utf-8")
    again = make_pictures(fixed_day, policy)
    assert {n: normalised(s) for n, s in again.items()} == {n: normalised(s) for n, s in made.items()}, \
        "two runs drew different pictures: something on screen is not fixed"
    stale = [name for name in NAMES if not (PICTURES / f"{name}.svg").is_file()
             or normalised((PICTURES / f"{name}.svg").read_text(encoding="utf-8")) != normalised(made[name])]
    assert not stale, (f"stale: {', '.join(f'docs/img/{n}.svg' for n in stale)}: the desk looks different now; run "
                       "SPTUI_UPDATE_PICTURES=1 .venv/bin/python -m pytest -q -n 0 tests/test_pictures.py")
    readme = (PICTURES.parents[1] / "README.md").read_text(encoding="utf-8")
    guide = (PICTURES.parents[1] / "docs" / "desk.md").read_text(encoding="utf-8")
    assert all(f"docs/img/{name}.svg" in readme for name in ("queue", "triage", "overview"))
    assert all(f"img/{name}.svg" in guide for name in NAMES)


def test_the_committed_pictures_show_what_the_figures_say():
    import html

    def text(name: str) -> str:
        svg = (PICTURES / f"{name}.svg").read_text(encoding="utf-8")
        return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")

    assert "onsite deadlines: 3 of 4 met (1 missed, 1 pending" in text("overview")
    assert "overdue 5:30:00" in text("queue") and "0:30:00" in text("queue")
    assert "fee: 18,000円" in text("triage")
