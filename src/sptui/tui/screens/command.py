"""`:` — a command, as in k9s (the commands: actions.commands())."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from sptui.tui.actions import bindings, in_scope
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded


class CommandModal(Guarded, LocalBindings, ModalScreen[str | None]):
    """`:` — a command, as in k9s: `:alarms`, `:queue`, `:quit`."""

    BINDINGS = bindings("prompt")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            names = " ".join(f":{a.names[0]}" for a in in_scope("command"))
            yield Label(Text(self.app.words("command_prompt", commands=names)))
            yield Input(id="command")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":").lower() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
