"""Decisions run as generated Python: expression semantics (null propagation), memoised calls, rules
split into several functions, Reasons made on first read, and the generated case reader's checks."""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sptui.errors import CaseError
from sptui.model.case import FIELDS, parse_case
from conftest import check

from conftest import POLICIES

# each rule: an expression, and the outcome for the base case (17:00 Fri 2026-11-27, hw, no agreed end,
# no failure, no work, a body component); `info` is on-fail info, i.e. the require was false
EXPRESSIONS = [
    ("registration.agreed_end_on < 2030-01-01", "info"),            # ordered with null: false
    ("not (registration.agreed_end_on < 2030-01-01)", "pass"),
    ("registration.agreed_end_on >= registration.completed_on", "info"),
    ("registration.agreed_end_on + 30 days == null", "pass"),       # arithmetic with null: null
    ("registration.agreed_end_on - 3 months == null", "pass"),
    ("failure.raid", "info"),                                       # a null condition counts as false
    ("not failure.raid", "pass"),
    ("component.category not in {printer, disk-array}", "pass"),
    ("component.category in {printer, disk-array}", "info"),
    ("work.departed_at in 08:30-17:30", "info"),                    # window with null: false
    ("time_of(at) in 08:30-17:30", "pass"),
    ("time_of(at) in 17:30-21:00", "info"),
    ("date(at) == 2026-11-27", "pass"),
    ("add_years(device.purchased_on, pack.years) == 2029-04-01", "pass"),
    ("add_months(device.purchased_on, 1) == 2024-05-01", "pass"),
    ("device.purchased_on + 30 days == 2024-05-01", "pass"),
    ("device.purchased_on - 1 year == 2023-04-01", "pass"),
    ("at - 2h == 2026-11-27T15:00+09:00", "pass"),
    ("days_between(device.purchased_on, registration.completed_on) == 19", "pass"),
    ("date(at) - device.purchased_on > 900", "pass"),
    ("pack.years * 2 == 10 and pack.years / 2 == 2", "pass"),
    ("lookup(exclusions, treatment, cause) == null", "pass"),       # a function of a null key: null
    ("lookup(exclusions, treatment, ex-04) == billable", "pass"),
    ("is_public_holiday(2026-11-23) and not is_public_holiday(date(at))", "pass"),
    ("previous_service != null and previous_service.same_cause", "info"),
    ("support == hw or registration.agreed_end_on < 2000-01-01", "pass"),
    ("false", "info"),
    ("true", "pass"),
]


def _rule(name: str, require: str, when: str | None = None) -> str:
    w = f"  when {when}\n" if when else ""
    return (f"rule {name} {{\n  cite 第1章 4\n{w}  require {require}\n  on-fail info\n"
            f'  fail-ja "偽 {{pack.years}}"\n  fail-en "false for {{pack.years}} years"\n}}\n\n')


def _policy(extra: str):
    policy, diags, _ = check([POLICIES], extra_text={"extra.sptp": extra})
    assert policy is not None, [str(d) for d in diags if d.is_error]
    return policy


@pytest.fixture(scope="module")
def expr_policy():
    text = "".join(_rule(f"x-{i}", expr) for i, (expr, _) in enumerate(EXPRESSIONS))
    # a memo first met inside a branch that is not taken, then needed by a later rule
    text += _rule("memo-skipped", "date(at) == 2000-01-01", when="support == pp")
    text += _rule("memo-later", "date(at) == 2026-11-27")
    return _policy(text)


@pytest.mark.parametrize("i, expr, outcome", [(i, e, o) for i, (e, o) in enumerate(EXPRESSIONS)],
                         ids=[e for e, _ in EXPRESSIONS])
def test_expression_outcome(expr_policy, base_case, i, expr, outcome):
    by_rule = {r.rule: r for r in expr_policy.decide(base_case).trace}
    assert by_rule[f"x-{i}"].outcome == outcome


def test_a_memo_first_met_in_a_branch_not_taken_is_computed_later(expr_policy, base_case):
    by_rule = {r.rule: r.outcome for r in expr_policy.decide(base_case).trace}
    assert by_rule["memo-skipped"] == "skip" and by_rule["memo-later"] == "pass"
    pp = dict(base_case, support="pp")
    by_rule = {r.rule: r.outcome for r in expr_policy.decide(pp).trace}
    assert by_rule["memo-skipped"] == "info" and by_rule["memo-later"] == "pass"


def test_a_failing_rule_message_reads_the_case_when_shown(expr_policy, base_case):
    d = expr_policy.decide(dict(base_case, pack=dict(base_case["pack"], years=3)))
    failed = next(r for r in d.reasons if r.rule == "x-0")
    assert failed.message_en == "false for 3 years" and failed.message_ja == "偽 3"
    # another decision does not change the first one's message
    expr_policy.decide(base_case)
    assert failed.message_en == "false for 3 years"


def test_trace_is_every_rule_in_order_and_reasons_leave_out_the_skipped(policy, base_case):
    d = policy.decide(base_case)
    rules = list(policy.blocks["rule"])
    assert [r.rule for r in d.trace][:len(rules)] == rules
    assert d.reasons == tuple(r for r in d.trace if r.outcome != "skip")
    assert d.to_json()["reasons"][0]["message"]


def test_rules_beyond_one_generated_function_keep_their_order_and_outcomes(base_case):
    n = 250  # the runner puts 100 rules in each generated function
    text = "".join(_rule(f"g-{i}", f"pack.years >= {i % 9}", when=f"device.purchased_on < 2024-04-{i % 28 + 1:02d}")
                   for i in range(n))
    policy = _policy(text)
    trace = [r for r in policy.decide(base_case).trace if r.rule.startswith("g-")]
    assert [r.rule for r in trace] == [f"g-{i}" for i in range(n)]
    for i, r in enumerate(trace):
        applies = dt.date(2024, 4, 1) < dt.date(2024, 4, i % 28 + 1)
        expected = "skip" if not applies else ("pass" if 5 >= i % 9 else "info")
        assert r.outcome == expected, r.rule


def test_a_rule_that_raises_becomes_an_error_and_the_verdict_consult(base_case):
    policy = _policy(_rule("boom", "add_years(device.purchased_on, pack.years * 100000) > date(at)"))
    d = policy.decide(base_case)
    assert d.verdict == "consult"
    assert any(r.outcome == "error" and r.rule == "boom" for r in d.reasons)


# ---- the generated case reader -----------------------------------------------------------------------
LEAVES = [p for p, (kind, _, _) in FIELDS.items() if kind != "record"]
WRONG = {
    "datetime": [123, "2026-11-27", "2026-11-27T17:00", "tomorrow", [], {}],
    "date": [20261127, "2026-13-01", "2026/11/27", True, []],
    "bool": ["yes", 1, 0, {}],
    "int": ["5", 1.5, True, []],
    "symbol": ["", 5, [], {}],
    "string": ["", 5, []],
    "list": ["a", 5, {}],
}


def _with(case: dict, path: str, value) -> dict:
    case = copy.deepcopy(case)
    *records, key = path.split(".")
    node = case
    for r in records:
        if node.get(r) is None:
            node[r] = {}
        node = node[r]
    node[key] = value
    return case


@pytest.mark.parametrize("path", LEAVES)
def test_a_wrong_value_is_an_error_naming_its_field(base_case, path):
    kind, allowed, _ = FIELDS[path]
    for value in WRONG[kind] + (["no-such-value"] if allowed else []):
        with pytest.raises(CaseError) as e:
            parse_case(_with(base_case, path, value))
        # a record newly added to hold the field may miss a required sibling: that sibling is named instead
        prefix = path.rpartition(".")[0]
        assert e.value.field == path or (prefix and e.value.field.startswith(prefix + ".")), (path, value, e.value)


def _full(base_case: dict) -> dict:
    """The base case with every optional record given."""
    return dict(base_case, component={"kind": "option", "category": "camera", "connection": "direct"},
                cause="ex-04", failure={"raid": True, "disks_failed": 1, "mirror_lost": False},
                work={"departed_at": "2026-11-27T18:00:00+09:00", "completed_at": "2026-11-27T19:10:00+09:00",
                      "technicians": 1},
                alarm={"received_at": "2026-11-27T16:50:00+09:00", "express_start_on": "2024-05-01",
                       "contact_attempts": [{"at": "2026-11-27T17:05:00+09:00", "reached": False}]},
                pp_issue={"licence_ended": False, "modified": False, "request": "question"},
                move={"notified_on": "2026-11-01", "move_on": "2026-12-01", "country": "JP"},
                previous_service={"on": "2026-10-01", "same_cause": True},
                refund={"kind": "reject-terms", "requested_on": "2024-04-05", "notice_on": None})


def test_the_full_case_reads(base_case, policy):
    parsed = parse_case(_full(base_case))
    assert parsed["work"]["technicians"] == 1 and parsed["alarm"]["contact_attempts"][0]["reached"] is False
    assert policy.decide(_full(base_case)).verdict == "billable"


@pytest.mark.parametrize("record", sorted({p.rpartition(".")[0] for p in FIELDS if "." in p}))
def test_an_unknown_field_in_a_record_is_named_and_x_fields_pass(base_case, record):
    case = _full(base_case)
    with pytest.raises(CaseError) as e:
        parse_case(_with(case, f"{record}.colour", "red"))
    assert e.value.field == f"{record}.colour"
    assert parse_case(_with(case, f"{record}.x-note", "kept out"))[record] == parse_case(case)[record]


json_values = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=12)
                           | st.sampled_from(["2026-11-27", "2026-11-27T17:00:00+09:00", "hw", "accepted"]),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(LEAVES), value=json_values)
def test_any_value_in_any_field_gives_a_case_or_an_error_naming_a_field(base_case, path, value):
    try:  # (_with copies the case: the fixture is never changed)
        parsed = parse_case(_with(_full(base_case), path, value))
    except CaseError as e:
        assert e.field.split(".")[0].split("[")[0] == path.split(".")[0]
    else:
        assert parsed["at"].tzinfo is not None


# ---- what generated code must never do (review findings) ----------------------------------------------
def test_a_rule_name_is_never_code(base_case, tmp_path):
    marker = tmp_path / "ran"
    name = f"evil\\n    __import__('pathlib').Path({str(marker)!r}).write_text('x')\\n    #"
    policy = _policy(f'rule "{name}" {{\n  cite 第1章 4\n  require true\n  fail-ja "x"\n  fail-en "x"\n}}\n')
    d = policy.decide(base_case)
    assert not marker.exists()
    assert d.verdict == "covered" and any(r.outcome == "pass" and "evil" in r.rule for r in d.reasons)


@pytest.mark.parametrize("require", [
    # an error in a later operand is not hidden by a null in an earlier one
    "days_between(registration.agreed_end_on, add_years(device.purchased_on, 8000)) > 0 or true",
    "failure.disks_failed + pack.years / 0 == null or true",
    # `in` a null is an error, not a silent false
    "support not in lookup(exclusions, treatment, cause)",
])
def test_an_error_in_any_operand_makes_the_decision_consult(base_case, require):
    d = _policy(_rule("probe", require)).decide(base_case)
    assert d.verdict == "consult" and any(r.outcome == "error" for r in d.reasons)


def test_constants_compared_with_null_fold_without_warnings(base_case):
    import warnings

    policy = _policy(_rule("folded", 'long-term-years != null and "JP" != null and not (6 == null)'))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = policy.decide(base_case)
    assert {r.rule: r.outcome for r in d.trace}["folded"] == "pass"


def test_an_expression_nested_deeper_than_python_parses_still_decides(base_case):
    deep = " + ".join(["pack.years"] + ["1"] * 300)
    d = _policy(_rule("deep", f"{deep} == 305 and failure.disks_failed + {' + '.join(['1'] * 250)} == null")
                ).decide(base_case)
    assert {r.rule: r.outcome for r in d.trace}["deep"] == "pass"


def test_lets_that_use_each_other_twice_do_not_grow_the_code(base_case):
    # dbl40 would be 2^40 copies of failure.disks_failed if lets were pasted into each use
    lets = "let dbl0 = pack.years\n" + "".join(f"let dbl{i} = dbl{i - 1} + dbl{i - 1}\n" for i in range(1, 41))
    policy = _policy(lets + _rule("dbl-small", "dbl10 == 5120") +
                     _rule("dbl-huge", "dbl40 > 0", when="support == pp"))
    by_rule = {r.rule: r.outcome for r in policy.decide(base_case).trace}
    assert by_rule["dbl-small"] == "pass" and by_rule["dbl-huge"] == "skip"


def test_decisions_with_different_reasons_are_not_equal(policy, base_case):
    late = dict(base_case, registration=dict(base_case["registration"], submitted_on="2024-06-30"))
    a, b = policy.decide(base_case), policy.decide(late)
    assert a.verdict == b.verdict and a != b
    assert a == policy.decide(base_case) and hash(a) == hash(policy.decide(base_case))


def test_a_value_past_year_9999_shows_as_a_question_mark_in_its_message(base_case):
    # a case's dates lie in 1900-2999 (model.case.YEARS), but a policy may still compute past 9999
    policy = _policy('rule far {\n  cite 第1章 4\n  let far-end = add_years(device.purchased_on, pack.years * 2000)\n'
                     '  require date(at) < device.purchased_on\n  on-fail info\n  fail-ja "{far-end} まで"\n'
                     '  fail-en "until {far-end}"\n}\n')
    d = policy.decide(base_case)
    far = next(r for r in d.reasons if r.rule == "far")
    assert far.outcome == "info" and far.message_en == "until ?" and far.message_ja == "? まで"
    assert d.to_json()["verdict"] == "covered"


def test_eval_writes_an_error_row_for_a_decision_that_cannot_be_written(base_case, tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from sptui.cli import main
    from sptui.model.decision import Decision

    written = Decision.to_json

    def to_json(self, lang="en"):  # a plugin's message that raises when rendered, on the second case
        if self.dispatch_deadline is None:
            raise RuntimeError("a message that cannot be rendered")
        return written(self, lang)

    monkeypatch.setattr(Decision, "to_json", to_json)
    late = dict(base_case, at="2026-11-27T17:00:00+09:00", repair_needed=False)
    f = tmp_path / "cases.jsonl"
    f.write_text("".join(json.dumps(c) + "\n" for c in (base_case, late, base_case)))
    r = CliRunner().invoke(main, ["eval", "--policy", str(POLICIES), "--jsonl", str(f)])
    assert r.exit_code == 1  # a failure, not bad input: the other cases are decided
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("verdict") for x in rows] == ["covered", None, "covered"]
    assert rows[1]["line"] == 2 and "cannot be rendered" in rows[1]["error"]
    assert "line 2" in r.stderr and "cannot be rendered" in r.stderr
    f.write_text(json.dumps([base_case, late, base_case]))  # an array: all or nothing
    r = CliRunner().invoke(main, ["eval", "--policy", str(POLICIES), str(f)])
    assert r.exit_code == 1 and r.stdout == ""
    assert "case 2" in r.stderr and "cannot be rendered" in r.stderr


def test_a_subset_of_the_rules_runs_alone_and_leaves_the_full_runner_as_it_was(policy, base_case):
    """run_rules(only=…) generates its own code beside the full runner's, in the same namespace: neither may
    overwrite the other's constants."""
    from sptui.policy.decide import DecisionContext, case_values
    from sptui.evaluators.rules import run_rules

    outside = dict(base_case, device=dict(base_case["device"], country="SG"), cause="ex-04")
    full_before = policy.decide(outside).to_json()
    cov = frozenset(r.id for r in policy.blocks["rule"].values() if r.span.file.endswith("coverage.sptp"))
    assert "installed-in-japan" in cov and "exclusion" not in cov
    ctx = DecisionContext(case_values(policy, outside))
    run_rules(policy, ctx, cov)
    assert ctx.verdict == "not-covered"
    assert [r.rule for r in ctx.trace] == [r.id for r in policy.blocks["rule"].values() if r.id in cov]
    for one in ("installed-in-japan", "exclusion"):  # each becomes rule 0 of its own runner
        ctx = DecisionContext(case_values(policy, base_case))
        run_rules(policy, ctx, frozenset({one}))
        assert [r.rule for r in ctx.trace] == [one]
    assert policy.decide(outside).to_json() == full_before
    assert policy.decide(base_case).verdict == "covered"


def test_a_subset_names_rules_that_exist_and_builds_safely_from_many_threads(policy, base_case):
    import threading

    from sptui.policy.decide import DecisionContext, case_values
    from sptui.evaluators.rules import run_rules

    ctx = DecisionContext(case_values(policy, base_case))
    with pytest.raises(KeyError, match="installed-in-japn"):
        run_rules(policy, ctx, {"installed-in-japn"})  # a typo is an error, not a rule left out
    names = list(policy.blocks["rule"])
    got: dict[str, list[str]] = {}

    def one(name: str) -> None:
        c = DecisionContext(case_values(policy, base_case))
        run_rules(policy, c, [name])  # any iterable of names
        got[name] = [r.rule for r in c.trace]

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {n: [n] for n in names}
