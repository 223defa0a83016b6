"""`sptui diff OLD NEW`: a policy change replayed over a JSON-lines file and over the cases a desk recorded (a real
SQLite file and the PostgreSQL server): each changed decision, field old → new, the rules and clauses that changed,
the summary; exit 0 nothing changed, 1 something did, 2 bad input."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from conftest import POLICIES, registry_csv, registry_row

from sptui.testing import make_case, tokyo


def changed_policy(tmp_path, *edits: tuple[str, str, str]):
    """A copy of the shipped policy with each (file, old text, new text) replaced."""
    new = tmp_path / "new"
    shutil.copytree(POLICIES, new)
    for name, old, text in edits:
        f = new / name
        s = f.read_text(encoding="utf-8")
        assert old in s, (name, old)
        f.write_text(s.replace(old, text, 1), encoding="utf-8")
    return new


SHORTER_HOURS = ("hours.sptp", "window 08:30-17:30", "window 08:30-17:00")  # weekday-9h's hw hours end at 17:00
ABROAD_CONSULT = ("coverage.sptp", 'require device.country == "JP"\n  on-fail not-covered',
                  'require device.country == "JP"\n  on-fail consult')


@pytest.fixture
def new_policy(tmp_path):
    return changed_policy(tmp_path, SHORTER_HOURS, ABROAD_CONSULT)


def _cases_file(tmp_path, *lines) -> str:
    f = tmp_path / "cases.jsonl"
    f.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return str(f)


def test_each_changed_decision_with_its_fields_rules_and_clauses(run, tmp_path, new_policy):
    at_1700 = make_case()  # Friday 17:00: inside 08:30-17:30, outside 08:30-17:00
    abroad = make_case({"device.country": "SG", "at": "2026-11-30T10:00:00+09:00"})
    monday = make_case({"at": "2026-11-30T10:00:00+09:00"})  # unchanged
    f = _cases_file(tmp_path, at_1700, monday, abroad)
    p = run("diff", POLICIES, new_policy, "--cases", f, "--format", "json")
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    assert out["summary"] == {"cases": 3, "changed": 2, "errors": 0,
                              "by_field": {"verdict": 1, "in_service_hours": 1, "dispatch_deadline": 1},
                              "by_clause": out["summary"]["by_clause"]}
    first, second = out["changes"]
    assert first["case"] == {"line": 1}
    fields = {x["field"]: (x["old"], x["new"]) for x in first["fields"]}
    assert fields["in_service_hours"] == (True, False)
    assert fields["dispatch_deadline"] == ("2026-11-30T10:00:00+09:00", "2026-11-30T10:30:00+09:00")
    assert second["case"] == {"line": 3}
    assert {x["field"]: (x["old"], x["new"]) for x in second["fields"]}["verdict"] == ("not-covered", "consult")
    assert {"rule": "installed-in-japan", "old": "fail (not-covered)", "new": "fail (consult)",
            "cite": "第1章 1, 第3章 2.8, 第3章 3.5", "message_only": False} in second["rules"]
    assert {"rule": "service-hours", "old": "info", "new": "info", "cite": "第1章 3, 第3章 2.3",
            "message_only": True} in first["rules"]  # same outcome, another message (the hours it states)
    assert "第1章 1" in second["clauses"] and out["summary"]["by_clause"]["第1章 1"] == 1


def test_text_report_in_english_and_japanese(run, tmp_path, new_policy):
    f = _cases_file(tmp_path, make_case(), make_case({"device.country": "SG"}))
    p = run("diff", POLICIES, new_policy, "--cases", f)
    assert p.returncode == 1, p.stderr
    assert "line 1\n  in service hours: yes → no\n" in p.stdout
    assert "  verdict: not-covered → consult" in p.stdout
    assert p.stdout.splitlines()[-1].startswith("this change alters 2 of 2 decisions; by field: verdict 1")
    p = run("diff", POLICIES, new_policy, "--cases", f, "--lang", "ja")
    assert "行 1\n  サービス時間内: はい → いいえ\n" in p.stdout
    assert p.stdout.splitlines()[-1].startswith("この変更で 2 件中 2 件の判定が変わります")


def test_nothing_changed_exits_0(run, tmp_path):
    f = _cases_file(tmp_path, make_case(), make_case({"device.country": "SG"}))
    p = run("diff", POLICIES, POLICIES, "--cases", f)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "this change alters 0 of 2 decisions"


def test_a_bad_case_is_reported_and_the_rest_go_on_exit_2(run, tmp_path, new_policy):
    f = _cases_file(tmp_path, "{not json", make_case({"at": "yesterday"}), make_case({"device.country": "SG"}))
    p = run("diff", POLICIES, new_policy, "--cases", f, "--format", "json")
    assert p.returncode == 2
    out = json.loads(p.stdout)
    assert out["summary"]["cases"] == 3 and out["summary"]["changed"] == 1 and out["summary"]["errors"] == 2
    assert [e["case"] for e in out["errors"]] == [{"line": 1}, {"line": 2}]
    assert "not JSON" in out["errors"][0]["error"] and out["errors"][1]["error"].startswith("at: ")


def test_a_case_only_one_policy_can_read_is_a_change(run, tmp_path):
    new = changed_policy(tmp_path, ("hours.sptp", "  years 1, 3, 5, 7\n", "  years 1, 3, 7\n"))  # no 5-year weekday-9h
    p = run("diff", POLICIES, new, "--cases", _cases_file(tmp_path, make_case()), "--format", "json")
    assert p.returncode == 1, p.stderr
    [change] = json.loads(p.stdout)["changes"]
    [field] = change["fields"]
    assert field["field"] == "case" and field["old"] == "covered" and field["new"].startswith("pack.years: ")


@pytest.mark.parametrize("args, message", [
    ((), "--cases FILE.jsonl or --db URL"),
    (("--cases", "x.jsonl", "--db", "x.db"), "one of them"),
    (("--cases", "x.jsonl", "--since", "2026-01-01"), "--since selects recorded cases"),
    (("--db", "x.db", "--since", "yesterday"), "--since: "),
])
def test_bad_options_exit_2(run, args, message):
    p = run("diff", POLICIES, POLICIES, *args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


# ---- the cases a desk recorded ---------------------------------------------------------------------------------
def _recorded_desk(store, policy):
    """Three incidents (Friday 17:00, Monday 10:00, a 24x7 machine at 17:00) and an alarm, as the desk records them."""
    from intake_util import alarm

    from sptui.desk import file_mails, open_incident
    from sptui.intake.ingest import parse

    store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, variant="24x7"), registry_row(3)]))
    ids = [open_incident(store, policy, label=label, at=tokyo(at), summary="disk", operator="setup")
           for label, at in (("1234-000-001", "2026-11-27 17:00"), ("1234-000-003", "2026-11-30 10:00"),
                             ("1234-000-002", "2026-11-27 17:00"))]
    t = tokyo("2026-11-27 17:05")
    raw = alarm("SV0001", t - dt.timedelta(seconds=30), message_id="sv1@diff")
    [stored] = file_mails(store, policy, [(raw, parse(raw), "test", t)])
    return ids, stored.id


def test_replays_the_cases_a_desk_recorded(run, store, db_url, policy, tmp_path, new_policy):
    ids, aid = _recorded_desk(store, policy)
    assert store.alarms.get(aid)["case"]["alarm"]["received_at"] == "2026-11-27T17:05:00+09:00"  # kept with it
    p = run("diff", POLICIES, new_policy, "--db", db_url, "--format", "json")
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    assert out["summary"]["cases"] == 4
    refs = [c["case"] for c in out["changes"]]
    assert {"incident": ids[0], "label": "1234-000-001", "at": "2026-11-27T17:00:00+09:00"} in refs
    assert all("incident" not in r or r["incident"] != ids[1] for r in refs)  # Monday 10:00: unchanged
    p = run("diff", POLICIES, new_policy, "--db", db_url, "--since", "2026-11-28")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "this change alters 0 of 1 decisions"


def test_an_alarm_filed_before_cases_were_kept_is_rebuilt(store, policy, tmp_path, new_policy):
    import sqlalchemy as sa

    from sptui.desk.replay import replay, store_cases
    from sptui.store import schema as S

    _, aid = _recorded_desk(store, policy)
    with store.db.write() as conn:
        conn.execute(S.alarms.update().values(case=None))
    cases = dict((json.dumps(ref, sort_keys=True), case) for ref, case in store_cases(store))
    [alarm_case] = [c for r, c in cases.items() if '"alarm"' in r]
    assert alarm_case["alarm"]["received_at"] == "2026-11-27T17:05:00+09:00"
    import sptui

    report = replay(policy, sptui.load_policy(new_policy), store_cases(store))
    assert report.cases == 4 and not report.errors
    del sa


def test_a_missing_database_is_refused_as_bad_input_and_not_created(run, tmp_path):
    p = run("diff", POLICIES, POLICIES, "--db", tmp_path / "none.db")
    assert p.returncode == 2 and "no database at" in p.stderr and not (tmp_path / "none.db").exists()


def test_a_policy_with_errors_is_bad_input_not_a_change(run, tmp_path):
    """Exit 1 says decisions changed: a broken policy must not say so (exit 2, naming it)."""
    broken = tmp_path / "broken.sptp"
    broken.write_text("rule oops {\n", encoding="utf-8")
    p = run("diff", POLICIES, broken, "--cases", "-")
    assert p.returncode == 2 and "broken.sptp" in p.stderr
