"""`sptui report`, `sptui handover`, `sptui billing`, `sptui queue`: the lead's views from the command line, on the
day of report_data.py (real SQLite files; the services on both engines)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa
from report_data import build, t

from sptui.csvcell import from_cell
from sptui.desk import Consent, Work, contact, dispatch, file_mails, open_incident
from sptui.desk.billing import billing
from sptui.desk.handover import handover
from sptui.intake.ingest import parse
from sptui.store import Store
from sptui.store import schema as S
from sptui.testing import alarm_mail
from sptui.tz import now


@pytest.fixture
def day_db(tmp_path, policy):
    path = tmp_path / "desk.db"
    s = Store.open(f"sqlite:///{path}")
    ids = build(s, policy)
    s.close()
    return str(path), ids


def test_report_says_three_of_five_deadlines_met(day_db, run):
    path, _ = day_db
    r = run("report", "--db", path, "--since", "2026-11-26", "--until", "2026-11-26", "--at", "2026-11-27 10:00")
    assert r.returncode == 0, r.stderr
    assert "onsite deadlines: 3 of 5 met (2 missed" in r.stdout
    assert "late reasons: traffic 1, not-dispatched 1" in r.stdout
    assert "median 22.5 min, worst 35 min" in r.stdout
    j = json.loads(run("report", "--db", path, "--week", "--at", "2026-11-27T10:00+09:00", "--format", "json").stdout)
    assert j["deadlines"]["met"] == 4 and j["period"]["since"] == "2026-11-23T00:00:00+09:00"
    assert len(j["incidents_per_hour"]) == len(j["hours"]) == 7 * 24


def test_report_refuses_a_bad_period_in_one_line(day_db, run):
    path, _ = day_db
    r = run("report", "--db", path, "--since", "2026-11-27", "--until", "2026-11-20")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "before it starts" in r.stderr
    r = run("report", "--db", path, "--today", "--since", "2026-11-27")
    assert r.returncode == 2 and "not both" in r.stderr


def _shift(store, policy, ids) -> list[tuple[str, str, int | None]]:
    """A scripted shift after the day's setup: what it did, as (kind, operator, id)."""
    iid = open_incident(store, policy, label="1234-000-003", at=now(), summary="PSU", operator="kato")
    store.incidents.claim(iid, operator="kato")
    store.incidents.add_note(iid, "customer called back", operator="kato")
    store.incidents.claim(ids[5], operator="kato")
    store.incidents.assign(ids[5], "suzuki", operator="kato")
    dispatch(store, policy, iid, operator="kato", technician="ito", work=Work(now(), None),
             consent=Consent("担当 3", "phone", now()))
    store.incidents.close(ids[1], operator="sato")
    raw = alarm_mail("SV0001", now() - dt.timedelta(minutes=1), message_id="shift-new@example.jp")
    new = file_mails(store, policy, [(raw, parse(raw), "test", now())])[0].id
    contact(store, policy, ids["C"], at=now(), reached=False, operator="kato")
    return [("opened", "kato", iid), ("claimed", "kato", iid), ("note", "kato", iid), ("claimed", "kato", ids[5]),
            ("assigned", "kato", ids[5]), ("dispatched", "kato", iid), ("closed", "sato", ids[1]),
            ("alarm-received", "intake", new), ("unreachable", "kato", ids["C"])]


def test_the_handover_of_a_scripted_shift_lists_exactly_its_events(store, policy):
    ids = build(store, policy)
    since = now()
    expected = _shift(store, policy, ids)
    h = handover(store, since, now() + dt.timedelta(seconds=1))
    assert [(e.kind, e.operator, e.id) for e in h.events] == expected
    assert h.counts["opened"] == 1 and h.counts["closed"] == 1 and h.counts["retries"] == 1
    assert [r["alarm"] for r in h.retries] == [ids["C"]]  # its next call is tomorrow: the next shift's
    assert h.owners["suzuki"] == [ids[5], ids[6]] and ids[1] not in sum(h.owners.values(), [])
    assert {a["id"] for a in h.left["alarms"]} == {ids["C"], expected[7][2]}


def test_handover_text_and_json_from_the_cli(day_db, run, policy):
    path, ids = day_db
    s = Store.open(f"sqlite:///{path}")
    since = now()
    _shift(s, policy, ids)
    s.close()
    r = run("handover", "--db", path, "--since", since.isoformat())
    assert r.returncode == 0, r.stderr
    assert "1 opened, 2 claimed, 0 taken over, 1 assigned, 1 dispatched, 1 closed" in r.stdout
    assert "1 retr(y/ies) scheduled into the next shift" in r.stdout and "suzuki: #5 #6" in r.stdout
    j = json.loads(run("handover", "--db", path, "--since", since.isoformat(), "--format", "json").stdout)
    assert [e["kind"] for e in j["events"]].count("claimed") == 2 and j["owners"]["suzuki"] == [ids[5], ids[6]]


def test_the_billing_totals_equal_the_sum_of_the_stored_fees(store, policy):
    ids = build(store, policy)
    # a billable exclusion (ex-01, lightning) in hours, and uncovered work without a fee yet
    iid = open_incident(store, policy, label="1234-000-003", at=t(27, 9), summary="lightning", operator="sato",
                        cause="ex-01")
    dispatch(store, policy, iid, operator="sato", technician="ito", work=Work(t(27, 9, 30), t(27, 11, 5)),
             consent=Consent("担当 3", "mail", t(27, 9, 10)))
    b = billing(store, "2026-11")
    with store.db.read() as conn:
        fees = [f for f, in conn.execute(sa.select(S.dispatches.c.fee)) if f is not None]
    assert b.total_jpy == sum(f["total_jpy"] for f in fees) == 18000 + fees[-1]["total_jpy"]
    kinds = {d["incident_id"]: d for d in b.dispatches}
    assert set(kinds) == {ids[6], iid}  # the free in-hours dispatches are not billed
    totals = {x["customer"]: x["total_jpy"] for x in b.totals()}
    assert totals == {"顧客2株式会社": 18000, "顧客3株式会社": fees[-1]["total_jpy"]}
    rows = b.csv_rows()
    line_sum = sum(r["amount_jpy"] * 1 for r in rows if r["record"] == "line")
    assert line_sum == b.total_jpy  # (one technician each: the lines add up to the fee)
    assert billing(store, "2026-10").dispatches == []


def test_billing_csv_is_safe_for_spreadsheets_with_a_bom_and_json_agrees(day_db, run):
    path, _ = day_db
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(S.customers.update().where(S.customers.c.organisation == "顧客2株式会社")
                     .values(organisation='=HYPERLINK("http://x","y")'))
    engine.dispose()
    r = run("billing", "--db", path, "--month", "2026-11", "--bom")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    names = {row["customer"] for row in rows if row["customer"]}
    assert names == {"'=HYPERLINK(\"http://x\",\"y\")"} and {from_cell(n) for n in names} == {'=HYPERLINK("http://x","y")'}
    assert [row["fee_total_jpy"] for row in rows if row["record"] in ("total", "month")] == ["18000", "18000"]
    assert [row["consent_by"] for row in rows if row["record"] == "dispatch"] == ["担当 2"]
    j = json.loads(run("billing", "--db", path, "--month", "2026-11", "--format", "json").stdout)
    assert j["total_jpy"] == 18000 and j["dispatches"][0]["fee"]["lines"][0]["amount_jpy"] == 12000
    bad = run("billing", "--db", path, "--month", "2026-13")
    assert bad.returncode == 2 and "2026-11" in bad.stderr


def test_queue_export_csv_and_json_with_the_desks_filter(day_db, run, tmp_path):
    path, ids = day_db
    r = run("queue", "--db", path)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["key"] for row in rows][:2] == [f"a{ids['C']}", f"i{ids[5]}"]  # most urgent first: 16:00, 22:00
    assert len(rows) == 7
    out = tmp_path / "q.json"
    r = run("queue", "--db", path, "--filter", "fan stopped", "--format", "json", "-o", str(out))
    assert r.returncode == 0 and "wrote" in r.stderr
    assert [x["id"] for x in json.loads(out.read_text(encoding="utf-8"))] == [ids[6]]


def test_control_characters_typed_into_a_note_reach_json_escaped_and_text_shown(day_db, run):
    path, ids = day_db
    s = Store.open(f"sqlite:///{path}")
    since = now()
    s.incidents.add_note(ids[5], "\x1b[2J\u202eevil\x9b", operator="sato")
    s.close()
    r = run("handover", "--db", path, "--since", since.isoformat(), "--format", "json")
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout and "\x9b" not in r.stdout
    assert json.loads(r.stdout)["events"][0]["text"] == "\x1b[2J\u202eevil\x9b"  # the same data to a program
    r = run("handover", "--db", path, "--since", since.isoformat())
    assert "\\x1b[2J\\u202eevil\\x9b" in r.stdout and "\x1b" not in r.stdout


def test_export_cells_numbers_stay_numbers_and_formulas_become_text():
    from sptui.desk.export import export_text

    text = export_text([{"a": "=1+1", "b": -2500, "c": "-x", "d": None, "e": True}], ("a", "b", "c", "d", "e"), "csv")
    assert text.splitlines()[1] == "'=1+1,-2500,'-x,,true"
    assert export_text([], ("a",), "csv", bom=True).startswith("\ufeffa")


def test_a_period_not_on_the_hour_and_a_full_width_month():
    from sptui.desk.billing import month_span
    from sptui.desk.report import Period

    p = Period.between(t(26, 10, 30), t(26, 12))
    assert [h.hour for h in p.hours()] == [10, 11]
    assert month_span("２０２６－１２")[0].isoformat() == "2026-12-01T00:00:00+09:00"
    assert month_span("2026-12")[1].isoformat() == "2027-01-01T00:00:00+09:00"


def test_two_customers_of_one_name_are_billed_apart(store, policy):
    ids = build(store, policy)
    with store.db.write() as conn:  # 顧客3 takes 顧客2's name: a second company of the same name
        conn.execute(S.customers.update().where(S.customers.c.organisation == "顧客3株式会社")
                     .values(organisation="顧客2株式会社"))
    dispatch(store, policy, open_incident(store, policy, label="1234-000-003", at=t(27, 18), summary="x",
                                          operator="sato"),
             operator="sato", technician="ito", work=Work(t(27, 19), t(27, 20)), consent=Consent("c", "mail", t(27, 18)))
    totals = billing(store, "2026-11").totals()
    assert [x["customer"] for x in totals] == ["顧客2株式会社", "顧客2株式会社"] and ids
    assert len({x["customer_id"] for x in totals}) == 2
