"""The desk's input in a browser session (`sptui serve`): read only as fast as the desk handles it.

Textual's WebDriver reads the session's input (keys, mouse, pastes, from textual-serve's pipe) in a thread as fast
as it arrives and queues every event for the app: a browser sending keys faster than the desk handles them grows
the desk without bound. `DeskWebDriver` lets at most `WINDOW` events (a paste weighs one per `PASTE_UNIT`
characters) wait for the desk: past that, its input thread stops reading until the desk has handled earlier ones.
The pipe then fills, textual-serve's write to it waits, and sptui.serve reads the websocket no further: the
browser is held back, and nothing grows. Only public names of Textual.
"""
from __future__ import annotations

import threading

from textual import events
from textual.drivers.web_driver import WebDriver

BATCH = 64  # events (weights) between two marks
MARKS = 8  # marks not yet reached before the input waits: WINDOW = BATCH × MARKS events at most wait for the desk
WINDOW = BATCH * MARKS
PASTE_UNIT = 256  # characters of a paste that weigh as one event


class DeskWebDriver(WebDriver):
    """WebDriver with a bounded window of input waiting for the desk."""

    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.desk = app
        self.room = threading.Semaphore(MARKS)
        self.weight = 0

    def process_message(self, message) -> None:  # (runs in the input thread: keys, mouse, pastes)
        super().process_message(message)
        self.count(1 + (len(message.text) // PASTE_UNIT if isinstance(message, events.Paste) else 0))

    def on_meta(self, packet_type: str, payload: dict) -> None:  # (the input thread too: resize, focus, blur…)
        super().on_meta(packet_type, payload)
        self.count(1)

    def count(self, weight: int) -> None:
        """`weight` more events on their way to the desk; past a batch, a mark, waiting while MARKS are not reached."""
        self.weight += weight
        if self.weight < BATCH:
            return
        self.weight = 0
        while not self.room.acquire(timeout=0.2):  # the desk has not reached the mark MARKS batches ago
            if self.exit_event.is_set():  # the desk is ending: its input no longer matters
                return
        self.send_message(events.Callback(callback=self._reached))

    def _reached(self) -> None:
        """In the desk: every event before the mark has left the app's queue. Events it forwarded to a widget (keys
        to the focused one) are handled once the widget reaches the same mark."""
        target = self.desk.focused or self.desk.screen
        if not target.call_later(self.room.release):
            self.room.release()
