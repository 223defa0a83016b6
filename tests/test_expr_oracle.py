"""Generated expression code against an oracle: a plain interpreter of the policy language's null rules
(docs/policy-language.md, "Null"), walking the same AST. Random well-typed expressions over case fields
that may be null, on varied cases; the two must give the same value, or both an error."""
from __future__ import annotations

import datetime as dt
import operator
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sptui.policy.decide import DecisionContext, case_values
from sptui.clock.dates import add_duration, add_months
from sptui.model.values import Duration
from sptui.tz import TOKYO
from sptui.policy.ast import Binary, Call, Literal, Path as FieldPath, SetLit, Unary
from conftest import check

from conftest import POLICIES, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from decide import make_cases  # noqa: E402

CASES = make_cases(40, seed=11)

# ---- random expressions, as policy source, by type ----------------------------------------------------------
INTS = ["pack.years", "failure.disks_failed", "work.technicians"]
DATES = ["device.purchased_on", "registration.completed_on", "registration.agreed_end_on",
         "device.manufacture_ended_on", "date(at)", "alarm.express_start_on"]
BOOLS = ["repair_needed", "failure.raid", "failure.mirror_lost", "device.config_info"]
SYMBOLS = [("support", ["hw", "pp"]), ("registration.status", ["accepted", "pending", "rejected"]),
           ("component.category", ["printer", "camera", "disk-array"]), ("cause", ["ex-01", "ex-04", "ex-19"])]

ints = st.deferred(lambda: st.one_of(
    st.sampled_from(INTS), st.integers(0, 9).map(str),
    st.tuples(ints, st.sampled_from(["+", "-", "*"]), ints).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    st.tuples(dates, dates).map(lambda t: f"days_between({t[0]}, {t[1]})"),
    st.tuples(dates, dates).map(lambda t: f"({t[0]} - {t[1]})")))
dates = st.deferred(lambda: st.one_of(
    st.sampled_from(DATES), st.sampled_from(["2024-02-29", "2026-11-27", "2021-08-01"]),
    st.tuples(dates, ints).map(lambda t: f"add_years({t[0]}, {t[1]})"),
    st.tuples(dates, st.sampled_from(["+", "-"]), st.sampled_from(["30 days", "3 months", "1 year"]))
    .map(lambda t: f"({t[0]} {t[1]} {t[2]})")))
bools = st.deferred(lambda: st.one_of(
    st.sampled_from(BOOLS),
    st.tuples(ints, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), ints).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    st.tuples(dates, st.sampled_from(["==", "<", ">="]), dates).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["in", "not in"]), st.integers(1, 3))
    .map(lambda t: f"({t[0][0]} {t[1]} {{{', '.join(t[0][1][:t[2]])}}})"),
    st.sampled_from(DATES + INTS).map(lambda f: f"({f} == null)"),
    st.tuples(bools, st.sampled_from(["and", "or"]), bools).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    bools.map(lambda b: f"(not {b})")))
expressions = st.one_of(ints, dates, bools)


# ---- the oracle -----------------------------------------------------------------------------------------------
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv}
ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def oracle(node, case: dict, policy):
    """The value by the documented rules: null in arithmetic and calls gives null (every operand is
    still computed), ordered comparisons with null are false, a null condition counts as false."""
    def truth(n) -> bool:
        return oracle(n, case, policy) is True

    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FieldPath):
        if node.parts[0] in case:
            value = case
            for p in node.parts:
                value = None if value is None else value[p]
            return value
        return node.parts[0]  # a bare word: a symbol
    if isinstance(node, SetLit):
        return frozenset(oracle(i, case, policy) for i in node.items)
    if isinstance(node, Unary):
        return not truth(node.operand)
    if isinstance(node, Call):
        args = [oracle(a, case, policy) for a in node.args]
        if any(a is None for a in args):
            return None
        impl = {"date": lambda t: t.astimezone(TOKYO).date(), "days_between": lambda a, b: (b - a).days,
                "add_years": lambda d, n: add_months(d, 12 * n, policy.date_rounding)}[node.name]
        return impl(*args)
    assert isinstance(node, Binary), node
    op = node.op
    if op == "and":
        return truth(node.left) and truth(node.right)
    if op == "or":
        return truth(node.left) or truth(node.right)
    x, y = oracle(node.left, case, policy), oracle(node.right, case, policy)
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    if op in ("in", "not-in"):
        return (x in y) == (op == "in")
    if op in ORDER:
        return False if x is None or y is None else ORDER[op](x, y)
    if x is None or y is None:
        return None
    if isinstance(y, Duration):
        return add_duration(x, y, policy.date_rounding, 1 if op == "+" else -1)
    if isinstance(x, dt.date) and isinstance(y, dt.date):
        return (x - y).days
    return ARITH[op](x, y)


def _outcome(fn):
    try:
        return ("value", fn())
    except Exception as e:  # noqa: BLE001 (an error is an outcome to compare)
        return ("error", type(e).__name__)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(expressions, min_size=1, max_size=8))
def test_generated_code_agrees_with_the_oracle(exprs):
    text = "".join(f"let e{i} = {e}\n" for i, e in enumerate(exprs))
    policy, diags, _ = check([POLICIES], extra_text={"oracle.sptp": text})
    assert policy is not None, [str(d) for d in diags if d.is_error]
    from sptui.policy.parse import parse_text

    module, _ = parse_text(text, "oracle.sptp")
    nodes = {let.name: let.value for let in module.items}
    for raw in CASES:
        case = case_values(policy, raw)
        ctx = DecisionContext(case)
        for i, e in enumerate(exprs):
            compiled = policy.lets[f"e{i}"]
            got = _outcome(lambda: compiled.fn(ctx))
            want = _outcome(lambda: oracle(nodes[f"e{i}"], case, policy))
            if compiled.type == "bool" and got[0] == "value":  # a condition: null counts as false
                got, want = ("value", got[1] is True), ("value", want[1] is True) if want[0] == "value" else want
            assert got == want, (e, raw)


def test_the_oracle_is_exercised_on_nulls():
    """The varied cases hold nulls in the fields the expressions read, so the null rules are tested."""
    policy, _, _ = check([POLICIES])
    parsed = [case_values(policy, c) for c in CASES]
    assert any(c["failure"] is None for c in parsed) and any(c["failure"] is not None for c in parsed)
    assert any(c["registration"]["agreed_end_on"] is None for c in parsed)
    assert any(c["device"]["manufacture_ended_on"] is not None for c in parsed)
    assert Path(POLICIES).is_dir()
