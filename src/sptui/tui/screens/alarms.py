"""`:alarms`: the alarm inbox with each alarm's routing, the calls due now, and the quarantine with its reasons."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded
from sptui.tui.text import plain, verdict_text, when
from sptui.tui.widgets.keybar import KeyBar


class AlarmsScreen(Guarded, LocalBindings, Screen):
    """`:alarms`: the inbox with each alarm's routing, the quarantine with reasons, and the calls due now."""

    BINDINGS = bindings("alarms")

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
        for tid, rows in (("#inbox-table", store.alarms.rows(limit=data.SHOW, newest_first=True)),
                          ("#due-table", store.alarms.due(data.now()))):
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
