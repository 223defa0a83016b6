"""The extended-hours variant plugin: its own calendar, hours and fee table, and its block kind's schema."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sptui_extended_hours
from sptui.testing import load_policy_with, shipped_policy, tokyo

SPTUI = str(Path(sys.executable).parent / "sptui")
EXT = {"pack.variant": "mon-sat-20h", "pack.years": 3}


@pytest.fixture(scope="module")
def policy():
    return load_policy_with(sptui_extended_hours)


@pytest.mark.parametrize("at, inside", [
    ("2026-11-28T19:59:59+09:00", True),   # Saturday, a second before the close
    ("2026-11-28T20:00:00+09:00", False),  # Saturday 20:00: the window is half-open
    ("2026-11-28T08:30:00+09:00", True),
    ("2026-11-29T10:00:00+09:00", False),  # Sunday
    ("2026-11-23T10:00:00+09:00", True),   # 勤労感謝の日, a Monday: public holidays are worked on this variant
    ("2026-12-31T10:00:00+09:00", False),  # its own calendar: 31 Dec - 3 Jan closed
    ("2027-01-04T10:00:00+09:00", True),
])
def test_hw_hours_are_mon_sat_0830_2000_on_its_own_calendar(policy, sptui_case, at, inside):
    assert policy.decide(sptui_case(EXT, at=at)).in_service_hours is inside


def test_the_shipped_weekday_pack_is_unchanged(policy, sptui_case):
    assert policy.decide(sptui_case(at="2026-11-28T10:00:00+09:00")).in_service_hours is False  # Saturday


def test_the_deadline_runs_on_its_hours(policy, sptui_case):
    # Saturday 19:00: one service hour that day, Sunday closed, the second hour Monday from 08:30
    d = policy.decide(sptui_case(EXT, at="2026-11-28T19:00:00+09:00"))
    assert d.dispatch_deadline == tokyo("2026-11-30 09:30")


def work(dep: str, done: str) -> dict:
    return {"work.departed_at": dep, "work.completed_at": done}


def test_off_hours_work_is_charged_by_its_own_fee_table(policy, sptui_case):
    d = policy.decide(sptui_case(EXT, at="2026-11-28T18:00:00+09:00",
                                 **work("2026-11-28T21:00:00+09:00", "2026-11-28T22:30:00+09:00")))
    lines = [(ln.kind, ln.band, ln.amount_jpy) for ln in d.fee.lines]
    assert lines == [("base", "evening", 13_000), ("add", "evening", 3_200), ("add", "evening", 3_200)]
    assert d.fee.total_jpy == 19_400
    # the same work on the weekday pack is charged by 別表-1, where 21:00 is already night (14,000 + 2 × 3,500)
    d = policy.decide(sptui_case(at="2026-11-28T18:00:00+09:00",
                                 **work("2026-11-28T21:00:00+09:00", "2026-11-28T22:30:00+09:00")))
    assert d.fee.total_jpy == 21_000


def test_a_saturday_evening_dispatch_inside_its_hours_is_free(policy, sptui_case):
    d = policy.decide(sptui_case(EXT, at="2026-11-28T18:00:00+09:00",
                                 **work("2026-11-28T19:00:00+09:00", "2026-11-28T20:30:00+09:00")))
    assert d.fee is None
    assert any(r.rule == "fee" and "no fee" in r.message_en for r in d.reasons)


# ---- the plugin's block kind, checked by `sptui check` against its schema ---------------------------------------
def sptui(*args, input=None, env=None):
    return subprocess.run([SPTUI, *map(str, args)], capture_output=True, text=True, input=input, timeout=120,
                          env=dict(os.environ, **(env or {})))


BROKEN = """\
variant-fees bad {
  cite 別表-1
  variants mon-sat-20x
  bandz ext-fee-band
}

variant-fees worse {
  cite 別表-1
  variants 24x7
  bands exclusions
}
"""


def test_sptui_check_validates_the_plugins_block_against_its_schema(tmp_path):
    f = tmp_path / "broken.sptp"
    f.write_text(BROKEN, encoding="utf-8")
    p = sptui("check", "--format", "json", shipped_policy(), f)
    assert p.returncode == 1
    got = {(d["code"], d["line"], d["col"]) for d in json.loads(p.stdout)["diagnostics"] if d["file"] == str(f)}
    assert got == {("E032", 1, 1), ("E070", 3, 12), ("E031", 4, 3), ("E065", 10, 9)}
    p = sptui("check", shipped_policy(), f)
    assert f"{f}:3:12: error[E070]: no variant named `mon-sat-20x`" in p.stdout
    assert "did you mean `mon-sat-20h`?" in p.stdout
    assert "the table `exclusions` lacks output(s) band, base, add" in p.stdout


def test_installed_the_desk_calculators_know_the_variant():
    p = sptui("fee", "--variant", "mon-sat-20h", "--depart", "2026-11-28T23:30+09:00", "--complete", "2026-11-29T00:30+09:00")
    assert p.returncode == 0, p.stderr
    assert "night" in p.stdout and "15,000円" in p.stdout
    p = sptui("deadline", "--variant", "mon-sat-20h", "--at", "2026-11-28T19:00+09:00")
    assert p.returncode == 0, p.stderr
    assert "2026-11-30" in p.stdout and "09:30" in p.stdout


def test_without_the_plugin_its_variant_is_unknown_and_the_shipped_policy_still_checks(sptui_case):
    env = {"SPTUI_DISABLE_PLUGINS": "extended-hours"}
    p = sptui("eval", "-", input=json.dumps(sptui_case(EXT)), env=env)
    assert p.returncode == 2 and "unknown variant 'mon-sat-20h'" in p.stderr
    assert sptui("check", shipped_policy(), env=env).returncode == 0


def test_the_desks_dispatch_form_quotes_by_the_variants_own_fee_table(policy, tmp_path):
    import asyncio
    import datetime as dt

    from textual.widgets import Input, Static

    from sptui.store import Store
    from sptui.desk import open_incident
    from sptui.desk.registry import sold_terms
    from sptui.testing import registry_csv, registry_row
    from sptui.tui.app import DeskApp
    from sptui.tui.screens.dispatch import DispatchModal
    from sptui.tui.screens.triage import TriageScreen

    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    row = registry_row(1, variant="mon-sat-20h", years=3)
    store.registry.import_csv(registry_csv([row]), variants=sold_terms(policy))
    open_incident(store, policy, label=row["label_number"], at=dt.datetime.now(tokyo("2026-01-01 00:00").tzinfo),
                  summary="disk", operator="test")

    async def main():
        app = DeskApp(store, policy, lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *row["label_number"], "enter", "enter")
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)
            pack = str(app.screen.query_one("#machine", Static).render())
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, DispatchModal)
            app.screen.query_one("#departed", Input).value = "2026-11-28 21:00"
            app.screen.query_one("#completed", Input).value = "2026-11-28 22:30"
            await pilot.pause()
            return pack, str(app.screen.query_one("#fee", Static).render())

    try:
        pack, fee = asyncio.run(main())
    finally:
        store.close()
    assert "mon-sat-20h (Mon–Sat extended hours)" in pack
    assert "19,400円" in fee  # 13,000 + 2 × 3,200 by its own table; 別表-1 would say 21,000
