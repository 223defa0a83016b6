"""Saving a policy edit that changes recorded decisions: "this change alters 14 of 2,310 recorded decisions", the
list (each decision's fields old → new, the rules and clauses that changed), then save (the new policy goes live)
or keep editing. The replay is sptui.desk.replay's, on the cases the store recorded."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from sptui.tui.actions import bindings
from sptui.tui.screens.choice import ChoiceModal
from sptui.tui.text import plain, safe

SHOWN = 200  # changes listed at most (the summary counts them all)


class ReplayModal(ChoiceModal):
    """The changes a policy edit makes to recorded decisions; answers "save" or "stay"."""

    BINDINGS = bindings("replay")

    def __init__(self, report) -> None:
        super().__init__()
        self.report = report

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
