"""The desk's queue and screens driven by Textual's Pilot, read as the terminal gets them (the compositor's lines):
sideways scrolling, the cursor kept on screen, what fits 80×24, keys, escaping, words in both languages."""
from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from conftest import registry_csv, registry_row
from test_tui import drive, terminal_lines, text_of

from sptui.store import Store
from sptui.store import schema as S
from sptui.tui.app import DeskApp
from sptui.tui.screens.triage import TriageScreen
from sptui.tui.textual_compat import notifications
from sptui.tui.widgets.table import RowTable
from sptui.desk import file_mails, open_incident


def send(store, policy, iid, *, operator, technician, departed_at, late_reason=None):
    """A technician sent for incident `iid` (no completion yet), as the desk sends one: confirmed and consented
    where the work is the customer's to pay."""
    from sptui.desk import Consent, Work, dispatch

    dispatch(store, policy, iid, operator=operator, technician=technician, work=Work(departed_at, None),
             late_reason=late_reason, confirm_uncovered=True, consent=Consent("customer", "phone", departed_at))


def said(app) -> list[str]:
    return [n.message for n in notifications(app)]


def screen_text(app) -> list[str]:
    return [text_of(line) for line in terminal_lines(app)]


@pytest.fixture
def busy(tmp_path, policy):
    """40 open incidents: 6 long overdue (opened two weeks ago), the rest opened within the hour."""
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 41)]))
    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    for i in range(1, 41):
        at = now - (dt.timedelta(days=14, minutes=i) if i <= 6 else dt.timedelta(minutes=i))
        open_incident(s, policy, label=f"1234-000-{i:03d}", at=at, summary=f"disk failure on SV{i:04d}", operator="setup")
    yield s
    s.close()


def test_the_column_titles_move_with_the_rows_on_the_terminal(busy, policy):
    """What the terminal shows (not a fresh render of the header): after `l` seven times at 80×24 each title stands
    over its own column."""
    async def steps(app, pilot):
        for _ in range(7):
            await pilot.press("l")
        await pilot.pause()
        return screen_text(app)

    lines = drive(busy, policy, steps, size=(80, 24))
    title = next(n for n, line in enumerate(lines) if "summary" in line or "label no." in line)
    head, row = lines[title], lines[title + 1]
    assert "summary" in head and "disk failure" in row, lines[:4]
    from rich.cells import cell_len

    assert cell_len(head[:head.index("summary")]) == cell_len(row[:row.index("disk failure")])


def test_last_row_is_shown_above_the_horizontal_scrollbar_and_enter_opens_the_row_shown(busy, policy):
    async def steps(app, pilot):
        table = app.screen.query_one(RowTable)
        last = table.rows[-1]
        await pilot.press("G")
        await pilot.pause()
        lines = terminal_lines(app)
        drawn = [n for n, line in enumerate(lines) if last.label in text_of(line)]
        await pilot.press("enter")
        await pilot.pause()
        return last, lines, drawn, (app.screen.kind, app.screen.rid) if isinstance(app.screen, TriageScreen) else None

    last, lines, drawn, opened = drive(busy, policy, steps, size=(80, 24))
    assert drawn, "the last row is not on the screen after G"
    line = lines[drawn[0]]
    assert any(style.reverse for text, style in line if last.label in text or text.strip() in last.label and text.strip())
    assert opened == ("incident", last.id)
    # and the row below it is the horizontal scrollbar, or the count: no row hidden under it
    assert "of 40 shown" in text_of(lines[drawn[0] + 2]) or "of 40 shown" in text_of(lines[drawn[0] + 1])


def rows_of(lines: list[str], labels) -> dict[str, str]:
    """The screen line of each label shown."""
    return {label: next(line for line in lines if label in line) for label in labels if any(label in x for x in lines)}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_at_80_by_24_kind_label_customer_verdict_time_left_and_status_show_without_scrolling(busy, policy, lang):
    from sptui.tui.i18n import Words

    w = Words(lang)
    busy.incidents.mark_consult(3, "ask NEC about the parts", operator="sato")  # the longest status: the 相談 mark before it

    async def steps(app, pilot):
        return screen_text(app), list(app.screen.query_one(RowTable).rows)

    lines, rows = drive(busy, policy, steps, lang=lang, size=(80, 24))
    head = next(line for line in lines if w("label") in line)
    for title in ("kind", "label", "customer", "verdict", "left", "status"):
        assert w(title) in head, (title, head)
    shown = rows_of(lines, [r.label for r in rows])
    assert len(shown) >= 15
    for r in rows:
        if r.label not in shown:
            continue
        line = shown[r.label]
        assert w(r.kind) in line and r.customer[:5] in line, line
        assert w.value("verdict", r.verdict) in line and w.value("status", r.status)[:2] in line, line
        assert (w("overdue") in line) == (r.label <= "1234-000-006"), line  # the countdown, on screen
    if lang == "en":
        assert "consult cl…" in shown["1234-000-003"]  # a status too long for its column is cut, and says so


def test_a_dispatched_incident_shows_its_state_not_a_countdown_and_waits_after_the_undispatched(busy, policy):
    """An overdue incident whose technician has left: `dispatched HH:MM` where the countdown was, and below every
    row that still waits for someone (the other overdue ones first)."""
    now = dt.datetime.now(S.TOKYO).replace(second=0, microsecond=0)
    inc = busy.incidents.get(1)
    send(busy, policy, 1, operator="sato", technician="yamada", departed_at=now - dt.timedelta(minutes=5),
                  late_reason="traffic" if inc["deadline"] < now else None)

    async def steps(app, pilot):
        table = app.screen.query_one(RowTable)
        return [(r.label, r.status) for r in table.rows], screen_text(app)

    order, lines = drive(busy, policy, steps, size=(160, 48))
    assert order[-1] == ("1234-000-001", "dispatched")
    assert [s for _, s in order[:-1]] == ["open"] * 39
    row = next(line for line in lines if "1234-000-001" in line)
    assert f"dispatched {(now - dt.timedelta(minutes=5)):%H:%M}" in row and "overdue" not in row
    assert sum("overdue" in line for line in lines) == 5  # the other five still count


def test_dispatched_incidents_come_after_the_waiting_rows_and_the_first_page_is_the_head_on_either_engine(db_url, policy):
    from intake_util import alarm

    from sptui.intake.ingest import parse
    from sptui.tui import data

    s = Store.open(db_url)
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 7)]))
    base = dt.datetime(2026, 11, 27, 8, 0, tzinfo=S.TOKYO)
    for n in range(12):
        open_incident(s, policy, label=f"1234-000-{1 + n % 6:03d}", at=base + dt.timedelta(minutes=47 * n),
                        summary=f"case {n}", operator="setup", support="pp" if n % 4 == 0 else "hw")
    departures = {}
    for iid in (1, 4, 7, 12):  # the earliest deadline among them, and one without a deadline (pp)
        departures[iid] = base + dt.timedelta(hours=iid)
        send(s, policy, iid, operator="sato", technician="yamada", departed_at=departures[iid], late_reason="traffic")
    for n in range(3):
        t = base + dt.timedelta(hours=5 * n)
        raw = alarm(f"SV{1 + n:04d}", t, message_id=f"order{n}@sv")
        file_mails(s, policy, [(raw, parse(raw), "test", t)])
    everything = data.queue(s)
    assert len(everything) == data.counts(s) == 15
    waiting = [r for r in everything if not r.dispatched]
    assert [r.id for r in everything[len(waiting):]] == sorted(departures, key=lambda i: (
        s.incidents.get(i)["deadline"] is None, s.incidents.get(i)["deadline"] or 0, i))
    timed = [r.due() for r in waiting if r.due() is not None]
    assert timed == sorted(timed)
    for r in everything[len(waiting):]:
        assert r.departed() == departures[r.id] and r.departed().tzinfo is not None
    assert all(r.departed() is None for r in waiting)
    for n in range(len(everything) + 1):
        assert [r.key for r in data.queue(s, limit=n)] == [r.key for r in everything[:n]]
    s.close()


# the words, not a rule's name that holds one (registration-rejected)
ENGLISH = re.compile(r"(?<![\w-])(covered|not-covered|not-started|billable|consult|open|claimed|dispatched|new|retry|"
                     r"reached|accepted|pending|rejected|pass|fail|warn|skip|True|False)(?![\w-])")


def test_in_japanese_every_verdict_and_status_word_is_japanese_on_queue_triage_alarms_and_registry(busy, policy):
    from intake_util import alarm

    from sptui.intake.ingest import parse

    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    busy.incidents.claim(8, operator="sato")
    send(busy, policy, 9, operator="sato", technician="yamada", departed_at=now)
    raw = alarm("SV0010", now - dt.timedelta(minutes=3), message_id="ja@sv10")
    file_mails(busy, policy, [(raw, parse(raw), "test", now)])

    async def steps(app, pilot):
        seen = {"queue": screen_text(app)}
        await pilot.press("slash", *"1234-000-008", "enter", "enter")
        await pilot.pause()
        seen["triage"] = screen_text(app)
        await pilot.press("escape", "escape")
        await pilot.press("colon", *"alarms", "enter")
        await pilot.pause()
        seen["alarms"] = screen_text(app)
        await pilot.press("escape", "colon", *"registry", "enter")
        await pilot.pause()
        box = app.screen.query_one("#lookup")
        box.value = "1234-000-008"
        await pilot.press("enter")
        await pilot.pause(0.3)
        seen["registry"] = screen_text(app)
        return seen

    seen = drive(busy, policy, steps, lang="ja", size=(160, 48))
    timeline = next(n for n, line in enumerate(seen["triage"]) if "経過" in line)  # (the timeline box's title)
    events = seen["triage"][timeline:]
    seen["triage"] = seen["triage"][:timeline]  # the timeline's texts are the records' own, as written
    assert any("sato  担当: claimed by sato" in line for line in events)  # … after the event's kind, in Japanese
    for name, lines in seen.items():
        text = "\n".join(lines)
        m = ENGLISH.search(text)
        assert not m, (name, m.group(), text[max(0, m.start() - 300):m.end() + 50])
    assert "未着手" in "\n".join(seen["queue"]) and "担当中" in "\n".join(seen["queue"])
    assert "手配済み" in "\n".join(seen["queue"]) and "新着" in "\n".join(seen["queue"])
    assert "対象" in "\n".join(seen["triage"]) and "状態: 担当中" in "\n".join(seen["triage"])
    assert "新着" in "\n".join(seen["alarms"])
    assert "登録済み" in "\n".join(seen["registry"])


def test_the_filter_finds_a_row_by_its_verdict_or_status_in_either_language(busy, policy):
    busy.incidents.claim(8, operator="sato")

    async def steps(app, pilot):
        out = {}
        for needle in ("担当中", "claimed"):
            await pilot.press("slash", *needle)
            await pilot.pause()
            out[needle] = [r.label for r in app.screen.query_one(RowTable).rows]
            await pilot.press("escape")
        return out

    out = drive(busy, policy, steps, lang="en")
    assert out == {"担当中": ["1234-000-008"], "claimed": ["1234-000-008"]}


def test_a_remapped_key_is_the_key_shown_by_question_mark_the_key_bar_and_the_palette(busy, policy, tmp_path,
                                                                                         monkeypatch):
    from textual.widgets import Static

    from sptui.tui.screens.keys import KeysScreen

    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keymap]\n"triage.claim" = "C"\n"queue.filter" = "f"\n', encoding="utf-8")
    monkeypatch.setenv("SPTUI_KEYMAP", str(keymap))

    async def steps(app, pilot):
        queue_bar = screen_text(app)[-1]
        await pilot.press("f", *"1234-000-007", "enter", "enter")  # the remapped filter key works
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
        triage_bar = screen_text(app)[-1]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        keys = str(app.screen.query_one(Static).render())
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"claim")
        await pilot.pause(0.5)
        palette = "\n".join(screen_text(app))
        return queue_bar, triage_bar, keys, palette

    queue_bar, triage_bar, keys, palette = drive(busy, policy, steps, size=(80, 24))
    assert " f filter " in queue_bar and " / filter " not in queue_bar
    # at 80 columns the remapped claim keeps its place in the bar (after back), not pushed off its end
    assert triage_bar.startswith(" esc back  C claim "), triage_bar
    lines = keys.splitlines()
    assert any(line.split()[:3] == ["C", "claim", "triage.claim"] for line in lines), keys
    assert any(line.split()[:3] == ["f", "filter", "queue.filter"] for line in lines), keys
    assert not any(line.split()[:2] in (["c", "claim"], ["slash", "filter"]) for line in lines)
    hit = [line.strip() for line in palette.splitlines()]
    assert "claim" in hit and hit[hit.index("claim") + 1] == "C"  # the palette's command, with its key under it


def test_question_mark_lists_every_key_of_the_desk_the_palettes_and_quits_too_and_the_palette_key_remaps(
        busy, policy, tmp_path, monkeypatch):
    """One registry of actions: what `?` lists is what the desk answers to (the palette's ctrl+p and ctrl+q, bound
    by Textual before, were missing), and every key it lists may be remapped, the palette's included."""
    from textual.command import CommandPalette
    from textual.widgets import Static

    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keymap]\n"app.palette" = "ctrl+k"\n', encoding="utf-8")
    monkeypatch.setenv("SPTUI_KEYMAP", str(keymap))

    async def steps(app, pilot):
        active = [(b.binding.id, b.binding.action) for b in app.screen.active_bindings.values()]
        bar = screen_text(app)[-1]
        await pilot.press("question_mark")
        await pilot.pause()
        listed = str(app.screen.query_one(Static).render())
        await pilot.press("escape", "ctrl+k")
        await pilot.pause()
        return active, bar, listed, isinstance(app.screen, CommandPalette), said(app)

    active, bar, listed, palette, notes = drive(busy, policy, steps)
    assert not notes  # the keymap's id is known
    ids = {line.split()[-1]: line.split()[0] for line in listed.splitlines() if line.startswith("  ") and
           len(line.split()) >= 3}
    theirs = [action for bid, action in active if action in ("command_palette", "quit") and bid not in ids]
    assert not theirs, theirs
    assert all(bid in ids for bid, _ in active if bid), (active, listed)
    assert ids["app.palette"] == "ctrl+k" and bar.rstrip().endswith("^k palette") and palette


@pytest.mark.parametrize("lang, mark", [("en", "READ-ONLY"), ("ja", "閲覧専用")])
def test_a_read_only_desk_says_so_on_every_screen(busy, policy, lang, mark):
    async def steps(app, pilot):
        seen = {"queue": screen_text(app)[-1]}
        await pilot.press("enter")
        await pilot.pause()
        seen["triage"] = screen_text(app)[-1]
        for name in ("alarms", "registry", "policy"):
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("colon", *name, "enter")
            await pilot.pause()
            seen[name] = screen_text(app)[-1]
        return seen

    for size in ((80, 24), (160, 48)):
        seen = drive(busy, policy, steps, lang=lang, size=size, read_only=True)
        assert all(mark in bar for bar in seen.values()), seen
    writable = drive(busy, policy, steps, lang=lang, size=(160, 48))
    assert not any(mark in bar for bar in writable.values())


HOSTILE_ORG = "[bold]株式会社[/] [@click=app.quit]x[/] [link=https://evil.example]y[/link]"
HOSTILE_TRAP = "ディスク[/]障害 [on red]z"
HOSTILE_OPERATOR = "[b]mallory[/b]\x1b[2J"


def live(lines) -> list[str]:
    """Any text on screen that carries a link or a click action (none of the data may)."""
    return [(text, style.link, style.meta) for line in lines for text, style in line
            if text.strip() and (style.link or "@click" in (style.meta or {}))]


def test_data_that_reads_like_markup_shows_as_typed_everywhere_in_the_desk(tmp_path, policy):
    """One escaping path: the palette's hits, a notification, the queue, the triage, the alarms and registry tables
    show a hostile customer, trap name and operator exactly as typed; nothing from the data is bold, live or raw."""
    from sptui.demo import alarm_mail
    from sptui.intake.ingest import parse
    from sptui.tui.screens.alarms import AlarmsScreen
    from sptui.tui.screens.registry import RegistryScreen

    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    rows = [registry_row(i) for i in range(1, 4)]
    rows[0]["customer_organisation"] = HOSTILE_ORG
    s.registry.import_csv(registry_csv(rows))
    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    open_incident(s, policy, label="1234-000-001", at=now - dt.timedelta(minutes=5), summary="fan noise",
                    operator="setup")
    raw = alarm_mail("SV0002", now - dt.timedelta(minutes=2), ("0x8000070B", "ESMDiskArray", "縮退", HOSTILE_TRAP),
                     seq=1)
    file_mails(s, policy, [(raw, parse(raw), "test", now)])
    folder, first, _ = policy_folder(tmp_path)
    (folder / "[bold]zz [@click=app.quit]q.sptp").write_text("# a file named like markup\n", encoding="utf-8")

    async def main():
        app = DeskApp(s, policy, lang="en", operator="sato", policy_path=str(folder))
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            await pilot.pause()
            seen = {"queue": terminal_lines(app)}
            for name, query in (("palette-customer", "株式会社"), ("palette-trap", "ディスク[/]")):
                await pilot.press("ctrl+p")
                await pilot.pause()
                await pilot.press(*query)
                await pilot.pause(0.6)
                seen[name] = terminal_lines(app)
                await pilot.press("escape")
                await pilot.pause()
            await pilot.press("slash", *"fan noise", "enter", "enter")
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)
            s.incidents.claim(1, operator=HOSTILE_OPERATOR)  # another desk, after this one read the incident
            await pilot.press("m")
            await pilot.pause()
            await pilot.press(*"why", "enter")
            await pilot.pause(0.5)
            seen["triage"] = terminal_lines(app)
            await pilot.press("escape", "escape", "colon", *"alarms", "enter")
            await pilot.pause()
            assert isinstance(app.screen, AlarmsScreen)
            seen["alarms"] = terminal_lines(app)
            await pilot.press("escape", "colon", *"registry", "enter")
            await pilot.pause()
            assert isinstance(app.screen, RegistryScreen)
            app.screen.query_one("#lookup").value = "1234-000-001"
            await pilot.press("enter")
            await pilot.pause(0.3)
            seen["registry"] = terminal_lines(app)
            await pilot.press("escape", "colon", *"policy", "enter")  # the policy's files, one named like markup
            await pilot.pause()
            seen["policy"] = terminal_lines(app)
            return seen

    seen = asyncio.run(main())
    s.close()
    text = {name: "\n".join(text_of(line) for line in lines) for name, lines in seen.items()}
    assert "[bold]株式会社[/] [@click=app.quit]x[/] [link=https://evil.example]y[/link]" in text["palette-customer"]
    assert "ディスク[/]障害 [on red]z" in text["palette-trap"] and "No matches found" not in text["palette-trap"]
    assert "[bold]株式会" in text["queue"] and "ディスク[/]障害" in text["queue"]  # (cut at its column)
    assert "[b]mallory[/b]\\x1b[2J" in text["triage"]  # the conflict's message (a toast) names them as they are
    assert "[bold]株式会社[/] [@click=app.quit]x[/]" in text["triage"]
    assert "ディスク[/]障害 [on red]z" in text["alarms"]
    assert "[bold]株式会社[/] [@click=app.quit]x[/]" in text["registry"]
    assert "[bold]zz" in text["policy"] and "[@click=app.quit]q.sptp" in text["policy"]  # (wrapped in its list)
    for name, lines in seen.items():
        assert not live(lines), (name, live(lines))
        assert "\x1b" not in text[name], name
        for line in lines:  # `[bold]` is text: the name after it is drawn as the brackets are, not bolder
            if "[bold]株式" in text_of(line):
                at = text_of(line).index("[bold]株式")
                assert style_at(line, at).bold == style_at(line, at + 7).bold, (name, text_of(line))


def style_at(line, n: int):
    for t, style in line:
        if n < len(t):
            return style
        n -= len(t)
    raise IndexError(n)


# ---- the policy editor: nothing typed is lost, and nothing that fails its check reaches the disk -----------------
def policy_folder(tmp_path):
    from test_tui import policy_copy

    folder, first, good = policy_copy(tmp_path)
    return folder, first, good


async def policy_screen(app, pilot):
    from textual.widgets import TextArea

    from sptui.tui.screens.policy import PolicyScreen

    await pilot.press("colon", *"policy", "enter")
    await pilot.pause()
    assert isinstance(app.screen, PolicyScreen)
    return app.screen.query_one("#source", TextArea)


def test_leaving_the_policy_editor_with_an_edit_not_saved_asks_save_discard_or_stay(busy, policy, tmp_path):
    from sptui import load_policy

    folder, first, good = policy_folder(tmp_path)
    edited = good.replace('version "2021.08-r1"', 'version "2021.08-r2"')

    async def main():
        app = DeskApp(busy, policy, policy_path=str(folder), lang="en", operator="sato")
        async with app.run_test(size=(80, 24)) as pilot:
            seen = []
            src = await policy_screen(app, pilot)
            src.load_text(edited)
            for keys in (["escape"], ["ctrl+q"], ["down", "down", "enter"]):  # back, quit, another file
                await pilot.press(*keys)
                await pilot.pause()
                seen.append(type(app.screen).__name__)
                await pilot.press("escape")  # stay
                await pilot.pause()
                seen.append((type(app.screen).__name__, src.text == edited))
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("d")  # discard
            await pilot.pause()
            seen.append((type(app.screen).__name__, first.read_text(encoding="utf-8") == good, app.policy is policy))
            src = await policy_screen(app, pilot)
            src.load_text(edited)
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("s")  # save
            await pilot.pause()
            seen.append((type(app.screen).__name__, app.policy.version))
            return seen

    seen = asyncio.run(main())
    assert seen[:6] == ["UnsavedModal", ("PolicyScreen", True)] * 3
    assert seen[6] == ("QueueScreen", True, True)  # discarded: the file and the live policy as they were
    assert seen[7] == ("QueueScreen", "2021.08-r2")  # saved, then left
    assert first.read_text(encoding="utf-8") == edited and load_policy(folder).version == "2021.08-r2"


BAD_EDITS = {  # the kinds of edit that do not check: each must leave the file on disk as it was
    "syntax": lambda t: t.replace('version "2021.08-r1"', 'version 2021.08-r1 !!'),
    "unclosed block": lambda t: t[:t.rindex("}")],
    "unknown clause": lambda t: t.replace('  clause はじめに, "はじめに"\n', ""),
    "not a policy": lambda t: "これはポリシーではありません\n",
}


def test_ctrl_s_never_puts_a_policy_with_errors_on_disk_and_keeps_the_edit_aside(busy, policy, tmp_path):
    from sptui import load_policy

    folder, first, good = policy_folder(tmp_path)
    draft = first.with_name(first.name + ".draft")
    good_edit = good.replace('version "2021.08-r1"', 'version "2021.08-r3"')

    async def main():
        app = DeskApp(busy, policy, policy_path=str(folder), lang="en", operator="sato")
        async with app.run_test(size=(160, 48)) as pilot:
            src = await policy_screen(app, pilot)
            out = {}
            for name, edit in BAD_EDITS.items():
                src.load_text(edit(good))
                await pilot.press("ctrl+s")
                await pilot.pause()
                out[name] = (first.read_text(encoding="utf-8"), draft.exists() and draft.read_text(encoding="utf-8"),
                             app.policy,
                             notifications(app) and notifications(app)[-1].message)
            src.load_text(good_edit)
            await pilot.press("ctrl+s")
            await pilot.pause()
            return out, app.policy, notifications(app)[-1].message

    out, live, said = asyncio.run(main())
    for name, edit in BAD_EDITS.items():
        on_disk, aside, live_then, message = out[name]
        assert on_disk == good, name  # the file as it was …
        assert aside == edit(good), name  # … the edit kept, under a name no policy load reads
        assert live_then is policy, name  # the last good policy stays live
        assert "not saved" in message and str(draft) in message, (name, message)
    # a good edit is saved, and is the very policy a desk started now loads
    assert first.read_text(encoding="utf-8") == good_edit and "saved" in said
    assert live.version == "2021.08-r3" and live.digest == load_policy(folder).digest
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_a_policy_file_is_replaced_at_once_or_not_at_all(tmp_path, monkeypatch):
    """write_atomic: a failure before the rename leaves the old file whole, and no temporary file."""
    import os

    from sptui.tui.widgets.policy_editor import write_atomic

    f = tmp_path / "rules.sptp"
    f.write_text("old\n", encoding="utf-8")
    f.chmod(0o640)
    write_atomic(f, "new\n")
    assert f.read_text(encoding="utf-8") == "new\n" and (f.stat().st_mode & 0o777) == 0o640

    def broken(src, dst):
        raise OSError("disk full")

    from sptui.errors import FileProblem

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(FileProblem, match="cannot be written.*disk full"):  # (said as the policy screen says it)
        write_atomic(f, "half\n")
    assert f.read_text(encoding="utf-8") == "new\n" and [p.name for p in tmp_path.iterdir()] == ["rules.sptp"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_screen_is_usable_at_80_by_24(busy, policy, lang):
    """Alarms (its tabs on arrival, however many alarms), registry (many machines and the warnings of the one under
    the cursor), policy (files, editor, diagnostics), `?` and the palette: each fits, its title and key bar on screen."""
    from intake_util import alarm

    from sptui.intake.ingest import parse
    from sptui.tui.i18n import Words

    w = Words(lang)
    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    for i in range(1, 31):
        raw = alarm(f"SV{i:04d}", now - dt.timedelta(minutes=i), message_id=f"fit{i}@sv")
        file_mails(busy, policy, [(raw, parse(raw), "test", now)])

    async def steps(app, pilot):
        seen = {}
        await pilot.press("colon", *"alarms", "enter")
        await pilot.pause()
        seen["alarms"] = screen_text(app)
        await pilot.press("escape", "colon", *"registry", "enter")
        await pilot.pause()
        app.screen.query_one("#lookup").value = "株式会社"
        await pilot.press("enter")
        await pilot.pause(0.5)
        seen["registry"] = screen_text(app)
        await pilot.press("escape", "colon", *"policy", "enter")
        await pilot.pause(0.8)  # (the live check runs once the text has settled)
        seen["policy"] = screen_text(app)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        seen["keys"] = screen_text(app)
        await pilot.press("end")  # the list scrolls to its last keys
        await pilot.pause()
        seen["keys end"] = screen_text(app)
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"SV0007")
        await pilot.pause(0.5)
        seen["palette"] = screen_text(app)
        return seen

    seen = drive(busy, policy, steps, lang=lang, size=(80, 24))
    alarms = seen["alarms"]
    assert alarms[0].strip() == w("alarms_title")
    assert all(tab in alarms[1] for tab in (w("inbox"), w("due_now"), w("quarantine"))), alarms[:3]
    assert sum("SV00" in line for line in alarms) >= 15 and w("back") in alarms[-1]
    registry = seen["registry"]
    assert registry[0].strip() == w("registry_title") and "株式会社" in registry[2]  # the title, then what was typed
    assert sum("1234-000-" in line for line in registry) >= 8
    assert any(line.startswith("1234-000-001") and w("verdict") in line for line in registry)  # its warnings
    assert w("back") in registry[-1]
    policy_lines = seen["policy"]
    assert sum("00-supportpack.sptp" in line or "coverage.sptp" in line for line in policy_lines) >= 2
    assert sum(bool(x.split()) and x.split()[0].isdigit() for line in policy_lines for x in [line[29:]]) >= 8, \
        policy_lines  # at least 8 lines of the file in the editor (numbered)
    assert any(w("policy_ok") in line or "error" in line for line in policy_lines)
    keys, end = seen["keys"], seen["keys end"]
    assert any("question_mark" in line and "app.keys" in line for line in keys)
    assert end != keys and any(":registry" in line for line in end), "\n".join(end)  # (the last entry: the last command)
    assert any("SV0007" in line for line in seen["palette"][1:10])


# ---- sorting and the filter's history -----------------------------------------------------------------------------
@pytest.fixture
def mixed(tmp_path, policy):
    """Eight incidents of five customers, in four statuses and three verdicts."""
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    rows = [registry_row(i, customer_organisation=org, customer_phone=f"03-0000-{i:04d}",
                         customer_email=f"c{i}@example.jp")
            for i, org in enumerate(["b-corp", "A-corp", "c-corp", "b-corp", "E-corp", "d-corp", "A-corp", "c-corp"], 1)]
    rows[1].update(registration_status="pending", completed_on="")  # not started: the registration is not accepted
    rows[4].update(purchased_on="2015-04-02", pack_purchased_on="2015-04-02", submitted_on="2015-04-10",
                   completed_on="2015-04-20", years="1")  # not covered: the pack ended long ago
    s.registry.import_csv(registry_csv(rows))
    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    for i in range(1, 9):
        open_incident(s, policy, label=f"1234-000-{i:03d}", at=now - dt.timedelta(minutes=10 * i),
                        summary=f"case {i}", operator="setup")
    s.incidents.claim(3, operator="sato")
    s.incidents.claim(6, operator="sato")
    send(s, policy, 6, operator="sato", technician="yamada", departed_at=now)
    s.incidents.mark_consult(8, "ask", operator="sato")
    yield s
    s.close()


def test_s_sorts_the_queue_by_customer_status_verdict_and_deadline_and_the_header_shows_the_sort(mixed, policy):
    from sptui.tui.widgets.table import HeaderLine

    async def steps(app, pilot):
        table = app.screen.query_one(RowTable)
        seen = []
        for keys in ([], ["s"], ["S"], ["s"], ["s"], ["s"]):
            await pilot.press(*keys)
            await pilot.pause()
            head = next(line for line in screen_text(app) if "label no." in line)
            seen.append(([(r.id, r.customer, r.status, r.verdict, r.consult) for r in table.rows], head,
                         app.screen.query_one(HeaderLine).render_line(0).text))
        return seen

    seen = drive(mixed, policy, steps, size=(160, 48))
    verdicts = {r[3] for r in seen[0][0]}
    assert {"covered", "not-started", "not-covered"} <= verdicts
    by_deadline, by_customer, by_customer_down, by_status, by_verdict, back = seen
    assert "time left ▲" in by_deadline[1] and by_deadline[1] == by_deadline[2]  # the terminal shows what is drawn
    assert [r[2] for r in by_deadline[0]][-1] == "dispatched"
    assert [r[1].casefold() for r in by_customer[0]] == sorted(r[1].casefold() for r in by_customer[0])
    assert "customer ▲" in by_customer[1] and "time left ▲" not in by_customer[1]
    assert [r[1].casefold() for r in by_customer_down[0]] == sorted((r[1].casefold() for r in by_customer[0]),
                                                                   reverse=True)
    assert "customer ▼" in by_customer_down[1]
    order = ["open", "claimed", "dispatched"]
    statuses = [(order.index(r[2]), not r[4]) for r in by_status[0]]
    marked = next(r for r in by_status[0] if r[4])  # (marking it for 相談 made it sato's: claimed)
    assert statuses == sorted(statuses) and marked == next(r for r in by_status[0] if r[2] == marked[2])
    # … the 相談-marked one first among those of its status
    assert "status ▲" in by_status[1]
    ranks = ["covered", "billable", "consult", "not-covered", "not-started"]
    assert [ranks.index(r[3]) for r in by_verdict[0]] == sorted(ranks.index(r[3]) for r in by_verdict[0])
    assert "verdict ▲" in by_verdict[1]
    assert back[0] == by_deadline[0] and "time left ▲" in back[1]


def test_a_sorted_queue_keeps_its_order_when_rows_change_and_the_filter_narrows_it(mixed, policy):
    async def steps(app, pilot):
        await pilot.press("s")  # by customer
        await pilot.pause()
        await pilot.press("slash", *"corp")
        await pilot.pause()
        filtered = [r.customer for r in app.screen.query_one(RowTable).rows]
        await pilot.press("escape")
        open_incident(mixed, policy, label="1234-000-002", at=dt.datetime.now(S.TOKYO), summary="late", operator="x")
        app.screen.reload()
        for _ in range(100):
            await pilot.pause(0.05)
            if len(app.screen.query_one(RowTable).rows) == 9:
                break
        return filtered, [r.customer for r in app.screen.query_one(RowTable).rows]

    filtered, after = drive(mixed, policy, steps, size=(160, 48))
    assert filtered == sorted(filtered, key=str.casefold) and len(filtered) == 8
    assert len(after) == 9 and after == sorted(after, key=str.casefold)


def test_up_and_down_in_the_filter_recall_earlier_filters_for_the_session(mixed, policy):
    async def steps(app, pilot):
        box = app.screen.query_one("#filter")
        for needle in ("b-corp", "case 3", "b-corp"):  # b-corp twice: once in the history, as the newest
            await pilot.press("slash", *needle, "enter")
            await pilot.press("slash", "ctrl+u", "escape")
        await pilot.press("enter")  # open a record: the history is the desk's, not the screen's
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        box = app.screen.query_one("#filter")
        await pilot.press("slash", *"d-c")
        recalled = []
        for key in ("up", "up", "up", "down", "down", "down"):
            await pilot.press(key)
            recalled.append(box.value)
        await pilot.press("up", "enter")
        await pilot.pause()
        return recalled, [r.customer for r in app.screen.query_one(RowTable).rows]

    recalled, shown = drive(mixed, policy, steps, size=(160, 48))
    assert recalled == ["b-corp", "case 3", "case 3", "b-corp", "d-c", "d-c"]
    assert shown == ["b-corp", "b-corp"]


def test_the_sort_and_history_keys_are_listed_by_question_mark_in_both_languages(mixed, policy):
    from textual.widgets import Static

    async def steps(app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        return str(app.screen.query_one(Static).render())

    for lang, words in (("en", ("sort", "reverse", "older filter", "newer filter")),
                        ("ja", ("並べ替え", "逆順", "前の絞り込み", "次の絞り込み"))):
        text = drive(mixed, policy, steps, lang=lang)
        for key, word, bid in zip(("s", "S", "up", "down"), words,
                                  ("queue.sort", "queue.sort_reverse", "filter.older", "filter.newer")):
            assert any(line.split()[0] == key and f" {word} " in line and line.split()[-1] == bid
                       for line in text.splitlines() if line.strip()), (key, text)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_at_80_by_24_the_queue_says_who_pays_for_each_dispatch_and_triage_says_it_in_full(busy, policy, lang):
    """The billing state of a dispatch (free / the customer pays a 別表-1 fee / a quote is needed) is read whole in
    the queue's status column at 80×24 — a short word in the desk's language, not `dispatched · custo…` — and the
    triage says it in full (the fee's amount, or that a quote is needed)."""
    from sptui.desk import Consent, Work, dispatch

    now = dt.datetime.now(S.TOKYO).replace(second=0, microsecond=0)
    busy.registry.import_csv(registry_csv([registry_row(41, registration_status="pending", completed_on="")]))
    fee_iid = 20
    quote_iid = open_incident(busy, policy, label="1234-000-041", at=now - dt.timedelta(minutes=50), summary="quote me",
                              operator="setup")
    for iid in (fee_iid, quote_iid):  # off-hours work the customer pays for: 02:00 → 03:00 tonight
        start = now.replace(hour=2, minute=0)
        start = start if start > busy.incidents.get(iid)["received_at"] else start + dt.timedelta(days=1)
        dispatch(busy, policy, iid, operator="sato", technician="t", work=Work(start, start + dt.timedelta(hours=1)),
                 late_reason="traffic", confirm_uncovered=True, consent=Consent("c", "phone", now))
    send(busy, policy, 21, operator="sato", technician="t", departed_at=now)  # no completion yet
    fee = busy.incidents.get(fee_iid)["decision"]["fee"]["total_jpy"]
    assert (busy.incidents.get(quote_iid)["billing"], busy.incidents.get(fee_iid)["billing"]) == ("quote-needed", "fee")

    async def steps(app, pilot):
        await pilot.press("G")  # (dispatched rows come after those still waiting)
        await pilot.pause()
        lines = screen_text(app)
        seen = {}
        for label in ("1234-000-020", "1234-000-041"):
            await pilot.press("slash", *label, "enter", "enter")
            await pilot.pause()
            seen[label] = "\n".join(screen_text(app)[:4])
            await pilot.press("escape", "escape")
            await pilot.pause()
        return lines, seen

    lines, heads = drive(busy, policy, steps, lang=lang, size=(80, 24))
    shown = {k: v[:78] for k, v in rows_of(lines, ["1234-000-020", "1234-000-021", "1234-000-041"]).items()}
    pays, quote = ("有償", "要見積") if lang == "ja" else ("pays", "quote")
    assert shown["1234-000-020"].rstrip().endswith(pays), shown
    assert shown["1234-000-041"].rstrip().endswith(quote), shown
    assert shown["1234-000-021"].rstrip().endswith(pays), shown  # billable; its fee when the completion is known
    assert "…" not in shown["1234-000-020"] + shown["1234-000-041"]
    assert f"{fee:,}円" in heads["1234-000-020"], heads
    assert ("要見積" if lang == "ja" else "quote needed") in heads["1234-000-041"], heads


def catalogue_english() -> set[str]:
    """Every word (3 letters or more) of the desk's English UI text: the catalogue's English side (i18n.WORDS,
    the stored values' words, the actions' descriptions, Textual's own words the desk shows)."""
    from sptui.tui.actions import ACTIONS
    from sptui.tui.i18n import TEXTUAL_JA, VALUES, WORDS

    texts = [en for _, en in WORDS.values()] + [en for kind in VALUES.values() for _, en in kind.values()]
    texts += [a.en for a in ACTIONS] + list(TEXTUAL_JA)
    words = {w.casefold() for t in texts for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", " ", t))}
    keycaps = {"esc", "enter", "tab", "home", "end", "del", "shift", "alt", "super", "ctrl"}  # (F1: a key's name)
    return words - keycaps - {"sptui", "supportpack", "nec", "yyyy", "editor", "svg", "express"}


def english_ui_words(text: str, words: set[str]) -> list[str]:
    """The catalogue's English words standing alone in `text` (not inside an identifier: `service-hours`,
    `triage.claim`, `weekday-9h`, a key's name `ctrl+p`)."""
    return [m.group() for m in re.finditer(r"(?<![\w.+:-])[A-Za-z]{3,}(?![\w.+-])", text) if m.group().casefold() in words]


def test_under_lang_ja_no_english_ui_word_shows_on_any_screen(busy, policy):
    """Every screen, dialog, notification, key bar, F1 panel, palette and empty state of the desk under --lang ja:
    none shows a word of the catalogue's English side. The data is Japanese here, so all that is English on screen
    is identifiers the operator types (rule ids in the reasons table, `?`'s keymap ids and key names), the policy's
    own texts (its clause register) and the timeline's lines as the store keeps them."""
    from intake_util import alarm

    from sptui.intake.ingest import parse

    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    busy.registry.import_csv(registry_csv([registry_row(41, registration_status="pending", completed_on="")]))
    uncovered = open_incident(busy, policy, label="1234-000-041", at=now - dt.timedelta(minutes=5), summary="ファン異音",
                              operator="setup")
    send(busy, policy, 9, operator="sato", technician="山田", departed_at=now - dt.timedelta(minutes=5))
    busy.incidents.claim(8, operator="田中")
    raw = alarm("SV0010", now - dt.timedelta(minutes=3), message_id="ja-walk@sv10")
    file_mails(busy, policy, [(raw, parse(raw), "test", now)])
    words = catalogue_english()
    seen: dict[str, str] = {}

    async def steps(app, pilot):
        async def look(name, wait=0.1):
            await pilot.pause(wait)
            seen[name] = "\n".join(screen_text(app))

        await look("queue")
        await pilot.press("f1")
        await look("queue F1")
        await pilot.press("f1", "ctrl+p")
        await look("palette", 0.4)
        await pilot.press("escape", "colon")
        await look("command prompt")
        await pilot.press("escape", "slash", *"該当なし")
        await look("queue filtered to nothing")
        await pilot.press("f1")
        await look("filter F1")
        await pilot.press("f1", "escape")
        app.open_record("incident", uncovered)
        await look("triage", 0.8)
        await pilot.press("d")
        await look("dispatch dialog")
        app.screen.query_one("#late").value = "渋滞"
        await pilot.click("#ok")  # no technician, an unknown late reason: refused, said
        await look("dispatch refused", 0.3)
        await pilot.press("escape", "n")
        await look("note dialog")
        await pilot.press("escape", "x")
        await look("close dialog")
        await pilot.press("n")
        app.run_command("queue")
        app.open_record("incident", 8)
        await pilot.pause(0.5)
        await pilot.press("m", *"部品", "enter")  # 田中 owns it: refused
        await look("refused (another owner)", 0.3)
        seen["notifications"] = "\n".join(said(app))
        await pilot.press("c")
        await look("take-over dialog")
        await pilot.press("n")
        app.run_command("queue")
        app.open_record("incident", 9)
        await pilot.pause(0.5)
        await pilot.press("f")
        app.screen.query_one("#completed").value = f"{now - dt.timedelta(hours=2):%Y-%m-%d %H:%M}"  # (too early)
        await look("completion dialog", 0.2)
        await pilot.press("escape")
        app.run_command("queue")
        app.open_record("alarm", 1)
        await pilot.pause(0.5)
        await pilot.press("y")
        await look("alarm reached dialog")
        await pilot.press("escape", "escape", "colon", *"alarms", "enter")
        await look("alarms", 0.3)
        await pilot.press("escape", "colon", *"registry", "enter")
        await look("registry")
        await pilot.press("escape", "colon", *"policy", "enter")
        await pilot.pause(0.5)
        await pilot.press("ctrl+l")
        await pilot.pause(0.3)
        seen["clause register"] = str(app.screen.query_one("#diagnostics").render())
        return seen

    drive(busy, policy, steps, lang="ja", size=(120, 40))
    register = seen.pop("clause register")
    found = {name: english_ui_words(text.split("経過")[0], words) for name, text in seen.items()}  # (above the timeline)
    found = {name: hits for name, hits in found.items() if hits}
    assert not found, "\n".join(f"{k}: {sorted(set(v))}" for k, v in found.items())
    assert "判定対象外" in register and "not computable" not in register
    assert "障害 #8 は 田中 さんの担当です" in seen["notifications"], seen["notifications"]
