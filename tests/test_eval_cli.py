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


def test_bad_case_in_an_array_prints_nothing(run, base_case):
    bad = dict(base_case, at="yesterday")
    p = run("eval", "-", input=json.dumps([base_case, bad]))
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
    assert p.returncode == 2 and "before the departure" in p.stderr


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
    from sptui.policy.decide import case_values
    from sptui.explanation import _variants, counterfactuals

    base_case["device"]["country"] = "SG"
    case = case_values(policy, base_case)
    d = policy.decide(case)
    lines = counterfactuals(policy, case, d)
    assert "verdict covered if the machine were installed in Japan" in lines
    changed = [c for en, _, c in _variants(policy, case) if en == "if the machine were installed in Japan"][0]
    assert policy.decide(changed).verdict == "covered"


# ---- bad input: one line naming the file or the field, exit 2, never a traceback (issue 17, items 12 and 14) --------
def invoke(*args, input=None):
    """The CLI in this process (click's runner): (exit code, stdout, stderr); an exception that escaped is re-raised."""
    from click.testing import CliRunner

    from sptui.cli import main

    r = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def _case_file(tmp_path, case) -> str:
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case), encoding="utf-8")
    return str(f)


def _mkfifo(tmp_path):
    import os

    f = tmp_path / "case.json"
    os.mkfifo(f)
    return str(f)


BAD_FILES = {
    "missing": (lambda tmp: str(tmp / "nope.json"), "no such file"),
    "folder": (lambda tmp: str(tmp), "not a regular file"),
    "fifo": (_mkfifo, "not a regular file"),
    "not-utf8": (lambda tmp: (tmp / "c.json").write_bytes(b'{"at": "\xff"}') and str(tmp / "c.json"), "byte 8"),
    "deep": (lambda tmp: (tmp / "c.json").write_text("[" * 100_000 + "]" * 100_000) and str(tmp / "c.json"),
             "nested too deeply"),
    "long-number": (lambda tmp: (tmp / "c.json").write_text('{"at": ' + "7" * 5000 + "}") and str(tmp / "c.json"),
                    "digits"),
}


@pytest.mark.parametrize("command", ["eval", "explain"])
@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_case_file_that_cannot_be_read_exits_2_with_one_line_naming_it(tmp_path, command, kind):
    make, said = BAD_FILES[kind]
    path = make(tmp_path)
    code, out, err = invoke(command, path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and said in err and str(path) in err, err


OUT_OF_RANGE = {
    "year-1-plus-14": ("at", "0001-01-01T00:00:00+14:00", "1900–2999"),  # before year 1 in UTC
    "year-9999-minus-12": ("at", "9999-12-31T23:00:00-12:00", "1900–2999"),  # past year 9999 in UTC
    "purchase-9999": ("device.purchased_on", "9999-12-31", "1900–2999"),  # its period would end past 9999
    "negative-disks": ("failure.disks_failed", -1, "from 0 to 999"),
    "huge-technicians": ("work.technicians", 10 ** 400, "from 1 to 99"),
    "4000-digit-years": ("pack.years", 10 ** 4000, "from 1 to 99"),
    "lone-surrogate": ("device.country", "J\ud800P", "lone surrogates"),  # would not print as UTF-8
    "escape-sequence": ("device.country", "J\x1b]0;owned\x07P", "control characters"),
    "a-megabyte": ("component.category", "x" * 1_000_000, "1 to 100"),
}
RECORDS = {"failure": {"raid": True, "disks_failed": 1},
           "work": {"departed_at": "2026-11-27T20:00:00+09:00", "completed_at": "2026-11-27T21:00:00+09:00"},
           "component": {"kind": "option", "category": "camera", "connection": "direct"}}


@pytest.mark.parametrize("kind", sorted(OUT_OF_RANGE))
@pytest.mark.parametrize("command", ["eval", "explain"])
def test_a_case_value_out_of_its_range_exits_2_naming_its_field(command, kind):
    from sptui.testing import make_case

    field, value, said = OUT_OF_RANGE[kind]
    record = field.split(".")[0]
    case = make_case({record: RECORDS[record]} if record in RECORDS else {}, **{field: value})
    code, out, err = invoke(command, "-", input=json.dumps(case))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {field}: ") and said in err, err
    assert len(err) < 400  # the value is quoted cut short


@pytest.mark.parametrize("option, value", [("--depart", "0001-01-01T00:00+14:00"), ("--complete", "9999-12-31T23:00-12:00")])
def test_fee_refuses_far_times_naming_the_option(option, value):
    times = {"--depart": "2026-11-27T20:30+09:00", "--complete": "2026-11-27T22:10+09:00", option: value}
    code, out, err = invoke("fee", *[x for kv in times.items() for x in kv])
    assert code == 2 and out == "" and err.startswith(f"error: {option}: ") and "1900–2999" in err


def test_deadline_refuses_a_far_notice_naming_the_option():
    code, out, err = invoke("deadline", "--at", "9999-12-31T23:00-12:00", "--variant", "weekday-9h")
    assert code == 2 and out == "" and err.startswith("error: --at: ") and "1900–2999" in err


def test_a_work_longer_than_the_policy_prices_is_refused_naming_work(base_case):
    # 30 days from departure to completion: the shipped policy prices one visit of at most 7 days
    base_case["work"] = {"departed_at": "2026-11-27T20:00:00+09:00", "completed_at": "2026-12-27T20:00:00+09:00"}
    code, out, err = invoke("eval", "-", input=json.dumps(base_case))
    assert code == 2 and out == ""
    assert err.startswith("error: work: ") and "at most 7 days" in err and "separate quote" in err


def test_fee_refuses_a_work_longer_than_the_policy_prices():
    code, out, err = invoke("fee", "--depart", "2026-11-27T20:30+09:00", "--complete", "2026-12-27T20:30+09:00")
    assert code == 2 and out == "" and "at most 7 days" in err


def test_the_longest_work_the_policy_prices_has_a_bounded_fee(base_case):
    seven_days = {"departed_at": "2026-11-27T20:00:00+09:00", "completed_at": "2026-12-04T20:00:00+09:00"}
    code, out, err = invoke("eval", "-", input=json.dumps(dict(base_case, work=seven_days)))
    assert code == 0, err
    fee = json.loads(out)["fee"]
    assert len(fee["lines"]) == 1 + (7 * 24 * 60 - 60) // 15  # the base, then 668 blocks of 15 minutes


def test_fee_quote_refuses_a_long_work_before_making_its_lines(policy):
    import time

    from sptui.evaluators.fees import FeeError, fee_quote
    from sptui.testing import tokyo

    start = time.perf_counter()
    with pytest.raises(FeeError, match="at most 7 days"):  # (the desk's dispatch dialog quotes as times are typed)
        fee_quote(policy, tokyo("2026-11-27 20:30"), tokyo("2056-11-27 20:30"))
    assert time.perf_counter() - start < 0.5


def test_jsonl_lines_end_at_newlines_only(base_case):
    # U+2028 is a line break to str.splitlines, and JSON text may hold it raw inside a string
    case = json.dumps(dict(base_case, device=dict(base_case["device"], country="SG\u2028")), ensure_ascii=False)
    code, out, err = invoke("eval", "--jsonl", "-", input=case + "\n")
    assert code == 2 and [json.loads(x) for x in out.splitlines()] == [
        {"line": 1, "field": "device.country", "error": json.loads(out)["error"]}]
    assert "not JSON" not in err and "device.country" in err


def test_an_unknown_field_is_named_with_its_control_characters_escaped(base_case):
    base_case["pack"]["\x1b]0;owned\x07" + "k" * 500] = 1
    code, out, err = invoke("eval", "-", input=json.dumps(base_case))
    assert code == 2 and "\x1b" not in err and err.startswith("error: pack.'\\x1b]0;owned\\x07kkk") and len(err) < 200


def test_explaining_a_case_in_python_takes_the_case_as_eval_reads_it(run, policy, base_case, tmp_path):
    """sptui.explain(policy, case) with the JSON-like case a Python user has (issue 18: `Policy.explain(raw_case)`
    crashed, the counterfactuals reading a raw case as a parsed one): the text `sptui explain` prints, every
    counterfactual included; a bad case is a CaseError naming its field."""
    import sptui

    base_case["at"] = "2029-04-02T10:00:00+09:00"  # the day after a 5-year period ends
    f = tmp_path / "case.json"
    f.write_text(json.dumps(base_case))
    text = sptui.explain(policy, base_case)
    assert "verdict covered if the call had come on 2029-03-31 (the last day of the period)" in text
    assert text + "\n" == run("explain", f).stdout
    assert sptui.explain(policy, base_case, lang="ja") + "\n" == run("explain", f, "--lang", "ja").stdout
    base_case["pack"]["years"] = "five"
    with pytest.raises(sptui.CaseError) as e:
        sptui.explain(policy, base_case)
    assert e.value.field == "pack.years"


def test_explain_tries_the_longest_term_the_policy_sells_the_variant_for(policy, base_case):
    """The what-if axes come from the policy: a 3-year weekday-9h pack past its period would be covered on the
    longest term the policy's variant is sold for (years 1, 3, 5, 7), a real decision on the changed case."""
    import sptui
    from sptui.explanation import counterfactuals
    from sptui.policy.decide import case_values

    base_case["pack"]["years"] = 3
    base_case["at"] = "2027-06-01T10:00:00+09:00"  # a 3-year period from 2024-04-01 has ended
    case = case_values(policy, base_case)
    d = policy.decide(case)
    assert d.verdict == "not-covered"
    assert "verdict covered with a 7-year pack" in counterfactuals(policy, case, d)
    assert policy.decide(case.changed(pack__years=max(policy.variants["weekday-9h"].years))).verdict == "covered"
    assert "7年のパックであれば: 判定は 対象" in sptui.explain(policy, base_case, lang="ja")  # (the verdict in Japanese)
