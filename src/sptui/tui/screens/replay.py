"""Saving a policy edit that changes recorded decisions: "this change alters 14 of 2,310 recorded decisions", the
list (each decision's fields old → new, the rules and clauses that changed), then save (the new policy goes live)
or keep editing. The replay is sptui.desk.replay's, on the cases the store recorded."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded
from sptui.tui.text import plain, safe

SHOWN = 200  # changes listed at most (the summary counts them all)


class ReplayModal(Guarded, LocalBindings, ModalScreen[str]):
    """The changes a policy edit makes to recorded decisions; answers "save" or "stay"."""

    BINDINGS = bindings("replay")

    def __init__(self, report) -> None:
        super().__init__()
        self.report = report
        self._answered = False

    def compose(self) -> ComposeResult:
        from sptui.desk.replay import change_lines, summary_line

        w = self.app.words
        lang = w.lang
        lines = [line for c in self.report.changed[:SHOWN] for line in change_lines(c, lang)]
        if len(self.report.changed) > SHOWN:
            lines.append(f"… (+{len(self.report.changed) - SHOWN:,})")
        with Vertical(classes="dialog", id="replay"):
            yield Label(plain(w("replay_title")))
            yield Label(plain(summary_line(self.report, lang)), id="replay-summary")
            with VerticalScroll(id="replay-list"):
                yield Static(Text(safe("\n".join(lines), lines=True)))
            with Horizontal():
                yield Button(Text(f"{w('replay_save')} (s)"), id="save", variant="warning")
                yield Button(Text(f"{w('replay_stay')} (esc)"), id="stay")

    def action_answer(self, value: str) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id or "stay")
