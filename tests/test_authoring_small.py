"""The policy author's smaller tools: duplicate test and case names are errors, a failing test shows only the
fields it expected, diagnostics render in linear time, `lookup` takes one key per table input."""
from __future__ import annotations

import shutil
import time

from conftest import POLICIES, check

from sptui.policy.diagnostics import Diagnostic, render
from sptui.policy.ast import Span


def _tests_copy(tmp_path, extra: str = "", replace: tuple[str, str] | None = None):
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    f = dst / "tests" / "supportpack_test.sptp"
    text = f.read_text(encoding="utf-8")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace, 1)
    f.write_text(text + extra, encoding="utf-8")
    return dst


def test_a_test_name_used_twice_is_an_error(run, tmp_path):
    pol = _tests_copy(tmp_path, "\ntest installed-abroad {\n  given base\n  expect {\n    verdict covered\n  }\n}\n")
    p = run("check", pol)
    assert p.returncode == 1 and "error[E036]: a second test named `installed-abroad`" in p.stdout
    assert "the first is at" in p.stdout
    p = run("test", pol)
    assert p.returncode == 1 and "E036" in p.stderr


def test_a_case_template_name_used_twice_in_a_file_is_an_error(tmp_path):
    from sptui.policy.testrun import load_tests

    f = tmp_path / "x_test.sptp"
    f.write_text("case base {\n  support hw\n}\n\ncase base {\n  support pp\n}\n", encoding="utf-8")
    _, diags, _ = load_tests([f])
    assert [(d.code, d.span.line) for d in diags] == [("E036", 5)]


def test_a_failing_test_shows_only_the_fields_it_expected(run, tmp_path):
    pol = _tests_copy(tmp_path, replace=("    fee {\n      total_jpy 15000\n", "    fee {\n      total_jpy 15001\n"))
    p = run("test", pol, "-k", "sixty-one-minutes-adds-a-block")
    assert p.returncode == 1
    assert '- expected: {"total_jpy": 15001}' in p.stdout and '+ got:      {"total_jpy": 15000}' in p.stdout
    assert "lines" not in p.stdout and "per_technician_jpy" not in p.stdout


def test_ten_thousand_errors_render_in_linear_time():
    """Each diagnostic used to split its whole file again: 10,000 errors in a 30,000-line file took 18 s."""
    source = "rules r {\n  require true\n}\n" * 10_000
    diags = [Diagnostic("E030", "unknown block kind `rules`", Span("big.sptp", 3 * i + 1, 1, 3 * i + 1, 6))
             for i in range(10_000)]
    start = time.perf_counter()
    out = [render(d, {"big.sptp": source}) for d in diags]
    assert time.perf_counter() - start < 2.0
    assert out[-1].splitlines()[1] == " 29998 | rules r {"


def _with_rule(tmp_path, rule: str):
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    with open(dst / "terms.sptp", "a", encoding="utf-8") as f:
        f.write("\n" + rule)
    return dst


def test_lookup_needs_a_key_for_each_input(tmp_path):
    pol = _with_rule(tmp_path, 'rule t {\n  cite 第3章 2.2\n  require lookup(exclusions, treatment) == consult\n'
                               '  fail-ja "x"\n  fail-en "x"\n}\n')
    _, diags, _ = check([pol])
    [d] = [d for d in diags if d.is_error]
    assert d.code == "E053" and "has 1 input(s) (cause); `lookup` gives 0 key(s)" in d.message


def test_durations_are_ordered(tmp_path):
    """A documented limitation no longer: `>` between two durations decides as written."""
    import sptui
    from sptui.testing import make_case

    pol = _with_rule(tmp_path, 'rule long-work {\n  cite 第3章 2.3\n  when work != null\n'
                               '  require work.completed_at - work.departed_at > 2h\n  on-fail info\n'
                               '  fail-ja "長い"\n  fail-en "long"\n}\n')
    policy = sptui.load_policy(pol)
    outcome = {}
    for end in ("19:00", "21:00"):
        d = policy.decide(make_case(**{"work.departed_at": "2026-11-26T18:00:00+09:00",
                                       "work.completed_at": f"2026-11-26T{end}:00+09:00"}))
        outcome[end] = next(r.outcome for r in d.reasons if r.rule == "long-work")
    assert outcome == {"19:00": "info", "21:00": "pass"}


def test_a_file_ending_inside_a_block_is_reported_once(tmp_path):
    pol = _with_rule(tmp_path, 'rule cut {\n  cite 第1章 1\n  require true\n  fail-ja "x"\n  fail-en "x"\n')
    _, diags, _ = check([pol])
    assert [d.code for d in diags if d.is_error] == ["E003"]
