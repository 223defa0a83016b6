"""The desk: a queue of open incidents and alarms, and a triage screen for one of them (screens/), on the store and
the live policy (live_policy.py).

The app itself starts the desk (the queue, the keymap file, the theme), holds what its screens share (the store, the
policy, the operator, the words of `--lang`), runs the `:` commands and the palette's, and is the last stop of any
failure. Its keys, and every screen's, come from one registry (actions.py); its look from app.tcss.

Everything shown from the store or the policy is plain text (rich `Text`, widgets with markup off): a customer named
`[bold]` shows as typed. A failed action (a conflict with another operator, a closed incident) becomes a message on
screen and a log line, never a traceback; so does any exception nothing else caught, and the desk runs on
(textual_compat.Guarded, LastStop).
"""
from __future__ import annotations

import logging
import time
import weakref
from functools import partial

from rich.text import Text
from textual.app import App, SystemCommand

from sptui.tui.actions import bindings, commands, in_scope, keymap_ids
from sptui.tui.i18n import Words, localise_bindings
from sptui.tui.live_policy import LivePolicy
from sptui.tui.palette import JumpProvider
from sptui.tui.screens.alarms import AlarmsScreen
from sptui.tui.screens.command import CommandModal
from sptui.tui.screens.handover import HandoverScreen
from sptui.tui.screens.keys import KeysScreen
from sptui.tui.screens.overview import OverviewScreen
from sptui.tui.screens.policy import PolicyScreen
from sptui.tui.screens.queue import QueueScreen
from sptui.tui.screens.registry import RegistryScreen
from sptui.tui.screens.triage import TriageScreen
from sptui.tui.text import markup, safe
from sptui.tui.textual_compat import Guarded, LastStop

log = logging.getLogger("sptui.desk")

REPEAT_SECONDS = 10.0  # an unexpected failure repeating within this (a timer, a redraw) is said once
SCREENS = {"alarms": AlarmsScreen, "registry": RegistryScreen, "policy": PolicyScreen,  # what `:name` opens
           "overview": OverviewScreen, "handover": HandoverScreen}


class DeskApp(Guarded, LastStop, App):
    TITLE = "sptui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {JumpProvider}
    BINDINGS = bindings("app")

    def __init__(self, store, policy=None, *, policy_loader=None, policy_path: str | None = None, lang: str = "en",
                 operator: str = "unknown", read_only: bool = False, theme: str | None = None):
        """`policy`, or `policy_loader` to load it after the first paint (a cold start shows the queue sooner;
        an action that needs the policy waits for it). `policy_path`: the policy's files, for the Policy screen
        (by default the policy sptui ships)."""
        super().__init__()
        self.store = store
        if policy_path is None:
            from sptui.config import shipped_policy_dir

            policy_path = shipped_policy_dir()
        self.policy_path = policy_path
        self.words = Words(lang)
        self.live = LivePolicy(policy, policy_loader, policy_path, self.words, self._say)
        localise_bindings(self, self.words)
        self.operator, self.read_only = operator, read_only
        self._theme_asked = theme  # --theme; else the config file's, else Textual's default
        self._failures: dict[str, float] = {}  # an unexpected failure's text → when it was last said
        self._triage: TriageScreen | None = None  # kept to be shown again (see triage)
        self.keymap: dict[str, str] = {}  # binding id → key(s), from the keymap file (load_keymap)
        self._localised: weakref.WeakSet = weakref.WeakSet()  # nodes whose keys are worded in the desk's language
        self.filter_history: list[str] = []  # the queue's filters, oldest first, for this session (widgets/history.py)

    def get_driver_class(self):
        """Textual's choice of driver, but in a browser session (`sptui serve`) the one whose input waits for the
        desk (web_driver.py: a flooding browser is held back, the desk does not grow)."""
        from textual.drivers.web_driver import WebDriver

        chosen = super().get_driver_class()
        if chosen is WebDriver:
            from sptui.tui.web_driver import DeskWebDriver

            return DeskWebDriver
        return chosen

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's screenshot. In a browser, Textual's (a download). In a terminal, the SVG is written by
        sptui.files.write_file into `path` (default: the downloads folder, as Textual's): atomically, never through
        a symbolic link nor over an existing file; where it went, or why not, is said on screen."""
        if self.is_web:
            return super().deliver_screenshot(filename, path, time_format)
        import datetime as dt
        from pathlib import Path

        from platformdirs import user_downloads_path

        from sptui.files import FileProblem, write_file

        name = filename or f"sptui_{dt.datetime.now():%Y-%m-%dT%H_%M_%S_%f}.svg"
        target = Path(path or user_downloads_path()).expanduser() / name
        try:
            write_file(target, self.export_screenshot(), replace=False)
        except FileProblem as e:
            self._say(str(e), "error", 10)
            return None
        self._say(str(target), "information", 5)
        return None

    def on_mount(self) -> None:
        self.load_keymap()
        self.title = self.words("title")
        self.push_screen(QueueScreen())

    # -- the policy -------------------------------------------------------------------------------------------
    @property
    def policy(self):
        """The compiled policy (waiting for it, if it is still loading); PolicyUnavailable if it failed."""
        return self.live.current

    def start_policy(self) -> None:
        self.live.start()

    def variant_title(self, name: str) -> str:
        return self.live.variant_title(name)

    # -- messages and failures --------------------------------------------------------------------------------
    def get_css_variables(self) -> dict[str, str]:
        """The cursors of lists and tables (reversed where the focus is, underlined elsewhere, as the queue's) and
        an input's text cursor (reversed) are seen without colour: NO_COLOR removes a background colour, and 16
        colours may lose a faint one."""
        variables = super().get_css_variables()
        variables.update({"block-cursor-text-style": "bold reverse", "block-cursor-blurred-text-style": "underline",
                          "input-cursor-text-style": "reverse"})
        return variables

    def notify(self, message: str, *, title: str = "", severity: str = "information", **kw) -> None:
        """Every message on screen: plain text (never markup, whoever calls: a message often quotes the data), its
        control characters shown escaped. A warning or an error says so in words (its title), not only by the
        colour of its border."""
        if not title and severity in ("warning", "error"):
            title = self.words(severity)
        kw["markup"] = False
        super().notify(safe(message, lines=True), title=safe(title), severity=severity, **kw)

    def _say(self, text: str, severity: str, timeout: float) -> None:
        self.notify(text, severity=severity, markup=False, timeout=timeout)

    def report_failure(self, error: BaseException, where=None) -> None:
        """An exception nothing else caught: a message on screen (severity error, the text as it is, no markup) and
        a log line with its traceback. The same failure again within REPEAT_SECONDS (a timer, a redraw) is said once."""
        original = getattr(error, "error", None)  # a worker's failure (WorkerFailed) carries the real one
        if isinstance(original, BaseException):
            error = original
        text = safe(f"{type(error).__name__}: {error}")
        at = time.monotonic()
        last, self._failures[text] = self._failures.get(text), at
        if last is not None and at - last < REPEAT_SECONDS:
            return
        place = f" in {type(where).__name__}" if where is not None else ""
        log.error("unexpected failure%s: %s", place, text, exc_info=(type(error), error, error.__traceback__))
        self.notify(self.words("unexpected", error=text), severity="error", markup=False, timeout=20)

    def unhandled(self, error: Exception) -> None:
        """What reached Textual's last stop (a timer, a worker, a widget's compose or layout: textual_compat.LastStop);
        Textual's own ends the app and prints the traceback. While the desk runs, the failure is reported and the
        desk runs on; while it closes, it is logged; if it fails to start, it ends with one line."""
        closing = self.return_code is not None  # (exit was asked for)
        if self.is_running and not closing:
            self.report_failure(error)
            return
        if closing:  # a worker that outlived the screen it reported to: the log's business
            log.warning("while closing: %s: %s", type(error).__name__, error, exc_info=error)
            return
        log.error("sptui desk failed: %s: %s", type(error).__name__, error, exc_info=error)
        self.exit(return_code=1, message=Text(safe(f"sptui: {type(error).__name__}: {error}")))

    # -- screens and commands ---------------------------------------------------------------------------------
    def get_system_commands(self, screen):
        """The palette's commands: Textual's own, the `:` commands that open a screen, and on a triage the
        record's actions (each with its key)."""
        w = self.words
        for c in super().get_system_commands(screen):  # Textual's own, in the desk's language
            yield SystemCommand(w.textual(c.title), w.textual(c.help), c.callback, c.discover)
        lang = w.lang
        for a in in_scope("command"):
            if a.palette:
                yield SystemCommand(f":{a.names[0]}", markup(a.text(lang)), partial(self.run_command, a.names[0]))
        if isinstance(screen, TriageScreen):
            for a in in_scope("triage"):
                if a.palette:
                    yield SystemCommand(markup(a.text(lang)), markup(self.key_of(a)),
                                        partial(screen.run_action, a.binding().action))

    def action_command_palette(self) -> None:
        """The palette, its search box worded in the desk's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette",
                                            placeholder=self.words.textual("Search for commands…")))

    def search_themes(self) -> None:
        """The palette's "Change theme": its search box in the desk's language."""
        from textual.command import CommandPalette
        from textual.theme import ThemeProvider

        self.push_screen(CommandPalette(providers=[ThemeProvider], placeholder=self.words.textual("Search for themes…")))

    def on_descendant_focus(self, event) -> None:
        """The keys of whatever takes the focus (Textual's own widgets too: an Input's, a table's), as F1 shows
        them, in the desk's language: each node's descriptions rewritten once."""
        if self.words.lang == "en":
            return
        for node in event.widget.ancestors_with_self:
            if node not in self._localised:
                self._localised.add(node)
                localise_bindings(node, self.words)
                title = getattr(node, "BINDING_GROUP_TITLE", None)  # (F1's heading for an Input's keys)
                if title:
                    node.BINDING_GROUP_TITLE = self.words.textual(title)

    def open_record(self, kind: str, rid: int) -> None:
        self.push_screen(self.triage(kind, rid))

    def triage(self, kind: str, rid: int) -> TriageScreen:
        """The triage screen showing a record, to push. One screen is kept (installed) and shown again with the
        next record: composing and mounting its widgets anew was a third of the time to open an incident. A
        new one when that one is on the stack already (a jump from it to another record)."""
        screen = self._triage
        if screen is None:
            screen = self._triage = TriageScreen(kind, rid)
            self.install_screen(screen, "triage")
        elif screen in self.screen_stack:
            screen = TriageScreen(kind, rid)
        else:
            screen.show(kind, rid)
        return screen

    def open_clause(self, cid: str) -> None:
        screen = PolicyScreen()
        self.push_screen(screen, callback=None)
        self.call_after_refresh(screen.show_clause, cid)

    def action_keys(self) -> None:
        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen())

    def action_command_mode(self) -> None:
        self.push_screen(CommandModal(), self.run_command)

    def run_command(self, text: str | None) -> None:
        """A `:` command by any of its names (actions.commands())."""
        if not text:
            return
        action = commands().get(text)
        target = action.run if action is not None else None
        if target == "quit":
            self.after_edits(self.exit)
        elif target == "queue":
            self.after_edits(self._to_queue)
        elif target in SCREENS:
            self.push_screen(SCREENS[target]())
        else:
            known = ", ".join(f":{c}" for c in sorted(commands()))
            self.notify(self.words("unknown_command", command=text, known=known), severity="warning", markup=False)

    def _to_queue(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def after_edits(self, then) -> None:
        """Do `then` (quit, back to the queue) once no policy edit on the way would be lost: an edit not saved is
        saved or discarded first, as the operator answers (or `then` is not done: stay)."""
        editing = next((s for s in reversed(self.screen_stack) if isinstance(s, PolicyScreen) and s.dirty), None)
        if editing is None:
            then()
        else:
            editing.leave(lambda: self.after_edits(then))

    async def action_quit(self) -> None:
        self.after_edits(self.exit)

    # -- keys and theme ---------------------------------------------------------------------------------------
    def load_keymap(self) -> None:
        """Keys remapped by binding id from a TOML file: $SPTUI_KEYMAP, else keymap.toml in the user's config
        folder. `[keymap]` then `"triage.claim" = "C"`; a top-level `theme = "nord"` picks the desk's theme
        (`--theme` wins). A bad file, an unknown id or theme is a message, not a crash."""
        path, config = self._read_config()
        self.use_theme(self._theme_asked or config.get("theme"), path if not self._theme_asked else "--theme")
        if not config.get("keymap"):
            return
        try:
            keymap = config["keymap"]
            if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
                raise ValueError('[keymap] maps binding ids to keys: "triage.claim" = "C"')
            unknown = sorted(set(keymap) - keymap_ids())
            if unknown:
                raise ValueError(f"unknown binding id(s) {', '.join(unknown)}; the ids are listed by `?`")
        except ValueError as e:
            self.notify(self.words("keymap_error", path=path, error=e), severity="error", markup=False, timeout=20)
            return
        self.keymap = dict(keymap)
        self.set_keymap(keymap)

    def _read_config(self):
        """(the keymap file's path, what it holds: {} if there is none or it cannot be read, which is said)."""
        import os
        import tomllib
        from pathlib import Path

        from platformdirs import user_config_dir

        path = Path(os.environ.get("SPTUI_KEYMAP") or Path(user_config_dir("sptui")) / "keymap.toml")
        if not path.is_file():
            return path, {}
        try:
            return path, tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # tomllib.TOMLDecodeError is a ValueError
            self.notify(self.words("keymap_error", path=path, error=e), severity="error", markup=False, timeout=20)
            return path, {}

    def key_of(self, action) -> str:
        """The key an action (or a binding) answers to, as the keymap file writes it: the keymap's, else its own."""
        return self.keymap.get(action.id or "", action.key)

    def use_theme(self, name, where) -> None:
        """The desk's theme by name (Textual's themes: textual-dark, nord, gruvbox, …); an unknown one is a message."""
        if name is None:
            return
        if not isinstance(name, str) or name not in self.available_themes:
            self.notify(self.words("theme_error", where=where, name=name, names=", ".join(sorted(self.available_themes))),
                        severity="error", markup=False, timeout=20)
            return
        self.theme = name

