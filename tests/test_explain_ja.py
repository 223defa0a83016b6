"""`sptui explain --lang ja` is Japanese throughout: outcomes, fields, yes/no, notes (a block's `note-ja`)."""
from __future__ import annotations

import json
import re

import pytest

from sptui.testing import make_case

ENGLISH = ["True", "False", " pass ", " fail ", " warn ", " info ", "dispatch deadline", "in service hours", "note:",
           "does not apply", "verdict", "fee:", "setting recovery", "next contact", "arrange technician", "JPY",
           "what would change"]


@pytest.mark.parametrize("fields", [
    {},  # covered, with a deadline
    {"work.departed_at": "2026-11-26T20:30:00+09:00", "work.completed_at": "2026-11-26T22:10:00+09:00",
     "work.technicians": 2},  # a fee with lines, needs a quote
    {"failure.raid": True, "failure.disks_failed": 1},  # setting recovery
    {"alarm.received_at": "2026-11-27T16:00:00+09:00", "alarm.express_start_on": "2026-01-01",
     "alarm.contact_attempts": [{"at": "2026-11-27T16:10:00+09:00", "reached": False}]},  # a contact
    {"device.country": "SG"},  # not covered: a failing rule, counterfactuals
])
def test_explain_in_japanese_has_no_english_words(run, tmp_path, fields):
    f = tmp_path / "case.json"
    f.write_text(json.dumps(make_case(fields)))
    p = run("explain", f, "--lang", "ja")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    found = [w for w in ENGLISH if w in out]
    assert not found, (found, out)
    assert out.startswith("判定: ") and "注記: " in out and "サービス時間内: " in out


def test_every_note_of_the_shipped_policy_has_a_japanese_note(policy):
    """Each note the shipped policy gives has its `note-ja`, and the notes shown in Japanese hold Japanese text."""
    from conftest import POLICIES

    for f in POLICIES.glob("*.sptp"):
        text = f.read_text(encoding="utf-8")
        assert text.count("\n  note \"") == text.count("\n  note-ja \""), f
    assert len(policy.rt.notes_ja) >= 20
    assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja) for ja in policy.rt.notes_ja.values())


def test_english_explain_is_unchanged_in_its_words(run, tmp_path):
    f = tmp_path / "case.json"
    f.write_text(json.dumps(make_case()))
    p = run("explain", f)
    assert "in service hours: True" in p.stdout and "note: R: " in p.stdout and "dispatch deadline: " in p.stdout
