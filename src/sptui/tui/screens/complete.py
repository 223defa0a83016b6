"""`f` on a dispatched incident: when its work really ended, as the technician reports it (hours after the
dispatch). The fee shown while the time is typed — before → after — is the decision the store keeps
(sptui.desk.complete, through quote_dispatch); a refusal (a conflict, a time before the departure or in the future)
is said in the dialog, the time typed kept."""
from __future__ import annotations

import logging
from typing import Any, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from sptui.desk import Work
from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.screens.dispatch import parse_time
from sptui.tui.text import safe, when
from sptui.tui.textual_compat import Guarded

log = logging.getLogger("sptui.desk")


class CompleteModal(Guarded, LocalBindings, ModalScreen[Any]):
    """`quote(incident, work)` is the desk's DispatchQuote for the dispatch's work ending at the time typed;
    `submit(incident, at)` keeps it with the incident's version (raising what refuses it); after a conflict the
    incident is read again (`reload()`), said, and the next press uses it. Closes with the result once stored."""

    BINDINGS = bindings("complete")

    def __init__(self, incident: dict, dispatch: dict, quote: Callable[[dict, Work], Any],
                 submit: Callable[[dict, Any], Any], reload: Callable[[], dict] | None = None) -> None:
        super().__init__()
        self.incident, self.dispatch, self.quote, self.submit = incident, dispatch, quote, submit
        self.reload = reload
        self._done = False

    def compose(self) -> ComposeResult:
        w, d = self.app.words, self.dispatch
        with Vertical(id="dialog"):
            yield Label(Text(w("complete_title", id=self.incident["id"]), style="bold"), id="title")
            yield Static(Text(safe(w("complete_dispatch", technician=d["technician"], departed=when(d["departed_at"]),
                                     planned=when(d["completed_at"]), fee=self.fee_words(d["fee"], d["billing"],
                                                                                        d["completed_at"] is not None)))),
                         id="dispatch")
            with Horizontal(classes="row"):
                yield Label(Text(w("completed_at")))
                yield Input(value=data.now().strftime("%Y-%m-%d %H:%M"), id="completed", compact=True)
            yield Static("", id="fee")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button(w("record_completion"), id="ok", variant="primary", compact=True)
                yield Button(w("back"), id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#completed", Input).focus()
        self.show_quote()

    def fee_words(self, fee: dict | None, billing: str | None, known: bool) -> str:
        w = self.app.words
        if fee is not None:
            return f"{fee['total_jpy']:,}円"
        if billing == "fee" and not known:
            return w("fee_not_known")
        return w("billing_quote") if billing == "quote-needed" else w("billing_none")

    def work(self) -> Work:
        text = self.query_one("#completed", Input).value.strip()
        try:
            at = parse_time(text)
        except ValueError:
            raise ValueError(self.app.words("bad_time_in", field=self.app.words("completed_at"), text=text)) from None
        if at <= self.dispatch["departed_at"]:
            raise ValueError(self.app.words("completion_before_departure", at=when(at),
                                            departed=when(self.dispatch["departed_at"])))
        return Work(self.dispatch["departed_at"], at, self.dispatch["technicians"])

    @on(Input.Changed)
    def _changed(self) -> None:
        self.query_one("#error", Static).update("")  # (the last refusal was of another time)
        self.show_quote()

    def show_quote(self) -> None:
        """The fee before → the fee of the work ending at the time typed (the decision that is stored)."""
        w, d = self.app.words, self.dispatch
        try:
            q = self.quote(self.incident, self.work())
        except Exception as e:  # noqa: BLE001 - a time it cannot read, before the departure, no policy: said here
            line = Text(safe(str(e)), style="red")
        else:
            before = self.fee_words(d["fee"], d["billing"], d["completed_at"] is not None)
            after = self.fee_words(q.fee.to_json() if q.fee is not None else None, q.billing, True)
            line = Text(safe(w("fee_change", before=before, after=after)), style="bold")
            line.append("\n" + safe(q.describe(w.lang)))
        self.query_one("#fee", Static).update(line)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_record()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_record()

    def action_record(self) -> None:
        from sptui.store.db import ConflictError, StoreError

        if self._done:
            return
        try:
            result = self.submit(self.incident, self.work().completed_at)
        except ConflictError as e:  # another desk changed it: read again; the next press is sent as it is now
            log.warning("completion of incident %s refused: %s", self.incident["id"], e)
            text = str(e)
            if self.reload is not None:
                self.incident = self.reload()
                text += "\n" + self.app.words("read_again")
            self.query_one("#error", Static).update(Text(safe(text)))
        except (StoreError, ValueError) as e:  # refused: said here, the time typed stays
            log.warning("completion of incident %s refused: %s", self.incident["id"], e)
            self.query_one("#error", Static).update(Text(safe(str(e))))
        except Exception as e:  # noqa: BLE001 - the database failed: said, logged
            log.exception("completion of incident %s failed", self.incident["id"])
            self.query_one("#error", Static).update(Text(safe(f"{type(e).__name__}: {e}")))
        else:
            self._done = True
            self.dismiss(result)

    def action_cancel(self) -> None:
        if not self._done:
            self._done = True
            self.dismiss(None)
