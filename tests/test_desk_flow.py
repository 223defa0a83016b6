"""The desk's work flow on SQLite and PostgreSQL: one fee truth for a dispatch (the quote, the stored decision and
`sptui fee` agree; uncovered work is confirmed and the customer's consent kept), alarms that become incidents,
and one rule for who acts on an incident (owner, take-over, assign) — through the desk layer and the CLI."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from conftest import registry_csv, registry_row
from intake_util import alarm

from sptui.intake.ingest import parse
from sptui.store import ConflictError, Store, StoreError
from sptui.store import schema as S
from sptui.testing import tokyo
from sptui.desk import file_mails, open_incident

OTHER_HOURS = "covered work inside the service hours"


@pytest.fixture
def desk(store):
    rows = [registry_row(1), registry_row(2, variant="24x7"),
            registry_row(3, registration_status="pending", completed_on=""),
            registry_row(4, registration_status="rejected", completed_on=""), registry_row(5)]
    store.registry.import_csv(registry_csv(rows))
    return store


def _open(store, policy, label: str, at: str = "2026-11-27 17:10", **kw) -> int:
    return open_incident(store, policy, label=label, at=tokyo(at), summary=f"disk on {label}", operator="setup", **kw)


def _alarm(store, policy, computer: str, received: str) -> int:
    t = tokyo(received)
    raw = alarm(computer, t - dt.timedelta(seconds=30), message_id=f"{computer}-{t:%Y%m%d%H%M}@flow")
    [stored] = file_mails(store, policy, [(raw, parse(raw), "test", t)])
    return stored.id


# ---- money: one truth for the 別表-1 fee -------------------------------------------------------------------
def test_the_fee_rule_does_not_call_work_on_an_uncovered_machine_free_covered_work(policy):
    """The decision for off-hours work on a machine whose registration is pending (not-started) charges no
    別表-1 fee (eval.md) and says why: not covered, the customer pays — not "covered work inside the hours"."""
    from sptui.testing import make_case

    for fields in ({"registration.status": "pending", "registration.completed_on": None},
                   {"registration.status": "rejected", "registration.completed_on": None}, {"cause": "ex-12"}):
        d = policy.decide(make_case(fields, **{"work.departed_at": tokyo("2026-11-27 20:30"),
                                              "work.completed_at": tokyo("2026-11-27 22:10")}))
        [fee] = [r for r in d.reasons if r.rule == "fee"]
        assert d.fee is None and d.verdict in ("not-started", "not-covered", "consult")
        assert OTHER_HOURS not in fee.message("en") and "the customer pays" in fee.message("en")
        assert "サービス時間内" not in fee.message("ja") and "お客様負担" in fee.message("ja")


@pytest.mark.parametrize("label,verdict", [("1234-000-003", "not-started"), ("1234-000-004", "not-covered"),
                                           ("1234-000-001", "consult")])
def test_an_uncovered_dispatch_is_confirmed_the_customer_pays_and_consents(desk, policy, label, verdict):
    from sptui.desk import BadRequest, Consent, Work, dispatch

    iid = _open(desk, policy, label, cause="ex-12" if verdict == "consult" else None)
    assert desk.incidents.get(iid)["verdict"] == verdict
    work = Work(tokyo("2026-11-27 20:30"), tokyo("2026-11-27 22:10"))
    consent = Consent("山田 様", "mail", tokyo("2026-11-27 20:00"))
    with pytest.raises(BadRequest, match=f"incident {iid} is {verdict}: not covered, the customer pays"):
        dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, consent=consent)
    with pytest.raises(BadRequest, match=r"the customer pays \(quote needed\): record their consent"):
        dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, confirm_uncovered=True)
    assert desk.db.counts()["dispatches"] == 0 and desk.incidents.get(iid)["status"] == "open"  # nothing half-done
    out = dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, confirm_uncovered=True,
                   consent=consent)
    inc, [row] = desk.incidents.get(iid), desk.incidents.dispatches(iid)
    assert out["fee"] is None and inc["decision"]["fee"] is None  # eval.md: no 別表-1 fee for these verdicts
    assert (inc["status"], inc["billing"], row["billing"]) == ("dispatched", "quote-needed", "quote-needed")
    assert (row["confirmed_by"], row["consent_by"], row["consent_via"], row["consent_at"]) == (
        "sato", "山田 様", "mail", tokyo("2026-11-27 20:00"))
    fee_reason = next(r for r in inc["decision"]["reasons"] if r["rule"] == "fee")
    assert "the customer pays" in fee_reason["message"] and OTHER_HOURS not in fee_reason["message"]
    line = desk.incidents.timeline(iid)[-1]["text"]
    assert f"the customer pays: quote needed ({verdict}) (confirmed by sato); consent: 山田 様 by mail" in line
    [entry] = [a for a in desk.audit.rows("incident", iid) if a["action"] == "dispatch"]
    assert entry["detail"]["confirmed_by"] == "sato" and entry["detail"]["billing"] == "quote-needed"


def test_a_24x7_night_dispatch_is_free_in_the_quote_the_store_and_the_cli(desk, policy, db_url, run):
    """The issue's case: a 24x7 machine, departure 03:59, completion 05:30 — inside its service hours: no fee in
    the quote, none stored, and the CLI says so (the bare 別表-1 table would quote 24,500円)."""
    first = _open(desk, policy, "1234-000-002", "2026-11-28 03:00")
    r = run("incident", "dispatch", first, "--technician", "t", "--depart", "2026-11-28T03:59+09:00",
            "--complete", "2026-11-28T05:30+09:00", "--db", db_url, "--operator", "sato")
    assert r.returncode == 0, r.stderr
    assert "24,500" not in r.stdout and OTHER_HOURS in r.stdout
    assert desk.incidents.get(first)["decision"]["fee"] is None and desk.incidents.dispatches(first)[0]["fee"] is None

    from sptui.desk import Work, dispatch, quote_dispatch

    iid = _open(desk, policy, "1234-000-002", "2026-11-28 03:00")
    work = Work(tokyo("2026-11-28 03:59"), tokyo("2026-11-28 05:30"))
    quote = quote_dispatch(policy, desk.incidents.get(iid), work)
    assert (quote.fee, quote.billing) == (None, "free") and "24,500" not in quote.describe("en")
    dispatch(desk, policy, iid, operator="sato", technician="t1", work=work)
    assert desk.incidents.get(iid)["decision"]["fee"] is None and desk.incidents.dispatches(iid)[0]["fee"] is None


def test_billable_work_needs_the_customers_consent_and_keeps_who_when_and_how(desk, policy):
    from sptui.desk import BadRequest, Consent, Work, dispatch

    iid = _open(desk, policy, "1234-000-001")
    work = Work(tokyo("2026-11-27 20:30"), tokyo("2026-11-27 22:10"))
    with pytest.raises(BadRequest, match=r"the customer pays \(別表-1 fee 22,500円\): record their consent"):
        dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, late_reason="site")
    out = dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, late_reason="site",
                   consent=Consent("施設 課長", "phone", tokyo("2026-11-27 20:10")))
    inc, [row] = desk.incidents.get(iid), desk.incidents.dispatches(iid)
    assert out["fee"]["total_jpy"] == inc["decision"]["fee"]["total_jpy"] == row["fee"]["total_jpy"] == 22_500
    assert (inc["billing"], row["consent_by"], row["consent_via"], row["consent_at"], row["confirmed_by"]) == (
        "fee", "施設 課長", "phone", tokyo("2026-11-27 20:10"), None)


def test_a_dispatch_without_the_completion_stores_no_fee_but_knows_the_customer_pays(desk, policy):
    from sptui.desk import BadRequest, Consent, Work, dispatch, quote_dispatch

    iid = _open(desk, policy, "1234-000-001")
    work = Work(tokyo("2026-11-27 20:30"))
    quote = quote_dispatch(policy, desk.incidents.get(iid), work)
    assert quote.provisional and quote.billing == "fee" and "at least 12,000円" in quote.describe("en")
    with pytest.raises(BadRequest, match="record their consent"):
        dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, late_reason="site")
    dispatch(desk, policy, iid, operator="sato", technician="t1", work=work, late_reason="site",
             consent=Consent("施設 課長", "phone", tokyo("2026-11-27 20:10")))
    inc = desk.incidents.get(iid)
    assert inc["decision"]["fee"] is None and inc["case"]["work"] is None  # nothing provisional is kept
    assert inc["billing"] == "fee" and desk.incidents.dispatches(iid)[0]["fee"] is None


def test_the_cli_refuses_uncovered_or_unconsented_work_with_one_line_and_exit_2(desk, policy, db_url, run):
    iid = _open(desk, policy, "1234-000-003")  # not-started: registration pending
    base = ["incident", "dispatch", iid, "--technician", "t", "--depart", "2026-11-27T20:30+09:00",
            "--complete", "2026-11-27T22:10+09:00", "--db", db_url, "--operator", "sato"]
    r = run(*base)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not-started" in r.stderr and "--confirm-uncovered" in r.stderr
    r = run(*base, "--confirm-uncovered")
    assert r.returncode == 2 and "--consent-by" in r.stderr and "Traceback" not in r.stderr
    r = run(*base, "--confirm-uncovered", "--consent-by", "山田", "--consent-via", "fax")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run(*base, "--confirm-uncovered", "--consent-by", "山田", "--consent-via", "phone",
            "--consent-at", "2026-11-27T20:05")  # naive
    assert r.returncode == 2 and "consent-at" in r.stderr
    assert desk.db.counts()["dispatches"] == 0
    r = run(*base, "--confirm-uncovered", "--consent-by", "山田", "--consent-via", "phone")
    assert r.returncode == 0, r.stderr
    assert "the customer pays: quote needed (not-started)" in r.stdout
    shown = run("incident", "show", iid, "--db", db_url)
    assert "dispatched · customer pays" in shown.stdout


@pytest.mark.parametrize("args,says", [
    (["--depart", "9999-12-31T23:59+09:00", "--late-reason", "site"], "outside the years 1900–2999"),
    (["--depart", "2026-11-27T18:00+09:00", "--complete", "2026-11-27T18:00+09:00"], "cannot be complete"),
    (["--depart", "2026-11-26T18:00+09:00"], "before the notice was received"),
    (["--depart", "2026-11-27T18:00"], "--depart"),
    (["--depart", "2026-11-27T18:00+09:00", "--consent-by", "x" * 201, "--consent-via", "phone"], "at most 200"),
    (["--depart", "2026-11-27T18:00+09:00", "--consent-by", "x"], "needs both"),
])
def test_bad_dispatch_input_is_one_line_and_exit_2(desk, policy, db_url, run, args, says):
    iid = _open(desk, policy, "1234-000-001")
    r = run("incident", "dispatch", iid, "--technician", "t", *args, "--db", db_url, "--operator", "sato")
    assert r.returncode == 2 and says in r.stderr and r.stderr.count("\n") == 1, r.stderr
    r = run("incident", "dispatch", iid, "--technician", "y" * 101, "--depart", "2026-11-27T17:30+09:00",
            "--db", db_url, "--operator", "sato")
    assert r.returncode == 2 and "at most 100" in r.stderr
    assert desk.db.counts()["dispatches"] == 0 and desk.incidents.get(iid)["status"] == "open"


# ---- the property: the quote, the stored fee and `sptui fee` agree ------------------------------------------
def _sptui_fee(depart: dt.datetime, complete: dt.datetime, technicians: int, variant: str) -> dict:
    from click.testing import CliRunner

    from sptui.cli import main

    r = CliRunner().invoke(main, ["fee", "--depart", depart.isoformat(), "--complete", complete.isoformat(),
                                  "--technicians", str(technicians), "--variant", variant, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_the_quote_the_stored_fee_and_sptui_fee_agree_for_any_work(tmp_path, policy):
    """For any departure, completion, technicians and machine (weekday-9h or 24x7, covered or not started): the
    fee the dialog quotes (quote_dispatch, describe) is the fee stored after the dispatch and the fee `sptui fee`
    gives, where the decision charges; where it does not, the quote says so and no fee is stored."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from sptui.desk import Consent, Work, dispatch, quote_dispatch

    store = Store.open(f"sqlite:///{tmp_path / 'prop.db'}")
    store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, variant="24x7"),
                                        registry_row(3, registration_status="pending", completed_on="")]))
    notice = tokyo("2026-11-27 16:00")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(label=st.sampled_from(["1234-000-001", "1234-000-002", "1234-000-003"]),
           start=st.integers(0, 4 * 24 * 60), minutes=st.integers(1, 12 * 60), technicians=st.integers(1, 3))
    def agree(label, start, minutes, technicians):
        iid = open_incident(store, policy, label=label, at=notice, summary="p", operator="setup")
        depart = notice + dt.timedelta(minutes=start)
        work = Work(depart, depart + dt.timedelta(minutes=minutes), technicians)
        inc = store.incidents.get(iid)
        quote = quote_dispatch(policy, inc, work)
        shown = quote.describe("en")
        out = dispatch(store, policy, iid, operator="sato", technician="t", work=work, late_reason="traffic",
                       confirm_uncovered=True, consent=Consent("c", "phone", depart))
        stored = store.incidents.get(iid)["decision"]["fee"]
        if quote.fee is None:
            assert out["fee"] is None and stored is None and store.incidents.dispatches(iid)[0]["fee"] is None
            assert "no fee" in shown or "no 別表-1 fee" in shown
            return
        table = _sptui_fee(work.departed_at, work.completed_at, technicians, store.registry.machine(label)["variant"])
        assert quote.fee.total_jpy == out["fee"]["total_jpy"] == stored["total_jpy"] == table["total_jpy"]
        assert stored["lines"] == table["lines"] and f"{stored['total_jpy']:,}円" in shown

    try:
        agree()
    finally:
        store.close()


# ---- ownership: one rule for who acts on an incident ----------------------------------------------------------
def test_only_the_owner_closes_marks_and_notes_and_a_take_over_is_explicit_and_audited(desk, policy, db_url):
    iid = _open(desk, policy, "1234-000-005", "2026-11-27 10:00")
    other = Store.open(db_url)
    desk.incidents.claim(iid, operator="sato")
    for refused in (lambda: other.incidents.close(iid, operator="suzuki"),
                    lambda: other.incidents.mark_consult(iid, "needs NEC", operator="suzuki"),
                    lambda: other.incidents.add_note(iid, "I called them", operator="suzuki")):
        with pytest.raises(ConflictError, match=f"incident {iid} is owned by sato: only its owner can .*take it over"):
            refused()
    inc = desk.incidents.get(iid)
    assert (inc["status"], inc["consult"], inc["owner"]) == ("claimed", None, "sato")
    assert [e["kind"] for e in desk.incidents.timeline(iid)] == ["opened", "claimed"]
    v = other.incidents.take_over(iid, operator="suzuki", version=inc["version"])
    other.incidents.add_note(iid, "I called them", operator="suzuki", version=v)
    other.incidents.close(iid, operator="suzuki", version=v)
    assert [(e["kind"], e["operator"]) for e in desk.incidents.timeline(iid)][2:] == [
        ("take-over", "suzuki"), ("note", "suzuki"), ("closed", "suzuki")]
    assert desk.incidents.timeline(iid)[2]["text"] == "taken over from sato by suzuki"
    [entry] = [a for a in desk.audit.rows("incident", iid) if a["action"] == "take-over"]
    assert (entry["operator"], entry["detail"]) == ("suzuki", {"from": "sato", "to": "suzuki"})
    other.close()


def test_a_stale_take_over_or_note_writes_nothing(desk, policy, db_url):
    iid = _open(desk, policy, "1234-000-005", "2026-11-27 10:00")
    seen = desk.incidents.get(iid)["version"]
    other = Store.open(db_url)
    other.incidents.claim(iid, operator="sato")
    with pytest.raises(ConflictError, match=r"changed by sato \(claimed at .*your take-over"):
        desk.incidents.take_over(iid, operator="suzuki", version=seen)
    with pytest.raises(ConflictError, match=r"changed by sato .*your note"):
        desk.incidents.add_note(iid, "x", operator="sato", version=seen)
    assert desk.incidents.get(iid)["owner"] == "sato" and [e["kind"] for e in desk.incidents.timeline(iid)] == ["opened", "claimed"]
    other.close()


def test_an_unowned_incident_becomes_its_actors_and_assign_hands_it_on(desk, policy, db_url, run):
    from sptui.desk import Work, dispatch

    iid = _open(desk, policy, "1234-000-005", "2026-11-27 10:00")
    desk.incidents.add_note(iid, "first call", operator="tanaka")  # a note makes nobody responsible
    assert desk.incidents.get(iid)["owner"] is None
    dispatch(desk, policy, iid, operator="sato", technician="t1", work=Work(tokyo("2026-11-27 10:30")))
    assert desk.incidents.get(iid)["owner"] == "sato"
    assert [e["text"] for e in desk.incidents.timeline(iid)][2] == "claimed by sato (with the dispatch)"
    with pytest.raises(ConflictError, match="owned by sato: only its owner can assign it"):
        desk.incidents.assign(iid, "tanaka", operator="suzuki")
    r = run("incident", "assign", iid, "--to", "suzuki", "--db", db_url, "--operator", "tanaka")
    assert r.returncode == 1 and "owned by sato" in r.stderr
    r = run("incident", "assign", iid, "--to", "suzuki", "--db", db_url, "--operator", "sato")
    assert r.returncode == 0 and "assigned to suzuki" in r.stdout, r.stderr
    assert desk.incidents.get(iid)["owner"] == "suzuki" and desk.incidents.timeline(iid)[-1]["text"] == "assigned to suzuki by sato"
    [entry] = [a for a in desk.audit.rows("incident", iid) if a["action"] == "assign"]
    assert (entry["operator"], entry["detail"]) == ("sato", {"from": "sato", "to": "suzuki"})
    with pytest.raises(StoreError, match="needs the operator"):
        desk.incidents.assign(iid, "  ", operator="suzuki")


def test_the_cli_and_the_store_give_the_same_refusal_to_a_non_owner(desk, policy, db_url, run):
    iid = _open(desk, policy, "1234-000-005", "2026-11-27 10:00")
    desk.incidents.claim(iid, operator="sato")
    for args in (["close", iid], ["note", iid, "hello"],
                 ["dispatch", iid, "--technician", "t", "--depart", "2026-11-27T10:30+09:00"]):
        r = run("incident", *args, "--db", db_url, "--operator", "suzuki")
        assert r.returncode == 1 and f"incident {iid} is owned by sato" in r.stderr and "Traceback" not in r.stderr
    r = run("incident", "take-over", iid, "--db", db_url, "--operator", "suzuki")
    assert r.returncode == 0 and f"incident {iid}: taken over by suzuki" in r.stdout
    r = run("incident", "close", iid, "--db", db_url, "--operator", "suzuki")
    assert r.returncode == 0 and desk.incidents.get(iid)["status"] == "closed"


# ---- alarms become work ------------------------------------------------------------------------------------
def test_a_reached_alarm_needing_repair_opens_an_incident_decided_at_the_alarms_receipt(desk, policy):
    """Alarm received Friday 17:00 (weekday-9h); the customer reached Monday 09:00: the incident's case is at the
    receipt (the notice, 第1章 2.2 ※), so its deadline is 2 service hours from Friday 17:00 (30 min Friday, 90
    Monday: 10:00), not from the call."""
    from sptui.desk import contact
    from sptui.evaluators.hours import service_deadline
    from sptui.tui import data

    aid = _alarm(desk, policy, "SV0001", "2026-11-27 17:00")
    out = contact(desk, policy, aid, at=tokyo("2026-11-30 09:00"), reached=True, repair_needed=True, operator="sato")
    assert out["status"] == "linked" and out["opened"]
    inc, a = desk.incidents.get(out["incident_id"]), desk.alarms.get(aid)
    assert (a["status"], a["incident_id"], inc["alarm_id"]) == ("linked", inc["id"], aid)
    assert inc["received_at"] == a["received_at"] == tokyo("2026-11-27 17:00")
    assert inc["deadline"] == service_deadline(policy, "weekday-9h", tokyo("2026-11-27 17:00")) == tokyo(
        "2026-11-30 10:00")
    assert inc["verdict"] == "covered" and inc["case"]["repair_needed"] is True
    assert inc["decision"]["dispatch_deadline"] == policy.decide(inc["case"]).to_json()["dispatch_deadline"]
    kinds = [(e["kind"], e["operator"]) for e in desk.incidents.timeline(inc["id"])]
    assert kinds == [("opened", "sato"), ("alarm", "sato")]
    assert f"alarm #{aid} received 2026-11-27 17:00" in desk.incidents.timeline(inc["id"])[1]["text"]
    [attempt] = desk.alarms.contact_attempts(aid)
    assert attempt["reached"] and attempt["incident_id"] == inc["id"]
    keys = {r.key for r in data.queue(desk)}
    assert f"i{inc['id']}" in keys and f"a{aid}" not in keys  # the work is in the queue, as the incident


def test_a_second_alarm_on_the_machine_joins_its_open_incident(desk, policy):
    from sptui.desk import contact

    first = _alarm(desk, policy, "SV0001", "2026-11-30 10:00")
    second = _alarm(desk, policy, "SV0001", "2026-11-30 10:20")
    one = contact(desk, policy, first, at=tokyo("2026-11-30 10:05"), reached=True, repair_needed=True, operator="a")
    two = contact(desk, policy, second, at=tokyo("2026-11-30 10:25"), reached=True, repair_needed=True, operator="b")
    assert (one["opened"], two["opened"], two["incident_id"]) == (True, False, one["incident_id"])
    assert desk.alarms.get(second)["incident_id"] == one["incident_id"] and desk.db.counts()["incidents"] == 1
    assert [e["kind"] for e in desk.incidents.timeline(one["incident_id"])] == ["opened", "alarm", "alarm"]


def test_every_alarm_ends_linked_closed_with_its_reason_or_stays_due(desk, policy):
    from sptui.desk import BadRequest, contact

    aid = _alarm(desk, policy, "SV0005", "2026-11-30 10:00")
    with pytest.raises(BadRequest, match="say whether the machine needs a repair"):
        contact(desk, policy, aid, at=tokyo("2026-11-30 10:05"), reached=True, operator="a")
    with pytest.raises(BadRequest, match="needs the reason"):
        contact(desk, policy, aid, at=tokyo("2026-11-30 10:05"), reached=True, repair_needed=False, reason=" ",
                operator="a")
    with pytest.raises(BadRequest, match="cannot be before the alarm was received"):
        contact(desk, policy, aid, at=tokyo("2026-11-30 09:00"), reached=False, operator="a")
    assert desk.alarms.get(aid)["status"] == "new" and desk.alarms.contact_attempts(aid) == []
    out = contact(desk, policy, aid, at=tokyo("2026-11-30 10:05"), reached=False, operator="a")
    assert out["status"] == "retry" and desk.alarms.get(aid)["next_contact_at"] == tokyo("2026-12-01 08:30")
    contact(desk, policy, aid, at=tokyo("2026-12-01 08:40"), reached=True, repair_needed=False,
            reason="お客様が再起動で復旧を確認", operator="b")
    a = desk.alarms.get(aid)
    assert (a["status"], a["closed_reason"], a["incident_id"]) == ("closed", "お客様が再起動で復旧を確認", None)
    with pytest.raises(StoreError, match="has ended already"):
        contact(desk, policy, aid, at=tokyo("2026-12-01 09:00"), reached=True, repair_needed=True, operator="b")
    with desk.db.read() as conn:  # nothing in the store is reached without an end
        left = conn.execute(sa.select(sa.func.count()).select_from(S.alarms).where(
            S.alarms.c.status.not_in(("new", "retry", "linked", "closed")))).scalar()
    assert left == 0


def test_a_stale_call_on_an_alarm_writes_nothing_and_opens_nothing(desk, policy, db_url):
    from sptui.desk import contact

    aid = _alarm(desk, policy, "SV0001", "2026-11-30 10:00")
    seen = desk.alarms.get(aid)["version"]
    other = Store.open(db_url)
    contact(other, policy, aid, at=tokyo("2026-11-30 10:05"), reached=False, operator="b")
    with pytest.raises(ConflictError, match=f"alarm {aid} was changed"):
        contact(desk, policy, aid, at=tokyo("2026-11-30 10:06"), reached=True, repair_needed=True, operator="a",
                version=seen)
    assert desk.db.counts()["incidents"] == 0 and len(desk.alarms.contact_attempts(aid)) == 1
    other.close()


def test_the_alarm_contact_command_prints_the_incident_and_refuses_an_answer_without_an_end(desk, policy, db_url, run):
    aid = _alarm(desk, policy, "SV0001", "2026-11-30 10:00")
    base = ["alarm", "contact", aid, "--at", "2026-11-30T10:05+09:00", "--db", db_url, "--operator", "sato"]
    r = run(*base, "--reached")
    assert r.returncode == 2 and "say whether the machine needs a repair" in r.stderr
    r = run(*base, "--reached", "--no-repair")
    assert r.returncode == 2 and "reason" in r.stderr and "Traceback" not in r.stderr
    r = run(*base, "--reached", "--repair-needed")
    assert r.returncode == 0, r.stderr
    [inc] = desk.incidents.rows()
    assert r.stdout.startswith(f"alarm {aid}: incident {inc['id']} opened: covered, on site by 2026-11-30 12:00")
    other = _alarm(desk, policy, "SV0005", "2026-11-30 10:00")
    r = run("alarm", "contact", other, "--reached", "--no-repair", "--reason", "誤報", "--db", db_url)
    assert r.returncode == 0 and "closed, no repair (誤報)" in r.stdout
    listed = run("alarm", "list", "--db", db_url).stdout
    assert f"incident {inc['id']}" in listed and "(誤報)" in listed
