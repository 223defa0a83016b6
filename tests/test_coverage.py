"""`sptui test --coverage` counts outcomes: each rule's pass and fail, each row of the tables a decision reads, each
cited clause item; `--threshold N` fails the run below N%; what no test reaches is named with its file:line."""
from __future__ import annotations

import json
import re
import shutil

from conftest import POLICIES


def without_tests(tmp_path, *names: str):
    """A copy of the shipped policy whose test file lacks the named tests."""
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    f = dst / "tests" / "supportpack_test.sptp"
    text = f.read_text(encoding="utf-8")
    for name in names:
        text, n = re.subn(rf"(?ms)^test {re.escape(name)} \{{\n.*?^\}}\n\n?", "", text)
        assert n == 1, name
    f.write_text(text, encoding="utf-8")
    return dst


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_the_shipped_policy_reaches_every_outcome_row_and_item(run):
    p = run("test", "policies", "--coverage", "--threshold", "100")
    assert p.returncode == 0, p.stdout
    assert "not covered" not in p.stdout
    assert re.search(r"coverage: 100% — rule outcomes 100% \(\d+/\d+\), table rows 100% \(\d+/\d+\), "
                     r"clause items 100% \(\d+/\d+\), clauses 100%", p.stdout)


def test_a_rule_that_no_test_fails_is_not_covered(run, tmp_path):
    """Deleting every test in which installed-in-japan fails leaves its fail outcome uncovered (a rule that merely
    ran used to count as covered)."""
    pol = without_tests(tmp_path, "installed-abroad", "no-recovery-when-not-covered")
    p = run("test", pol, "--coverage")
    assert p.returncode == 0, p.stdout  # no threshold: a report only
    line = _line_of(pol / "coverage.sptp", "rule installed-in-japan {")
    assert f"coverage.sptp:{line}: rule installed-in-japan: fail\n" in p.stdout
    assert "rule installed-in-japan: pass" not in p.stdout
    p = run("test", pol, "--threshold", "100")  # (a threshold implies coverage)
    assert p.returncode == 1
    assert re.search(r"coverage \d+(\.\d)?% is below the threshold 100%", p.stdout)
    assert run("test", pol, "--threshold", "90").returncode == 0


def test_a_table_row_and_clause_item_no_test_reaches_are_named(run, tmp_path):
    pol = without_tests(tmp_path, "forgotten-password-needs-agreement")
    p = run("test", pol, "--coverage", "--format", "json")
    cov = json.loads(p.stdout)["coverage"]
    row = _line_of(pol / "exclusions.sptp", "row ex-06 =>")
    missed = {(m["kind"], m["name"], m["line"]) for m in cov["missed"]}
    assert missed == {("row", "table exclusions row ex-06", row), ("item", "clause 第3章 2.2 (6)", row)}
    assert cov["by_kind"]["row"]["covered"] == cov["by_kind"]["row"]["total"] - 1
    assert cov["percent"] < 100


def test_a_fee_band_row_no_test_reaches_is_named(run, tmp_path):
    pol = without_tests(tmp_path, "evening-departure-into-night", "two-technicians-need-a-quote")
    p = run("test", pol, "--coverage")
    line = _line_of(pol / "fees.sptp", "row 21:00-08:30 =>")
    assert f"fees.sptp:{line}: table fee-band row 21:00-08:30\n" in p.stdout


def test_constant_rules_have_one_outcome(policy):
    """`require false` (a rule that states a fact when it applies) can only fail: its pass is no target."""
    from sptui.policy.coverage import outcome_coverage

    cov = outcome_coverage(policy, [], set())
    names = {m["name"] for m in cov["missed"]}
    assert "rule express-liability: fail" in names and "rule express-liability: pass" not in names
    assert "rule installed-in-japan: pass" in names and "rule installed-in-japan: fail" in names
    assert not any(n.startswith("table recovery-scope") for n in names)  # shown to the desk, not decided with
