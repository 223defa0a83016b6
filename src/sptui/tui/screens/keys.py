"""`?`: every key of the desk, screen by screen, and the `:` commands (from the action registry)."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sptui.tui.actions import SCOPES, bindings, commands, in_scope
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded
from sptui.tui.text import safe


class KeysScreen(Guarded, LocalBindings, ModalScreen[None]):
    """`?`: every key of the desk, screen by screen."""

    BINDINGS = bindings("keys")

    def compose(self) -> ComposeResult:
        w, lang = self.app.words, self.app.words.lang
        lines = Text()
        for scope, heading in SCOPES.items():
            if heading is None:  # a dialog's keys: said on the dialog
                continue
            lines.append(f"{w(heading)}\n", style="bold")
            if scope == "command":  # the `:` commands, every name
                lines.append("".join(f"  :{name}\n" for name in sorted(commands())))
                continue
            for a in in_scope(scope):
                lines.append(safe(f"  {self.app.key_of(a):<22} {a.text(lang):<16} {a.id}") + "\n")
        with VerticalScroll(classes="dialog"):
            yield Static(lines)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # the list scrolls by keyboard (up/down, page up/down, home/end)
