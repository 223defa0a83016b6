"""Every worked case in ../shared/contract/examples/cases.jsonl gives the expected fields."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import SHARED

CASES_FILE = SHARED / "contract" / "examples" / "cases.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def same_instant(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return dt.datetime.fromisoformat(a) == dt.datetime.fromisoformat(b)


def assert_matches(expect: dict, got: dict) -> None:
    assert got["verdict"] == expect["verdict"]
    assert got["in_service_hours"] == expect["in_service_hours"]
    assert same_instant(expect["dispatch_deadline"], got["dispatch_deadline"])
    if expect["fee"] is None:
        assert got["fee"] is None
    else:
        assert got["fee"] is not None
        for k, v in expect["fee"].items():
            assert got["fee"][k] == v, k
    if expect["setting_recovery"] is None:
        assert got["setting_recovery"] is None
    else:
        assert got["setting_recovery"]["action"] == expect["setting_recovery"]["action"]
    if expect["contact"] is None:
        assert got["contact"] is None
    else:
        assert same_instant(expect["contact"]["next_contact_at"], got["contact"]["next_contact_at"])
        assert got["contact"]["arrange_technician"] == expect["contact"]["arrange_technician"]


def test_the_contract_has_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("n", range(len(CASES)))
def test_worked_case_through_the_python_api(policy, n):
    case = CASES[n]
    assert_matches(case["expect"], policy.decide(case["case"]).to_json())


def test_worked_cases_through_sptui_eval_jsonl(run):
    text = "".join(json.dumps(c["case"]) + "\n" for c in CASES)
    p = run("eval", "--jsonl", "-", input=text)
    assert p.returncode == 0, p.stderr
    out = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(out) == len(CASES)
    for case, got in zip(CASES, out):
        assert_matches(case["expect"], got)
        assert got["schema"] == 1 and got["policy"]["digest"].startswith("sha256:")
        assert all({"rule", "outcome", "cite", "message"} <= set(r) for r in got["reasons"])
