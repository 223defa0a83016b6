"""`:handover`: the shift handed over — what changed since the shift started (opened, claimed, dispatched, closed,
alarms reached or not, retries into the next shift), what is left, who owns what: the text `sptui handover` prints,
for the lead to read or copy. The shift starts SHIFT_HOURS ago unless another start is typed."""
from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from sptui.desk.handover import handover
from sptui.desk.report_text import handover_lines
from sptui.errors import CaseError
from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.screens.overview import lines_text
from sptui.tui.textual_compat import Guarded
from sptui.tui.widgets.keybar import KeyBar
from sptui.tz import parse_instant

SHIFT_HOURS = 8


class HandoverScreen(Guarded, LocalBindings, Screen):
    """`:handover` (see the module docstring): type the shift's start and Enter; `r` again."""

    BINDINGS = bindings("handover")

    def __init__(self, since: dt.datetime | None = None) -> None:
        super().__init__()
        self.since = since
        self.shown = None  # the Handover shown

    def compose(self) -> ComposeResult:
        w = self.app.words
        yield Static(Text(w("handover_title")), id="title")
        yield Input(placeholder=w("handover_since"), id="since")
        with VerticalScroll(id="handover-body"):
            yield Static("", id="handover-text")
        yield KeyBar()

    def on_mount(self) -> None:
        if self.since is None:
            self.since = (data.now() - dt.timedelta(hours=SHIFT_HOURS)).replace(second=0, microsecond=0)
        self.query_one("#since", Input).value = f"{self.since:%Y-%m-%d %H:%M}"
        self.reload()
        self.query_one("#handover-body").focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def reload(self) -> None:
        try:
            self.shown = handover(self.app.store, self.since, data.now())
        except Exception as e:  # noqa: BLE001 - the desk stays up; the operator is told
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
            return
        self.query_one("#handover-text", Static).update(lines_text(handover_lines(self.shown, self.app.words.lang)))

    @on(Input.Submitted, "#since")
    def _since(self, event: Input.Submitted) -> None:
        try:
            self.since = parse_instant(event.value, "since", local=True)
        except CaseError:
            self.app.notify(self.app.words("bad_time_in", field=self.app.words("handover_since"), text=event.value),
                            severity="warning", markup=False)
            return
        self.reload()
        self.query_one("#handover-body").focus()
