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
MARK = Style(bold=True, reverse=True)


def declared(chain: list, node, binding) -> tuple[int, int]:
    """Where a binding is declared: its node's place in the binding chain (the focused widget first, the app last),
    then its place in the node's BINDINGS. (The keymap moves a remapped binding to the end of Textual's map.)"""
    ids = [getattr(b, "id", None) for b in getattr(type(node), "BINDINGS", ())]
    place = ids.index(binding.id) if binding.id in ids else len(ids)
    return (chain.index(node) if node in chain else len(chain), place)


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
        self.hits: list[tuple[int, int, str, bool]] = []  # the keys drawn: (first cell, end cell, key, enabled)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen) -> None:
        self.refresh()

    def keys(self) -> tuple[list[tuple[str, str, str, bool]], list[tuple[str, str, str, bool]]]:
        """(key, what it shows, description, enabled) of each key shown, one per action: the screen's keys, and
        those kept at the right end whatever the width (`?` every key, the palette)."""
        app = self.app
        shown, right, actions = [], [], set()
        focused = self.screen.focused
        chain = list(focused.ancestors_with_self if focused is not None else (self.screen, app))
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            item = (binding.key, app.get_key_display(binding), binding.description, enabled)
            if binding.action == "command_palette" and app.ENABLE_COMMAND_PALETTE:
                right.append((1, item))
                continue
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            if binding.action == "keys":
                right.append((0, item))
            else:
                shown.append((declared(chain, node, binding), item))
        shown.sort(key=lambda k: k[0])  # as declared: a key remapped in the keymap keeps its place
        right.sort(key=lambda k: k[0])  # `?` first, the palette last
        return [item for _, item in shown], [item for _, item in right]

    def mark(self) -> Text:
        """What the desk is, where every screen shows it: `READ-ONLY` on a --read-only desk (a word, reversed:
        seen without colour)."""
        words = getattr(self.app, "words", None)
        if not getattr(self.app, "read_only", False) or words is None:
            return Text(end="")
        return Text(f" {words('read_only_mark')} ", style=MARK, end="")

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        desc_style = self.get_component_rich_style("keybar--description", partial=True)
        shown, right = self.keys()
        width = self.size.width

        def piece(display: str, description: str, enabled: bool) -> Text:
            t = Text(no_wrap=True, end="")
            t.append(f" {display} ", key_style if enabled else key_style + DIM)
            if description:
                t.append(f"{description} ", desc_style if enabled else desc_style + DIM)
            return t

        tail = [piece(*k[1:]) for k in right]
        mark = self.mark()
        tail_width = sum(t.cell_len for t in tail) + mark.cell_len + (1 if tail else 0)  # and the bar before them
        text = Text(no_wrap=True, overflow="crop", end="")
        hits = []
        for key, display, description, enabled in shown:  # whole keys, as many as leave room for the tail
            p = piece(display, description, enabled)
            if text.cell_len + p.cell_len > width - tail_width:
                break
            hits.append((text.cell_len, text.cell_len + p.cell_len, key, enabled))
            text.append_text(p)
        if tail and width - text.cell_len >= tail_width:
            text.append(" " * (width - text.cell_len - tail_width))
            text.append("▏")
            text.append_text(mark)
            for k, p in zip(right, tail):
                hits.append((text.cell_len, text.cell_len + p.cell_len, k[0], k[3]))
                text.append_text(p)
        self.hits = hits
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self.hits:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
