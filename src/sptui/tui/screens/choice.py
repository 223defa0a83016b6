"""A dialog answered once, by one of its buttons or keys: the answer is the button's id (or "stay"); a second press
while it closes does nothing. The unsaved-edit and the policy-replay dialogs are such."""
from __future__ import annotations

from textual import on
from textual.screen import ModalScreen
from textual.widgets import Button

from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded


class ChoiceModal(Guarded, LocalBindings, ModalScreen[str]):
    """Answers with the id of the button pressed (or what a key's `answer('…')` action gives), once."""

    def __init__(self) -> None:
        super().__init__()
        self._answered = False  # debounced: a second key press does nothing

    def action_answer(self, value: str) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id or "stay")
