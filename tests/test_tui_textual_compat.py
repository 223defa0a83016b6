"""Every private name of Textual the desk uses is in sptui.tui.textual_compat, and only there; each is checked here
against the installed Textual, so that a Textual that changes one fails with a message naming it (and saying where
the desk relies on it), not with a desk that quietly stops reporting failures or highlighting policies."""
from __future__ import annotations

import asyncio
import inspect
import re
from pathlib import Path

import pytest
import textual
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.widget import Widget
from textual.widgets import Static, TextArea

from sptui.tui import textual_compat as compat

ROOT = Path(__file__).resolve().parents[1]


def need(ok: bool, name: str, what: str) -> None:
    assert ok, (f"Textual {textual.__version__} changed {name} ({compat.PRIVATE_NAMES[name]}): {what}. "
                f"sptui.tui.textual_compat relies on it: adapt it there, and the textual pin in pyproject.toml")


def run(app: App, steps) -> object:
    async def main():
        async with app.run_test(size=(60, 10)) as pilot:
            await pilot.pause()
            return await steps(app, pilot)
    return asyncio.run(asyncio.wait_for(main(), 60))


class Quiet(App):
    """An app whose failures are collected (as the desk's are reported)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: list = []

    def report_failure(self, error, where=None) -> None:
        self.failed.append(error)

    def unhandled(self, error) -> None:
        self.failed.append(error)


class Boom(compat.Guarded, Static, can_focus=True):
    BINDINGS = [Binding("b", "boom", "boom", id="test.boom")]

    def action_boom(self) -> None:
        raise RuntimeError("boom")


def check_dispatch_message() -> None:
    name = "_dispatch_message"
    method = getattr(MessagePump, name, None)
    need(method is not None and inspect.iscoroutinefunction(method), name, "no longer a coroutine method")
    need(list(inspect.signature(method).parameters) == ["self", "message"], name, "its arguments changed")

    class One(compat.Guarded, compat.LastStop, Quiet):  # (a key's action runs in the app's handler)
        def compose(self):
            yield Boom("x")

    async def steps(app, pilot):
        app.query_one(Boom).focus()
        await pilot.press("b", "b")
        await pilot.pause()
        return app.failed, app.is_running

    failed, running = run(One(), steps)
    need([str(e) for e in failed] == ["boom", "boom"] and running, name,
         f"a failing key action did not reach Guarded, or ended the node: {failed!r}")


def check_handle_exception() -> None:
    name = "_handle_exception"
    method = getattr(App, name, None)
    need(callable(method) and list(inspect.signature(method).parameters) == ["self", "error"], name,
         "no longer App._handle_exception(self, error)")

    class One(compat.LastStop, Quiet):
        def on_mount(self) -> None:
            self.set_timer(0.01, self.fail)

        def fail(self) -> None:
            raise RuntimeError("from a timer")

    async def steps(app, pilot):
        await pilot.pause(0.2)
        return app.failed, app.is_running, compat.held_exception(app)

    failed, running, held = run(One(), steps)
    need([str(e) for e in failed] == ["from a timer"] and running and held is None, name,
         f"a timer's failure did not reach LastStop, or ended the app: {failed!r}")


def check_bindings() -> None:
    name = "_bindings"

    class One(App):
        def compose(self):
            yield Boom("x")

    async def steps(app, pilot):
        node = app.query_one(Boom)
        table = getattr(getattr(node, name, None), "key_to_bindings", None)
        need(isinstance(table, dict) and table.get("b") and isinstance(table["b"][0], Binding), name,
             "a node's own map of bindings is not key_to_bindings: {key: [Binding]}")
        compat.set_descriptions(node, lambda b: b.description.upper())
        node.focus()
        await pilot.pause()
        return {b.binding.id: b.binding.description for b in app.screen.active_bindings.values()}

    shown = run(One(), steps)
    need(shown.get("test.boom") == "BOOM", name, f"a node's descriptions are not what active_bindings shows: {shown}")


def check_text_area() -> None:
    asked = []

    class Editor(compat.HighlightHook, TextArea):
        def line_spans(self, line):
            asked.append(line)
            return [(0, 1, "keyword")] if line else []

    class One(App):
        def compose(self):
            yield Editor("ab\ncd")

    async def steps(app, pilot):
        editor = app.query_one(Editor)
        first = list(asked)
        editor.move_cursor((1, 0))
        editor.insert("x")
        await pilot.pause()
        editor.rehighlight()
        return editor, first, list(asked)

    editor, first, later = run(One(), steps)
    for name in ("_build_highlight_map", "_highlights", "_line_cache", "_theme"):
        need(hasattr(editor, name), name, "TextArea no longer has it")
    need(first == ["ab", "cd"], "_build_highlight_map", f"TextArea did not ask for the highlights: {first}")
    need(later == ["ab", "cd", "xcd"], "_build_highlight_map", f"an edit did not ask for its line only: {later}")
    need(editor.highlights(0) == [(0, 1, "keyword")], "_highlights", "TextArea's highlights are not kept by row")
    need(hasattr(compat.text_area_theme(editor), "syntax_styles"), "_theme", "it is not a TextAreaTheme")


def check_test_reads() -> None:
    class One(App):
        def compose(self):
            yield Static(Text("hello"))

    async def steps(app, pilot):
        app.notify("said", markup=False)
        await pilot.pause()
        said = [n.message for n in compat.notifications(app)]
        lines = ["".join(t for strip in chops for t, _, _ in strip) for chops in compat.screen_update(app.screen).strips]
        app.exit(message=Text("bye"))
        return said, lines, compat.held_exception(app), [str(m) for m in compat.exit_messages(app)]

    painted = []
    app = One()
    compat.on_paint(app, lambda: painted.append(1))
    said, lines, held, exits = run(app, steps)
    need(said == ["said"], "_notifications", f"not the notifications on screen: {said}")
    need(any("hello" in line for line in lines), "_compositor", f"its full update is not the screen's lines: {lines}")
    need(held is None, "_exception", "not None in an app that has not failed")
    need(exits == ["bye"], "_exit_renderables", f"not what exit(message=…) prints: {exits}")
    need(bool(painted), "_display", "the app's frames do not go through it")


CHECKS = {"dispatch_message": check_dispatch_message, "handle_exception": check_handle_exception,
          "bindings": check_bindings, "text_area": check_text_area, "test_reads": check_test_reads}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_each_private_name_the_desk_uses_is_still_what_it_relies_on(check):
    CHECKS[check]()


def test_textual_is_pinned_to_the_tested_version():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"textual==([\d.]+)"', pyproject)
    assert pin, "pyproject.toml pins textual to the version textual_compat was tested with"
    assert textual.__version__ == pin.group(1), (textual.__version__, pin.group(1))


def test_no_private_name_of_textual_is_used_outside_the_compat_module():
    """In the desk's code, its tests and its bench: `._name` (or an override `def _name`) of each of Textual's
    private names the desk uses appears only in textual_compat.py."""
    files = [*(ROOT / "src/sptui/tui").rglob("*.py"), *(ROOT / "tests").glob("test_tui*.py"),
             *(ROOT / "tests").glob("test_screens*.py"), *(ROOT / "tests").glob("test_desk_*terminal.py"),
             ROOT / "bench/tui.py"]
    found = []
    for path in files:
        if path.name in ("textual_compat.py", Path(__file__).name):
            continue
        text = path.read_text(encoding="utf-8")
        for name in compat.PRIVATE_NAMES:
            if re.search(rf"(\.|def ){name}\b", text):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, found
    assert set(compat.PRIVATE_NAMES) >= {"_dispatch_message", "_handle_exception", "_bindings", "_build_highlight_map",
                                         "_highlights", "_compositor"}


def test_widget_default_is_still_unguarded_outside_the_desk():
    """Guarded outside the desk's app (a widget under test) lets Textual do as it does: the failure ends the app."""
    class Plain(App):
        def compose(self):
            yield Boom("x")

    async def main():
        app = Plain()
        with pytest.raises(RuntimeError, match="boom"):
            async with app.run_test() as pilot:
                app.query_one(Boom).focus()
                await pilot.press("b")
                await pilot.pause()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert issubclass(Boom, Widget)
