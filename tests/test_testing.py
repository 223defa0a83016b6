"""sptui.testing, the helpers plugin authors get: builders and the pytest fixtures."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import types

import pytest

from sptui.errors import CaseError
from sptui.testing import alarm_mail, load_policy_with, make_case, registry_row, tokyo


def test_make_case_is_a_covered_case_and_takes_dotted_fields(policy):
    assert policy.decide(make_case()).verdict == "covered"
    case = make_case({"pack.years": 3}, at=tokyo("2026-05-06 10:00"),
                     **{"work.departed_at": "2026-05-06T18:00:00+09:00", "work.completed_at": "2026-05-06T19:30:00+09:00"})
    assert case["pack"] == {"variant": "weekday-9h", "years": 3, "purchased_on": "2024-04-02"}
    assert case["at"] == "2026-05-06T10:00:00+09:00"
    assert case["work"]["technicians"] == 1  # a record made on the way gets its default
    d = policy.decide(case)
    assert d.in_service_hours is True  # 2026-05-06 is a substitute holiday: HW hours include it
    assert d.fee is not None and d.fee.total_jpy == 12_000 + 2 * 3_000
    assert make_case()["pack"]["years"] == 5  # each call starts from a fresh copy


def test_make_case_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        make_case(at=dt.datetime(2026, 5, 6, 10, 0))


def test_a_case_built_with_a_bad_field_is_still_refused_by_the_policy(policy):
    with pytest.raises(CaseError, match="pack.years"):
        policy.decide(make_case(**{"pack.years": "five"}))


def test_load_policy_with_names_a_plugin_that_fails():
    broken = types.ModuleType("broken_pack")
    exec(textwrap.dedent("""
        from sptui.plugins.api import hookimpl
        @hookimpl
        def sptui_functions(register):
            raise RuntimeError("no rate table")
    """), broken.__dict__)
    with pytest.raises(AssertionError, match=r"broken_pack \[register\]: sptui_functions: RuntimeError: no rate table"):
        load_policy_with(broken)


def test_registry_row_refuses_an_unknown_field():
    assert registry_row(7)["computer_name"] == "SV0007"
    with pytest.raises(KeyError, match="colour"):
        registry_row(1, colour="red")


def test_alarm_mail_parses_as_the_machine_and_time_given():
    from sptui.intake.esmpro import parse_alarm_mail

    mail = parse_alarm_mail(alarm_mail("SV0042", tokyo("2026-12-29 03:15:00"), message_id="t@esm"))
    assert mail.computer == "SV0042"
    assert mail.occurred_at == tokyo("2026-12-29 03:15")


def test_the_fixtures_work_in_a_plugin_authors_test_file(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["sptui.testing"]\n')
    (tmp_path / "policies").mkdir()  # the author's own folder of that name is not sptui's policy
    (tmp_path / "policies" / "mine.sptp").write_text("variant mine {\n")
    (tmp_path / "test_author.py").write_text(textwrap.dedent("""
        def test_fixtures(sptui_policy_with, sptui_case, sptui_store):
            policy = sptui_policy_with()
            assert policy.decide(sptui_case(**{"registration.status": "pending"})).verdict == "not-started"
            assert sptui_store.db.counts()["machines"] == 0
    """))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
