"""The desk: a queue of open incidents and alarms, and a triage screen for one of them.

Everything shown from the store or the policy is plain text (rich `Text`, widgets with markup off): a
customer named `[bold]` shows as typed. A failed action (a conflict with another operator, a closed
incident) becomes a message on screen and a log line, never a traceback; so does any exception nothing
else caught, and the desk runs on (failures.py).
"""
from __future__ import annotations

import asyncio
import bisect
import gc
import logging
import threading
import time
from functools import partial

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.command import Hit, Provider
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.worker import get_current_worker
from textual.widgets import (Button, DataTable, Input, Label, OptionList, Static, TabbedContent, TabPane,
                             TextArea)
from textual.widgets.option_list import Option

from sptui.store.db import StoreError
from sptui.tui import data
from sptui.tui.dialogs import UnsavedModal
from sptui.tui.alarm_call import ReachedModal
from sptui.tui.dispatch import DispatchModal
from sptui.tui.failures import Guarded
from sptui.tui.history import HistoryInput
from sptui.tui.keybar import KeyBar
from sptui.tui.i18n import LocalBindings, Words, localise_bindings
from sptui.tui.policy_editor import PolicyEditor
from sptui.tui.text import (departed_text, highlight, markup, plain, safe, status_text, time_left,  # noqa: F401
                            verdict_text, when)
from sptui.tui.table import HeaderLine, RowTable
from sptui.tz import now

log = logging.getLogger("sptui.desk")

POLL_SECONDS = 5.0
SHOW = 500  # the first page, read at once; the rest follows in the background
REPEAT_SECONDS = 10.0  # an unexpected failure repeating within this (a timer, a redraw) is said once




class QueueScreen(Guarded, LocalBindings, Screen):
    BINDINGS = [
        Binding("slash", "filter", "filter", id="queue.filter"),
        Binding("colon", "app.command_mode", "command", id="queue.command"),
        Binding("escape", "clear_filter", "clear", show=False, id="queue.clear"),
        Binding("r", "reload", "refresh", id="queue.refresh"),
        Binding("s", "sort", "sort", id="queue.sort"),
        Binding("S", "sort_reverse", "reverse", show=False, id="queue.sort_reverse"),
        Binding("q", "app.quit", "quit", id="app.quit"),
    ]
    SORT_COLUMNS = {"deadline": "left", "customer": "customer", "status": "status", "verdict": "verdict"}  # `s` cycles
    # what the next minute is decided by fits 80×24 without scrolling (kind, label, customer, verdict, time left,
    # status: 78 cells beside the scrollbar); the rest scrolls (left/right). A longer text is cut with …
    COLUMNS = (("kind", 8), ("label", 12), ("customer", 14), ("verdict", 11), ("left", 17), ("status", 11),
               ("in_hours", 8), ("next_contact", 16), ("summary", 40))

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[data.QueueRow] = []  # every row (once loaded; until then the first page)
        self.shown: list[data.QueueRow] = []
        self.total = 0
        self.complete = False  # every row loaded (the filter searches them all)
        self.needle = ""
        self._matches: dict[str, list[data.QueueRow]] = {}  # needle → its matches, for the current rows
        self.fingerprint: tuple = ()
        self.data_version: int | None = None  # the store's, when the queue was read (SQLite; see Store.data_version)
        self.listener = None  # PostgreSQL: other operators' commits as they happen (store/changes.py)
        self._stale = False  # a change was heard while the queue could not look (another screen, loading)
        self._looking = False  # a poll's look is under way
        self.sort, self.descending = "deadline", False  # `s` and `S`: the order the rows are shown in

    def compose(self) -> ComposeResult:
        w = self.app.words
        yield Static(Text(w("title")), id="title")
        yield HistoryInput(self.app.filter_history, placeholder=w("filter"), id="filter", classes="hidden")
        table = RowTable([(w(k), width) for k, width in self.COLUMNS], self.cells, id="queue")
        table.sort_mark = self._sort_mark()
        yield HeaderLine(table, id="header")
        yield table
        yield Static("", id="count")
        yield KeyBar()

    def cells(self, r: data.QueueRow) -> list[Text]:
        w = self.app.words
        at = now()
        left = departed_text(r.departed(), at, w) if r.dispatched else time_left(r.due(), at, w)
        return [Text(w(r.kind)), plain(r.label), plain(r.customer), verdict_text(r.verdict, w), left,
                status_text(r.status, r.consult, w, r.pays),
                Text(w.yes_no(r.in_hours)),
                Text(when(r.next_contact)), plain(r.summary)]

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.focus()
        # the first page at once (from the deadline's index), then every row in the background for the filter
        self.total = data.counts(self.app.store)
        self.rows = data.queue(self.app.store, limit=SHOW)
        self.complete = len(self.rows) >= self.total
        self.render_rows()
        self.load_all()
        self.set_interval(1.0, self.tick)
        self.set_interval(POLL_SECONDS, self.poll)  # on SQLite all there is; on PostgreSQL the fallback
        self.listener = self.app.store.db.listen_for_changes(self._changed_elsewhere)
        if self.listener is not None:
            self.listener.start()
        self.call_after_refresh(self.app.start_policy)

    def on_unmount(self) -> None:
        if self.listener is not None:
            self.listener.stop(timeout=0)

    def _changed_elsewhere(self) -> None:
        """The listener's thread heard a commit (another operator, an alarm): look now, not at the next poll."""
        self._stale = True
        try:
            self.app.call_from_thread(self._heard)
        except RuntimeError:  # the desk is closing
            pass

    def _heard(self) -> None:
        self.poll()
        for screen in self.app.screen_stack:  # an open triage screen looks too
            if isinstance(screen, TriageScreen):
                screen.look()

    def on_screen_resume(self) -> None:
        if self._stale:
            self.poll()

    # -- data ------------------------------------------------------------------------------------------------
    def load_all(self) -> None:
        self.run_worker(self._load_all, thread=True, exclusive=True, group="queue")

    def _load_all(self) -> None:
        try:
            version = self.app.store.db.data_version()  # first: what is committed after it is seen next time
            fingerprint = data.fingerprint(self.app.store)
            rows = data.queue(self.app.store)
        except Exception as e:  # noqa: BLE001 - the desk stays up; the operator is told, and it tries again
            log.warning("reading the queue failed: %s", e)
            self.app.call_from_thread(self.app.notify, str(e), severity="error", markup=False)
            self.app.call_from_thread(self.set_timer, POLL_SECONDS, self.load_all)
            return
        if get_current_worker().is_cancelled:  # a newer load replaced this one
            return
        self.app.call_from_thread(self._loaded, rows, (version, fingerprint))

    def _loaded(self, rows: list[data.QueueRow], seen: tuple) -> None:
        self.rows, self.total, self.complete = rows, len(rows), True
        self.data_version, self.fingerprint = seen
        self._matches.clear()
        self.render_rows()
        if self.app.screen is self:
            # the rows (100,000 objects) live on: the cyclic GC's full collections would walk them every time,
            # a pause of 100-150 ms now and then as screens open and close. So once per full load, with nothing
            # but the queue on screen: everything frozen before goes back to the collector, one full collection
            # frees what died (screens closed since, in cycles), and what lives now is frozen, out of its way
            # (rows hold no cycles: those a later load replaces are still freed, by their counts)
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        if self._stale:  # heard while this load was reading
            self.call_later(self.poll)

    def reload(self) -> None:
        self.load_all()

    def refresh_row(self, kind: str, rid: int, old: data.QueueRow | None = None) -> None:
        """Back from triage: that row as it is now (claimed, closed…), at once and without reading every row;
        the next poll brings other operators' changes. `old`, the row that was opened, is found by its sort key
        (a scan of 100,000 rows took 40 ms)."""
        try:
            fresh = data.queue_row(self.app.store, kind, rid)
        except Exception as e:  # noqa: BLE001
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
            return
        key = f"{kind[0]}{rid}"
        rows = self.rows
        at = None
        if old is not None:
            sk = old.sort_key()
            i = bisect.bisect_left(rows, sk, key=data.QueueRow.sort_key)
            while i < len(rows) and rows[i].sort_key() == sk:
                if rows[i].key == key:
                    at = i
                    break
                i += 1
        if at is not None:
            rows = rows[:at] + rows[at + 1:]
        else:
            rows = [r for r in rows if r.key != key]
        if fresh is not None:
            bisect.insort(rows, fresh, key=data.QueueRow.sort_key)
        self.rows = rows
        self.total = len(rows) if self.complete else self.total
        self._matches.clear()
        self.render_rows()

    def poll(self) -> None:
        """New alarms and other operators' changes, without a restart (paused under a modal or another screen).
        One look at a time: a change heard while one reads is looked at after it, never by cancelling it (on a
        busy desk changes come faster than 100,000 rows are read)."""
        if self.app.screen is not self or not self.complete:
            return
        if self._looking:
            self._stale = True
            return
        self._stale, self._looking = False, True
        # off the UI thread: at 100,000 rows even the fingerprint takes a quarter of a second
        self.run_worker(self._poll_check, thread=True, exclusive=True, group="queue")

    def _poll_check(self) -> None:
        try:
            version = self.app.store.db.data_version()
            if version is not None and version == self.data_version:  # nothing committed since: no query
                return
            changed = data.fingerprint(self.app.store) != self.fingerprint
            if changed and not get_current_worker().is_cancelled:
                self._load_all()
            elif not changed:  # committed, but nothing the queue shows
                self.data_version = version
        except Exception as e:  # noqa: BLE001 - the desk stays up; the operator is told
            log.warning("queue refresh failed: %s", e)
            self.app.call_from_thread(self.app.notify, str(e), severity="error", markup=False)
        finally:
            try:
                self.app.call_from_thread(self._looked)
            except RuntimeError:  # the desk has closed meanwhile
                pass

    def _looked(self) -> None:
        self._looking = False
        if self._stale:
            self.poll()

    def render_rows(self) -> None:
        """The rows that match the filter (all of them: the table draws only those on screen)."""
        w = self.app.words
        table = self.query_one(RowTable)
        current = table.current
        needle = self.needle.casefold()
        self.shown = self._matching(needle)
        table.set_rows(self.shown, keep=(lambda r: r.key == current.key) if current is not None else None)
        if not self.complete:
            count = w("shown", shown=len(self.shown), total=self.total) + w("loading")
        else:
            count = w("shown", shown=len(self.shown), total=len(self.shown))
            if needle:
                count += w("in_all", all=len(self.rows))
        self.query_one("#count", Static).update(Text(count))

    def _matching(self, needle: str) -> list[data.QueueRow]:
        """The rows whose text contains the needle. Typing narrows: a needle that extends the last one
        searches only the last one's matches; and each needle's matches are kept until the rows change."""
        cache = self._matches
        if needle in cache:
            return cache[needle]
        if "" not in cache:  # every row, in the order asked for (a filter of a sorted list stays sorted)
            cache[""] = data.ordered(self.rows, self.sort, self.descending)
        base = cache[""]
        if not needle:
            return base
        for n in range(len(needle) - 1, 0, -1):
            if needle[:n] in cache:
                base = cache[needle[:n]]
                break
        found = cache[needle] = [r for r in base if needle in r.haystack]
        return found

    def tick(self) -> None:
        """The countdowns, each second: the table redraws the rows on screen only."""
        self.query_one(RowTable).refresh()

    def selected(self) -> data.QueueRow | None:
        return self.query_one(RowTable).current

    # -- actions ---------------------------------------------------------------------------------------------
    def action_open(self) -> None:
        row = self.selected()
        if row is not None:
            self.app.push_screen(self.app.triage(row.kind, row.id),
                                 callback=lambda _: self.refresh_row(row.kind, row.id, row))

    @on(RowTable.Selected)
    def _row_selected(self, event: RowTable.Selected) -> None:
        self.action_open()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        box.focus()

    def _sort_mark(self) -> tuple[int, bool]:
        column = self.SORT_COLUMNS[self.sort]
        return next(n for n, (key, _) in enumerate(self.COLUMNS) if key == column), self.descending

    def sort_by(self, sort: str, descending: bool) -> None:
        self.sort, self.descending = sort, descending
        self._matches.clear()
        self.query_one(RowTable).sort_mark = self._sort_mark()
        self.render_rows()

    def action_sort(self) -> None:
        """The next order: deadline → customer → status → verdict → deadline (each ascending)."""
        names = list(self.SORT_COLUMNS)
        self.sort_by(names[(names.index(self.sort) + 1) % len(names)], False)

    def action_sort_reverse(self) -> None:
        self.sort_by(self.sort, not self.descending)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value.strip():
            box.remember()
        box.value = ""
        box.add_class("hidden")
        self.needle = ""
        self.render_rows()
        self.query_one(RowTable).focus()

    def action_reload(self) -> None:
        self.reload()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()
        self.render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.query_one("#filter", HistoryInput).remember()
        self.query_one(RowTable).focus()


class TriageScreen(Guarded, LocalBindings, Screen):
    BINDINGS = [
        Binding("escape", "back", "back", id="triage.back"),
        Binding("c", "claim", "claim", id="triage.claim"),
        Binding("a", "assign", "assign", id="triage.assign"),
        Binding("n", "note", "note", id="triage.note"),
        Binding("d", "dispatch", "dispatch", id="triage.dispatch"),
        Binding("x", "close", "close", id="triage.close"),
        Binding("m", "consult", "consult", id="triage.consult"),
        Binding("y", "contact(True)", "reached", id="triage.reached"),
        Binding("u", "contact(False)", "unreachable", id="triage.unreached"),
        Binding("o", "copy_clause", "copy clause", id="triage.copy"),
    ]
    # what the record is and its decision stay on top, the timeline's newest lines at the bottom; the machine, the
    # reasons and what would change them scroll between (80×24 included)
    DEFAULT_CSS = """
    TriageScreen #body { height: 1fr; }
    TriageScreen #timeline-box { height: auto; max-height: 7; border-top: solid $primary; }
    """

    def __init__(self, kind: str, rid: int) -> None:
        super().__init__()
        self.kind, self.rid = kind, rid
        self.record: dict = {}
        self._seen: tuple = ()  # the record's fingerprint as shown (data.record_fingerprint)
        self._data_version: int | None = None  # the store's, when last looked (SQLite)
        self._last_actor: str | None = None  # who wrote the newest line of the timeline shown

    def compose(self) -> ComposeResult:
        yield Static(id="head")
        yield Static(id="decision")
        with VerticalScroll(id="body"):
            yield Static(id="machine")
            yield DataTable(id="reasons", cursor_type="row")
            yield Static(id="whatif")
        with VerticalScroll(id="timeline-box"):
            yield Static(id="timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        w = self.app.words
        table = self.query_one("#reasons", DataTable)
        for key in ("rule", "outcome", "clause", "message", "interpretation"):
            table.add_column(w(key), key=key)
        self.load()
        table.focus()
        # other desks' changes: on SQLite a look at data_version each second; on PostgreSQL the queue's listener
        # calls look() at once (QueueScreen._heard), and this is the fallback
        self.set_interval(1.0 if self.app.store.db.data_version() is not None else POLL_SECONDS, self.look)

    def check_action(self, action: str, parameters: tuple) -> bool:
        """An incident's keys on an incident, an alarm's on an alarm: the key bar shows only what applies."""
        if action in ("claim", "assign", "note", "dispatch", "close", "consult"):
            return self.kind == "incident"
        return self.kind == "alarm" if action == "contact" else True

    def show(self, kind: str, rid: int) -> None:
        """Show another record on this (mounted) screen, from the top."""
        self.kind, self.rid = kind, rid
        self.query_one("#whatif", Static).update("")
        self.load()
        self.query_one("#body", VerticalScroll).scroll_home(animate=False)
        self.query_one("#reasons", DataTable).focus()  # (load's clear put its cursor on the first row)

    def look(self) -> None:
        """Another desk's change to the record on screen shows here (as in the queue): reloaded, and said."""
        if self not in self.app.screen_stack or not self.record:
            return
        store = self.app.store
        version = store.db.data_version()
        if version is not None and version == self._data_version:  # nothing committed since: no query
            return
        self._data_version = version
        if data.record_fingerprint(store, self.kind, self.rid) != self._seen:
            self.load()
            if self._last_actor != self.app.operator:  # (this desk's own change, seen before its reload)
                self.app.notify(self.app.words("changed_elsewhere", what=f"{self.app.words(self.kind)} #{self.rid}",
                                               who=safe(self._last_actor or "?")), markup=False)

    def load(self) -> None:
        store, w = self.app.store, self.app.words
        self.record = store.incidents.get(self.rid) if self.kind == "incident" else store.alarms.get(self.rid)
        self._seen = data.record_fingerprint(store, self.kind, self.rid)
        r = self.record
        m = self.machine = data.machine_of(store, r["machine_id"])
        d = r["decision"] or {}
        self.query_one("#head", Static).update(Text(safe(self._head(r), lines=True), style="bold"))
        self.query_one("#machine", Static).update(Text(safe(
            f"{w('machine')}: {m['label_number']}  {w('model')} {m['model_code']}  {w('serial')} {m['serial_number']}\n"
            f"{w('customer')}: {m['customer_organisation']}  {m['customer_name']}  {w('phone')} {m['customer_phone']}\n"
            f"{w('site')}: {m['site_organisation']}  {m['site_address']}\n"
            f"{w('pack')}: {m['variant']}{self.app.variant_title(m['variant'])} {m['years']}{w('years')}  "
            f"{w('registration')}: {w.value('registration', m['registration_status'])}"
            f" {m['completed_on'] or ''}  {w('express')}: {m['express_start_on'] or '—'}", lines=True)))
        deadline = d.get("dispatch_deadline")
        verdict = Text(f"{w('decision')}: ")
        verdict.append_text(verdict_text(d.get("verdict", "?"), w))
        verdict.append(f"  {w('in_hours')}: {w.yes_no(d.get('in_service_hours'))}  {w('deadline')}: {deadline or '—'}")
        if d.get("fee"):
            verdict.append(f"  {w('fee')}: {d['fee']['total_jpy']:,}円")
        if d.get("setting_recovery"):
            rec = d["setting_recovery"]
            verdict.append(safe(f"\n{w('recovery')}: {rec.get('action')} ({rec.get('cite', '')})"))
        self.query_one("#decision", Static).update(verdict)
        if self.kind == "incident":  # after the screen is painted: the worker's decisions would hold the GIL first
            self.call_after_refresh(self.run_worker, partial(self._whatif, self.rid, r["case"]), thread=True,
                                    exclusive=True, group="whatif")
        table = self.query_one("#reasons", DataTable)
        table.clear()
        ja = d.get("messages_ja") or []
        for n, reason in enumerate(d.get("reasons", [])):
            msg = ja[n] if w.lang == "ja" and n < len(ja) else reason.get("message", "")
            table.add_row(plain(reason["rule"]), plain(w.value("outcome", reason["outcome"])), plain(reason.get("cite", "")), plain(msg),
                          plain(reason.get("note", "")))
        self._show_timeline()
        self.refresh_bindings()  # (the record's kind decides the keys)

    def _head(self, r: dict) -> str:
        w = self.app.words
        if self.kind == "incident":
            pays = f" · {w('customer_pays')}" if r["billing"] in ("fee", "quote-needed") else ""
            head = (f"{w('incident')} #{r['id']}  {w('status')}: {w.value('status', r['status'])}{pays}  {w('owner')}: "
                    f"{r['owner'] or '—'}  {w('received')}: {when(r['received_at'])}\n{r['summary']}")
            return head + (f"\n{w('consult')}: {r['consult']}" if r["consult"] is not None else "")
        status = w.value("status", r["status"])
        if r["incident_id"] is not None:
            status += f" → {w('incident')} #{r['incident_id']}"
        elif r["closed_reason"]:
            status += f" ({r['closed_reason']})"
        return (f"{w('alarm')} #{r['id']}  {w('status')}: {status}  {w('received')}: {when(r['received_at'])}  "
                f"{w('next_contact')}: {when(r['next_contact_at'])}\n{r['computer']}  {r['trap'] or ''}  "
                f"{w('event')} {r['event_id'] or '—'}\n{w('detail')}: {r['detail'] or ''}")

    def _show_timeline(self) -> None:
        """The timeline, its newest line in view."""
        store, w = self.app.store, self.app.words
        if self.kind == "incident":
            entries = store.incidents.timeline(self.rid)
            lines = [f"{when(e['at'])}  {e['operator']}  {w.value('event', e['kind'])}: {e['text']}" for e in entries]
        else:
            entries = data.attempts(store, self.rid)
            lines = [f"{when(a['at'])}  {a['operator']}  {w('reached') if a['reached'] else w('unreached')}  {a['note']}"
                     for a in entries]
        self._last_actor = entries[-1]["operator"] if entries else self.record.get("updated_by")
        self.query_one("#timeline", Static).update(Text("\n".join(safe(x) for x in lines)))
        box = self.query_one("#timeline-box", VerticalScroll)
        box.border_title = w("timeline")
        self.call_after_refresh(box.scroll_end, animate=False)

    def _whatif(self, rid: int, case: dict) -> None:
        """What would change the outcome (`sptui explain`'s counterfactuals: each a real decision on a changed
        case), worked out off the UI thread."""
        from sptui.policy.decide import case_values
        from sptui.explanation import counterfactuals

        w = self.app.words
        try:
            policy = self.app.policy
            parsed = case_values(policy, case)
            lines = counterfactuals(policy, parsed, policy.decide(parsed), w.lang)
        except Exception as e:  # noqa: BLE001 - shown in place of the list
            text = Text(safe(f"{w('whatif')}: {type(e).__name__}: {e}"), style="red")
        else:
            text = Text(f"{w('whatif')}\n", style="bold")
            text.append(safe("\n".join(f"  {x}" for x in lines) or f"  {w('none')}", lines=True), style="")
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_whatif, rid, text)

    def _show_whatif(self, rid: int, text: Text) -> None:
        if self.kind == "incident" and self.rid == rid:  # (the screen may show another record by now)
            self.query_one("#whatif", Static).update(text)

    # -- actions ---------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)  # (not pop_screen: dismiss runs the opener's callback, which reloads its list)

    def _guard(self, what: str, fn, done: str) -> None:
        """Run a store action; a refusal (conflict, closed, read-only) becomes a message, not a traceback."""
        w = self.app.words
        if self.app.read_only:
            self.app.notify(w("read_only"), severity="warning")
            return
        try:
            fn()
        except (StoreError, ValueError) as e:  # refused: a conflict, a closed incident, a missing policy
            log.warning("%s %s %s: %s", what, self.kind, self.rid, e)
            self.app.notify(str(e), severity="error", markup=False)
        except Exception as e:  # noqa: BLE001 - the database failed (locked, gone): said, logged, desk stays up
            log.exception("%s %s %s failed", what, self.kind, self.rid)
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
        else:
            if done:
                self.app.notify(w(done))
        self.reload()

    def reload(self) -> None:
        try:
            self.load()
        except Exception as e:  # noqa: BLE001
            log.exception("reloading %s %s failed", self.kind, self.rid)
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)

    def _ask(self, modal, what: str, call, done: str) -> None:
        """Ask with a modal; an answer (not a cancel) runs `call(answer)` as a guarded store action. A read-only
        desk asks nothing."""
        if self.app.read_only:
            self.app.notify(self.app.words("read_only"), severity="warning")
            return

        def answered(value) -> None:
            if value:
                self._guard(what, lambda: call(value), done)

        self.app.push_screen(modal, answered)

    def _need(self, kind: str) -> bool:
        if self.kind != kind:
            self.app.notify(self.app.words("not_incident" if kind == "incident" else "not_alarm"), severity="warning")
            return False
        return True

    def action_copy_clause(self) -> None:
        """The highlighted reason's clause citation to the clipboard (OSC 52: works over SSH)."""
        table = self.query_one("#reasons", DataTable)
        if not table.row_count:
            return
        cite = str(table.get_row_at(table.cursor_row)[2])
        rule = str(table.get_row_at(table.cursor_row)[0])
        self.app.copy_to_clipboard(cite)
        self.app.notify(self.app.words("copied", what=f"{cite} ({rule})"), markup=False)

    def action_claim(self) -> None:
        """Claim it; one another operator owns is taken over, after asking (audited)."""
        if not self._need("incident"):
            return
        store, operator, v, owner = self.app.store, self.app.operator, self.record["version"], self.record["owner"]
        if owner is None or owner == operator:
            self._guard("claim", lambda: store.incidents.claim(self.rid, operator=operator, version=v), "claimed")
        else:
            self._ask(ConfirmModal(self.app.words("confirm_take_over", owner=safe(owner))), "take-over",
                      lambda _: store.incidents.take_over(self.rid, operator=operator, version=v), "taken_over")

    def action_assign(self) -> None:
        if self._need("incident"):
            store, operator, v = self.app.store, self.app.operator, self.record["version"]
            self._ask(NoteModal(self.app.words("assign_prompt")), "assign",
                      lambda to: store.incidents.assign(self.rid, to, operator=operator, version=v), "assigned")

    def action_note(self) -> None:
        if self._need("incident"):
            store, operator, v = self.app.store, self.app.operator, self.record["version"]
            self._ask(NoteModal(self.app.words("note_prompt")), "note",
                      lambda text: store.incidents.add_note(self.rid, text, operator=operator, version=v), "noted")

    def action_dispatch(self) -> None:
        """The dispatch dialog: the fee shown is the decision kept; it closes only once the dispatch is stored."""
        from sptui.desk import dispatch, quote_dispatch

        if not self._need("incident"):
            return
        if self.app.read_only:
            self.app.notify(self.app.words("read_only"), severity="warning")
            return
        inc, app = self.record, self.app

        def submit(form: dict):
            return dispatch(app.store, app.policy, self.rid, operator=app.operator, version=inc["version"], **form)

        def dispatched(result) -> None:
            if result is not None:
                app.notify(app.words("dispatched"))
            self.reload()

        app.push_screen(DispatchModal(inc, lambda work: quote_dispatch(app.policy, inc, work), submit), dispatched)

    def action_close(self) -> None:
        if not self._need("incident"):
            return
        v = self.record["version"]
        self._ask(ConfirmModal(self.app.words("confirm_close")), "close",
                  lambda _: self.app.store.incidents.close(self.rid, operator=self.app.operator, version=v), "closed")

    def action_consult(self) -> None:
        """相談: mark the incident as needing consultation with the customer or NEC (asks why), or, when it is
        marked, clear the mark (asks first)."""
        if not self._need("incident"):
            return
        w, store, operator, v = self.app.words, self.app.store, self.app.operator, self.record["version"]
        if self.record["consult"] is None:
            self._ask(NoteModal(w("consult_prompt")), "consult",
                      lambda text: store.incidents.mark_consult(self.rid, text, operator=operator, version=v), "consult_marked")
        else:
            self._ask(ConfirmModal(w("confirm_unconsult")), "unconsult",
                      lambda _: store.incidents.clear_consult(self.rid, operator=operator, version=v), "consult_cleared")

    def action_contact(self, reached: bool) -> None:
        """`u`: not reached (the next call is decided). `y`: reached — a repair needed opens (or joins) the
        machine's incident, shown here next; no repair closes the alarm with the reason asked for."""
        if not self._need("alarm"):
            return
        if not reached:
            self._guard("contact", lambda: self._contact(reached=False), "contact_saved")
        elif self.app.read_only:
            self.app.notify(self.app.words("read_only"), severity="warning")
        else:
            self.app.push_screen(ReachedModal(self.rid), self._reached)

    def _reached(self, answer: str | None) -> None:
        if answer == "repair":
            self._guard("contact", lambda: self._contact(reached=True, repair_needed=True), "")
        elif answer == "no-repair":
            self._ask(NoteModal(self.app.words("no_repair_prompt")), "contact",
                      lambda reason: self._contact(reached=True, repair_needed=False, reason=reason), "alarm_closed")

    def _contact(self, **how) -> None:
        from sptui.desk import contact

        out = contact(self.app.store, self.app.policy, self.rid, at=now(), operator=self.app.operator,
                      version=self.record["version"], **how)
        if out["status"] == "linked":  # the work goes on in the incident: shown here (reload shows it)
            self.app.notify(self.app.words("alarm_linked" if not out["opened"] else "alarm_opened",
                                           alarm=self.rid, incident=out["incident_id"]))
            self.kind, self.rid = "incident", out["incident_id"]


class NoteModal(Guarded, LocalBindings, ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel", id="modal.cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.prompt))
            yield Input(id="text")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(Guarded, LocalBindings, ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "cancel", id="modal.cancel"),
                Binding("y", "ok", "yes", id="modal.yes"), Binding("n", "cancel", "no", id="modal.no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self._answered = False  # debounced: a second key press does nothing

    def compose(self) -> ComposeResult:
        w = self.app.words
        with Vertical(classes="dialog"):
            yield Label(Text(self.question))
            with Horizontal():
                yield Button(f"{w('yes')} (y)", id="ok", variant="primary")
                yield Button(f"{w('no')} (n)", id="cancel")

    def _answer(self, value: bool) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(value)

    def action_ok(self) -> None:
        self._answer(True)

    def action_cancel(self) -> None:
        self._answer(False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self._answer(event.button.id == "ok")


class AlarmsScreen(Guarded, LocalBindings, Screen):
    """`:alarms`: the inbox with each alarm's routing, the quarantine with reasons, and the calls due now."""

    BINDINGS = [
        Binding("escape", "back", "back", id="alarms.back"),
        Binding("r", "reload", "refresh", id="alarms.refresh"),
    ]

    def compose(self) -> ComposeResult:
        w = self.app.words
        yield Static(Text(w("alarms_title")), id="title")
        with TabbedContent():
            with TabPane(w("inbox"), id="inbox"):
                yield DataTable(id="inbox-table", cursor_type="row")
            with TabPane(w("due_now"), id="due"):
                yield DataTable(id="due-table", cursor_type="row")
            with TabPane(w("quarantine"), id="quarantine"):
                yield DataTable(id="quarantine-table", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        w = self.app.words
        for tid in ("#inbox-table", "#due-table"):
            t = self.query_one(tid, DataTable)
            for key in ("id", "received", "computer", "event", "status", "next_contact", "technician", "verdict"):
                t.add_column(w(key), key=key)
        q = self.query_one("#quarantine-table", DataTable)
        for key in ("id", "received", "reason", "message", "sender"):
            q.add_column(w(key), key=key)
        self.action_reload()
        self._ready = True
        self.query_one("#inbox-table", DataTable).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    _ready = False

    def on_screen_resume(self) -> None:  # back from an alarm's triage (or from any screen above)
        if self._ready:
            self.action_reload()

    def action_reload(self) -> None:
        w, store = self.app.words, self.app.store
        for tid, rows in (("#inbox-table", store.alarms.rows(limit=SHOW, newest_first=True)),
                          ("#due-table", store.alarms.due(now()))):
            t = self.query_one(tid, DataTable)
            t.clear()
            for a in rows:
                d = a["decision"] or {}
                t.add_row(Text(str(a["id"])), Text(when(a["received_at"])), plain(a["computer"]),
                          plain(f"{a['event_id'] or ''} {a['trap'] or ''}".strip()), plain(w.value("status", a["status"])),
                          Text(when(a["next_contact_at"])), Text(w("yes") if a["arrange_technician"] else w("no")),
                          verdict_text(d.get("verdict", "?"), w), key=str(a["id"]))
        q = self.query_one("#quarantine-table", DataTable)
        q.clear()
        for row in store.quarantine.rows():
            q.add_row(Text(f"Q{row['id']}"), Text(when(row["received_at"])), plain(row["reason"]),
                      plain(row["message"]), plain(row["sender"] or "—"), key=str(row["id"]))

    @on(DataTable.RowSelected, "#inbox-table, #due-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(self.app.triage("alarm", int(event.row_key.value)), callback=lambda _: self.action_reload())


class RegistryScreen(Guarded, LocalBindings, Screen):
    """`:registry`: look a machine up by label number, serial, customer or phone; its registration warnings."""

    BINDINGS = [Binding("escape", "back", "back", id="registry.back")]

    def compose(self) -> ComposeResult:
        w = self.app.words
        yield Static(Text(w("registry_title")), id="title")
        yield Input(placeholder=w("registry_prompt"), id="lookup")
        yield DataTable(id="machines", cursor_type="row")
        yield Static("", id="warnings")
        yield KeyBar()

    def on_mount(self) -> None:
        w = self.app.words
        t = self.query_one("#machines", DataTable)
        for key in ("label", "serial", "customer", "phone", "variant", "registration", "express"):
            t.add_column(w(key), key=key)
        self.found: list[dict] = []
        self.query_one("#lookup", Input).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#lookup")
    def _lookup(self, event: Input.Submitted) -> None:
        q = event.value.strip()
        if not q:
            return
        store, found, w = self.app.store, {}, self.app.words
        digits = sum(ch.isdigit() for ch in q)
        looks = [{"label": q}, {"serial": q}, {"support_id": q}, {"customer": q}]
        if digits >= 6 and not any(ch.isalpha() for ch in q):
            looks.append({"phone": q})
        try:
            for how in looks:
                for m in store.registry.find(**how, limit=200):
                    found.setdefault(m["id"], m)
        except Exception as e:  # noqa: BLE001
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
            return
        self.found = sorted(found.values(), key=lambda m: m["label_number"])
        t = self.query_one("#machines", DataTable)
        t.clear()
        for m in self.found:
            t.add_row(plain(m["label_number"]), plain(m["serial_number"]), plain(m["customer_organisation"]),
                      plain(m["customer_phone"]), plain(f"{m['variant']} {m['years']}"),
                      plain(f"{w.value('registration', m['registration_status'])} {m['completed_on'] or ''}".strip()),
                      plain(m["express_start_on"] or "—"), key=str(m["id"]))
        self.query_one("#warnings", Static).update(Text(self.app.words("registry_found", n=len(self.found))))
        if self.found:
            t.focus()

    @on(DataTable.RowHighlighted, "#machines")
    def _show(self, event: DataTable.RowHighlighted) -> None:
        """The policy's reading of this machine today: what it warns about (registration due, period ending…)."""
        from sptui.desk.cases import case_for

        w = self.app.words
        m = next((m for m in self.found if str(m["id"]) == event.row_key.value), None)
        if m is None:
            return
        try:
            decision = self.app.policy.decide(case_for(m, at=now(), repair_needed=False))
        except Exception as e:  # noqa: BLE001 - a policy that cannot decide: said
            self.query_one("#warnings", Static).update(plain(f"{type(e).__name__}: {e}", style="red"))
            return
        lines = Text(f"{m['label_number']}  {w('verdict')}: ")
        lines.append_text(verdict_text(decision.verdict, w))
        for r in decision.reasons:
            if r.outcome in ("warn", "fail"):
                lines.append(f"\n  {w.value('outcome', r.outcome):<5} {', '.join(r.cite)}  {safe(r.message(w.lang))}",
                             style="yellow" if r.outcome == "warn" else "red")
        self.query_one("#warnings", Static).update(lines)


class PolicyScreen(Guarded, LocalBindings, Screen):
    """`:policy`: the policy's files, edited in place (ctrl+s saves) or in $EDITOR (ctrl+e), with live diagnostics.
    Reloading keeps the last good policy live when the new one has errors, and shows what failed. A file on disk is
    only ever replaced by a policy that checks (an edit with errors is kept aside, `NAME.sptp.draft`); leaving an
    edit that is not saved asks first (save, discard, stay)."""

    BINDINGS = [
        Binding("escape", "back", "back", id="policy.back"),
        Binding("ctrl+s", "save", "save+reload", id="policy.save"),
        Binding("ctrl+r", "reload", "reload", id="policy.reload"),
        Binding("ctrl+e", "editor", "$EDITOR", id="policy.editor"),
        Binding("ctrl+l", "clauses", "clauses", id="policy.clauses"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal():
            yield OptionList(id="files")
            yield PolicyEditor(id="source", show_line_numbers=True)
        yield Static(id="diagnostics")
        yield KeyBar()

    def on_mount(self) -> None:
        from sptui.policy.compile import policy_files

        self.files = policy_files([self.app.policy_path])
        files = self.query_one("#files", OptionList)
        for f in self.files:
            files.add_option(Option(plain(f.name), id=str(f)))
        self.current = None
        if self.files:
            self.open_file(self.files[0])
        self.show_live()
        files.focus()

    def show_live(self) -> None:
        w = self.app.words
        try:
            p = self.app.policy
            text = w("policy_live", name=p.name, version=p.version, digest=p.digest[:19])
        except PolicyUnavailable as e:
            text = str(e)
        self.query_one("#title", Static).update(plain(text))

    def open_file(self, path) -> None:
        self.current = path
        self.saved = path.read_text(encoding="utf-8")  # the file's text on disk, as last read or saved
        self.query_one("#source", TextArea).load_text(self.saved)

    @property
    def dirty(self) -> bool:
        return self.current is not None and self.query_one("#source", TextArea).text != self.saved

    def leave(self, then) -> None:
        """Do `then` (leave the screen, open another file…) once the edit is saved or discarded; with an edit not
        saved, ask first: save (and go on only if it checks), discard, or stay."""
        if not self.dirty:
            then()
            return

        def answered(answer: str | None) -> None:
            if answer == "discard" or (answer == "save" and self.save()):
                then()

        self.app.push_screen(UnsavedModal(self.current.name), answered)

    @on(OptionList.OptionSelected, "#files")
    def _pick(self, event: OptionList.OptionSelected) -> None:
        from pathlib import Path

        path = Path(event.option.id)
        if path == self.current:
            self.query_one("#source", TextArea).focus()
            return

        def go() -> None:
            self.open_file(path)
            self.query_one("#source", TextArea).focus()

        self.leave(go)

    _check_timer = None

    @on(TextArea.Changed, "#source")
    def _edited(self, event: TextArea.Changed) -> None:
        if self._check_timer is not None:  # live diagnostics once typing pauses: one check, not one per key
            self._check_timer.stop()
        self._check_timer = self.set_timer(0.4, self.check_edit)

    def check_edit(self) -> None:
        from sptui.plugins.manager import default_manager
        from sptui.policy.compile import check

        if self.current is None:
            return
        text = self.query_one("#source", TextArea).text
        _, diags, sources = check(self.files, plugins=default_manager(), extra_text={str(self.current): text})
        self.show_diagnostics(diags, sources)

    def show_diagnostics(self, diags, sources) -> None:
        from sptui.policy.diagnostics import render

        w = self.app.words
        errors = [d for d in diags if d.severity == "error"]
        out = Text(w("policy_ok") if not errors else w("policy_errors", n=len(errors)),
                   style="green" if not errors else "bold red")
        for d in diags[:8]:
            out.append("\n" + safe(render(d, sources), lines=True))
        self.query_one("#diagnostics", Static).update(out)

    def action_back(self) -> None:
        self.leave(lambda: self.dismiss(None))

    def action_save(self) -> None:
        self.save()

    def save(self) -> bool:
        """Save the edit if the policy checks with it (then it is live); else the file stays as it was, the last
        good policy stays live, and the edit is kept aside (NAME.sptp.draft). True if saved."""
        from sptui.tui.policy_editor import aside_path, write_atomic

        w = self.app.words
        if self.app.read_only:
            self.app.notify(w("read_only"), severity="warning")
            return False
        if self.current is None:
            return False
        text = self.query_one("#source", TextArea).text
        ok, diags, sources = self.app.reload_policy(edit=(self.current, text))
        self.show_diagnostics(diags, sources)
        if not ok:
            aside = aside_path(self.current)
            try:
                write_atomic(aside, text)
            except OSError as e:
                self.app.notify(w("policy_refused_kept", aside=aside, error=e), severity="error", timeout=20)
            else:
                self.app.notify(w("policy_refused", aside=aside), severity="error", timeout=20)
            return False
        try:
            write_atomic(self.current, text)
        except OSError as e:  # the policy checked but is not on disk: the last good one stays live
            self.app.reload_policy()
            self.app.notify(f"{type(e).__name__}: {e}", severity="error")
            return False
        self.saved = text
        self.show_live()
        self.app.notify(w("policy_saved"))
        return True

    def action_reload(self) -> None:
        ok, diags, sources = self.app.reload_policy()
        self.show_diagnostics(diags, sources)
        self.show_live()
        w = self.app.words
        self.app.notify(w("policy_reloaded") if ok else w("policy_kept"), severity="information" if ok else "error")

    def action_editor(self) -> None:
        import os
        import shlex
        import subprocess

        if self.current is None:
            return

        def edit() -> None:
            editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(self.current)], check=False)
            self.open_file(self.current)
            self.action_reload()

        self.leave(edit)

    def show_clause(self, cid: str) -> None:
        p = self.app._policy
        if p is None or cid not in p.clauses:
            return
        cl = p.clauses[cid]
        out = Text(f"{cid}  {cl.title}\n", style="bold")
        for k, n in sorted({(k, n) for k, n in p.citations.get(cid, [])}):
            out.append(f"    ← {k} {n}\n")
        if cl.not_computable:
            out.append(f"    not computable: {cl.not_computable}\n")
        self.query_one("#diagnostics", Static).update(Text(safe(out.plain, lines=True)))

    def action_clauses(self) -> None:
        try:
            p = self.app.policy
        except PolicyUnavailable as e:
            self.app.notify(str(e), severity="error", markup=False)
            return
        out = Text()
        for cid, cl in p.clauses.items():
            cited = sorted({f"{k} {n}" for k, n in p.citations.get(cid, [])})
            out.append(f"{cid}  {cl.title}\n", style="bold")
            for c in cited:
                out.append(f"    ← {c}\n")
            if cl.not_computable:
                out.append(f"    not computable: {cl.not_computable}\n")
        self.query_one("#diagnostics", Static).update(Text(safe(out.plain, lines=True)))


class CommandModal(Guarded, LocalBindings, ModalScreen[str | None]):
    """`:` — a command, as in k9s: `:alarms`, `:queue`, `:quit`."""

    BINDINGS = [Binding("escape", "cancel", "cancel", id="command.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.app.words("command_prompt")))
            yield Input(id="command")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":").lower() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class KeysScreen(Guarded, LocalBindings, ModalScreen[None]):
    """`?`: every key of the desk, screen by screen."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "close", id="keys.close")]

    def compose(self) -> ComposeResult:
        w = self.app.words
        lines = Text()
        for title, bindings in ((w("keys_app"), DeskApp.BINDINGS), (w("keys_queue"), QueueScreen.BINDINGS),
                                (w("keys_filter"), HistoryInput.BINDINGS),
                                (w("keys_table"), RowTable.BINDINGS), (w("keys_triage"), TriageScreen.BINDINGS),
                                (w("keys_alarms"), AlarmsScreen.BINDINGS),
                                (w("keys_registry"), RegistryScreen.BINDINGS),
                                (w("keys_policy"), PolicyScreen.BINDINGS)):
            lines.append(f"{title}\n", style="bold")
            for b in bindings:
                lines.append(safe(f"  {self.app.key_of(b):<22} {w.key(b.description):<16} {b.id or ''}") + "\n")
        lines.append(f"{w('keys_commands')}\n", style="bold")
        for name in sorted(COMMANDS):
            lines.append(f"  :{name}\n")
        with VerticalScroll(classes="dialog"):
            yield Static(lines)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # the list scrolls by keyboard (up/down, page up/down, home/end)


def binding_classes() -> tuple[type, ...]:
    """The desk's classes that have keys."""
    return (DeskApp, QueueScreen, RowTable, TriageScreen, AlarmsScreen, RegistryScreen, PolicyScreen, NoteModal,
            ConfirmModal, DispatchModal, ReachedModal, CommandModal, KeysScreen, UnsavedModal, HistoryInput)


def binding_ids() -> set[str]:
    return {b.id for cls in binding_classes() for b in cls.BINDINGS if b.id}


COMMANDS = {"alarms": "alarms", "alarm": "alarms", "a": "alarms", "registry": "registry", "reg": "registry",
            "policy": "policy", "pol": "policy", "queue": "queue", "quit": "quit", "q": "quit"}


class JumpProvider(Provider):
    """The command palette's jump: to an incident or alarm of the queue, or to a clause of the policy."""

    async def search(self, query: str):
        app = self.app
        matcher = self.matcher(query)
        queue = next((s for s in app.screen_stack if isinstance(s, QueueScreen)), None)
        hits = 0
        w = app.words
        for r in (queue.rows if queue is not None else []):
            text = safe(f"#{r.id} {w(r.kind)} {r.label} {r.customer} {r.summary}")
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, highlight(matcher, text), partial(app.open_record, r.kind, r.id),
                          text=text, help=markup(w("jump_help")))
                hits += 1
                if hits >= 30:
                    break
        policy = app._policy
        for cid, cl in (policy.clauses.items() if policy is not None else ()):
            text = safe(f"{cid} {cl.title}")
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, highlight(matcher, text), partial(app.open_clause, cid), text=text,
                          help=markup(w("clause_help")))


class PolicyUnavailable(ValueError):
    """The desk has no policy to decide with (it failed to load)."""


class DeskApp(Guarded, App):
    TITLE = "sptui"
    COMMANDS = App.COMMANDS | {JumpProvider}
    BINDINGS = [
        Binding("question_mark", "keys", "keys", id="app.keys"),
        Binding("f1", "show_help_panel", "help", id="app.help"),
    ]
    CSS = """
    #title { background: $primary; color: $text; padding: 0 1; }
    #count { padding: 0 1; color: $text-muted; }
    .hidden { display: none; }
    #queue { height: 1fr; }
    #reasons { height: auto; max-height: 20; }
    .dialog { width: 70; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    NoteModal, ConfirmModal, CommandModal, KeysScreen { align: center middle; }
    #files { width: 28; }
    #source { width: 1fr; }
    PolicyScreen Horizontal { height: 1fr; }
    #diagnostics { height: auto; max-height: 40%; }
    AlarmsScreen TabbedContent, AlarmsScreen TabPane, AlarmsScreen DataTable { height: 1fr; }
    #machines { height: 1fr; }
    #warnings { height: auto; max-height: 40%; }
    KeysScreen .dialog { height: 80%; }
    """

    def __init__(self, store, policy=None, *, policy_loader=None, policy_path: str | None = None, lang: str = "en",
                 operator: str = "unknown", read_only: bool = False, theme: str | None = None):
        """`policy`, or `policy_loader` to load it after the first paint (a cold start shows the queue sooner;
        an action that needs the policy waits for it)."""
        super().__init__()
        self.store = store
        self._policy, self._policy_loader = policy, policy_loader
        self._policy_error: str | None = None
        self._policy_thread: threading.Thread | None = None
        if policy_path is None:
            from sptui.config import default_policy

            policy_path = default_policy()
        self.policy_path = policy_path
        self.words = Words(lang)
        localise_bindings(self, self.words)
        self.operator, self.read_only = operator, read_only
        self._theme_asked = theme  # --theme; else the config file's, else Textual's default
        self._failures: dict[str, float] = {}  # an unexpected failure's text → when it was last said
        self._triage: TriageScreen | None = None  # kept to be shown again (see triage)
        self.keymap: dict[str, str] = {}  # binding id → key(s), from the keymap file (load_keymap)
        self.filter_history: list[str] = []  # the queue's filters, oldest first, for this session (history.py)

    def get_css_variables(self) -> dict[str, str]:
        """The cursors of lists and tables (reversed where the focus is, underlined elsewhere, as the queue's) and
        an input's text cursor (reversed) are seen without colour: NO_COLOR removes a background colour, and 16
        colours may lose a faint one."""
        variables = super().get_css_variables()
        variables.update({"block-cursor-text-style": "bold reverse", "block-cursor-blurred-text-style": "underline",
                          "input-cursor-text-style": "reverse"})
        return variables

    def notify(self, message: str, *, title: str = "", severity: str = "information", **kw) -> None:
        """Every message on screen: plain text (never markup, whoever calls: a message often quotes the data), its
        control characters shown escaped. A warning or an error says so in words (its title), not only by the
        colour of its border."""
        if not title and severity in ("warning", "error"):
            title = self.words(severity)
        kw["markup"] = False
        super().notify(safe(message, lines=True), title=safe(title), severity=severity, **kw)

    def report_failure(self, error: BaseException, where=None) -> None:
        """An exception nothing else caught: a message on screen (severity error, the text as it is, no markup) and
        a log line with its traceback. The same failure again within REPEAT_SECONDS (a timer, a redraw) is said once."""
        original = getattr(error, "error", None)  # a worker's failure (WorkerFailed) carries the real one
        if isinstance(original, BaseException):
            error = original
        text = safe(f"{type(error).__name__}: {error}")
        at = time.monotonic()
        last, self._failures[text] = self._failures.get(text), at
        if last is not None and at - last < REPEAT_SECONDS:
            return
        place = f" in {type(where).__name__}" if where is not None else ""
        log.error("unexpected failure%s: %s", place, text, exc_info=(type(error), error, error.__traceback__))
        self.notify(self.words("unexpected", error=text), severity="error", markup=False, timeout=20)

    def _handle_exception(self, error: Exception) -> None:
        """Textual's last stop for an exception nothing caught (a timer, a worker, a widget's compose or layout);
        Textual's own ends the app and prints the traceback. Textual 8.2.8 has no public hook for this (the
        request, and the hang an override alone gives, are Textualize/textual#2818: hence `Guarded` as well); the
        version is pinned and tests/test_tui.py drives each case. While the desk runs, the failure is reported
        and the desk runs on; while it closes, it is logged; if it fails to start, it ends with one line."""
        if self.is_running and not self._exit:
            self.report_failure(error)
            return
        if self._exit:  # closing (a worker that outlived the screen it reported to): the log's business
            log.warning("while closing: %s: %s", type(error).__name__, error, exc_info=error)
            return
        log.error("sptui desk failed: %s: %s", type(error).__name__, error, exc_info=error)
        self.exit(return_code=1, message=Text(safe(f"sptui: {type(error).__name__}: {error}")))

    def start_policy(self) -> None:
        if self._policy is None and self._policy_loader is not None and self._policy_thread is None:
            try:
                self._ui_loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the UI thread (a worker): the UI starts it after the first paint
                return
            self._policy_thread = threading.Thread(target=self._load_policy, name="policy", daemon=True)
            self._policy_thread.start()

    def _load_policy(self) -> None:
        try:
            self._policy = self._policy_loader()
            self._plugin_failures()
        except Exception as e:  # noqa: BLE001 - shown on screen; the queue still works
            log.error("the policy could not be loaded: %s", e)
            self._policy_error = str(e)
            # not call_from_thread: it waits for the UI, which may itself be waiting for this thread (`policy`)
            self._ui_loop.call_soon_threadsafe(
                lambda: self.notify(self._policy_error, severity="error", markup=False, timeout=30))

    def _plugin_failures(self) -> None:
        """Plugins that failed to load were skipped (the desk works without them): say which, once."""
        from sptui.plugins.manager import default_manager

        failed = sorted({f.plugin for f in default_manager().failures})
        if not failed:
            return
        for f in default_manager().failures:
            log.warning("plugin %s failed [%s]: %s", f.plugin, f.stage, f.error)
        text = self.words("plugins_failed").format(n=len(failed), names=", ".join(failed))
        self._ui_loop.call_soon_threadsafe(lambda: self.notify(text, severity="warning", markup=False, timeout=20))

    def reload_policy(self, edit: tuple | None = None) -> tuple[bool, list, dict]:
        """Check and compile the policy's files again: the new policy goes live only if its own files have no
        errors; else the last good one stays. A plugin whose policy files have errors is left out, as at
        start (its errors are still shown). `edit`: (file, text), that file's text as edited (not yet saved).
        Returns (went live, diagnostics, sources)."""
        from sptui.plugins.manager import default_manager
        from sptui.policy.compile import check_live

        extra = {str(edit[0]): edit[1]} if edit is not None else None
        new, diags, sources, skipped = check_live([self.policy_path], plugins=default_manager(), extra_text=extra)
        if new is not None:
            self._policy, self._policy_error = new, None
            log.info("policy reloaded: %s%s", new.digest, f" (without plugins {', '.join(sorted(skipped))})"
                     if skipped else "")
        else:
            log.warning("policy reload failed; the last good policy stays live")
        return new is not None, diags, sources

    @property
    def policy(self):
        """The compiled policy (waiting for it, if it is still loading); PolicyUnavailable if it failed."""
        if self._policy is None:
            self.start_policy()
            if self._policy_thread is not None:
                self._policy_thread.join()
            if self._policy is None:
                raise PolicyUnavailable(self._policy_error or "no policy is loaded")
        return self._policy

    def variant_title(self, name: str) -> str:
        """` (月～金 9時間対応)`: the variant's title in the desk's language, or nothing while no policy is live."""
        try:
            v = self.policy.rt.variants.get(name)
        except PolicyUnavailable:
            return ""
        if v is None:
            return ""
        return f" ({v.title_ja if self.words.lang == 'ja' else v.title_en})"

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        w = self.words
        yield SystemCommand(":alarms", markup(w("alarms_title")), partial(self.run_command, "alarms"))
        yield SystemCommand(":registry", markup(w("registry_title")), partial(self.run_command, "registry"))
        yield SystemCommand(":policy", markup(w("keys_policy")), partial(self.run_command, "policy"))
        if isinstance(screen, TriageScreen):  # the commands of the incident or alarm on screen
            for b in TriageScreen.BINDINGS:
                if b.action.startswith(("claim", "assign", "note", "dispatch", "close", "consult", "contact", "copy")):
                    yield SystemCommand(markup(w.key(b.description)), markup(self.key_of(b)),
                                        partial(screen.run_action, b.action))

    def open_record(self, kind: str, rid: int) -> None:
        self.push_screen(self.triage(kind, rid))

    def triage(self, kind: str, rid: int) -> "TriageScreen":
        """The triage screen showing a record, to push. One screen is kept (installed) and shown again with the
        next record: composing and mounting its widgets anew was a third of the time to open an incident. A
        new one when that one is on the stack already (a jump from it to another record)."""
        screen = self._triage
        if screen is None:
            screen = self._triage = TriageScreen(kind, rid)
            self.install_screen(screen, "triage")
        elif screen in self.screen_stack:
            screen = TriageScreen(kind, rid)
        else:
            screen.show(kind, rid)
        return screen

    def open_clause(self, cid: str) -> None:
        screen = PolicyScreen()
        self.push_screen(screen, callback=None)
        self.call_after_refresh(screen.show_clause, cid)

    def action_keys(self) -> None:
        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen())

    def action_command_mode(self) -> None:
        self.push_screen(CommandModal(), self.run_command)

    def run_command(self, text: str | None) -> None:
        if not text:
            return
        target = COMMANDS.get(text)
        if target == "quit":
            self.after_edits(self.exit)
        elif target == "queue":
            self.after_edits(self._to_queue)
        elif target == "alarms":
            self.push_screen(AlarmsScreen())
        elif target == "registry":
            self.push_screen(RegistryScreen())
        elif target == "policy":
            self.push_screen(PolicyScreen())
        else:
            self.notify(self.words("unknown_command", command=text, known=", ".join(f":{c}" for c in sorted(COMMANDS))),
                        severity="warning", markup=False)

    def _to_queue(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def after_edits(self, then) -> None:
        """Do `then` (quit, back to the queue) once no policy edit on the way would be lost: an edit not saved is
        saved or discarded first, as the operator answers (or `then` is not done: stay)."""
        editing = next((s for s in reversed(self.screen_stack) if isinstance(s, PolicyScreen) and s.dirty), None)
        if editing is None:
            then()
        else:
            editing.leave(lambda: self.after_edits(then))

    async def action_quit(self) -> None:
        self.after_edits(self.exit)

    def load_keymap(self) -> None:
        """Keys remapped by binding id from a TOML file: $SPTUI_KEYMAP, else keymap.toml in the user's config
        folder. `[keymap]` then `"triage.claim" = "C"`; a top-level `theme = "nord"` picks the desk's theme
        (`--theme` wins). A bad file, an unknown id or theme is a message, not a crash."""
        import os
        import tomllib
        from pathlib import Path

        from platformdirs import user_config_dir

        path = Path(os.environ.get("SPTUI_KEYMAP") or Path(user_config_dir("sptui")) / "keymap.toml")
        config: dict = {}
        if path.is_file():
            try:
                config = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:  # tomllib.TOMLDecodeError is a ValueError
                self.notify(self.words("keymap_error", path=path, error=e), severity="error", markup=False, timeout=20)
                config = {}
        self.use_theme(self._theme_asked or config.get("theme"), path if not self._theme_asked else "--theme")
        if not config.get("keymap"):
            return
        try:
            keymap = config["keymap"]
            if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
                raise ValueError('[keymap] maps binding ids to keys: "triage.claim" = "C"')
            unknown = sorted(set(keymap) - binding_ids())
            if unknown:
                raise ValueError(f"unknown binding id(s) {', '.join(unknown)}; the ids are listed by `?`")
        except ValueError as e:
            self.notify(self.words("keymap_error", path=path, error=e), severity="error", markup=False, timeout=20)
            return
        self.keymap = dict(keymap)
        self.set_keymap(keymap)

    def key_of(self, binding: Binding) -> str:
        """The key a binding answers to, as the keymap file writes it: the keymap's, else the binding's own."""
        return self.keymap.get(binding.id or "", binding.key)

    def use_theme(self, name, where) -> None:
        """The desk's theme by name (Textual's themes: textual-dark, nord, gruvbox, …); an unknown one is a message."""
        if name is None:
            return
        if not isinstance(name, str) or name not in self.available_themes:
            self.notify(self.words("theme_error", where=where, name=name, names=", ".join(sorted(self.available_themes))),
                        severity="error", markup=False, timeout=20)
            return
        self.theme = name

    def on_mount(self) -> None:
        self.load_keymap()
        self.title = self.words("title")
        self.push_screen(QueueScreen())
