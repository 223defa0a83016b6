"""The queue's filter box with a history: ↑ recalls the filters used before (the newest first), ↓ goes back toward
what was being typed. The history is the desk's for its session (DeskApp.filter_history), shared by its screens."""
from __future__ import annotations

from textual.widgets import Input

from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded

KEEP = 50  # the filters remembered


def remember(history: list[str], value: str) -> None:
    """A filter used: the newest in the history (once: an earlier use of it moves up), at most KEEP kept."""
    value = value.strip()
    if not value:
        return
    if value in history:
        history.remove(value)
    history.append(value)
    del history[:-KEEP]


class HistoryInput(Guarded, LocalBindings, Input):
    BINDINGS = bindings("filter")

    def __init__(self, history: list[str], **kw) -> None:
        super().__init__(**kw)
        self.history = history
        self._back = 0  # how far back in the history the box is (0: what is being typed)
        self._typed = ""  # what was being typed before ↑

    def action_recall(self, step: int) -> None:
        at = max(0, min(len(self.history), self._back + step))
        if at == self._back:
            return
        if self._back == 0:
            self._typed = self.value
        self._back = at
        self.value = self.history[-at] if at else self._typed
        self.cursor_position = len(self.value)

    def remember(self) -> None:
        """The box's filter goes into the history; the next ↑ starts from the newest again."""
        remember(self.history, self.value)
        self._back = 0
