"""The queue: open incidents and alarms still to be called, most urgent first, counting down each second.

The first page is read at once (from the deadline's index), every row in the background (the filter searches them
all); the table draws only the rows on screen. Other desks' changes come in without a restart: PostgreSQL's
LISTEN hears them as they happen, SQLite is polled (a cheap `data_version` first)."""
from __future__ import annotations

import bisect
import logging

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.screens.triage import TriageScreen
from sptui.tui.text import departed_text, plain, status_text, time_left, verdict_text, when
from sptui.tui.textual_compat import Guarded
from sptui.tui.widgets.history import HistoryInput
from sptui.tui.widgets.keybar import KeyBar
from sptui.tui.widgets.table import HeaderLine, RowTable

log = logging.getLogger("sptui.desk")


class QueueScreen(Guarded, LocalBindings, Screen):
    BINDINGS = bindings("queue")
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
        at = data.now()
        left = departed_text(r.departed(), at, w) if r.dispatched else time_left(r.due(), at, w)
        return [Text(w(r.kind)), plain(r.label), plain(r.customer), verdict_text(r.verdict, w), left,
                self.status_cell(r),
                Text(w.yes_no(r.in_hours)),
                Text(when(r.next_contact)), plain(r.summary)]

    def status_cell(self, r: data.QueueRow) -> Text:
        """The status; for a dispatched incident (its `dispatched 14:05` is in the column before) who pays for the
        work, a short word that fits the column: free, pays (別表-1) or quote (needed) — in full on the triage."""
        w = self.app.words
        if r.billing is None:
            return status_text(r.status, r.consult, w)
        out = Text(w("consult"), style="bold magenta").append(" ") if r.consult else Text()
        return out.append(w.billing(r.billing, short=True), style="yellow" if r.pays else "")

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.focus()
        # the first page at once (from the deadline's index), then every row in the background for the filter
        self.total = data.counts(self.app.store)
        self.rows = data.queue(self.app.store, limit=data.SHOW)
        self.complete = len(self.rows) >= self.total
        self.render_rows()
        self.load_all()
        self.set_interval(1.0, self.tick)
        self.set_interval(data.POLL_SECONDS, self.poll)  # on SQLite all there is; on PostgreSQL the fallback
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
            self.app.call_from_thread(self.heard)
        except RuntimeError:  # the desk is closing
            pass

    def heard(self) -> None:
        """A change was heard: the queue looks now (after the look under way, if one is), and so does an open
        triage."""
        self._stale = True
        self.poll()
        for screen in self.app.screen_stack:
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
            self.app.call_from_thread(self.set_timer, data.POLL_SECONDS, self.load_all)
            return
        if get_current_worker().is_cancelled:  # a newer load replaced this one
            return
        self.app.call_from_thread(self._loaded, rows, (version, fingerprint))

    def _loaded(self, rows: list[data.QueueRow], seen: tuple) -> None:
        self.rows, self.total, self.complete = rows, len(rows), True
        self.data_version, self.fingerprint = seen
        self._matches.clear()
        self.render_rows()
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

    @property
    def looking(self) -> bool:
        """A look for changes is under way."""
        return self._looking

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
        self.shown = data.matching(self.rows, self._matches, self.sort, self.descending, needle)
        table.set_rows(self.shown, keep=(lambda r: r.key == current.key) if current is not None else None)
        if not self.complete:
            count = w("shown", shown=len(self.shown), total=self.total) + w("loading")
        else:
            count = w("shown", shown=len(self.shown), total=len(self.shown))
            if needle:
                count += w("in_all", all=len(self.rows))
        self.query_one("#count", Static).update(Text(count))

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

    def action_export(self) -> None:
        """The rows shown (the filter's, in the order shown) to a CSV file; the message says where (tui/export.py)."""
        from sptui.tui.export import export_folder, save

        try:
            path = save(self.shown, "csv", export_folder(), data.now())
        except OSError as e:  # a folder that cannot be made or written: said, the desk runs on
            self.app.notify(f"{e.strerror or e}: {e.filename or ''}", severity="error", markup=False)
            return
        self.app.notify(self.app.words("exported", n=len(self.shown), path=path), markup=False)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()
        self.render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.query_one("#filter", HistoryInput).remember()
        self.query_one(RowTable).focus()
