"""Leaving an edit of a policy file that is not saved: save it, discard it, or stay."""
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
from sptui.tui.text import plain


class UnsavedModal(Guarded, LocalBindings, ModalScreen[str]):
    """An edit is not saved: save it, discard it, or stay (answers "save", "discard" or "stay")."""

    BINDINGS = bindings("unsaved")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name_shown = name
        self._answered = False  # debounced: a second key press does nothing

    def compose(self) -> ComposeResult:
        w = self.app.words
        with Vertical(classes="dialog"):
            yield Label(plain(w("unsaved", name=self.name_shown)))
            with Horizontal():
                yield Button(Text(f"{w('save')} (s)"), id="save", variant="primary")
                yield Button(Text(f"{w('discard')} (d)"), id="discard", variant="error")
                yield Button(Text(f"{w('stay')} (esc)"), id="stay")

    def action_answer(self, value: str) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id or "stay")
