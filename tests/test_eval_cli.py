"""`sptui eval`, `explain`, `fee`, `deadline` as a user runs them; bad input exits 2 naming the field."""
from __future__ import annotations

import json

import pytest


def test_eval_one_case(run, base_case, tmp_path):
    f = tmp_path / "case.json"
    f.write_text(json.dumps(base_case))
    p = run("eval", f)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["verdict"] == "covered"
    assert d["dispatch_deadline"] == "2026-11-30T10:00:00+09:00"
    assert {r["rule"] for r in d["reasons"]} >= {"service-period", "registration-completed", "service-hours"}


def test_eval_array_gives_array_in_order(run, base_case):
    other = dict(base_case, device=dict(base_case["device"], country="SG"))
    p = run("eval", "-", input=json.dumps([base_case, other]))
    assert p.returncode == 0, p.stderr
    assert [d["verdict"] for d in json.loads(p.stdout)] == ["covered", "not-covered"]


def test_eval_messages_in_japanese(run, base_case):
    p = run("eval", "-", "--lang", "ja", input=json.dumps(base_case))
    msgs = " ".join(r["message"] for r in json.loads(p.stdout)["reasons"])
    assert "サービス期間" in msgs


@pytest.mark.parametrize("mutate, field", [
    (lambda c: c["pack"].update(variant="weekend-only"), "pack.variant"),
    (lambda c: c["pack"].update(purchased_on="2024-02-30"), "pack.purchased_on"),
    (lambda c: c.update(at="2026-11-27T17:00:00"), "at"),
    (lambda c: c["device"].pop("country"), "device.country"),
    (lambda c: c.update(work={"departed_at": "2026-11-27T18:00:00+09:00",
                              "completed_at": "2026-11-27T17:00:00+09:00", "technicians": 1}), "work.completed_at"),
    (lambda c: c.update(cause="ex-20"), "cause"),
    (lambda c: c["registration"].update(status="approved"), "registration.status"),
    (lambda c: c["pack"].update(colour="blue"), "pack.colour"),
    (lambda c: c["pack"].update(years=0), "pack.years"),
    (lambda c: c["pack"].update(years=6), "pack.years"),  # a 6-year pack comes only with a plugin's variant
])
def test_bad_input_exits_2_naming_the_field(run, base_case, mutate, field):
    mutate(base_case)
    p = run("eval", "-", input=json.dumps(base_case))
    assert p.returncode == 2
    assert p.stdout == ""  # never a half decision
    assert field in p.stderr


def test_bad_case_in_a_batch_prints_nothing(run, base_case):
    bad = dict(base_case, at="yesterday")
    p = run("eval", "--jsonl", "-", input=json.dumps(base_case) + "\n" + json.dumps(bad) + "\n")
    assert p.returncode == 2 and p.stdout == ""
    assert "case 2" in p.stderr and "at" in p.stderr


def test_not_json_exits_2(run):
    p = run("eval", "-", input="{not json")
    assert p.returncode == 2 and "not JSON" in p.stderr


def test_explain_shows_rules_clauses_and_notes(run, base_case, tmp_path):
    f = tmp_path / "case.json"
    f.write_text(json.dumps(base_case))
    p = run("explain", f)
    assert p.returncode == 0, p.stderr
    assert "service-period" in p.stdout and "第1章 4" in p.stdout
    assert "note: R:" in p.stdout
    assert "does not apply" in p.stdout


def test_fee_calculator_matches_the_worked_example(run):
    p = run("fee", "--depart", "2026-11-27T20:30+09:00", "--complete", "2026-11-27T22:10+09:00", "--format", "json")
    assert p.returncode == 0, p.stderr
    q = json.loads(p.stdout)
    assert q["total_jpy"] == 22500
    assert [(ln["kind"], ln["band"], ln["amount_jpy"]) for ln in q["lines"]] == [
        ("base", "evening", 12000), ("add", "night", 3500), ("add", "night", 3500), ("add", "night", 3500)]
    assert [ln["starts_at"][11:16] for ln in q["lines"][1:]] == ["21:30", "21:45", "22:00"]


def test_fee_rejects_completion_before_departure(run):
    p = run("fee", "--depart", "2026-11-27T20:30+09:00", "--complete", "2026-11-27T20:30+09:00")
    assert p.returncode == 2 and "after the departure" in p.stderr


def test_fee_rejects_naive_time(run):
    p = run("fee", "--depart", "2026-11-27T20:30", "--complete", "2026-11-27T21:30+09:00")
    assert p.returncode == 2 and "naive" in p.stderr


def test_deadline_calculator(run):
    p = run("deadline", "--at", "2026-11-27T17:00+09:00", "--variant", "weekday-9h")
    assert p.returncode == 0 and p.stdout.strip() == "2026-11-30T10:00:00+09:00"
    p = run("deadline", "--at", "2026-11-27T17:00+09:00", "--variant", "weekday-8h")
    assert p.returncode == 2 and "--variant" in p.stderr


def test_explain_says_what_would_change_a_not_covered_verdict(run, base_case, tmp_path):
    base_case["at"] = "2029-04-02T10:00:00+09:00"  # the day after a 5-year period ends
    f = tmp_path / "case.json"
    f.write_text(json.dumps(base_case))
    p = run("explain", f)
    assert "verdict: not-covered" in p.stdout
    assert "verdict covered if the call had come on 2029-03-31 (the last day of the period)" in p.stdout


def test_explain_says_when_off_hours_work_would_be_free(run, base_case, tmp_path):
    base_case["work"] = {"departed_at": "2026-11-27T18:30:00+09:00", "completed_at": "2026-11-27T20:00:00+09:00",
                         "technicians": 2}
    f = tmp_path / "case.json"
    f.write_text(json.dumps(base_case))
    out = run("explain", f).stdout
    assert "fee: 36,000 JPY (18,000 × 2) — needs a quote" in out
    assert "fee none if dispatched at 2026-11-30 08:30 (inside the HW hours)" in out
    assert "fee 18,000 JPY with one technician" in out
    ja = run("explain", f, "--lang", "ja").stdout
    assert "技術者1名であれば: 料金 18,000円" in ja


def test_counterfactuals_are_real_decisions(policy, base_case):
    """Every counterfactual line is backed by deciding the changed case again."""
    from sptui.engine import case_values
    from sptui.explain import _variants, counterfactuals

    base_case["device"]["country"] = "SG"
    case = case_values(policy, base_case)
    d = policy.decide(case)
    lines = counterfactuals(policy, case, d)
    assert "verdict covered if the machine were installed in Japan" in lines
    changed = [c for en, _, c in _variants(policy, case) if en == "if the machine were installed in Japan"][0]
    assert policy.decide(changed).verdict == "covered"
