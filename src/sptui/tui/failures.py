"""What becomes of an exception nothing else caught: a message on screen and a log line, never a traceback.

Textual ends a node's message loop when one of its handlers raises (and with the app's loop, the app), then
prints the traceback on the terminal (App._handle_exception). The desk's own nodes (the app, its screens and
widgets) carry `Guarded`: a failing key action, message handler or mount is reported by the app
(`DeskApp.report_failure`) and the node keeps handling messages. Whatever else reaches Textual's last stop (a
timer, a worker, a widget's compose or layout) is reported by `DeskApp._handle_exception`, and the app runs on.
"""
from __future__ import annotations


class Guarded:
    """Mixed into the desk's app, screens and widgets: an exception from one of their handlers is reported by the
    app, and the node goes on handling messages."""

    async def _dispatch_message(self, message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:  # noqa: BLE001 - said and logged; the node stays alive
            report = getattr(self.app, "report_failure", None)
            if report is None:  # outside the desk's app (a widget under test): Textual's own way
                raise
            report(error, where=self)
