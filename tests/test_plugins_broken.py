"""Broken plugins never break sptui (issue 17, second adversarial run): whatever an installed plugin registers or
does, it is reported (W091, naming it) or its part of a decision is an `error` reason naming it, and decisions
still come, within bounded time."""
from __future__ import annotations

import json
import time

import pytest

from conftest import POLICIES, check
from test_plugins import HOOKIMPL, make_dist, module, site, sptui_with  # noqa: F401 (site: a fixture)
from sptui.plugins import guard
from sptui.plugins.manager import PluginManager, failure_diagnostics

H = HOOKIMPL + "from sptui.policy.schema import BlockKind, BlockSchema, Evaluator, Function, VariantPack\n" \
               "from sptui.model.decision import Reason\n"


def _manager(name: str, source: str) -> PluginManager:
    return PluginManager(entry_points=False, extra=(module(name, source),))


REGISTERS_WRONG = {
    "none-as-function": ("@hookimpl\ndef sptui_functions(register):\n    register(None)\n", "not a Function"),
    "text-as-block-kind": ("@hookimpl\ndef sptui_block_kinds(register):\n    register('rule')\n", "not a BlockKind"),
    "text-as-evaluator": ("@hookimpl\ndef sptui_evaluators(register):\n    register(42)\n", "not an Evaluator"),
    "order-as-text": ("@hookimpl\ndef sptui_evaluators(register):\n"
                      "    register(Evaluator('e', 'late', lambda p, c: None))\n", "order is not a whole number"),
    "run-none": ("@hookimpl\ndef sptui_evaluators(register):\n    register(Evaluator('e', 50, None))\n",
                 "run is not callable"),
    "schema-none": ("@hookimpl\ndef sptui_block_kinds(register):\n    register(BlockKind('sla', None, lambda b, c: 1))\n",
                    "schema is not a BlockSchema"),
    "phase-text": ("@hookimpl\ndef sptui_block_kinds(register):\n"
                   "    register(BlockKind('sla', BlockSchema(()), lambda b, c: 1, phase='x'))\n",
                   "phase is not a whole number"),
    "params-text": ("@hookimpl\ndef sptui_functions(register):\n"
                    "    register(Function('f', 'int', 'int', lambda rt, n: n))\n", "params are not a tuple"),
    "impl-none": ("@hookimpl\ndef sptui_functions(register):\n    register(Function('f', ('int',), 'int', None))\n",
                  "impl is not callable"),
    "variant-files-none": ("@hookimpl\ndef sptui_variants(register):\n    register(VariantPack('v', None))\n",
                           "policy_files are not a tuple"),
    "hook-without-register": ("@hookimpl\ndef sptui_functions():\n    pass\n", "unexpected keyword argument"),
    "hook-exits": ("import sys\n@hookimpl\ndef sptui_functions(register):\n    sys.exit(3)\n", "SystemExit"),
}


@pytest.mark.parametrize("name", REGISTERS_WRONG)
def test_a_plugin_that_registers_the_wrong_thing_is_w091_naming_it_and_left_out(name, base_case):
    source, said = REGISTERS_WRONG[name]
    pm = _manager(f"bad_{name.replace('-', '_')}", H + source)
    policy, diags, _ = check([str(POLICIES)], plugins=pm)
    assert policy is not None, [d for d in diags if d.is_error]
    warnings = failure_diagnostics(pm)
    assert len(warnings) == 1 and warnings[0].code == "W091" and said in warnings[0].message
    assert warnings[0].span.file == f"plugin bad_{name.replace('-', '_')}"
    assert policy.decide(base_case).verdict == "covered"


EVALUATORS = {  # what the evaluator's body does -> what its error reason says
    "loops": ("    while True:\n        pass\n", "ran longer than 0.3 s"),
    "loops-with-lines": ("    i = 0\n    while True:\n        i += 1\n", "ran longer than 0.3 s"),
    "sleeps": ("    import time\n    time.sleep(3600)\n", "ran longer than 0.3 s"),
    "recurses": ("    return run(policy, ctx)\n", "RecursionError"),
    "exits": ("    raise SystemExit(4)\n", "tried to end the process"),
    "verdict-of-its-own": ("    ctx.verdict = 'banana'\n", "set the verdict"),
    "deadline-as-text": ("    ctx.dispatch_deadline = 'soon'\n", "dispatch deadline"),
    "reason-not-a-reason": ("    ctx.add('nonsense')\n", "AttributeError"),
    "reason-in-the-list": ("    ctx.trace.append('nonsense')\n", "not a Reason"),
    "reason-with-bad-cite": ("    ctx.add(Reason('x', 'info', 5, 'a', 'b'))\n", "not valid"),
    "message-that-raises": ("    ctx.add(Reason('x', 'info', (), lambda: 1 / 0, 'b'))\n", "ZeroDivisionError"),
    "message-too-long": ("    ctx.add(Reason('x', 'info', (), 'a' * 100_000, 'b'))\n", "at most 10,000"),
}


@pytest.mark.parametrize("name", EVALUATORS)
def test_a_plugin_evaluator_that_hangs_recurses_exits_or_writes_nonsense_is_an_error_reason_naming_it(
        name, base_case, monkeypatch):
    from sptui.explanation import explain

    monkeypatch.setattr(guard, "EVALUATOR_SECONDS", 0.3)
    body, said = EVALUATORS[name]
    plugin = f"ev_{name.replace('-', '_')}"
    pm = _manager(plugin, H + f"def run(policy, ctx):\n{body}\n@hookimpl\ndef sptui_evaluators(register):\n"
                          "    register(Evaluator('broken', 15, run))\n")
    policy, diags, _ = check([str(POLICIES)], plugins=pm)
    assert policy is not None
    for attempt in range(2):  # a plugin stopped once is not run again: the second decision is as quick
        t0 = time.monotonic()
        d = policy.decide(base_case)
        assert time.monotonic() - t0 < 2
        broken = [r for r in d.reasons if r.rule == "broken"]
        assert len(broken) == 1 and broken[0].outcome == "error", d.reasons
        assert said in broken[0].message_en and plugin in broken[0].message_en
        assert d.verdict == "consult" and d.dispatch_deadline is None
        json.dumps(d.to_json())  # prints as eval.md says
        assert [r.rule for r in d.reasons if r.outcome == "error"] == ["broken"]  # the others are as ever
    assert "verdict: consult" in explain(policy, base_case)


FUNCTIONS = {
    "wrong-type": ("    return 'soon'\n", "date", "returned str where it declares date"),
    "naive-datetime": ("    import datetime\n    return datetime.datetime(2026, 1, 1)\n", "datetime", "naive"),
    "bool-for-int": ("    return True\n", "int", "returned bool where it declares int"),
    "loops": ("    while True:\n        n += 1\n", "int", "ran longer than 0.3 s"),
    "exits": ("    raise SystemExit(0)\n", "int", "tried to end the process"),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_plugin_function_that_returns_the_wrong_type_or_hangs_is_its_rules_error_naming_it(
        name, base_case, monkeypatch):
    monkeypatch.setattr(guard, "FUNCTION_SECONDS", 0.3)
    body, returns, said = FUNCTIONS[name]
    plugin = f"fn_{name.replace('-', '_')}"
    pm = _manager(plugin, H + f"def f(rt, n):\n{body}\n@hookimpl\ndef sptui_functions(register):\n"
                          f"    register(Function('plug', ('int',), {returns!r}, f))\n")
    rule = ('rule uses-it {\n  cite 第1章 4\n  require plug(pack.years) != null\n  fail-ja "x"\n  fail-en "x"\n}\n\n'
            'rule after-it {\n  cite 第1章 4\n  require false\n  on-fail info\n  fail-ja "後"\n  fail-en "still runs"\n}\n')
    policy, diags, _ = check([str(POLICIES)], plugins=pm, extra_text={"uses.sptp": rule})
    assert policy is not None, [d for d in diags if d.is_error]
    t0 = time.monotonic()
    d = policy.decide(base_case)
    assert time.monotonic() - t0 < 2
    by_rule = {r.rule: r for r in d.reasons}
    assert by_rule["uses-it"].outcome == "error" and said in by_rule["uses-it"].message_en
    assert f"`plug` of the plugin {plugin}" in by_rule["uses-it"].message_en
    assert by_rule["after-it"].message_en == "still runs" and d.verdict == "consult"


def test_a_plugin_block_kind_whose_compile_hangs_is_e090_in_bounded_time(monkeypatch):
    monkeypatch.setattr(guard, "COMPILE_SECONDS", 0.3)
    pm = _manager("slow_kind", H + "def comp(b, ctx):\n    while True:\n        pass\n@hookimpl\n"
                                   "def sptui_block_kinds(register):\n    register(BlockKind('sla', BlockSchema(()), comp))\n")
    t0 = time.monotonic()
    policy, diags, _ = check([str(POLICIES)], plugins=pm, extra_text={"sla.sptp": "sla x {\n}\n"})
    assert time.monotonic() - t0 < 3
    assert [d.code for d in diags if d.is_error] == ["E090"] and "slow_kind" in diags[0].message


def test_installed_plugins_that_exit_at_import_or_write_nonsense_leave_check_eval_test_and_explain_working(
        site, base_case, tmp_path):  # noqa: F811 (site: the fixture)
    make_dist(site, "exits-at-import", "import sys\nsys.exit(5)\n")
    make_dist(site, "banana", H + "def run(policy, ctx):\n    ctx.verdict = 'banana'\n@hookimpl\n"
                                  "def sptui_evaluators(register):\n    register(Evaluator('banana', 15, run))\n")
    p = sptui_with(site, "check", "policies")
    assert p.returncode == 0 and "plugin exits-at-import: warning[W091]: [import] SystemExit: 5" in p.stdout
    assert sptui_with(site, "check", "--strict", "policies").returncode == 1
    case = tmp_path / "case.json"
    case.write_text(json.dumps(base_case), encoding="utf-8")
    p = sptui_with(site, "eval", case)
    assert p.returncode == 0 and json.loads(p.stdout)["verdict"] == "consult" and "Traceback" not in p.stderr
    p = sptui_with(site, "explain", case)
    assert p.returncode == 0 and "the plugin banana set the verdict" in p.stdout
    p = sptui_with(site, "test", "policies")
    assert p.returncode == 1 and "Traceback" not in p.stdout + p.stderr and "failed" in p.stdout
