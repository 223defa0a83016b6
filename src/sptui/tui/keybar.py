"""The desk's footer: the screen's keys drawn as one line by one widget.

Textual's Footer mounts a widget per key, and mounts them all again whenever the bindings change (each new
screen, each move of the focus); opening an incident spent much of its time there. KeyBar draws the same
keys, from the same `screen.active_bindings`, as one line of text. A click on a key presses it; the command
palette's key stands at the right end, as in the Footer.
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget


DIM = Style(dim=True)


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._hits: list[tuple[int, int, str, bool]] = []  # (first cell, end cell, key, enabled)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen) -> None:
        self.refresh()

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """(key, what it shows, description, enabled) of each key shown, the palette's last; one per action."""
        app = self.app
        shown, palette, actions = [], None, set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = (binding.key, app.get_key_display(binding), binding.description, enabled)
                continue
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            shown.append((binding.key, app.get_key_display(binding), binding.description, enabled))
        return shown + ([palette] if palette else [])

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        desc_style = self.get_component_rich_style("keybar--description", partial=True)
        keys = self.keys()
        palette = keys.pop() if keys and keys[-1][0] == self.app.COMMAND_PALETTE_BINDING else None
        text = Text(no_wrap=True, overflow="crop", end="")
        hits = []

        def add(key: str, display: str, description: str, enabled: bool) -> None:
            start = text.cell_len
            text.append(f" {display} ", key_style if enabled else key_style + DIM)
            if description:
                text.append(f"{description} ", desc_style if enabled else desc_style + DIM)
            hits.append((start, text.cell_len, key, enabled))

        for k in keys:
            add(*k)
        if palette is not None:
            tail = Text(no_wrap=True, end="")
            tail.append("▏")
            tail.append(f"{palette[1]} ", key_style)
            tail.append(f"{palette[2]} ", desc_style)
            gap = self.size.width - text.cell_len - tail.cell_len
            if gap >= 0:
                text.append(" " * gap)
                start = text.cell_len
                text.append_text(tail)
                hits.append((start, text.cell_len, palette[0], palette[3]))
        self._hits = hits
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._hits:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
