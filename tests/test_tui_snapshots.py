"""The desk's screens as pictures (pytest-textual-snapshot): the queue and an incident's triage, at 80×24 and
160×48, in Japanese and English, and both without colour (NO_COLOR). Textual is pinned (pyproject), the clock frozen, the data fixed, so a
change in what an operator sees shows up as a changed picture (`pytest --snapshot-update` to accept it).
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from conftest import registry_csv, registry_row
from intake_util import JST, alarm

import sptui.tui.app as tui_app
from sptui.tui import data
from sptui.intake.ingest import parse
from sptui.store import Store
from sptui.store import schema as S
from sptui.desk import file_mails, open_incident

NOW = dt.datetime(2026, 11, 27, 16, 45, tzinfo=JST)  # a Friday, a quarter before the end of service hours


@pytest.fixture
def fixed_desk(tmp_path, policy, monkeypatch):
    monkeypatch.setattr(data, "now", lambda: NOW)
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    rows = [registry_row(i) for i in range(1, 5)]
    rows[1]["customer_organisation"] = "[bold]Acme[/]"
    s.registry.import_csv(registry_csv(rows))
    for i, minutes in ((1, 5), (2, 40), (3, 100)):
        open_incident(s, policy, label=f"1234-000-{i:03d}", at=NOW - dt.timedelta(minutes=minutes),
                        summary=f"RAID 縮退 on SV{i:04d}", operator="setup")
    raw = alarm("SV0004", NOW - dt.timedelta(minutes=3), message_id="snap@sv4")
    file_mails(s, policy, [(raw, parse(raw), "smtp:192.0.2.10", NOW - dt.timedelta(minutes=2))])
    with s.db.write() as conn:  # the records' own times (written by the clock of the test run) fixed too
        conn.execute(sa.update(S.incident_events).values(at=NOW - dt.timedelta(minutes=1)))
    yield s
    s.close()


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_queue(snap_compare, fixed_desk, policy, lang, size):
    app = tui_app.DeskApp(fixed_desk, policy, lang=lang, operator="sato")
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_triage(snap_compare, fixed_desk, policy, lang, size):
    app = tui_app.DeskApp(fixed_desk, policy, lang=lang, operator="sato")

    async def open_incident(pilot):
        await pilot.press("slash", *"SV0002", "enter", "enter")
        for _ in range(100):  # its counterfactuals are worked out off the UI thread
            await pilot.pause(0.05)
            if str(app.screen.query_one("#whatif").render()).strip():
                break

    assert snap_compare(app, terminal_size=size, run_before=open_incident)


async def _open_incident(app, pilot):
    await pilot.press("slash", *"SV0002", "enter", "enter")
    for _ in range(100):
        await pilot.pause(0.05)
        if str(app.screen.query_one("#whatif").render()).strip():
            break


@pytest.mark.parametrize("screen", ["queue", "triage"])
def test_without_colour(snap_compare, fixed_desk, policy, monkeypatch, screen):
    """NO_COLOR: greys only; the verdicts are words, the cursor rows reversed."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = tui_app.DeskApp(fixed_desk, policy, lang="en", operator="sato")
    run_before = (lambda pilot: _open_incident(app, pilot)) if screen == "triage" else None
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
