"""Leaving an edit of a policy file that is not saved: save it, discard it, or stay."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from sptui.tui.actions import bindings
from sptui.tui.screens.choice import ChoiceModal
from sptui.tui.text import plain


class UnsavedModal(ChoiceModal):
    """An edit is not saved: save it, discard it, or stay (answers "save", "discard" or "stay")."""

    BINDINGS = bindings("unsaved")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name_shown = name

    def compose(self) -> ComposeResult:
        w = self.app.words
        with Vertical(classes="dialog"):
            yield Label(plain(w("unsaved", name=self.name_shown)))
            with Horizontal():
                yield Button(Text(f"{w('save')} (s)"), id="save", variant="primary")
                yield Button(Text(f"{w('discard')} (d)"), id="discard", variant="error")
                yield Button(Text(f"{w('stay')} (esc)"), id="stay")
