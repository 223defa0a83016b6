"""`sptui clauses [CLAUSE]`: a clause or item in any spelling, its items, and every citing block with file:line and
plugin; lets may cite, and the rules that use a let inherit its citations (第3章 1.5 traced to the service period)."""
from __future__ import annotations

import json
import shutil

import pytest
from conftest import POLICIES, check


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize("spelling", ["第3章 2.2 (19)", "第3章2.2(19)", "第３章　２．２　（１９）", " 第3章 2.2(19) "])
def test_any_spelling_of_an_item_finds_its_citing_blocks(run, spelling):
    p = run("clauses", spelling, "--format", "json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["clause"] == "第3章 2.2" and d["item"] == "19" and d["items"][-1] == "19"
    where = {(c["kind"], c["name"], c["item"], c["line"]) for c in d["citations"]}
    ex = POLICIES / "exclusions.sptp"
    assert ("rule", "network-isolation", "19", _line_of(ex, "cite 第3章 2.1 (1), 第3章 2.2 (19)")) in where
    assert ("table", "exclusions", "19", _line_of(ex, "row ex-19 =>")) in where
    assert ("rule", "exclusion", None, _line_of(ex, "rule exclusion {") + 1) in where  # the whole clause
    assert all(c["item"] in ("19", None) for c in d["citations"]) and all(c["plugin"] is None for c in d["citations"])


def test_text_lists_every_item_and_who_cites_it(run):
    p = run("clauses", "第3章 1.5")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "第3章 1.5  責任の制限  (items (1)–(4))"
    assert "  (3)  cited by no block" in lines
    at = _line_of(POLICIES / "coverage.sptp", "rule service-period {")
    assert f"      ← rule service-period (via let re-performance-due)  policies/coverage.sptp:{at}" in lines


def test_rules_inherit_the_citations_of_the_lets_they_use(run):
    """第3章 1.5 (4) (re-performance ends 1 year after the period) shapes the service period through the let
    re-performance-due: the rules that read it are listed under the item."""
    d = json.loads(run("clauses", "第3章1.5(4)", "--format", "json").stdout)
    via = {(c["kind"], c["name"]) for c in d["citations"] if c["via"] == "re-performance-due"}
    assert {("rule", "service-period"), ("rule", "agreed-end"), ("rule", "re-performance")} <= via
    assert ("let", "re-performance-due") in {(c["kind"], c["name"]) for c in d["citations"]}


@pytest.mark.parametrize("typed, message", [("第3章 9", "not in the clause register"),
                                            ("第3章 2.2 (20)", "has no item (20); it has (1)–(19)"),
                                            ("hello", "expected a clause"), ("第3章 1.5\n第1章 1", "expected a clause")])
def test_an_unknown_clause_or_item_is_bad_input(run, typed, message):
    p = run("clauses", typed)
    assert p.returncode == 2 and message in p.stderr and p.stdout == ""


def test_the_whole_register_still_lists_citers(run):
    rows = {r["clause"]: r for r in json.loads(run("clauses", "--format", "json").stdout)}
    assert "rule service-period" in rows["第1章 4"]["cited_by"]
    assert rows["第3章 1.5"]["items"] == ["1", "2", "3", "4"]


def _policy_with(tmp_path, old: str, new: str):
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    f = dst / "00-supportpack.sptp"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dst


def test_a_let_cites_only_registered_clauses(tmp_path):
    pol = _policy_with(tmp_path, "let parts-retention = 5 years", "let parts-retention = 5 years cite 第1章 4 (iv), 3")
    _, diags, _ = check([pol])
    codes = sorted(d.code for d in diags if d.is_error)
    assert codes == ["E033", "E042"]


def test_a_clause_only_a_let_cites_is_cited(tmp_path):
    """A registered clause that only a let cites is cited (no W044), and the rules using the let list it."""
    register = '  clause 第3章 1.13, '
    pol = _policy_with(tmp_path, register, '  clause 第3章 1.14, "試し"\n' + register)
    _, diags, _ = check([pol])
    assert any(d.code == "W044" and "第3章 1.14" in d.message for d in diags)
    f = pol / "00-supportpack.sptp"
    f.write_text(f.read_text(encoding="utf-8").replace("let long-term-years = 6", "let long-term-years = 6 cite 第3章 1.14"),
                 encoding="utf-8")
    _, diags, _ = check([pol])
    assert not any(d.code == "W044" for d in diags)


def test_fmt_keeps_a_lets_citations(tmp_path):
    from sptui.policy.fmt import format_text

    text = "let a = 1 + 2  cite 第3章 1.5(4),第1章 4\n"
    out, diags = format_text(text, "t.sptp")
    assert not diags and out == "let a = 1 + 2 cite 第3章 1.5 (4), 第1章 4\n"
    assert format_text(out, "t.sptp")[0] == out
