"""`y` on an alarm: the customer was reached; does the machine need an onsite repair? The answer ends the alarm
(sptui.desk.contact): a repair opens or joins the machine's incident, no repair closes the alarm with its reason."""
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


class ReachedModal(Guarded, LocalBindings, ModalScreen[str | None]):
    """Returns `repair`, `no-repair`, or None (back: nothing recorded)."""

    BINDINGS = bindings("reached")

    def __init__(self, aid: int) -> None:
        super().__init__()
        self.aid = aid
        self._answered = False

    def compose(self) -> ComposeResult:
        w = self.app.words
        with Vertical(id="dialog"):
            yield Label(Text(w("reached_question", id=self.aid)), id="question")
            with Horizontal(id="buttons"):
                yield Button(f"{w('repair_needed')} (r)", id="repair", variant="primary", compact=True)
                yield Button(f"{w('no_repair')} (n)", id="no-repair", compact=True)
                yield Button(f"{w('back')} (Esc)", id="back", compact=True)

    def action_answer(self, answer: str | None) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(None if event.button.id == "back" else event.button.id)
