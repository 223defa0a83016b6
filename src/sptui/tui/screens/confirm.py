"""A question answered yes or no (closing an incident, taking one over): y, n or Esc; a second key press does nothing."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded


class ConfirmModal(Guarded, LocalBindings, ModalScreen[bool]):
    BINDINGS = bindings("confirm")

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
