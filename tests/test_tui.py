"""The desk's TUI driven by Textual's Pilot, on a real SQLite store and the shipped policy."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from conftest import POLICIES, registry_csv, registry_row
from intake_util import JST, alarm

from sptui.intake.ingest import parse
from sptui.store import Store
from sptui.tui.app import DeskApp
from sptui.tui.screens.keys import KeysScreen
from sptui.tui.screens.queue import QueueScreen
from sptui.tui.screens.triage import TriageScreen
from sptui.tui.text import time_left
from sptui.tui.i18n import Words
from sptui.tui.textual_compat import (exit_messages, handle_exception, held_exception, notifications, screen_update,
                                      text_area_theme)
from sptui.desk import file_mails, open_incident

MARKUP_NAME = "[bold]Acme[/] [@click=app.quit]x[/]"


@pytest.fixture
def desk(tmp_path, policy):
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    rows = [registry_row(i) for i in range(1, 6)]
    rows[2]["customer_organisation"] = MARKUP_NAME  # a customer whose name reads like markup
    s.registry.import_csv(registry_csv(rows))
    soon = dt.datetime.now(JST).replace(microsecond=0)
    for i in (1, 2, 3):
        open_incident(s, policy, label=f"1234-000-{i:03d}", at=soon - dt.timedelta(minutes=10 * i),
                        summary=f"disk failure on SV{i:04d}", operator="setup")
    raw = alarm("SV0004", soon - dt.timedelta(minutes=3), message_id="tui@sv4")
    file_mails(s, policy, [(raw, parse(raw), "test", soon)])
    yield s
    s.close()


def drive(store, policy, steps, *, lang="en", size=(160, 48), read_only=False):
    """Run the desk under Pilot; `steps(app, pilot)` is a coroutine. Returns what it returns."""
    async def main():
        app = DeskApp(store, policy, lang=lang, operator="sato", read_only=read_only)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            return await steps(app, pilot)
    return asyncio.run(main())


def cells(app) -> list[list[str]]:
    """The queue's rows (every one, not only those on screen), or on the triage screen its reasons."""
    from textual.widgets import DataTable

    from sptui.tui.widgets.table import RowTable

    if isinstance(app.screen, QueueScreen):
        table = app.screen.query_one(RowTable)
        return [[str(c) for c in app.screen.cells(r)] for r in table.rows]
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


def table_lines(app) -> list[str]:
    """The queue as drawn: each line's characters."""
    from sptui.tui.widgets.table import RowTable

    table = app.screen.query_one(RowTable)
    return [table.render_line(y).text for y in range(table.size.height)]


async def open_row(pilot, needle: str) -> None:
    """As an operator: filter the queue to one row, then open it."""
    await pilot.press("slash", *needle, "enter", "enter")
    await pilot.pause()


def desk_classes() -> set[type]:
    """The desk's app, screens, dialogs and widgets (everything that carries Guarded), every module of the desk
    imported first (a screen imported only when it opens would be missed, depending on what ran before)."""
    import importlib
    import pkgutil

    import sptui.tui
    from sptui.tui.textual_compat import Guarded

    for m in pkgutil.walk_packages(sptui.tui.__path__, "sptui.tui."):
        importlib.import_module(m.name)

    found, seen, todo = set(), set(), [Guarded]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
                if sub.__module__.startswith("sptui.") and "BINDINGS" in vars(sub):  # (its own keys)
                    found.add(sub)
    return found


async def until(pilot, predicate, seconds: float = 30, step: float = 0.02) -> None:
    """Wait (the app running) until `predicate()` holds; fail after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"still not so after {seconds} s: {predicate.__doc__ or predicate}"
        await pilot.pause(step)


def said(app) -> list[str]:
    """The messages on screen."""
    return [n.message for n in notifications(app)]


def static_text(app, selector: str) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one(selector, Static).render())


def test_the_queue_shows_open_incidents_and_alarms_with_honest_counts(desk, policy):
    async def steps(app, pilot):
        assert isinstance(app.screen, QueueScreen)
        return cells(app), static_text(app, "#count"), table_lines(app)

    rows, count, drawn = drive(desk, policy, steps)
    assert count == "4 of 4 shown"
    kinds = sorted(r[0] for r in rows)
    assert kinds == ["alarm", "incident", "incident", "incident"]
    labels = {r[1] for r in rows}
    assert labels == {"1234-000-001", "1234-000-002", "1234-000-003", "1234-000-004"}
    inc = next(r for r in rows if r[1] == "1234-000-001")
    assert inc[3] == desk.incidents.get(1)["verdict"]  # the verdict as text, readable without colour
    assert MARKUP_NAME in {r[2] for r in rows}
    assert any("[bold]Acme[/]…" in line for line in drawn)  # drawn as typed (cut at its column), not as markup


def test_filter_narrows_the_queue_and_escape_clears_it(desk, policy):
    async def steps(app, pilot):
        await pilot.press("slash")
        await pilot.press(*"SV0002")
        await pilot.pause()
        narrowed = cells(app), static_text(app, "#count")
        await pilot.press("escape")
        await pilot.pause()
        return narrowed, static_text(app, "#count")

    (rows, count), after = drive(desk, policy, steps)
    assert [r[1] for r in rows] == ["1234-000-002"] and count == "1 of 1 shown — 4 in all"
    assert after == "4 of 4 shown"


def test_triage_shows_every_reason_with_its_clause_and_claim_and_note_are_stored(desk, policy):
    stored = desk.incidents.get(1)["decision"]

    async def steps(app, pilot):
        await pilot.press("slash", *"SV0001", "enter")  # filter, then back to the list
        await pilot.press("enter")  # open the one incident
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
        reasons = cells(app)
        head = static_text(app, "#head")
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("n")
        await pilot.press(*"called the site", "enter")
        await pilot.pause()
        return reasons, head, static_text(app, "#timeline")

    reasons, head, timeline = drive(desk, policy, steps)
    assert [r[0] for r in reasons] == [r["rule"] for r in stored["reasons"]]
    assert [r[2] for r in reasons] == [r.get("cite", "") for r in stored["reasons"]]
    assert all(r[2] for r in reasons)  # every reason names its clause
    assert "incident #1" in head and "disk failure on SV0001" in head
    inc = desk.incidents.get(1)
    assert inc["owner"] == "sato" and inc["status"] == "claimed"
    assert [e["text"] for e in desk.incidents.timeline(1)][-1] == "called the site"
    assert "called the site" in timeline and "claimed by sato" in timeline


def test_triage_in_japanese_shows_the_japanese_messages(desk, policy):
    stored = desk.incidents.get(2)["decision"]

    async def steps(app, pilot):
        await open_row(pilot, "SV0002")
        return cells(app)

    reasons = drive(desk, policy, steps, lang="ja")
    assert [r[3] for r in reasons] == stored["messages_ja"]


def test_a_claim_lost_to_another_operator_is_a_message_not_a_traceback(desk, policy):
    async def steps(app, pilot):
        await open_row(pilot, "SV0003")
        desk.incidents.claim(3, operator="tanaka")  # another desk, after this one read the incident
        await pilot.press("c")
        await pilot.pause()
        return said(app)

    notes = drive(desk, policy, steps)
    assert any("tanaka" in m for m in notes)
    assert desk.incidents.get(3)["owner"] == "tanaka"


def test_an_alarm_contact_is_recorded_and_an_unreached_call_sets_the_next_day_retry(desk, policy):
    [a] = desk.alarms.rows()

    async def steps(app, pilot):
        await open_row(pilot, "SV0004")
        assert isinstance(app.screen, TriageScreen) and app.screen.kind == "alarm"
        await pilot.press("u")
        await pilot.pause()
        return static_text(app, "#timeline")

    timeline = drive(desk, policy, steps)
    after = desk.alarms.get(a["id"])
    from sptui.tui.data import attempts

    [call] = attempts(desk, a["id"])
    assert call["operator"] == "sato" and call["reached"] is False
    assert after["status"] == "retry" and after["decision"]["contact"]["reason"] == "retry-next-day"
    assert after["next_contact_at"].date() > call["at"].date()  # the next day, not later the same day
    assert "unreachable" in timeline


def test_dispatch_confirms_shows_the_fee_and_stores_it(desk, policy):
    from sptui.testing import tokyo

    iid = open_incident(desk, policy, label="1234-000-005", at=tokyo("2026-11-27 17:10"), summary="friday evening",
                             operator="setup")

    async def steps(app, pilot):
        await open_row(pilot, "friday evening")
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        modal.query_one("#technician").value = "yamada"
        modal.query_one("#departed").value = "2026-11-27 18:00"
        modal.query_one("#completed").value = "2026-11-27 19:10"
        modal.query_one("#technicians").value = "2"
        modal.query_one("#late").value = "traffic"
        modal.query_one("#consent-by").value = "山田"
        modal.query_one("#consent-via").value = "phone"
        await pilot.pause()
        fee = static_text(app, "#fee")
        await pilot.click("#ok")
        await pilot.pause()
        return fee

    fee = drive(desk, policy, steps)
    inc = desk.incidents.get(iid)
    assert inc["status"] == "dispatched"
    assert "needs a quote" in fee and "円" in fee
    assert inc["decision"]["fee"]["total_jpy"] > 0
    assert f"{inc['decision']['fee']['total_jpy']:,}円" in fee


def test_read_only_desk_changes_nothing(desk, policy):
    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        await pilot.press("c")
        await pilot.pause()
        return said(app)

    notes = drive(desk, policy, steps, read_only=True)
    assert "read-only desk" in notes and desk.incidents.get(1)["owner"] is None


def test_new_alarms_appear_without_a_restart(desk, policy):
    async def steps(app, pilot):
        before = static_text(app, "#count")
        t = dt.datetime.now(JST).replace(microsecond=0)
        raw = alarm("SV0005", t, message_id="late@sv5")
        file_mails(desk, policy, [(raw, parse(raw), "test", t)])
        app.screen.poll()
        for _ in range(100):  # the rows are read again in the background
            await pilot.pause(0.05)
            if static_text(app, "#count") != before:
                break
        return before, static_text(app, "#count"), cells(app)

    before, after, rows = drive(desk, policy, steps)
    assert (before, after) == ("4 of 4 shown", "5 of 5 shown")
    assert "1234-000-005" in {r[1] for r in rows}


def test_an_idle_desk_polls_without_a_query_and_still_sees_another_desks_commit(desk, policy, monkeypatch, tmp_path):
    """On SQLite each poll first asks whether anything was committed at all (PRAGMA data_version): an idle
    desk does not run the queue's fingerprint, an aggregate over every open incident (a quarter of a second
    of CPU at 100,000 rows, every five seconds, per desk). A commit by another desk's process is still seen."""
    from sptui.tui import data

    calls = []
    real = data.fingerprint
    monkeypatch.setattr(data, "fingerprint", lambda store: calls.append(1) or real(store))

    async def poll(app, pilot):
        app.screen.poll()
        for _ in range(20):
            await pilot.pause(0.02)
            if not app.screen.looking:
                break

    async def steps(app, pilot):
        await until(pilot, lambda: app.screen.complete)
        before = len(calls)
        for _ in range(3):
            await poll(app, pilot)
        idle = len(calls) - before
        other = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")  # another operator's desk, its own process's view
        open_incident(other, policy, label="1234-000-005", at=dt.datetime.now(JST).replace(microsecond=0),
                            summary="from the other desk", operator="suzuki")
        other.close()
        await poll(app, pilot)
        for _ in range(100):
            await pilot.pause(0.05)
            if static_text(app, "#count") == "5 of 5 shown":
                break
        return idle, static_text(app, "#count")

    idle, count = drive(desk, policy, steps)
    assert idle == 0
    assert count == "5 of 5 shown"


def test_the_countdown_reads_without_colour():
    w = Words("en")
    at = dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST)
    assert str(time_left(at + dt.timedelta(hours=1, minutes=2, seconds=3), at, w)) == "1:02:03"
    assert str(time_left(at - dt.timedelta(minutes=5), at, w)) == "overdue 0:05:00"
    assert str(time_left(None, at, w)) == "—"


def test_the_desk_fits_80_by_24(desk, policy):
    async def steps(app, pilot):
        return static_text(app, "#count"), app.screen.query_one("KeyBar").region.bottom

    count, footer_bottom = drive(desk, policy, steps, size=(80, 24))
    assert count == "4 of 4 shown" and footer_bottom == 24

    async def lines(app, pilot):
        return table_lines(app)

    import re

    drawn = [line for line in drive(desk, policy, lines, size=(80, 24)) if "1234-000-" in line]
    assert len(drawn) == 4 and all(len(line) <= 80 for line in drawn)
    # label, verdict and the countdown (or the next contact of an alarm) fit in 80 columns
    assert all(re.search(r"1234-000-00\d .*(\d+:\d\d:\d\d|overdue|—)", line) for line in drawn)


def test_the_first_page_is_the_most_urgent_rows_and_the_rest_follows(desk, policy, monkeypatch):
    """The desk paints the first page from the deadline's index at once, then reads every row in the
    background; the count says so meanwhile."""
    import threading

    from sptui.tui import data

    monkeypatch.setattr(data, "SHOW", 2)
    gate = threading.Event()
    full = data.queue

    def slow_queue(store, *, limit=None):
        if limit is None:
            gate.wait(10)
        return full(store, limit=limit)

    monkeypatch.setattr(data, "queue", slow_queue)

    async def steps(app, pilot):
        first = [r[1] for r in cells(app)], static_text(app, "#count")
        gate.set()
        for _ in range(50):
            await pilot.pause(0.05)
            if app.screen.complete:
                break
        return first, [r[1] for r in cells(app)], static_text(app, "#count")

    (first, count), rows, after = drive(desk, policy, steps)
    everything = [r.label for r in full(desk)]
    assert first == everything[:2] and count == "2 of 4 shown (loading the rest…)"
    assert rows == everything and after == "4 of 4 shown"


def test_the_first_page_is_the_head_of_the_whole_queue_on_either_engine(db_url, policy):
    """queue(limit=n) (what the desk paints first) is exactly the first n rows of the whole queue, which is
    ordered by urgency: deadlines and next contacts together, earliest first, rows without one last."""
    from sptui.tui import data

    s = Store.open(db_url)
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 7)]))
    base = dt.datetime(2026, 11, 27, 8, 0, tzinfo=JST)
    for n in range(12):
        open_incident(s, policy, label=f"1234-000-{1 + n % 6:03d}", at=base + dt.timedelta(minutes=47 * n),
                        summary=f"case {n}", operator="setup", support="pp" if n % 4 == 0 else "hw")
    for n in range(5):
        t = base + dt.timedelta(hours=5 * n)
        raw = alarm(f"SV{1 + n:04d}", t, message_id=f"order{n}@sv")
        file_mails(s, policy, [(raw, parse(raw), "test", t)])
    everything = data.queue(s)
    assert len(everything) == data.counts(s) == 17
    dues = [r.due() for r in everything]
    timed = [d for d in dues if d is not None]
    assert timed == sorted(timed) and dues[:len(timed)] == timed  # earliest first; none last
    assert {r.kind for r in everything} == {"incident", "alarm"}
    for n in range(len(everything) + 1):
        assert [r.key for r in data.queue(s, limit=n)] == [r.key for r in everything[:n]]
    s.close()


def test_a_policy_that_fails_to_load_leaves_the_queue_working_and_says_why(desk, policy):
    """The desk paints before the policy is loaded; if it cannot be loaded the queue and claims still work,
    and an action that needs the policy (a dispatch's fee) says why it cannot."""

    def broken():
        raise ValueError("the policy has errors (policies/terms.sptp:3:1: unknown clause; run `sptui check`)")

    async def main():
        app = DeskApp(desk, policy_loader=broken, lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.2)
            count = static_text(app, "#count")
            await open_row(pilot, "SV0001")
            await pilot.press("c")
            await pilot.pause()
            await pilot.press("d")
            await pilot.pause()
            modal = app.screen
            modal.query_one("#technician").value = "yamada"
            modal.query_one("#completed").value = "2099-01-01 10:00"
            await pilot.pause()
            return count, static_text(app, "#fee"), said(app)

    count, fee, notes = asyncio.run(main())
    assert count == "4 of 4 shown"
    assert any("terms.sptp:3:1" in m for m in notes)  # said on screen, once loading failed
    assert desk.incidents.get(1)["owner"] == "sato"  # claiming needs no policy
    assert "terms.sptp:3:1" in fee  # the fee cannot be quoted, and the desk says why


def test_the_desk_loads_its_policy_after_the_first_paint(desk, policy):
    loaded = []

    def load():
        loaded.append(True)
        return policy

    async def main():
        app = DeskApp(desk, policy_loader=load, lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.2)
            return app.policy is policy

    assert asyncio.run(main()) and loaded == [True]


def test_narrowing_the_filter_keystroke_by_keystroke_finds_what_a_full_search_finds():
    """The filter reuses the last needle's matches while typing narrows; whatever is typed or erased, it
    finds exactly the rows a search of every row finds, in the same order."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sptui.tui.data import QueueRow

    def row(n, text):
        return QueueRow("incident", n, text, "客", "covered", True, None, "open", None, "", lambda v: v)

    from sptui.tui.data import SORTS, matching, ordered

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.text(alphabet="ab-1客", max_size=6), max_size=30),
           st.lists(st.text(alphabet="ab-1客", max_size=4), min_size=1, max_size=12),
           st.sampled_from(sorted(SORTS)), st.booleans())
    def check(texts, needles, sort, descending):
        rows, cache = [row(n, t) for n, t in enumerate(texts)], {}
        every = ordered(rows, sort, descending)  # (in the order the queue is sorted by)
        for needle in needles:  # each needle as typed one character at a time
            for k in range(len(needle) + 1):
                got = matching(rows, cache, sort, descending, needle[:k].casefold())
                assert got == [r for r in every if needle[:k].casefold() in r.haystack]

    check()


def test_command_mode_opens_the_alarms_with_inbox_quarantine_and_calls_due(desk, policy):
    from textual.widgets import DataTable

    from sptui.tui.screens.alarms import AlarmsScreen

    raw = b"From: x@y\r\nSubject: [bold]not an alarm[/]\r\n\r\nhello\r\n"
    desk.quarantine.keep(raw, reason="not-alarm", message="[bold]no ESMPRO fields[/]", via="test",
                         received_at=dt.datetime.now(JST))
    [a] = desk.alarms.rows()

    async def steps(app, pilot):
        await pilot.press("colon", *"alarms", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AlarmsScreen)
        inbox = app.screen.query_one("#inbox-table", DataTable)
        quarantine = app.screen.query_one("#quarantine-table", DataTable)
        rows = [[str(c) for c in inbox.get_row_at(n)] for n in range(inbox.row_count)]
        qrows = [[str(c) for c in quarantine.get_row_at(n)] for n in range(quarantine.row_count)]
        await pilot.press("enter")  # the alarm opens in triage
        await pilot.pause()
        opened = isinstance(app.screen, TriageScreen) and app.screen.rid == a["id"]
        await pilot.press("escape", "escape")
        await pilot.press("colon", *"nonsense", "enter")
        await pilot.pause()
        return rows, qrows, opened, said(app)

    rows, qrows, opened, notes = drive(desk, policy, steps)
    assert [r[0] for r in rows] == [str(a["id"])] and rows[0][2] == "SV0004" and rows[0][4] == "new"
    assert qrows[0][2] == "not-alarm" and qrows[0][3] == "[bold]no ESMPRO fields[/]"
    assert opened
    assert any("unknown command :nonsense" in m for m in notes)


def test_question_mark_lists_every_key(desk, policy):
    from textual.widgets import Static

    from sptui.tui.screens.keys import KeysScreen

    async def steps(app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        return str(app.screen.query_one(Static).render())

    text = drive(desk, policy, steps)
    for key, what in (("slash", "filter"), ("c", "claim"), ("d", "dispatch"), ("u", "unreachable"), ("f1", "help")):
        assert any(line.split()[:1] == [key] and what in line for line in text.splitlines()), (key, text)
    assert ":alarms" in text


def test_an_action_waiting_for_a_policy_that_then_fails_is_told_and_the_desk_does_not_freeze(desk, policy):
    import time as _time

    def slow_and_broken():
        _time.sleep(0.5)
        raise ValueError("the policy has errors (policies/terms.sptp:9:2: bad table)")

    async def main():
        app = DeskApp(desk, policy_loader=slow_and_broken, lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("slash", *"SV0004", "enter", "enter")  # the alarm, while the policy still loads
            await pilot.press("u")  # recording a contact needs the policy
            for _ in range(40):
                await pilot.pause(0.05)
            return said(app)

    notes = asyncio.run(asyncio.wait_for(main(), 30))
    assert any("terms.sptp:9:2" in m for m in notes)
    assert desk.alarms.rows()[0]["status"] == "new"  # nothing recorded without a policy


def test_control_characters_from_a_mail_never_reach_the_terminal(desk, policy):
    t = dt.datetime.now(JST).replace(microsecond=0)
    raw = alarm("SV0005", t, message_id="esc@sv5", event_id="E\x1b[2J\x1b]0;pwn\x07\tQ")
    file_mails(desk, policy, [(raw, parse(raw), "test", t)])

    async def steps(app, pilot):
        await pilot.press("slash", *"SV0005", "enter")
        await pilot.pause()
        return table_lines(app)

    drawn = "\n".join(drive(desk, policy, steps))
    assert "\x1b" not in drawn and "\x07" not in drawn and "\t" not in drawn
    assert "E\\x1b[2J\\x1b]0;pwn" in drawn  # shown, visibly (the column cuts the rest)


def test_leaving_triage_shows_the_change_in_the_queue_at_once(desk, policy):
    async def steps(app, pilot):
        await open_row(pilot, "SV0002")
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("escape")
        for _ in range(40):  # well inside the 5 s poll: the queue reloads because triage was left
            await pilot.pause(0.05)
            row = next(r for r in cells(app) if r[1] == "1234-000-002")
            if row[5] == "claimed":
                return row[5]
        return row[5]

    assert drive(desk, policy, steps) == "claimed"


def test_a_database_failure_in_an_action_is_a_message_and_the_desk_stays_up(desk, policy, monkeypatch):
    import sqlalchemy as sa

    def locked(*a, **k):
        raise sa.exc.OperationalError("UPDATE incidents", {}, Exception("database is locked"))

    monkeypatch.setattr(desk.incidents, "claim", locked)

    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        await pilot.press("c")
        await pilot.pause()
        return isinstance(app.screen, TriageScreen), said(app)

    still_there, notes = drive(desk, policy, steps)
    assert still_there and any("database is locked" in m for m in notes)


def test_the_cursor_row_stays_on_screen_when_the_filter_is_cleared():
    from rich.text import Text
    from textual.app import App

    from sptui.tui.widgets.table import RowTable

    rows = list(range(300))

    class One(App):
        def compose(self):
            yield RowTable([("n", 6)], lambda r: [Text(str(r))])

    async def main():
        app = One()
        async with app.run_test(size=(40, 20)) as pilot:
            table = app.query_one(RowTable)
            table.set_rows(rows)
            await pilot.pause()
            table.set_rows([250])  # filtered down to one row
            await pilot.pause()
            table.set_rows(rows, keep=lambda r: r == 250)  # and cleared: the cursor stays on row 250
            await pilot.pause()
            await pilot.pause()
            top = int(table.scroll_y)
            return table.cursor, top, table.size.height

    cursor, top, height = asyncio.run(main())
    assert cursor == 250 and top <= 250 < top + height


def test_registry_looks_up_by_label_serial_customer_and_phone_and_shows_what_the_policy_warns(desk, policy):
    from textual.widgets import DataTable

    from sptui.tui.screens.registry import RegistryScreen

    m = desk.registry.machine("1234-000-002")

    async def steps(app, pilot):
        await pilot.press("colon", *"registry", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RegistryScreen)
        out = {}
        for how, q in (("label", "1234-000-002"), ("serial", m["serial_number"]), ("customer", "顧客2"),
                       ("phone", m["customer_phone"])):
            box = app.screen.query_one("#lookup")
            box.value = q
            box.focus()
            await pilot.press("enter")
            await pilot.pause()
            t = app.screen.query_one("#machines", DataTable)
            out[how] = [str(t.get_row_at(n)[0]) for n in range(t.row_count)]
        return out, static_text(app, "#warnings")

    out, warnings = drive(desk, policy, steps)
    assert out["label"] == ["1234-000-002"] and out["serial"] == ["1234-000-002"]
    assert "1234-000-002" in out["customer"] and "1234-000-002" in out["phone"]
    decision = policy.decide(__import__("sptui.desk.cases", fromlist=["case_for"]).case_for(
        m, at=dt.datetime.now(JST), repair_needed=False))
    assert warnings.startswith("1234-000-002") and decision.verdict in warnings
    for r in decision.reasons:
        if r.outcome in ("warn", "fail"):
            assert r.message("en")[:30] in warnings


def policy_copy(tmp_path):
    """The shipped policy's files copied to edit on the Policy screen: (folder, its first file, that file's text)."""
    import shutil

    pol_dir = tmp_path / "policies"
    shutil.copytree(POLICIES, pol_dir, ignore=shutil.ignore_patterns("tests"))
    first = sorted(pol_dir.glob("*.sptp"))[0]
    return pol_dir, first, first.read_text(encoding="utf-8")


async def open_policy_screen(app, pilot):
    """`:policy`, as an operator types it; the editor of the first file."""
    from textual.widgets import TextArea

    from sptui.tui.screens.policy import PolicyScreen

    await pilot.press("colon", *"policy", "enter")
    await pilot.pause()
    assert isinstance(app.screen, PolicyScreen)
    return app.screen.query_one("#source", TextArea)


def test_policy_screen_shows_live_diagnostics_and_a_broken_edit_keeps_the_last_good_policy(desk, policy, tmp_path):



    pol_dir, first, good = policy_copy(tmp_path)

    async def main():
        app = DeskApp(desk, policy, policy_path=str(pol_dir), lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            src = await open_policy_screen(app, pilot)
            assert src.text == good
            src.load_text(good.replace('version "2021.08-r1"', 'version 2021.08-r1 !!'))  # broken
            await pilot.pause(0.8)
            live_check = static_text(app, "#diagnostics")
            await pilot.press("ctrl+s")
            await pilot.pause()
            after_broken = app.policy, static_text(app, "#diagnostics")
            src.load_text(good.replace('version "2021.08-r1"', 'version "2021.08-r2"'))  # a good edit
            await pilot.pause(0.6)
            await pilot.press("ctrl+s")
            await pilot.pause()
            return live_check, after_broken, app.policy, said(app)

    live_check, (kept, diag_text), new, notes = asyncio.run(main())
    assert "error" in live_check and f"{first.name}:4:" in live_check  # file:line:col, before saving
    assert kept is policy and f"{first.name}:4:" in diag_text  # saved broken: the last good policy is live
    assert "the last good policy stays live" in notes[0]
    assert new is not policy and new.version == "2021.08-r2" and "policy reloaded" in notes[-1]


def test_keys_are_remapped_from_the_keymap_file_and_a_bad_one_is_a_message(desk, policy, tmp_path, monkeypatch):
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keymap]\n"triage.claim" = "C"\n', encoding="utf-8")
    monkeypatch.setenv("SPTUI_KEYMAP", str(keymap))

    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        await pilot.press("c")  # no longer claims
        await pilot.pause()
        before = desk.incidents.get(1)["owner"]
        await pilot.press("C")
        await pilot.pause()
        return before

    assert drive(desk, policy, steps) is None and desk.incidents.get(1)["owner"] == "sato"

    keymap.write_text('[keymap]\n"triage.clam" = "C"\n', encoding="utf-8")

    async def bad(app, pilot):
        return said(app)

    assert any("unknown binding id(s) triage.clam" in m for m in drive(desk, policy, bad))


def test_every_binding_has_an_id_and_a_description():
    from sptui.tui.app import DeskApp
    from sptui.tui.screens.alarms import AlarmsScreen
    from sptui.tui.screens.command import CommandModal
    from sptui.tui.screens.confirm import ConfirmModal
    from sptui.tui.screens.dispatch import DispatchModal
    from sptui.tui.screens.keys import KeysScreen
    from sptui.tui.screens.note import NoteModal
    from sptui.tui.screens.policy import PolicyScreen
    from sptui.tui.screens.registry import RegistryScreen
    from sptui.tui.widgets.table import RowTable

    for cls in (DeskApp, QueueScreen, RowTable, TriageScreen, AlarmsScreen, RegistryScreen, PolicyScreen, NoteModal,
                ConfirmModal, DispatchModal, CommandModal, KeysScreen):
        for b in cls.BINDINGS:
            assert b.id and b.description, (cls.__name__, b.key)


def test_every_key_of_the_desk_comes_from_the_one_registry_of_actions():
    """actions.py is the one list: each class's bindings are its scope's actions (same key, action, words), each
    id once, and the registry holds no key that nothing binds (the keymap's ids are exactly the keys bound)."""
    from sptui.tui.actions import ACTIONS, BY_ID, SCOPES, keymap_ids

    assert len(BY_ID) == len(ACTIONS)
    assert all(set(a.where) <= set(SCOPES) and a.en and a.ja for a in ACTIONS)
    for cls in desk_classes():
        for b in cls.BINDINGS:
            a = BY_ID.get(b.id)
            assert a is not None, (cls.__name__, b)
            assert (a.key, a.binding().action, a.en, a.show, a.priority) == (b.key, b.action, b.description, b.show,
                                                                              b.priority), (cls.__name__, b)
    assert {b.id for cls in desk_classes() for b in cls.BINDINGS} == keymap_ids()


def test_the_desks_stylesheet_is_package_data():
    """The desk reads app.tcss when it starts: an installed sptui (a wheel) must carry it, as it carries the policy."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["sptui"]
    package = root / "src" / "sptui"
    read = [p.relative_to(package).as_posix() for p in (package / "tui").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert "tui/app.tcss" in read and (package / "tui" / DeskApp.CSS_PATH).is_file()
    assert [f for f in read if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)] == []


def test_the_palette_jumps_to_an_incident_and_the_triage_copies_a_clause(desk, policy):
    async def steps(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"disk failure on SV0003")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        opened = isinstance(app.screen, TriageScreen) and (app.screen.kind, app.screen.rid)
        copied = []
        app.copy_to_clipboard = copied.append
        await pilot.press("o")
        await pilot.pause()
        return opened, copied

    opened, copied = drive(desk, policy, steps)
    assert opened == ("incident", 3)
    first = desk.incidents.get(3)["decision"]["reasons"][0]
    assert copied == [first["cite"]]


def test_close_asks_first_and_a_second_key_press_does_nothing_more(desk, policy):
    async def steps(app, pilot):
        await open_row(pilot, "SV0002")
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("n")  # no: nothing happens
        await pilot.pause()
        still_open = desk.incidents.get(2)["status"]
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y", "y")  # yes, pressed twice: closed once
        await pilot.pause()
        return still_open, said(app)

    still_open, notes = drive(desk, policy, steps)
    assert still_open == "open" and desk.incidents.get(2)["status"] == "closed"
    assert [e["kind"] for e in desk.incidents.timeline(2)].count("closed") == 1
    assert not any("already closed" in m for m in notes)


def test_triage_shows_what_would_change_the_outcome(desk, policy):
    """The counterfactuals of `sptui explain`, each a real decision on a changed case, in the triage."""
    from sptui.policy.decide import case_values
    from sptui.explanation import counterfactuals

    from sptui.testing import tokyo

    # at a fixed time (a Friday evening notice): the fixture's incidents are opened at the time the test runs,
    # and at some hours of the day nothing would change their outcome
    iid = open_incident(desk, policy, label="1234-000-005", at=tokyo("2026-11-27 17:10"), summary="friday evening",
                             operator="setup")
    case = case_values(policy, desk.incidents.get(iid)["case"])
    expected = counterfactuals(policy, case, policy.decide(case), "en")

    async def steps(app, pilot):
        await open_row(pilot, "friday evening")
        for _ in range(60):
            await pilot.pause(0.05)
            if "what would change it" in static_text(app, "#whatif"):
                break
        return static_text(app, "#whatif")

    shown = drive(desk, policy, steps)
    assert shown.startswith("what would change it")
    assert expected and all(line in shown for line in expected)


def test_right_scrolls_the_rows_and_their_titles_together_at_80_columns(desk, policy):
    """At 80 columns the in-hours, next contact and summary are to the right: `l` or → brings them, titles too."""
    from sptui.tui.widgets.table import HeaderLine

    async def steps(app, pilot):
        header = app.screen.query_one(HeaderLine)
        before = header.render_line(0).text
        for _ in range(8):
            await pilot.press("right")
        await pilot.pause()
        return before, header.render_line(0).text, table_lines(app)

    before, after, drawn = drive(desk, policy, steps, size=(80, 24))
    assert before.startswith("kind") and "summary" not in before
    assert "next contact" in after and "summary" in after and not after.startswith("kind")
    assert any("disk failure on SV000" in line for line in drawn)  # the summary column, now on screen


def test_live_policy_diagnostics_check_once_when_typing_pauses(desk, policy, monkeypatch):
    from textual.widgets import TextArea

    import sptui.policy.compile as compile_mod

    calls = []
    real = compile_mod.check
    monkeypatch.setattr(compile_mod, "check", lambda *a, **k: calls.append(1) or real(*a, **k))

    async def steps(app, pilot):
        await pilot.press("colon", *"policy", "enter")
        await pilot.pause()
        await pilot.pause(0.6)
        calls.clear()  # (loading the first file is itself an edit)
        src = app.screen.query_one("#source", TextArea)
        src.focus()
        await pilot.press("end", *"# a comment typed quickly")
        await pilot.pause(0.8)
        return len(calls)

    assert drive(desk, policy, steps) == 1


def test_m_marks_an_incident_for_consultation_shown_in_timeline_and_queue_and_m_again_clears_it(desk, policy):
    async def steps(app, pilot):
        await open_row(pilot, "SV0002")
        await pilot.press("m")
        await pilot.pause()
        prompt = str(app.screen.query_one("Label").render())
        await pilot.press(*"[b]NEC[/b] parts", "enter")
        await pilot.pause()
        head, timeline = static_text(app, "#head"), static_text(app, "#timeline")
        notes = said(app)
        await pilot.press("escape")
        for _ in range(40):
            await pilot.pause(0.05)
            row = next(r for r in cells(app) if r[1] == "1234-000-002")
            if row[5].startswith("consult"):
                break
        queue_row = row
        await pilot.press("slash", *"consult", "enter")
        await pilot.pause()
        filtered = [r[1] for r in cells(app)]
        await pilot.press("escape")
        await open_row(pilot, "SV0002")
        await pilot.press("m")  # marked: m clears it, after asking
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        return prompt, head, timeline, queue_row, filtered, notes + said(app)

    prompt, head, timeline, queue_row, filtered, notes = drive(desk, policy, steps)
    assert "consultation with the customer or NEC" in prompt
    assert "consult: [b]NEC[/b] parts" in head  # as typed, not taken as markup
    assert "sato  consult: [b]NEC[/b] parts" in timeline
    assert queue_row[5] == "consult claimed"  # (marking an unowned incident made it sato's)
    assert filtered == ["1234-000-002"]
    assert "marked for consultation" in notes and "consultation mark cleared" in notes
    inc = desk.incidents.get(2)
    assert inc["consult"] is None and [e["kind"] for e in desk.incidents.timeline(2)][-2:] == ["consult", "unconsult"]
    assert [e["action"] for e in desk.audit.rows("incident", 2)][-2:] == ["consult", "unconsult"]


def test_marking_a_stale_incident_for_consultation_says_who_changed_it(desk, policy):
    async def steps(app, pilot):
        await open_row(pilot, "SV0003")
        desk.incidents.claim(3, operator="tanaka")  # another desk, after this one read the incident
        await pilot.press("m", *"ask NEC", "enter")
        await pilot.pause()
        return said(app), static_text(app, "#head")

    notes, head = drive(desk, policy, steps)
    assert any("changed by tanaka" in m and "nothing was saved by your consult" in m for m in notes)
    assert desk.incidents.get(3)["consult"] is None
    assert "owner: tanaka" in head  # the triage shows the incident as it is now


def test_consultation_marks_are_not_offered_on_a_read_only_desk(desk, policy):
    from sptui.tui.screens.note import NoteModal

    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        await pilot.press("m")
        await pilot.pause()
        return isinstance(app.screen, NoteModal), said(app)

    asked, notes = drive(desk, policy, steps, read_only=True)
    assert not asked and "read-only desk" in notes and desk.incidents.get(1)["consult"] is None


def test_consult_is_a_key_with_an_id_and_words_in_both_languages():
    from sptui.tui.i18n import WORDS

    [b] = [b for b in TriageScreen.BINDINGS if b.action == "consult"]
    assert (b.key, b.id) == ("m", "triage.consult")
    assert WORDS[b.description] == ("相談", "consult")
    for key in ("consult_prompt", "consult_marked", "consult_cleared", "confirm_unconsult"):
        ja, en = WORDS[key]
        assert ja and en and ja != en


def test_every_key_of_the_desk_is_described_in_japanese_and_the_footer_says_it(desk, policy):
    from sptui.tui.actions import BY_ID

    missing = {(cls.__name__, b.id) for cls in desk_classes() for b in cls.BINDINGS
               if b.id not in BY_ID or not BY_ID[b.id].ja}
    assert not missing

    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        return {b.binding.id: b.binding.description for b in app.screen.active_bindings.values()}

    shown = drive(desk, policy, steps, lang="ja")
    assert shown["triage.consult"] == "相談" and shown["triage.claim"] == "担当する"


# ---- an unexpected exception anywhere is a message on screen and a log line; the desk runs on ------------------
BOOM = "[bold]boom[/] \x1b[2J"  # reads like markup and carries a terminal escape


def unexpected(app) -> list:
    return [n for n in notifications(app) if n.message.startswith("unexpected error")]


async def still_working(app, pilot) -> bool:
    """The desk still answers keys: the queue's filter narrows it (and Esc clears it)."""
    for _ in range(10):  # back to the queue, a screen at a time
        if isinstance(app.screen, QueueScreen):
            break
        await pilot.press("escape")
        await pilot.pause()
    await pilot.press("slash", *"SV0002")
    await pilot.pause()
    narrowed = static_text(app, "#count")
    await pilot.press("escape")
    await pilot.pause()
    return narrowed == "1 of 1 shown — 4 in all" and app.is_running and app.return_code is None


def check_reported(app, caplog) -> None:
    [note] = unexpected(app)
    assert note.severity == "error" and not note.markup
    assert note.message.endswith("RuntimeError: [bold]boom[/] \\x1b[2J")  # as raised, escapes visible
    assert any(r.name == "sptui.desk" and r.levelname == "ERROR" and r.exc_info and "boom" in r.getMessage()
               for r in caplog.records)
    assert held_exception(app) is None  # not held for Textual to end the app with


def test_a_failing_message_handler_is_a_message_and_the_queue_still_works(desk, policy, monkeypatch, caplog):
    def broken(self):
        raise RuntimeError(BOOM)

    monkeypatch.setattr(QueueScreen, "action_open", broken)  # RowTable.Selected's handler calls it

    async def steps(app, pilot):
        await pilot.press("enter")
        await pilot.pause()
        check_reported(app, caplog)
        return await still_working(app, pilot)

    assert drive(desk, policy, steps)


def test_a_failing_key_action_is_a_message_and_the_triage_still_works(desk, policy, monkeypatch, caplog):
    def broken(self):
        raise RuntimeError(BOOM)

    monkeypatch.setattr(TriageScreen, "action_copy_clause", broken)

    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        await pilot.press("o")
        await pilot.pause()
        check_reported(app, caplog)
        await pilot.press("c")  # the triage still claims
        await pilot.pause()
        return await still_working(app, pilot)

    assert drive(desk, policy, steps)
    assert desk.incidents.get(1)["owner"] == "sato"


def test_a_failing_timer_is_said_once_not_each_second_and_the_desk_runs_on(desk, policy, monkeypatch, caplog):
    ticks = []

    def broken(self):
        ticks.append(1)
        raise RuntimeError(BOOM)

    monkeypatch.setattr(QueueScreen, "tick", broken)

    async def steps(app, pilot):
        await pilot.pause(2.5)
        check_reported(app, caplog)
        return await still_working(app, pilot)

    assert drive(desk, policy, steps)
    assert len(ticks) >= 2  # it kept failing, and kept being called


def test_a_screen_whose_compose_fails_is_a_message_and_escape_goes_back(desk, policy, monkeypatch, caplog):
    from sptui.tui.screens.registry import RegistryScreen

    def broken(self):
        raise RuntimeError(BOOM)

    monkeypatch.setattr(RegistryScreen, "compose", broken)

    async def steps(app, pilot):
        await pilot.press("colon", *"registry", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RegistryScreen)
        assert unexpected(app)
        await pilot.press("escape")
        await pilot.pause()
        return isinstance(app.screen, QueueScreen) and await still_working(app, pilot)

    assert drive(desk, policy, steps)


def test_a_failing_worker_is_a_message_and_the_desk_runs_on(desk, policy, caplog):
    def broken():
        raise RuntimeError(BOOM)

    async def steps(app, pilot):
        app.run_worker(broken, thread=True)
        for _ in range(20):
            await pilot.pause(0.05)
            if unexpected(app):
                break
        check_reported(app, caplog)
        return await still_working(app, pilot)

    assert drive(desk, policy, steps)


# ---- the policy editor is highlighted by the language's own lexer ----------------------------------------------
def spans(editor, row: int) -> dict[str, str]:
    """The highlighted text of one line of the editor: text → highlight name (highlights count UTF-8 bytes)."""
    raw = editor.document.lines[row].encode()
    return {raw[a:b].decode(): name for a, b, name in editor.highlights(row)}


def test_the_policy_editor_highlights_keywords_clauses_strings_numbers_and_comments(desk, policy):
    from sptui.tui.screens.policy import PolicyScreen
    from sptui.tui.widgets.policy_editor import PolicyEditor

    async def steps(app, pilot):
        await pilot.press("colon", *"policy", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PolicyScreen)
        src = app.screen.query_one("#source", PolicyEditor)
        lines = src.document.lines
        row = {needle: next(n for n, line in enumerate(lines) if line.startswith(needle))
               for needle in ("# NEC", 'policy "', "effective", "  clause 第1章 2.1,", "  clause 別表-1",
                              "let parts-retention")}
        got = {k: spans(src, n) for k, n in row.items()}
        styles = {name: text_area_theme(src).syntax_styles.get(name) for name in ("tag", "string", "comment")}
        y = src.wrapped_document.location_to_offset((row["  clause 第1章 2.1,"], 0)).y  # (long lines wrap)
        drawn = src.render_line(y - int(src.scroll_y))
        return got, styles, drawn

    got, styles, drawn = drive(desk, policy, steps)
    assert list(got["# NEC"].values()) == ["comment"]
    assert got['policy "'] == {"policy": "function", '"nec-video-appliance-supportpack"': "string"}
    assert got["effective"]["2021-08-01"] == "number"
    clause = got["  clause 第1章 2.1,"]
    assert clause["第1章 2.1"] == "tag" and clause['"ハードウェア保証"'] == "string"  # a citation is one token
    assert "not-computable" not in clause  # a call's name is plain
    assert got["  clause 別表-1"]["別表-1"] == "tag"
    assert got["let parts-retention"] == {"let": "keyword", "parts-retention": "variable", "=": "operator",
                                         "5 years": "number"}
    # the theme styles each name, and the drawn line carries the clause's style on its characters
    assert all(styles.values())
    assert any(seg.text == "第1章 2.1" and seg.style and seg.style.color == styles["tag"].color for seg in drawn)


def test_a_line_with_a_syntax_error_keeps_the_highlights_it_can_read_and_is_drawn(desk, policy):
    from sptui.tui.widgets.policy_editor import PolicyEditor

    async def steps(app, pilot):
        await pilot.press("colon", *"policy", "enter")
        await pilot.pause()
        src = app.screen.query_one("#source", PolicyEditor)
        src.focus()
        src.move_cursor((0, 0))
        await pilot.press(*'note ! 10,000円 @ "x" # why', "enter")
        await pilot.pause()
        return spans(src, 0), src.render_line(0).text

    got, drawn = drive(desk, policy, steps)
    assert got == {"note": "function", "10,000円": "number", '"x"': "string", "# why": "comment"}
    assert 'note ! 10,000円 @ "x" # why' in drawn


def test_an_edit_lexes_only_the_lines_it_changed(desk, policy, monkeypatch):
    import time

    import sptui.tui.widgets.policy_editor as pe

    lexed = []
    real = pe.line_highlights
    monkeypatch.setattr(pe, "line_highlights", lambda line: lexed.append(line) or real(line))

    async def steps(app, pilot):
        await pilot.press("colon", *"policy", "enter")
        await pilot.pause()
        src = app.screen.query_one("#source", pe.PolicyEditor)
        src.focus()
        src.move_cursor((2, 0))
        lexed.clear()
        await pilot.press("x")
        await pilot.pause()
        one_key = list(lexed)
        started = time.perf_counter()
        for _ in range(20):
            src.rehighlight()
        return one_key, (time.perf_counter() - started) / 20, len(src.document.lines)

    one_key, per_edit, lines = drive(desk, policy, steps)
    assert one_key == ['xpolicy "nec-video-appliance-supportpack"']
    assert per_edit < 0.005, f"{per_edit * 1000:.2f} ms to re-highlight {lines} lines"


# ---- without colour (NO_COLOR) and in 16 colours: the words, the cursor rows and the focus are all still there ----
def terminal_lines(app) -> list[list[tuple[str, object]]]:
    """The screen as the terminal gets it: each line's (text, Style) runs after the app's line filters (NO_COLOR's
    Monochrome), with the colours downgraded to the app console's colour system (16 colours: the terminal's own)."""
    from rich.color import ColorSystem
    from rich.style import Style

    system = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT, "windows": ColorSystem.WINDOWS}.get(
        app.console.color_system)
    update = screen_update(app.screen)
    out = []
    for chops in update.strips:
        line = []
        for strip in chops:
            for text, style, _ in strip:
                style = style or Style()
                if system is not None:
                    style = style + Style(color=style.color and style.color.downgrade(system),
                                          bgcolor=style.bgcolor and style.bgcolor.downgrade(system))
                line.append((text, style))
        out.append(line)
    return out


def text_of(line) -> str:
    return "".join(t for t, _ in line)


def attrs(line, needle: str) -> set[tuple]:
    """The attributes (bold, reverse, underline) — not the colours — of the cells of `needle` on a line."""
    text, at, found = text_of(line), 0, set()
    start = text.index(needle)
    for t, style in line:
        if at < start + len(needle) and at + len(t) > start:
            found.add((bool(style.bold), bool(style.reverse), bool(style.underline)))
        at += len(t)
    return found


COLOURS = {"NO_COLOR": ({"NO_COLOR": "1"}, "truecolor"), "16 colours": ({}, "standard")}


@pytest.mark.parametrize("setting", sorted(COLOURS))
def test_without_colour_the_queue_shows_verdict_words_the_cursor_row_and_where_the_focus_is(desk, policy, monkeypatch,
                                                                                           setting):
    import textual.constants

    env, system = COLOURS[setting]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
    failures = []

    async def steps(app, pilot):
        app.report_failure = lambda error, where=None: failures.append(error)  # (NO_COLOR once broke the drawing)
        await pilot.pause()
        rows = cells(app)
        first = rows[0][1]
        lines = terminal_lines(app)
        colours = {s.color.type.name for _, line in enumerate(lines) for _, s in line if s.color} | {
            s.bgcolor.type.name for line in lines for _, s in line if s.bgcolor}
        await pilot.press("slash")  # the focus goes to the filter
        await pilot.pause()
        filtering = terminal_lines(app)
        return app.no_color, colours, rows, first, lines, filtering

    no_color, colours, rows, first, lines, filtering = drive(desk, policy, steps, size=(160, 30))
    assert not failures
    assert no_color == ("NO_COLOR" in env)
    if system == "standard":
        assert colours <= {"STANDARD", "DEFAULT"}  # what a 16-colour terminal is sent
    screen = [text_of(line) for line in lines]
    for r in rows:  # every row, with its verdict as a word
        assert any(r[1] in line and r[3] in line for line in screen), r
    row_line = {r[1]: next(line for line in lines if r[1] in text_of(line)) for r in rows}
    assert attrs(row_line[first], first) == {(True, True, False)}  # the cursor row: reversed, bold
    for label, line in row_line.items():
        if label != first:
            assert not any(rev or und for _, rev, und in attrs(line, label))
    # the filter has the focus: its text cursor is reversed, and the table's cursor row is underlined, not reversed
    box = next(line for line in filtering if "filter (Esc clears)" in text_of(line))
    assert any(style.reverse for _, style in box)
    moved = next(line for line in filtering if first in text_of(line))
    assert attrs(moved, first) == {(True, False, True)}


@pytest.mark.parametrize("setting", sorted(COLOURS))
def test_without_colour_the_triage_shows_the_verdict_the_reasons_cursor_and_a_warning_in_words(desk, policy,
                                                                                                monkeypatch, setting):
    import textual.constants

    env, system = COLOURS[setting]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", system)
    verdict = desk.incidents.get(1)["verdict"]
    rules = [r["rule"] for r in desk.incidents.get(1)["decision"]["reasons"]]

    async def main():
        app = DeskApp(desk, policy, lang="en", operator="sato", read_only=True)
        async with app.run_test(size=(160, 48), notifications=True) as pilot:  # the toasts drawn too
            await pilot.pause()
            await open_row(pilot, "SV0001")
            await pilot.press("c")  # a read-only desk warns
            await pilot.pause(0.3)
            return terminal_lines(app)

    lines = asyncio.run(main())
    screen = [text_of(line) for line in lines]
    assert any(f"decision: {verdict}" in line for line in screen)
    reason_line = {rule: next(line for line in lines if text_of(line).lstrip().startswith(rule)) for rule in rules[:3]}
    assert attrs(reason_line[rules[0]], rules[0]) == {(True, True, False)}  # the focused table's cursor: reversed
    for rule in rules[1:3]:
        assert not any(rev or und for _, rev, und in attrs(reason_line[rule], rule))
    toast = " ".join(screen)
    assert "warning" in toast and "read-only desk" in toast  # a warning says so, not only by its colour


# ---- on PostgreSQL another operator's change shows at once (LISTEN/NOTIFY), not at the next poll ------------------
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_another_desks_change_shows_within_a_second_on_postgresql_and_after_the_listener_is_killed(
        db_url, policy, monkeypatch):
    import time

    from sptui.tui import data

    monkeypatch.setattr(data, "POLL_SECONDS", 60.0)  # so that only the notification can bring the change
    mine, other = Store.open(db_url), Store.open(db_url)
    mine.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 4)]))
    at = dt.datetime.now(JST).replace(microsecond=0)
    iids = [open_incident(mine, policy, label=f"1234-000-{i:03d}", at=at, summary=f"disk on SV{i:04d}",
                               operator="setup") for i in (1, 2, 3)]

    def status(app, label):
        return next((r[5] for r in cells(app) if r[1] == label), None)

    async def seen(pilot, app, label, wanted) -> float:
        started = time.monotonic()
        while time.monotonic() - started < 5:
            await pilot.pause(0.02)
            if status(app, label) == wanted:
                return time.monotonic() - started
        return float("inf")

    async def main():
        app = DeskApp(mine, policy, lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            assert app.screen.listener.connected.wait(5)
            other.incidents.claim(iids[0], operator="tanaka")
            first = await seen(pilot, app, "1234-000-001", "claimed")
            with other.db.write() as conn:  # the desk's listening connection is killed
                conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE application_name = 'sptui desk listener' AND datname = current_database()")
            listener = app.screen.listener
            await until(pilot, lambda: listener.connections >= 2 and listener.connected.is_set(), step=0.05)
            other.incidents.close(iids[1], operator="tanaka")
            again = await seen(pilot, app, "1234-000-002", None)  # closed: gone from the queue
            return first, again, app.is_running, said(app)

    try:
        first, again, running, notes = asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        mine.close()
        other.close()
    # about 0.1 s measured (the listener's 0.1 s settle, then the reload); 2 s leaves a loaded test machine room
    # and is well under the desk's 5 s poll (60 s here)
    assert first < 2.0 and again < 2.0, (first, again)
    assert running and not notes, notes  # the dropped connection is the log's business, not the operator's


def test_a_stream_of_changes_does_not_starve_the_queue_of_its_reload(desk, policy, monkeypatch):
    """Changes heard faster than the queue reloads (a busy PostgreSQL desk): each look runs to its end, and one
    more follows if something changed meanwhile; a new look does not cancel the one reading."""
    import time

    from sptui.tui import data

    monkeypatch.setattr(data, "POLL_SECONDS", 60.0)
    full = data.queue

    def slow_queue(store, *, limit=None):
        if limit is None:
            time.sleep(0.3)  # as 100,000 rows take
        return full(store, limit=limit)

    monkeypatch.setattr(data, "queue", slow_queue)

    async def steps(app, pilot):
        for _ in range(40):
            await pilot.pause(0.05)
            if app.screen.complete:
                break
        desk.incidents.claim(1, operator="tanaka")
        started = time.monotonic()
        while time.monotonic() - started < 3:  # another change heard every 0.1 s, all along
            app.screen.heard()
            await pilot.pause(0.1)
            if next(r[5] for r in cells(app) if r[1] == "1234-000-001") == "claimed":
                return time.monotonic() - started
        return None

    took = drive(desk, policy, steps)
    assert took is not None and took < 1.5, took


def test_a_failure_while_closing_is_logged_and_one_before_starting_ends_with_one_line(desk, policy, caplog):
    async def steps(app, pilot):
        app.exit()
        handle_exception(app, RuntimeError("a worker outlived its screen"))  # as Textual calls it
        return app.return_code, exit_messages(app)

    code, shown = drive(desk, policy, steps)
    assert code == 0 and shown == []  # quitting stays quitting, without a message
    assert any("while closing" in r.getMessage() for r in caplog.records)

    app = DeskApp(desk, policy, lang="en", operator="sato")  # not running: nothing to keep up
    handle_exception(app, RuntimeError(BOOM))
    assert app.return_code == 1
    assert [str(r) for r in exit_messages(app)] == ["sptui: RuntimeError: [bold]boom[/] \\x1b[2J"]


def test_a_plugin_with_a_broken_policy_file_does_not_block_a_reload(desk, policy, tmp_path, monkeypatch):
    """The desk started without the broken plugin's files; a good edit of the policy still goes live on save,
    without them, and the plugin's errors are shown."""
    import types


    import sptui.plugins.manager
    from sptui.plugins.manager import PluginManager
    from sptui.policy.schema import VariantPack

    bad = tmp_path / "bad.sptp"
    bad.write_text("variant weekday-9h {\n  cite 第1章 3\n}\n", encoding="utf-8")  # a variant the policy has
    plugin = types.ModuleType("badpack")
    plugin.VP, plugin.BAD = VariantPack, str(bad)
    exec("from sptui.plugins.api import hookimpl\n@hookimpl\ndef sptui_variants(register):\n"
         "    register(VP('bad', (BAD,)))\n", plugin.__dict__)
    monkeypatch.setattr(sptui.plugins.manager, "_default", PluginManager(entry_points=False, extra=(plugin,)))
    pol_dir, first, good = policy_copy(tmp_path)

    async def main():
        app = DeskApp(desk, policy, policy_path=str(pol_dir), lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            (await open_policy_screen(app, pilot)).load_text(good.replace('version "2021.08-r1"', 'version "2021.08-r2"'))
            await pilot.pause(0.6)
            await pilot.press("ctrl+s")
            await pilot.pause()
            return app.policy, static_text(app, "#diagnostics"), said(app)

    new, diag_text, notes = asyncio.run(main())
    assert new is not policy and new.version == "2021.08-r2" and "policy reloaded" in notes[-1]
    assert "bad.sptp:1:" in diag_text  # the plugin's error, shown
    assert "badpack" in [f.plugin for f in sptui.plugins.manager._default.failures if f.stage == "policy"]


def test_the_key_bar_shows_the_screens_keys_and_a_click_presses_one(desk, policy):
    from sptui.tui.widgets.keybar import KeyBar

    async def steps(app, pilot):
        bar = app.screen.query_one(KeyBar)
        line = str(bar.render())
        hits = {key: (start, end, enabled) for start, end, key, enabled in bar.hits}
        await pilot.click(KeyBar, offset=(hits["slash"][0] + 1, 0))  # the "/ filter" key
        await pilot.pause()
        filtering = app.screen.focused is not None and app.screen.focused.id == "filter"
        await pilot.press("escape")  # leave the filter
        await open_row(pilot, "SV0001")  # an incident (an alarm's triage has its own keys)
        triage_line = str(app.screen.query_one(KeyBar).render())
        return line, filtering, triage_line

    line, filtering, triage_line = drive(desk, policy, steps)
    assert "/ filter" in line and "q quit" in line and line.rstrip().endswith("^p palette")
    assert filtering
    assert "d dispatch" in triage_line and "m consult" in triage_line and "q quit" not in triage_line


@pytest.mark.parametrize("config, asked, theme, message", [
    ('theme = "nord"\n', None, "nord", None),                          # from the config file
    ('theme = "nord"\n', "gruvbox", "gruvbox", None),                  # --theme wins
    ('theme = "no-such"\n', None, "textual-dark", "no theme 'no-such' (themes: "),
])
def test_the_theme_comes_from_the_config_file_or_theme(desk, policy, tmp_path, monkeypatch, config, asked, theme,
                                                         message):
    cfg = tmp_path / "keymap.toml"
    cfg.write_text(config, encoding="utf-8")
    monkeypatch.setenv("SPTUI_KEYMAP", str(cfg))

    async def main():
        app = DeskApp(desk, policy, lang="en", operator="sato", theme=asked)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            return app.theme, said(app)

    got, notes = asyncio.run(main())
    assert got == theme
    if message:
        assert any(message in n and "nord" in n for n in notes), notes
    else:
        assert not notes


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_at_80_columns_the_key_bar_keeps_every_key_and_the_palette_reachable(desk, policy, lang):
    """Keys that do not fit are left out whole; `?` (every key) and the palette stay at the right end."""
    from sptui.tui.widgets.keybar import KeyBar

    async def steps(app, pilot):
        lines = [str(app.screen.query_one(KeyBar).render())]
        await open_row(pilot, "SV0001")
        lines.append(str(app.screen.query_one(KeyBar).render()))
        return lines

    queue, triage = drive(desk, policy, steps, lang=lang, size=(80, 24))
    from rich.cells import cell_len

    for line in (queue, triage):
        assert cell_len(line) <= 80
        assert line.rstrip().endswith(("^p palette", "^p パレット")), line
        assert "? " in line  # every key, one press away
    assert ("d dispatch" if lang == "en" else "d 手配") in triage


def test_a_closed_screen_is_freed_across_reloads_of_the_queue(desk, policy):
    """A screen closed is freed (screens hold cycles: the collector frees them), reload after reload of every row.
    (The triage screen is kept on purpose, to be shown again; the keymap screen is made each time.)"""
    import gc
    import weakref

    async def steps(app, pilot):
        await until(pilot, lambda: app.screen.complete, step=0.01)
        refs = []
        for _ in range(3):
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, KeysScreen)
            refs.append(weakref.ref(app.screen))
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("r")  # reload every row: the queue freezes again
            for _ in range(100):
                await pilot.pause(0.02)
                if app.screen.complete:
                    break
        await pilot.pause()
        gc.collect()
        return [r() is None for r in refs]

    freed = drive(desk, policy, steps)
    assert freed == [True, True, True]


def test_opening_one_record_after_another_shows_only_the_second(desk, policy, monkeypatch):
    """The triage screen is shown again for the next record: nothing of the first may stay on it — not its
    head, reasons, cursor or scroll, and not its counterfactuals, which arrive late from a worker."""
    import time

    from rich.text import Text
    from textual.containers import VerticalScroll
    from textual.widgets import DataTable

    import sptui.explanation

    from sptui.policy.decide import case_values
    from sptui.explanation import counterfactuals
    from sptui.testing import tokyo

    first = open_incident(desk, policy, label="1234-000-005", at=tokyo("2026-11-27 17:10"), summary="friday evening",
                               operator="setup")
    second = open_incident(desk, policy, label="1234-000-004", at=tokyo("2026-11-29 03:00"), summary="sunday night",
                                operator="setup")
    for n in range(30):  # timelines longer than the screen
        desk.incidents.add_note(first, f"call {n}", operator="setup")
        desk.incidents.add_note(second, f"call {n}", operator="setup")

    def whatif(iid):
        case = case_values(policy, desk.incidents.get(iid)["case"])
        return counterfactuals(policy, case, policy.decide(case), "en")

    async def wait_whatif(app, pilot):
        for _ in range(60):
            await pilot.pause(0.05)
            if "what would change it" in static_text(app, "#whatif"):
                return static_text(app, "#whatif")
        raise AssertionError("no counterfactuals")

    slow = sptui.explanation.counterfactuals

    def later(*args):  # the second record's arrive well after its screen shows
        time.sleep(0.5)
        return slow(*args)

    async def steps(app, pilot):
        await open_row(pilot, "friday evening")
        await wait_whatif(app, pilot)
        await pilot.press("down", "down")
        app.screen.query_one(VerticalScroll).scroll_end(animate=False)
        await pilot.pause()
        scrolled = app.screen.query_one(VerticalScroll).scroll_y
        monkeypatch.setattr(sptui.explanation, "counterfactuals", later)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # leave the filter
        await open_row(pilot, "sunday night")
        at_once = static_text(app, "#whatif")
        reasons = app.screen.query_one("#reasons", DataTable)
        shown = await wait_whatif(app, pilot)
        app.screen.show_whatif(first, Text("stale"))  # the first record's, had its worker finished just now
        assert static_text(app, "#whatif") == shown
        return (static_text(app, "#head"), static_text(app, "#machine"), at_once, shown,
                reasons.row_count, reasons.cursor_row, scrolled, app.screen.query_one(VerticalScroll).scroll_y)

    head, machine, at_once, shown, rows, cursor, scrolled, scroll = drive(desk, policy, steps, size=(80, 24))
    assert scrolled > 0 and scroll == 0
    assert f"incident #{second}" in head and "sunday night" in head and "friday evening" not in head
    assert "1234-000-004" in machine and "1234-000-005" not in machine
    only_first = set(whatif(first)) - set(whatif(second))
    assert only_first  # the two differ, so a stale list would show
    assert not any(line in at_once for line in only_first)
    assert all(line in shown for line in whatif(second)) and not any(line in shown for line in only_first)
    assert rows == len(desk.incidents.get(second)["decision"]["reasons"]) and cursor == 0


def test_a_jump_from_a_triage_to_another_record_leaves_the_first_as_it_was(desk, policy):
    """From an incident's triage, the palette's jump opens another record on a screen of its own: back from it,
    the first incident is still there as it was (the kept triage screen is not taken over while on the stack)."""
    async def steps(app, pilot):
        await open_row(pilot, "SV0001")
        first = static_text(app, "#head")
        other = next(r for r in desk.alarms.rows() if r["computer"] == "SV0004")["id"]
        app.open_record("alarm", other)
        await pilot.pause()
        jumped = static_text(app, "#head")
        await pilot.press("escape")
        await pilot.pause()
        return first, jumped, static_text(app, "#head"), len(app.screen_stack)

    first, jumped, back, depth = drive(desk, policy, steps)
    assert "disk failure on SV0001" in first and "alarm #" in jumped and "SV0004" in jumped
    assert back == first and depth == 3  # (Textual's default screen, the queue, the first incident)


def test_a_screenshot_is_never_written_through_a_symbolic_link(desk, policy, tmp_path):
    """The palette's screenshot in a terminal goes through sptui's one writer: a name that is a link (dangling: the
    write would create the file it points to) is refused with a message; a plain name is written whole."""
    shots = tmp_path / "shots"
    shots.mkdir()
    (shots / "desk.svg").symlink_to(tmp_path / "elsewhere.svg")

    async def steps(app, pilot):
        app.deliver_screenshot("desk.svg", str(shots))
        app.deliver_screenshot("ok.svg", str(shots))
        await pilot.pause()
        return said(app)

    messages = drive(desk, policy, steps)
    assert not (tmp_path / "elsewhere.svg").exists()
    assert any("symbolic link" in m for m in messages), messages
    assert (shots / "ok.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")
