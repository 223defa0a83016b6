"""The work's real completion, recorded after the dispatch (the technician reports it hours later): the incident
is decided again with the work, its 別表-1 fee stored (the one quote path), the fee before → after in the timeline,
audited, under the owner rule — through the desk layer, the CLI (`sptui incident complete`) and the desk's key."""
from __future__ import annotations

import datetime as dt

import pytest
from conftest import registry_csv, registry_row
from test_desk_flow import _sptui_fee

from sptui.desk import BadRequest, Consent, Work, complete, dispatch, open_incident, quote_dispatch
from sptui.store import ConflictError, Store
from sptui.testing import tokyo


@pytest.fixture
def desk(store):
    store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, variant="24x7"),
                                            registry_row(3, registration_status="pending", completed_on="")]))
    return store


def _sent(store, policy, label="1234-000-001", depart="2026-11-27 17:30", planned=None, consent=True, **kw) -> int:
    iid = open_incident(store, policy, label=label, at=tokyo("2026-11-27 16:00"), summary="disk", operator="setup")
    dispatch(store, policy, iid, operator="sato", technician="yamada",
             work=Work(tokyo(depart), tokyo(planned) if planned else None), late_reason="traffic",
             confirm_uncovered=True, consent=Consent("施設 課長", "phone", tokyo(depart)) if consent else None, **kw)
    return iid


def test_a_completion_reported_later_stores_the_fee_of_the_real_work_and_says_old_to_new(desk, policy):
    """Dispatched at 17:30 with no completion known (no fee stored); the technician reports 19:40: the stored
    decision, the dispatch and the incident's row carry the 別表-1 fee for 17:30 → 19:40, the timeline says
    `fee not known yet → N円`, and the audit log keeps both."""
    iid = _sent(desk, policy)
    assert desk.incidents.dispatches(iid)[0]["fee"] is None
    out = complete(desk, policy, iid, operator="sato", completed_at=tokyo("2026-11-27 19:40"))
    expected = quote_dispatch(policy, desk.incidents.get(iid), Work(tokyo("2026-11-27 17:30"),
                                                                    tokyo("2026-11-27 19:40"))).fee.total_jpy
    inc, [row] = desk.incidents.get(iid), desk.incidents.dispatches(iid)
    assert out["fee"]["total_jpy"] == inc["decision"]["fee"]["total_jpy"] == row["fee"]["total_jpy"] == expected
    assert row["completed_at"] == tokyo("2026-11-27 19:40") and inc["billing"] == row["billing"] == "fee"
    assert inc["case"]["work"]["completed_at"].startswith("2026-11-27T19:40")
    [line] = [e for e in desk.incidents.timeline(iid) if e["kind"] == "completed"]
    assert f"work completed 2026-11-27 19:40 (was not known); fee not known yet → {expected:,}円" in line["text"]
    [entry] = [a for a in desk.audit.rows("incident", iid) if a["action"] == "complete"]
    assert entry["operator"] == "sato" and entry["detail"]["fee_total_jpy"] == expected
    assert entry["detail"]["fee_total_jpy_before"] is None and entry["detail"]["completed_at_before"] is None


def test_a_later_completion_than_planned_changes_the_stored_fee(desk, policy):
    iid = _sent(desk, policy, depart="2026-11-27 17:30", planned="2026-11-27 18:30")
    before = desk.incidents.dispatches(iid)[0]["fee"]["total_jpy"]
    complete(desk, policy, iid, operator="sato", completed_at=tokyo("2026-11-27 22:10"))
    after = desk.incidents.get(iid)["decision"]["fee"]["total_jpy"]
    assert after > before and desk.incidents.dispatches(iid)[0]["fee"]["total_jpy"] == after
    line = desk.incidents.timeline(iid)[-1]["text"]
    assert f"(was 2026-11-27 18:30); fee {before:,}円 → {after:,}円" in line


def test_covered_work_completed_in_hours_stays_free_and_uncovered_work_stays_quote_needed(desk, policy):
    free = _sent(desk, policy, depart="2026-11-27 16:10", consent=False)
    complete(desk, policy, free, operator="sato", completed_at=tokyo("2026-11-27 17:00"))
    assert desk.incidents.get(free)["decision"]["fee"] is None and desk.incidents.get(free)["billing"] == "free"
    assert "fee none → none" in desk.incidents.timeline(free)[-1]["text"]
    quote = _sent(desk, policy, label="1234-000-003", depart="2026-11-27 20:00")
    complete(desk, policy, quote, operator="sato", completed_at=tokyo("2026-11-27 21:00"))
    assert desk.incidents.get(quote)["billing"] == "quote-needed"
    assert "fee quote needed → quote needed" in desk.incidents.timeline(quote)[-1]["text"]


def test_only_the_owner_records_the_completion_and_a_stale_version_writes_nothing(desk, policy, db_url):
    iid = _sent(desk, policy)
    other = Store.open(db_url)
    try:
        with pytest.raises(ConflictError, match=f"incident {iid} is owned by sato: only its owner can record its "
                                                "completion"):
            complete(other, policy, iid, operator="suzuki", completed_at=tokyo("2026-11-27 19:40"))
        v = desk.incidents.get(iid)["version"]
        desk.incidents.add_note(iid, "on site", operator="sato")
        desk.incidents.mark_consult(iid, "parts", operator="sato")  # moves the version on
        with pytest.raises(ConflictError, match="changed by sato"):
            complete(other, policy, iid, operator="sato", completed_at=tokyo("2026-11-27 19:40"), version=v)
    finally:
        other.close()
    assert desk.incidents.dispatches(iid)[0]["completed_at"] is None
    assert [e["kind"] for e in desk.incidents.timeline(iid)][-1] == "consult"


@pytest.mark.parametrize("at,says", [("2026-11-27 17:00", "cannot be complete"), ("2999-01-01 10:00", "future")])
def test_a_completion_before_the_departure_or_in_the_future_is_refused(desk, policy, at, says):
    iid = _sent(desk, policy)
    with pytest.raises(BadRequest, match=says):
        complete(desk, policy, iid, operator="sato", completed_at=tokyo(at))
    assert desk.incidents.dispatches(iid)[0]["completed_at"] is None


def test_an_incident_not_dispatched_has_no_completion_to_record(desk, policy):
    iid = open_incident(desk, policy, label="1234-000-001", at=tokyo("2026-11-27 16:00"), summary="d",
                        operator="setup")
    with pytest.raises(BadRequest, match="is open: a completion is recorded for a dispatched incident"):
        complete(desk, policy, iid, operator="sato", completed_at=tokyo("2026-11-27 19:40"))


def test_the_complete_command_records_it_and_prints_the_fee_before_and_after(desk, policy, db_url, run):
    iid = _sent(desk, policy)
    r = run("incident", "complete", iid, "--at", "2026-11-27T19:40+09:00", "--db", db_url, "--operator", "sato")
    assert r.returncode == 0, r.stderr
    fee = desk.incidents.get(iid)["decision"]["fee"]["total_jpy"]
    assert f"incident {iid}: work completed 2026-11-27 19:40" in r.stdout and f"→ {fee:,}円" in r.stdout
    r = run("incident", "complete", iid, "--at", "2026-11-27T19:50+09:00", "--db", db_url, "--operator", "suzuki")
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "owned by sato" in r.stderr, r.stderr
    r = run("incident", "complete", iid, "--at", "yesterday", "--db", db_url, "--operator", "sato")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr


def test_the_fee_stored_after_the_completion_is_the_quote_for_the_departure_and_the_completion(tmp_path, policy):
    """For any departure, real completion, technicians and machine: what `complete` stores is `quote_dispatch`'s
    fee for (departure, completion), and where it charges, `sptui fee`'s."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    store = Store.open(f"sqlite:///{tmp_path / 'prop.db'}")
    store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, variant="24x7"),
                                            registry_row(3, registration_status="pending", completed_on="")]))
    notice = tokyo("2026-11-27 16:00")

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(label=st.sampled_from(["1234-000-001", "1234-000-002", "1234-000-003"]),
           start=st.integers(0, 3 * 24 * 60), planned=st.one_of(st.none(), st.integers(1, 6 * 60)),
           minutes=st.integers(1, 12 * 60), technicians=st.integers(1, 3))
    def agree(label, start, planned, minutes, technicians):
        iid = open_incident(store, policy, label=label, at=notice, summary="p", operator="setup")
        depart = notice + dt.timedelta(minutes=start)
        dispatch(store, policy, iid, operator="sato", technician="t", late_reason="traffic", confirm_uncovered=True,
                 work=Work(depart, depart + dt.timedelta(minutes=planned) if planned else None, technicians),
                 consent=Consent("c", "phone", depart))
        end = depart + dt.timedelta(minutes=minutes)
        quote = quote_dispatch(policy, store.incidents.get(iid), Work(depart, end, technicians))
        out = complete(store, policy, iid, operator="sato", completed_at=end)
        stored, row = store.incidents.get(iid)["decision"]["fee"], store.incidents.dispatches(iid)[-1]
        if quote.fee is None:
            assert out["fee"] is None and stored is None and row["fee"] is None
            return
        table = _sptui_fee(depart, end, technicians, store.registry.machine(label)["variant"])
        assert quote.fee.total_jpy == out["fee"]["total_jpy"] == stored["total_jpy"] == row["fee"]["total_jpy"]
        assert stored["total_jpy"] == table["total_jpy"] and stored["lines"] == table["lines"]

    try:
        agree()
    finally:
        store.close()


# ---- on the desk: `f` on a dispatched incident ------------------------------------------------------------------
def test_f_on_a_dispatched_incident_records_the_completion_shows_the_fee_change_and_the_timeline_says_it(
        tmp_path, policy):
    from test_tui import drive, static_text
    from test_tui_flow import _triage

    from sptui.tui.screens.complete import CompleteModal
    from sptui.tui.widgets.keybar import KeyBar

    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(1)]))
    iid = _sent(s, policy)
    fee = quote_dispatch(policy, s.incidents.get(iid), Work(tokyo("2026-11-27 17:30"),
                                                            tokyo("2026-11-27 19:40"))).fee.total_jpy

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        keys = str(app.screen.query_one(KeyBar).render())
        await pilot.press("f")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, CompleteModal)
        modal.query_one("#completed").value = "2026-11-27 17:00"  # before the departure: refused, said
        await pilot.pause()
        early = static_text(app, "#fee")
        modal.query_one("#completed").value = "2026-11-27 19:40"
        await pilot.pause()
        shown = static_text(app, "#fee")
        await pilot.press("enter")
        await pilot.pause()
        timeline = static_text(app, "#timeline")
        return keys, early, shown, isinstance(app.screen, CompleteModal), timeline

    try:
        keys, early, shown, still_open, timeline = drive(s, policy, steps, size=(120, 30))
        assert "f" in keys and "completed at" in keys
        assert "is before the departure" in early
        assert f"fee: not known yet → {fee:,}円" in shown, shown
        assert not still_open
        assert s.incidents.get(iid)["decision"]["fee"]["total_jpy"] == fee
        assert f"fee not known yet → {fee:,}円" in timeline.replace("\n", " ")
    finally:
        s.close()


def test_at_80_columns_the_key_bar_of_a_dispatched_incident_shows_f_for_its_completion(tmp_path, policy):
    """The next step of a dispatched incident is in the key bar at 80×24 (it fell off the end: claim, on an incident
    the operator owns already, took its room)."""
    from test_tui import drive
    from test_tui_flow import _triage

    from sptui.tui.widgets.keybar import KeyBar

    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(1)]))
    iid = _sent(s, policy)

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        return str(app.screen.query_one(KeyBar).render())

    try:
        for lang, word in (("en", " f completed at "), ("ja", " f 作業完了時刻 ")):
            bar = drive(s, policy, steps, lang=lang, size=(80, 24))
            assert word in bar and " c " not in bar, bar
    finally:
        s.close()
