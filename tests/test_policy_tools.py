"""The author's loop as a user runs it: check, fmt, test, clauses (real `sptui` processes)."""
from __future__ import annotations

import json
import shutil

from conftest import POLICIES


def copy_policies(tmp_path):
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    return dst


def test_check_shipped_policy_is_clean(run):
    p = run("check", "policies")
    assert p.returncode == 0, p.stdout
    assert p.stdout.strip().startswith("0 error(s), 0 warning(s)")


def test_check_json_for_editors(run, tmp_path):
    pol = copy_policies(tmp_path)
    f = pol / "coverage.sptp"
    f.write_text(f.read_text(encoding="utf-8").replace("cite 第1章 1\n", "cite 第1章 9\n", 1), encoding="utf-8")
    p = run("check", pol, "--format", "json")
    assert p.returncode == 1
    d = json.loads(p.stdout)
    assert d["errors"] >= 1 and d["digest"] is None
    e = next(x for x in d["diagnostics"] if x["code"] == "E041")
    assert e["file"].endswith("coverage.sptp") and e["line"] > 1 and e["col"] == 8


def test_check_reports_every_error_in_one_run_with_caret_and_hint(run, tmp_path):
    pol = copy_policies(tmp_path)
    f = pol / "coverage.sptp"
    text = f.read_text(encoding="utf-8")
    text = text.replace("require device.country == \"JP\"", "require device.contry = \"JP\"")  # two mistakes on a line
    text = text.replace("on-fail not-started", "on-fail not-startd")
    f.write_text(text, encoding="utf-8")
    p = run("check", pol)
    assert p.returncode == 1
    out = p.stdout
    assert "error[E001]" in out and "compare with `==`" in out
    assert "error[E055]" in out and "did you mean `not-started`?" in out
    # the caret sits under the mistake
    lines = out.splitlines()
    i = next(n for n, ln in enumerate(lines) if "error[E001]" in ln)
    src, caret = lines[i + 1], lines[i + 2]
    assert src.split("| ", 1)[1][caret.index("^") - src.index("| ") - 2] == "="


def test_columns_count_characters_on_japanese_lines(run, tmp_path):
    pol = copy_policies(tmp_path)
    f = pol / "extra.sptp"
    f.write_text('rule 日本語 {\n}\n', encoding="utf-8")
    g = pol / "extra2.sptp"
    g.write_text('let x = "設置場所" + 08:3\n', encoding="utf-8")
    f.unlink()
    p = run("check", pol)
    assert p.returncode == 1
    # `08:3` starts after 8 + 6 (quotes and 4 Japanese characters) + 3 characters: column 20, not a byte count
    assert "extra2.sptp:1:" in p.stdout
    line = next(ln for ln in p.stdout.splitlines() if "extra2.sptp:1:" in ln)
    assert "error[E002]" in line  # the syntax error alone: no cascade on the same line
    col = int(line.split(":")[2])
    assert col == len('let x = "設置場所" + 08') + 1
    # the caret lines up under the `:` in a terminal (Japanese characters are two cells wide)
    lines = p.stdout.splitlines()
    i = lines.index(line)
    assert lines[i + 2].index("^") - lines[i + 1].index("|") == 2 + len('let x = "設置場所" + 08') + 4


def test_fmt_check_passes_on_shipped_policy(run):
    p = run("fmt", "--check", "policies")
    assert p.returncode == 0, p.stdout


def test_fmt_check_shows_the_difference_and_fmt_fixes_it(run, tmp_path):
    pol = copy_policies(tmp_path)
    f = pol / "fees.sptp"
    original = f.read_text(encoding="utf-8")
    messy = original.replace("  base-covers 60min", "      base-covers   60 min   # the first hour").replace(
        "  row 08:30-17:30 => day, 10,000円, 2,500円", "  row 08:30-17:30=>day,10000 JPY,2500円")
    f.write_text(messy, encoding="utf-8")
    p = run("fmt", "--check", pol)
    assert p.returncode == 1
    assert "-      base-covers   60 min   # the first hour" in p.stdout
    assert "+  base-covers 60min  # the first hour" in p.stdout
    p = run("fmt", pol)
    assert p.returncode == 0
    fixed = f.read_text(encoding="utf-8")
    assert "# the first hour" in fixed and "row 08:30-17:30 => day, 10,000円, 2,500円" in fixed
    assert run("fmt", "--check", pol).returncode == 0


def test_fmt_refuses_a_file_with_syntax_errors(run, tmp_path):
    f = tmp_path / "bad.sptp"
    f.write_text("rule x {\n  when a = b\n}\n", encoding="utf-8")
    p = run("fmt", f)
    assert p.returncode == 1 and "E001" in p.stderr
    assert f.read_text(encoding="utf-8") == "rule x {\n  when a = b\n}\n"


def test_policy_tests_pass_with_full_clause_coverage(run):
    p = run("test", "policies", "--coverage")
    assert p.returncode == 0, p.stdout
    assert "coverage: 100% — " in p.stdout and "clauses 100%" in p.stdout
    assert " 0 failed" in p.stdout


def test_failing_policy_test_shows_a_diff_with_rule_and_clause(run, tmp_path):
    pol = copy_policies(tmp_path)
    t = pol / "tests" / "supportpack_test.sptp"
    text = t.read_text(encoding="utf-8").replace(
        "    dispatch_deadline 2026-11-30T10:00:00+09:00\n    outcome onsite-deadline, info",
        "    dispatch_deadline 2026-11-30T09:00:00+09:00\n    outcome onsite-deadline, info", 1)
    t.write_text(text, encoding="utf-8")
    p = run("test", pol, "-k", "friday-1700")
    assert p.returncode == 1
    assert "FAIL friday-1700-deadline-is-monday-1000" in p.stdout
    assert "- expected: \"2026-11-30T09:00:00+09:00\"" in p.stdout
    assert "+ got:      \"2026-11-30T10:00:00+09:00\"" in p.stdout
    assert "onsite-deadline [info] 第1章 2.2" in p.stdout
    assert "1 passed" not in p.stdout and "0 passed, 1 failed" in p.stdout


def test_test_json_reports_coverage_per_clause(run):
    p = run("test", "policies", "--coverage", "--format", "json", "-k", "lightning")
    d = json.loads(p.stdout)
    assert d["passed"] == 1 and d["failed"] == 0
    assert d["coverage"]["clauses"]["第3章 2.2"] is True
    assert d["coverage"]["clauses"]["表2"] is False  # only one test ran


def test_clauses_lists_register_and_citers(run):
    p = run("clauses", "--format", "json")
    rows = {r["clause"]: r for r in json.loads(p.stdout)}
    assert "rule service-period" in rows["第1章 4"]["cited_by"]
    assert rows["第3章 1.9"]["not_computable"]
    assert "table fee-band" in rows["別表-1"]["cited_by"]


def test_a_policy_path_that_does_not_exist_is_one_error_naming_it(run, tmp_path):
    """`sptui check MISSING` (issue 18: two errors, the second a missing header with a hint to write one): one
    error naming the path, with the hint about what a policy is; the same for a folder with no policy file, and a
    missing file beside a good policy leaves the good policy checked."""
    for path in (tmp_path / "MISSING", tmp_path / "missing.sptp"):
        p = run("check", path)
        assert p.returncode == 1
        errors = [line for line in p.stdout.splitlines() if ": error[" in line]
        assert errors == [f"{path}:1:1: error[E010]: `{path}` no such file"], p.stdout
        assert "policy header" not in p.stdout and "a policy is a folder of .sptp files" in p.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run("check", empty)
    assert p.returncode == 1
    assert [line for line in p.stdout.splitlines() if ": error[" in line] == [
        f"{empty}:1:1: error[E010]: `{empty}` holds no .sptp policy file"], p.stdout
    p = run("check", "policies", tmp_path / "MISSING")
    assert [line.split(": error[")[1][:4] for line in p.stdout.splitlines() if ": error[" in line] == ["E010"]
