"""`sptui test --update`: a failing test's expectations become what it got, in its file, and nothing else changes."""
from __future__ import annotations

import shutil

from conftest import POLICIES


def _copy(tmp_path):
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    return dst, dst / "tests" / "supportpack_test.sptp"


def test_update_writes_what_failing_tests_got_and_nothing_else(run, tmp_path):
    pol, f = _copy(tmp_path)
    original = f.read_text(encoding="utf-8")
    broken = (original
              .replace("    dispatch_deadline 2026-11-30T10:00:00+09:00\n    outcome onsite-deadline, info",
                       "    dispatch_deadline 2026-11-30T09:00:00+09:00\n    outcome onsite-deadline, warn", 1)
              .replace("      total_jpy 15000\n", "      total_jpy 15001\n", 1))
    assert broken.count("\n") == original.count("\n") and broken != original
    f.write_text(broken, encoding="utf-8")
    assert run("test", pol).returncode == 1
    p = run("test", pol, "--update")
    assert p.returncode == 0, p.stdout
    assert f"updated {f}" in p.stdout or "updated " in p.stdout
    assert f.read_text(encoding="utf-8") == original  # every changed expectation back as the policy decides
    assert run("test", pol).returncode == 0


def test_update_turns_a_null_into_the_block_it_got(run, tmp_path):
    pol, f = _copy(tmp_path)
    text = f.read_text(encoding="utf-8")
    old = "  expect {\n    fee {\n      total_jpy 15000\n    }\n  }\n"
    assert old in text
    f.write_text(text.replace(old, "  expect {\n    fee null\n  }\n", 1), encoding="utf-8")
    p = run("test", pol, "--update", "-k", "sixty-one-minutes-adds-a-block")
    assert p.returncode == 0, p.stdout
    new = f.read_text(encoding="utf-8")
    assert ("    fee {\n      total_jpy 15000\n      per_technician_jpy 15000\n      needs_quote false\n"
            "      technicians 1\n    }\n") in new
    assert run("fmt", "--check", f).returncode == 0  # written as sptui fmt writes it
    assert run("test", pol).returncode == 0


def test_update_leaves_a_passing_suite_alone(run, tmp_path):
    pol, f = _copy(tmp_path)
    before = f.read_text(encoding="utf-8")
    p = run("test", pol, "--update")
    assert p.returncode == 0 and "updated" not in p.stdout
    assert f.read_text(encoding="utf-8") == before
