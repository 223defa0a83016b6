"""Every private name of Textual the desk (and its tests and bench) uses, here and only here.

Textual is pinned to the range these were tested with (pyproject.toml). tests/test_textual_compat.py checks each
name below against the installed Textual and fails with a message naming it when Textual changes; each has a
reason it is needed (Textual offers no public way to do it in 8.2):

- `MessagePump._dispatch_message`: a node's handlers (key actions, messages, mount) run in it; an exception from one
  ends the node's message loop, and with the app's the app. `Guarded` reports it and the node runs on.
- `App._handle_exception`: the last stop of what nothing caught (a timer, a worker, a compose or layout); Textual's
  ends the app and prints a traceback (the request for a public hook: Textualize/textual#2818). `LastStop` hands it
  to the app's `unhandled`.
- `DOMNode._bindings`: a node's own map of its bindings; Textual has no per-language description, so the desk
  rewrites a node's descriptions in its language (`set_descriptions`).
- `TextArea._build_highlight_map`, `._highlights`, `._line_cache`, `._theme`: TextArea has highlights only through
  tree-sitter; the policy language has no tree-sitter grammar (`HighlightHook`, `text_area_theme`).
- `App._notifications`, `App._exception`, `App._exit_renderables`, `Screen._compositor`, `App._display`: read by
  the tests and the bench only (what was said, what Textual holds to end the app with, the message printed on
  exit, the screen as the terminal gets it, when a frame is painted).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

# name → where Textual keeps it (the compat test checks each against the installed Textual)
PRIVATE_NAMES = {
    "_dispatch_message": "textual.message_pump.MessagePump",
    "_handle_exception": "textual.app.App",
    "_bindings": "textual.dom.DOMNode (an instance's)",
    "_build_highlight_map": "textual.widgets.TextArea",
    "_highlights": "textual.widgets.TextArea (an instance's)",
    "_line_cache": "textual.widgets.TextArea (an instance's)",
    "_theme": "textual.widgets.TextArea (an instance's)",
    "_notifications": "textual.app.App (an instance's)",
    "_exception": "textual.app.App (an instance's)",
    "_exit_renderables": "textual.app.App (an instance's)",
    "_compositor": "textual.screen.Screen (an instance's)",
    "_display": "textual.app.App",
}


class Guarded:
    """Mixed into the desk's app, screens and widgets: an exception from one of their handlers is reported by the
    app (`report_failure`), and the node goes on handling messages."""

    async def _dispatch_message(self, message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:  # noqa: BLE001 - said and logged; the node stays alive
            report = getattr(self.app, "report_failure", None)
            if report is None:  # outside the desk's app (a widget under test): Textual's own way
                raise
            report(error, where=self)


class LastStop:
    """Mixed into the app: what reaches Textual's last stop goes to the app's `unhandled(error)`."""

    def _handle_exception(self, error: Exception) -> None:
        self.unhandled(error)


def handle_exception(app, error: Exception) -> None:
    """Hand an exception to the app's last stop, as Textual does (tests)."""
    app._handle_exception(error)


def set_descriptions(node, describe: Callable) -> None:
    """Rewrite the descriptions of a node's own bindings (`describe(binding)` → its text); ids and keys stay, so a
    keymap still applies."""
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [dataclasses.replace(b, description=describe(b)) for b in bindings]


class HighlightHook:
    """Mixed into a TextArea: its highlights are what `line_spans(line)` gives each line ((start, end, name), in
    UTF-8 bytes), asked again only for a line whose text changed."""

    def _build_highlight_map(self) -> None:  # called by TextArea on every edit
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        known = getattr(self, "_spans_by_line", None)  # (TextArea builds a first map before __init__ is done)
        kept: dict[str, list] = {}
        for row, line in enumerate(self.document.lines):
            found = kept.get(line)
            if found is None:
                found = known.get(line) if known else None
                if found is None:
                    found = self.line_spans(line)
                kept[line] = found
            if found:
                highlights[row] = found
        self._spans_by_line = kept

    def highlights(self, row: int) -> list:
        """The highlights TextArea draws a line with."""
        return list(self._highlights.get(row, []))

    def rehighlight(self) -> None:
        """Build the highlights again (as an edit does)."""
        self._build_highlight_map()


def text_area_theme(editor):
    """The TextAreaTheme a TextArea draws with (its `theme` is the name)."""
    return editor._theme


def notifications(app) -> list:
    """The notifications on screen now (tests)."""
    return list(app._notifications)


def held_exception(app):
    """The exception Textual holds to end the app with, if any (tests)."""
    return app._exception


def exit_messages(app) -> list:
    """What the app prints when it ends (tests)."""
    return list(app._exit_renderables)


def screen_update(screen):
    """The screen as the terminal gets it: the compositor's full update, its lines of segments (tests)."""
    return screen._compositor.render_full_update(simplify=True)


def on_paint(app, callback: Callable[[], None]) -> None:
    """Call `callback` each time the app hands its driver a frame (a paint), headless or not (bench)."""
    display = app._display

    def painted(screen, renderable):
        if renderable is not None:
            callback()
        return display(screen, renderable)

    app._display = painted
