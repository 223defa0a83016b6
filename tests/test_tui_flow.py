"""The desk's work flow on screen (Textual's Pilot, a real SQLite store): the dispatch dialog quotes what is stored
and keeps what was typed when it is refused, uncovered work is confirmed, `y` on an alarm ends it in an incident
or a closing reason, ownership is taken over or assigned, an open triage follows other desks' changes, and the
dialog and the triage's newest timeline line fit 80×24."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from conftest import registry_csv, registry_row
from intake_util import alarm
from test_tui import drive, open_row, static_text

from sptui.intake.ingest import parse
from sptui.store import Store
from sptui.testing import tokyo
from sptui.tui.app import DeskApp
from sptui.tui.screens.confirm import ConfirmModal
from sptui.tui.screens.dispatch import DispatchModal
from sptui.tui.screens.triage import TriageScreen
from sptui.tui.textual_compat import notifications
from sptui.tui.widgets.keybar import KeyBar
from sptui.desk import file_mails, open_incident


@pytest.fixture
def desk(tmp_path, policy):
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(1), registry_row(2, variant="24x7"),
                                    registry_row(3, registration_status="pending", completed_on=""),
                                    registry_row(4)]))
    yield s
    s.close()


def _open(store, policy, label: str, at: str = "2026-11-27 17:10", summary: str | None = None) -> int:
    return open_incident(store, policy, label=label, at=tokyo(at), summary=summary or f"disk on {label}",
                               operator="setup")


async def _triage(app, pilot, kind: str, rid: int) -> None:
    app.open_record(kind, rid)
    for _ in range(100):
        await pilot.pause(0.02)
        if isinstance(app.screen, TriageScreen) and app.screen.record:
            return


async def _fill(pilot, modal, **values) -> None:
    for fid, value in values.items():
        modal.query_one(f"#{fid.replace('_', '-')}").value = value
    await pilot.pause()


def _notes(app) -> list[str]:
    return [n.message for n in notifications(app)]


def test_uncovered_work_is_confirmed_in_the_dialog_which_keeps_what_was_typed_until_it_is_stored(desk, policy):
    iid = _open(desk, policy, "1234-000-003")  # registration pending: not-started

    async def steps(app, pilot):
        await open_row(pilot, "disk on 1234-000-003")  # from the queue, which shows the row as it is after
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        warning = static_text(app, "#warning")
        await _fill(pilot, modal, technician="yamada", departed="2026-11-27 20:30", completed="2026-11-27 22:10")
        quoted = static_text(app, "#fee")
        await pilot.click("#ok")
        await pilot.pause()
        refused = (isinstance(app.screen, DispatchModal), static_text(app, "#error"),
                   [modal.query_one(f"#{f}").value for f in ("technician", "departed", "completed")])
        await pilot.click("#confirm")
        await _fill(pilot, modal, consent_by="山田", consent_via="電話")
        await pilot.click("#ok")
        await pilot.pause()
        head = static_text(app, "#head")
        await pilot.press("escape")
        await pilot.pause()
        queue = next(str(app.screen.cells(r)[5]) for r in app.screen.rows if r.id == iid)
        return warning, quoted, refused, head, queue

    warning, quoted, (still_open, error, kept), head, queue = drive(desk, policy, steps, size=(100, 30))
    assert "not-started: the pack does not cover this machine's work; the customer pays" in warning
    assert "no 別表-1 fee" in quoted and "the customer pays" in quoted and "円" not in quoted
    assert still_open and f"incident {iid} is not-started: not covered, the customer pays" in error
    assert kept == ["yamada", "2026-11-27 20:30", "2026-11-27 22:10"]
    inc, [row] = desk.incidents.get(iid), desk.incidents.dispatches(iid)
    assert (inc["status"], inc["billing"], row["confirmed_by"], row["consent_by"], row["consent_via"]) == (
        "dispatched", "quote-needed", "sato", "山田", "phone")
    assert "status: dispatched · customer pays" in head
    assert queue == "quote"  # (its `dispatched HH:MM` in the column before)


def test_a_conflict_keeps_the_dialog_open_with_everything_typed(desk, policy):
    iid = _open(desk, policy, "1234-000-001", "2026-11-30 10:00")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        await _fill(pilot, modal, technician="yamada", departed="2026-11-30 10:20", completed="2026-11-30 11:00",
                    late="traffic")
        desk.incidents.claim(iid, operator="tanaka")  # another desk, while this one types
        await pilot.click("#ok")
        await pilot.pause()
        return (app.screen is modal, static_text(app, "#error"),
                [modal.query_one(f"#{f}").value for f in ("technician", "departed", "completed", "late")])

    still_open, error, kept = drive(desk, policy, steps)
    assert still_open and "tanaka" in error
    assert kept == ["yamada", "2026-11-30 10:20", "2026-11-30 11:00", "traffic"]
    assert desk.incidents.get(iid)["status"] == "claimed" and desk.incidents.dispatches(iid) == []


def test_the_dialog_quotes_what_the_stored_decision_says_on_a_24x7_night(desk, policy):
    """The issue's case: 24x7, departure 03:59, completion 05:30 — the dialog used to quote 24,500円 while the
    stored decision said no fee."""
    iid = _open(desk, policy, "1234-000-002", "2026-11-28 03:00")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        await _fill(pilot, app.screen, technician="yamada", departed="2026-11-28 03:59", completed="2026-11-28 05:30")
        quoted = static_text(app, "#fee")
        await pilot.click("#ok")
        await pilot.pause()
        return quoted

    quoted = drive(desk, policy, steps)
    inc = desk.incidents.get(iid)
    assert inc["status"] == "dispatched" and inc["decision"]["fee"] is None
    fee_reason = next(r["message"] for r in inc["decision"]["reasons"] if r["rule"] == "fee")
    assert quoted.startswith(fee_reason) and "24,500" not in quoted


def test_the_dialogs_quote_is_the_stored_fee_for_any_work(tmp_path, policy):
    """A property over the dialog itself: for drawn departures, completions and machines, what the dialog shows
    while the times are typed names the fee stored after the dispatch, or says there is none and none is stored."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    work = st.tuples(st.sampled_from(["1234-000-001", "1234-000-002", "1234-000-003"]),
                     st.integers(0, 3 * 24 * 60), st.integers(1, 8 * 60), st.integers(1, 2))

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(cases=st.lists(work, min_size=3, max_size=3))
    def agree(cases):
        store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
        if not store.db.counts()["machines"]:
            store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, variant="24x7"),
                                                registry_row(3, registration_status="pending", completed_on="")]))
        notice = tokyo("2026-11-27 16:00")
        opened = [(open_incident(store, policy, label=label, at=notice, summary="p", operator="setup"),
                   notice + dt.timedelta(minutes=start), minutes, techs) for label, start, minutes, techs in cases]

        async def steps(app, pilot):
            shown = []
            for iid, depart, minutes, techs in opened:
                await _triage(app, pilot, "incident", iid)
                await pilot.press("d")
                await pilot.pause()
                modal = app.screen
                await _fill(pilot, modal, technician="t", departed=f"{depart:%Y-%m-%d %H:%M}", late="traffic",
                            completed=f"{depart + dt.timedelta(minutes=minutes):%Y-%m-%d %H:%M}",
                            technicians=str(techs), consent_by="c", consent_via="phone")
                shown.append(static_text(app, "#fee"))
                if modal.uncovered:
                    await pilot.click("#confirm")
                await pilot.click("#ok")
                await pilot.pause()
                assert not isinstance(app.screen, DispatchModal), static_text(app, "#error")
            return shown

        try:
            shown = drive(store, policy, steps)
            for (iid, *_), text in zip(opened, shown):
                fee = store.incidents.get(iid)["decision"]["fee"]
                if fee is None:
                    assert "no fee" in text or "no 別表-1 fee" in text, text
                    assert store.incidents.dispatches(iid)[0]["fee"] is None
                else:
                    assert f"fee {fee['total_jpy']:,}円" in text, (text, fee)
        finally:
            store.close()

    agree()


# ---- alarms become work ------------------------------------------------------------------------------------
def test_y_on_an_alarm_asks_about_the_repair_and_opens_its_incident_or_closes_it_with_the_reason(desk, policy):
    from sptui.tui.screens.alarm_call import ReachedModal

    now = dt.datetime.now(tokyo("2026-01-01 00:00").tzinfo).replace(microsecond=0)
    ids = []
    for n, computer in enumerate(("SV0001", "SV0004")):
        raw = alarm(computer, now - dt.timedelta(minutes=5), message_id=f"flow{n}@tui")
        ids.append(file_mails(desk, policy, [(raw, parse(raw), "test", now - dt.timedelta(minutes=4))])[0].id)

    async def steps(app, pilot):
        await _triage(app, pilot, "alarm", ids[0])
        keys = str(app.screen.query_one(KeyBar).render())
        await pilot.press("y")
        await pilot.pause()
        asked = isinstance(app.screen, ReachedModal)
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        opened = (screen.kind, static_text(app, "#head"), static_text(app, "#timeline"))
        await _triage(app, pilot, "alarm", ids[1])
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"false alarm: fan replaced", "enter")
        await pilot.pause()
        return keys, asked, opened, static_text(app, "#head"), _notes(app)

    keys, asked, (kind, head, timeline), closed_head, notes = drive(desk, policy, steps, size=(80, 24))
    first, second = desk.alarms.get(ids[0]), desk.alarms.get(ids[1])
    assert asked and first["status"] == "linked" and first["incident_id"] is not None
    inc = desk.incidents.get(first["incident_id"])
    assert kind == "incident" and f"incident #{inc['id']}" in head and inc["received_at"] == first["received_at"]
    assert f"alarm #{ids[0]} received" in timeline
    assert "y reached" in keys and "u unreachable" in keys and "c claim" not in keys  # an alarm's keys, at 80×24
    assert any(f"alarm #{ids[0]}: incident #{inc['id']} opened" in m for m in notes)
    assert (second["status"], second["closed_reason"]) == ("closed", "false alarm: fan replaced")
    assert "closed (false alarm: fan replaced)" in closed_head


# ---- ownership ------------------------------------------------------------------------------------------------
def test_c_on_another_operators_incident_asks_to_take_it_over_and_a_assigns_it(desk, policy):
    iid = _open(desk, policy, "1234-000-001", "2026-11-30 10:00")
    desk.incidents.claim(iid, operator="tanaka")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("c")
        await pilot.pause()
        question = isinstance(app.screen, ConfirmModal) and app.screen.question
        await pilot.press("y")
        await pilot.pause()
        owner_after_take = desk.incidents.get(iid)["owner"]
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"suzuki", "enter")
        await pilot.pause()
        return question, owner_after_take, static_text(app, "#timeline")

    question, taken, timeline = drive(desk, policy, steps)
    assert question == "Owned by tanaka. Take it over? (recorded)"
    assert taken == "sato" and desk.incidents.get(iid)["owner"] == "suzuki"
    assert "taken over from tanaka by sato" in timeline and "assigned to suzuki by sato" in timeline


# ---- stale screens -----------------------------------------------------------------------------------------------
def test_an_open_triage_shows_another_desks_change_and_a_stale_action_ends_in_the_conflict_message(
        desk, policy, tmp_path):
    import time

    iid = _open(desk, policy, "1234-000-001", "2026-11-30 10:00")
    other = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")  # another desk on the same file

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        other.incidents.claim(iid, operator="tanaka")
        started = time.monotonic()
        while time.monotonic() - started < 10 and "owner: tanaka" not in static_text(app, "#head"):
            await pilot.pause(0.05)
        refreshed = static_text(app, "#head"), time.monotonic() - started
        await pilot.press("x")  # close: asks first; meanwhile the other desk moves on
        await pilot.pause()
        other.incidents.mark_consult(iid, "ask NEC about the part", operator="tanaka")
        await pilot.press("y")
        await pilot.pause()
        return refreshed, _notes(app), static_text(app, "#timeline")

    try:
        (head, took), notes, timeline = drive(desk, policy, steps)
    finally:
        other.close()
    assert "owner: tanaka" in head and took < 5, took  # a look each second on SQLite
    assert any(f"incident #{iid} was changed by tanaka" in m for m in notes)
    assert any("was changed by tanaka" in m and "nothing was saved by your close" in m for m in notes)
    assert desk.incidents.get(iid)["status"] == "claimed"  # not closed behind tanaka's back
    assert "tanaka  consult: ask NEC about the part" in timeline  # the refused screen shows the record as it is now


# ---- 80×24 -----------------------------------------------------------------------------------------------------
def test_at_80x24_the_dispatch_dialog_shows_its_buttons_and_the_newest_timeline_line_stays_in_view(desk, policy):
    from textual.geometry import Region

    iid = _open(desk, policy, "1234-000-003", summary="pending machine")  # uncovered: the tallest dialog
    for n in range(15):
        desk.incidents.add_note(iid, f"call {n}", operator="setup")
    screen_region = Region(0, 0, 80, 24)

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("c")
        await pilot.pause(0.3)
        box = app.screen.query_one("#timeline-box")
        after_claim = (box.scroll_y, box.max_scroll_y, screen_region.contains_region(box.region))
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        await _fill(pilot, modal, technician="yamada", departed="2026-11-27 20:30", completed="2026-11-27 22:10")
        await pilot.click("#ok")  # refused (not confirmed): the error takes room too
        await pilot.pause()
        fits = [screen_region.contains_region(modal.query_one(f"#{w}").region)
                for w in ("ok", "cancel", "confirm", "warning", "fee", "error", "consent-at")]
        await pilot.click("#confirm")
        await _fill(pilot, modal, consent_by="山田", consent_via="phone")
        await pilot.click("#ok")
        await pilot.pause(0.3)
        box = app.screen.query_one("#timeline-box")
        return after_claim, fits, (box.scroll_y, box.max_scroll_y), static_text(app, "#timeline").splitlines()[-1]

    (y, most, inside), fits, (y2, most2), last = drive(desk, policy, steps, size=(80, 24))
    assert inside and most > 0 and y == most  # the newest line (the claim) in view, under 15 older ones
    assert all(fits), fits
    assert y2 == most2 and "yamada departs 2026-11-27 20:30" in last


def test_the_dialog_reads_a_time_typed_in_full_width_digits_and_names_a_field_it_cannot_read(desk, policy):
    from sptui.tui.screens.dispatch import parse_time

    assert parse_time("２０２６/１１/２７ １８:００") == tokyo("2026-11-27 18:00")
    iid = _open(desk, policy, "1234-000-001")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        await _fill(pilot, app.screen, technician="t", departed="2026-11-27 19:00", completed="tomorrow")
        quoted = static_text(app, "#fee")
        await pilot.click("#ok")
        await pilot.pause()
        return quoted, static_text(app, "#error"), app.screen.focused.id

    quoted, error, focused = drive(desk, policy, steps)
    assert "completion (optional): cannot read the time 'tomorrow'" in quoted and quoted == error
    assert focused == "completed" and desk.incidents.dispatches(iid) == []


def test_a_time_outside_the_years_1900_to_2999_is_a_time_the_dialog_cannot_read():
    """Whatever date-time is typed (any year Python reads, with any offset or none), the dialog's reader gives an
    aware time in Asia/Tokyo in the years sptui accepts, or a ValueError the dialog says as it says any unreadable
    time; never another exception (9999-12-31 23:59-05:00 raised OverflowError)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sptui.tui.screens.dispatch import parse_time
    from sptui.tz import TOKYO

    offsets = st.one_of(st.just(""), st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"),
                                                st.integers(0, 23), st.integers(0, 59)))

    @settings(max_examples=300, deadline=None)
    @given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59)), offsets)
    def check(t, offset):
        text = t.strftime("%Y-%m-%d %H:%M").rjust(16, "0") + offset
        try:
            got = parse_time(text)
        except ValueError:
            assert not 1900 <= t.year <= 2999, text
        else:
            # in Asia/Tokyo: +09:00, but +10:00 in the summers of 1948–1951, when Japan kept daylight saving time
            assert 1900 <= t.year <= 2999 and got.utcoffset() == got.astimezone(TOKYO).utcoffset(), (text, got)
            assert got.utcoffset() == dt.timedelta(hours=9) or 1948 <= got.year <= 1951, (text, got)

    check()


@pytest.mark.parametrize("typed", ["9999-12-31 23:59-05:00", "0001-01-01 00:00", "1899-12-31 23:59"])
def test_a_departure_in_a_year_sptui_does_not_accept_is_named_in_the_dialog_and_nothing_is_stored(desk, policy, typed):
    iid = _open(desk, policy, "1234-000-001")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        await _fill(pilot, app.screen, technician="t", departed=typed)
        quoted = static_text(app, "#fee")
        await pilot.click("#ok")
        await pilot.pause()
        return quoted, static_text(app, "#error"), app.screen.focused.id, isinstance(app.screen, DispatchModal)

    quoted, error, focused, still_open = drive(desk, policy, steps)
    said = f"departure (YYYY-MM-DD HH:MM): cannot read the time {typed!r}"
    assert said in quoted and said in error, (quoted, error)
    assert focused == "departed" and still_open and desk.incidents.dispatches(iid) == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_an_open_triage_hears_another_desks_change_at_once(db_url, policy, monkeypatch):
    """The queue's LISTEN tells the open triage too: with the polls an hour apart, only the notification can
    bring the change."""
    import time

    from sptui.tui import data

    monkeypatch.setattr(data, "POLL_SECONDS", 3600.0)
    mine, other = Store.open(db_url), Store.open(db_url)
    mine.registry.import_csv(registry_csv([registry_row(1)]))
    iid = _open(mine, policy, "1234-000-001", "2026-11-30 10:00")

    async def main():
        app = DeskApp(mine, policy, lang="en", operator="sato")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.screen.listener.connected.wait(5)
            await _triage(app, pilot, "incident", iid)
            other.incidents.claim(iid, operator="tanaka")
            started = time.monotonic()
            while time.monotonic() - started < 5 and "owner: tanaka" not in static_text(app, "#head"):
                await pilot.pause(0.02)
            return time.monotonic() - started

    try:
        took = asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        mine.close()
        other.close()
    assert took < 2.0, took


# ---- a conflict in the dispatch dialog: reloaded, typed fields kept, the retry sent with the current version ------
def test_after_a_conflict_the_dialog_reloads_the_incident_says_what_changed_and_the_retry_is_stored(desk, policy):
    """The operator's own other desk marks the incident for consultation while the dialog is open: the first
    press conflicts; the dialog shows what changed (the 相談 mark), keeps what was typed, and the second press is
    stored (it used to conflict for ever with the version read when the dialog opened)."""
    iid = _open(desk, policy, "1234-000-001", "2026-11-30 10:00")
    desk.incidents.claim(iid, operator="sato")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        await _fill(pilot, modal, technician="yamada", departed="2026-11-30 10:20", completed="2026-11-30 11:00")
        desk.incidents.mark_consult(iid, "parts from NEC", operator="sato")  # the same operator, at another desk
        await pilot.click("#ok")
        await pilot.pause(0.3)  # (a button ignores a click while it shows the last one)
        first = (app.screen is modal, static_text(app, "#error"),
                 [modal.query_one(f"#{f}").value for f in ("technician", "departed", "completed")])
        await pilot.click("#ok")
        await pilot.pause(0.3)  # (a button ignores a click while it shows the last one)
        return first, app.screen is modal, static_text(app, "#error") if app.screen is modal else ""

    (still_open, said, kept), open_after, error = drive(desk, policy, steps, size=(100, 30))
    assert still_open and "changed" in said and "consult" in said and "parts from NEC" in said, said
    assert kept == ["yamada", "2026-11-30 10:20", "2026-11-30 11:00"]
    assert not open_after, error
    inc, [row] = desk.incidents.get(iid), desk.incidents.dispatches(iid)
    assert (inc["status"], inc["owner"], inc["consult"], row["technician"]) == (
        "dispatched", "sato", "parts from NEC", "yamada")


def test_after_another_operator_takes_the_incident_the_dialog_says_so_and_offers_the_take_over(desk, policy):
    iid = _open(desk, policy, "1234-000-001", "2026-11-30 10:00")
    desk.incidents.claim(iid, operator="sato")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        await _fill(pilot, modal, technician="yamada", departed="2026-11-30 10:20", completed="2026-11-30 11:00")
        desk.incidents.take_over(iid, operator="tanaka")  # another desk
        await pilot.click("#ok")
        await pilot.pause(0.3)  # (a button ignores a click while it shows the last one)
        said = static_text(app, "#error")
        offered = modal.query_one("#take-over").display
        again_refused = None
        await pilot.click("#ok")  # pressed again without taking it over: refused again, nothing stored
        await pilot.pause()
        again_refused = (app.screen is modal, desk.incidents.dispatches(iid))
        await pilot.click("#take-over")
        await pilot.pause(0.3)
        after_take = (static_text(app, "#error"), modal.query_one("#take-over").display)
        await pilot.click("#ok")
        await pilot.pause(0.3)  # (a button ignores a click while it shows the last one)
        return said, offered, again_refused, after_take, app.screen is modal

    said, offered, (refused_open, none), (taken, offered_after), open_after = drive(desk, policy, steps,
                                                                                    size=(100, 30))
    assert "tanaka" in said and ("owner" in said or "owns" in said) and "take" in said, said
    assert offered and refused_open and none == []
    assert "taken over" in taken and not offered_after
    assert not open_after
    inc, timeline = desk.incidents.get(iid), [e["kind"] for e in desk.incidents.timeline(iid)]
    assert (inc["status"], inc["owner"]) == ("dispatched", "sato") and timeline[-2:] == ["take-over", "dispatched"]


def test_the_dialogs_take_over_button_fits_80x24(desk, policy):
    iid = _open(desk, policy, "1234-000-003", "2026-11-30 10:00")  # uncovered: the warning and the box too
    desk.incidents.claim(iid, operator="sato")

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        await _fill(pilot, app.screen, technician="yamada", departed="2026-11-30 10:20")
        desk.incidents.take_over(iid, operator="tanaka")
        await pilot.click("#ok")
        await pilot.pause(0.3)  # (a button ignores a click while it shows the last one)
        return [app.screen.query_one(f"#{b}").region for b in ("ok", "cancel", "take-over")]

    for region in drive(desk, policy, steps, size=(80, 24)):
        assert region.height and region.bottom <= 24 and region.right <= 80, region


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_at_80x24_every_label_of_the_dispatch_dialog_is_read_whole(desk, policy, lang):
    """The late reason's label names the reasons the dialog takes (it wrapped, the reasons below its one line)."""
    from textual.widgets import Label

    from sptui.tui.i18n import Words

    iid = _open(desk, policy, "1234-000-001")
    w = Words(lang)

    async def steps(app, pilot):
        await _triage(app, pilot, "incident", iid)
        await pilot.press("d")
        await pilot.pause()
        return ["\n".join(line.rstrip() for line in str(label.render()).splitlines())
                for label in app.screen.query(".row Label").results(Label)], screen_text(app)

    labels, lines = drive(desk, policy, steps, lang=lang, size=(80, 24))
    text = "\n".join(lines)
    for key in ("technician", "departure", "completion", "technicians", "late_reason", "consent_by", "consent_via",
                "consent_at"):
        assert w(key) in text, (key, w(key))
    assert all("\n" not in label for label in labels), labels


def screen_text(app) -> list[str]:
    from test_tui import terminal_lines, text_of

    return [text_of(line) for line in terminal_lines(app)]
