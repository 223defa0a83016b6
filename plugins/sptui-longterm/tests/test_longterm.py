"""The long-term pack plugin: loaded by sptui.testing, and installed (sptui eval, registry import, the desk)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sptui_longterm
from sptui.errors import CaseError
from sptui.testing import registry_csv, registry_row, tokyo

SPTUI = str(Path(sys.executable).parent / "sptui")
PAST_RETENTION = {"device.manufacture_ended_on": "2018-03-31", "at": "2026-11-27T10:00:00+09:00"}


@pytest.fixture(scope="module")
def policy():
    from sptui.testing import load_policy_with

    return load_policy_with(sptui_longterm)


def test_both_long_term_variants_join_the_policy(policy):
    for name in sptui_longterm.VARIANTS:
        assert policy.rt.variants[name].years == (6, 7)


@pytest.mark.parametrize("years", [6, 7])
def test_a_long_term_pack_goes_on_past_the_parts_retention(policy, sptui_case, years):
    d = policy.decide(sptui_case(PAST_RETENTION, **{"pack.variant": "longterm-weekday-9h", "pack.years": years}))
    assert d.verdict == "covered"
    [r] = [r for r in d.reasons if r.rule == "longterm-past-retention"]
    assert r.outcome == "info" and "第1章 4" in r.cite
    assert "HW maintenance goes on" in r.message_en


def test_the_same_machine_on_a_5_year_pack_is_not_covered(policy, sptui_case):
    d = policy.decide(sptui_case(PAST_RETENTION, **{"pack.variant": "weekday-9h", "pack.years": 5}))
    assert d.verdict == "not-covered"
    assert any(r.rule == "parts-retention" and r.outcome == "fail" and r.effect == "not-covered" for r in d.reasons)


def test_within_retention_the_rule_passes_quietly(policy, sptui_case):
    d = policy.decide(sptui_case({"device.manufacture_ended_on": "2025-01-31"},
                                 **{"pack.variant": "longterm-24x7", "pack.years": 6}))
    assert d.verdict == "covered"
    assert [r.outcome for r in d.reasons if r.rule == "longterm-past-retention"] == ["pass"]


def test_a_long_term_pack_is_sold_for_6_or_7_years_only(policy, sptui_case):
    with pytest.raises(CaseError, match="sold for 6, 7 years, not 5"):
        policy.decide(sptui_case(**{"pack.variant": "longterm-weekday-9h", "pack.years": 5}))


def test_the_long_term_hours_are_the_weekday_packs(policy, sptui_case):
    # a notice at 16:45 on a Friday: 45 minutes that day, 75 on Monday from 08:30, as on weekday-9h
    case = sptui_case(at="2026-11-27T16:45:00+09:00", **{"pack.variant": "longterm-weekday-9h", "pack.years": 6})
    base = sptui_case(at="2026-11-27T16:45:00+09:00")
    assert policy.decide(case).dispatch_deadline == policy.decide(base).dispatch_deadline == tokyo("2026-11-30 09:45")


# ---- installed: the command line and the desk ------------------------------------------------------------------
def sptui(*args, input=None, env=None):
    return subprocess.run([SPTUI, *map(str, args)], capture_output=True, text=True, input=input, timeout=120,
                          env=dict(os.environ, **(env or {})))


def test_installed_sptui_eval_accepts_a_6_year_pack(sptui_case):
    case = sptui_case(PAST_RETENTION, **{"pack.variant": "longterm-weekday-9h", "pack.years": 6})
    p = sptui("eval", "-", input=json.dumps(case))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["verdict"] == "covered"
    assert any(r["rule"] == "longterm-past-retention" for r in out["reasons"])
    # without the plugin the same case is bad input, named by its field
    p = sptui("eval", "-", input=json.dumps(case), env={"SPTUI_DISABLE_PLUGINS": "longterm"})
    assert p.returncode == 2 and "pack.variant" in p.stderr


def test_installed_the_shipped_policy_checks_with_the_plugin_and_lists_it():
    from sptui.testing import shipped_policy

    p = sptui("check", shipped_policy())
    assert p.returncode == 0, p.stdout + p.stderr
    p = sptui("plugins", "-v")
    assert "longterm 0.1.0 (installed" in p.stdout and "sptui_variants" in p.stdout


def test_the_desk_shows_a_long_term_machine(policy, tmp_path):
    from sptui.store import Store
    from sptui.tui.app import DeskApp
    from sptui.tui.screens.triage import TriageScreen

    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    row = registry_row(1, variant="longterm-weekday-9h", years=7, manufacture_ended_on="2018-03-31")
    from sptui.desk import open_incident
    from sptui.desk.registry import sold_terms

    store.registry.import_csv(registry_csv([row]), variants=sold_terms(policy))
    open_incident(store, policy, label=row["label_number"], at=dt.datetime.now(tokyo("2026-01-01 00:00").tzinfo),
                  summary="fan alarm", operator="test")

    async def main():
        app = DeskApp(store, policy, lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"1234-000-001", "enter", "enter")
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)
            text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
            reasons = [str(c) for r in range(app.screen.query_one("DataTable").row_count)
                       for c in app.screen.query_one("DataTable").get_row_at(r)]
            return text, reasons

    try:
        text, reasons = asyncio.run(main())
    finally:
        store.close()
    assert "longterm-weekday-9h" in text and "Long-term pack" in text
    assert "longterm-past-retention" in " ".join(reasons)
