"""The dispatch dialog: technician, times, the customer's consent; the fee shown while the times are typed is the
decision the store keeps (sptui.desk.quote_dispatch), and the dialog stays open, everything typed kept, until the
dispatch is stored: a refusal (no consent for billable work, an uncovered machine not confirmed, a conflict with
another operator) is shown in it. After a conflict the dialog reads the incident again and says what changed (its
status, owner, verdict, 相談 mark): the next press is sent with the version now read, and, when another operator
owns it now, the dialog offers to take it over first. Compact (one line a field) so that it fits 80×24 with its
buttons.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from sptui.desk import UNCOVERED, Consent, Work
from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import VALUES, LocalBindings
from sptui.tui.textual_compat import Guarded
from sptui.tz import parse_instant

log = logging.getLogger("sptui.desk")

FIELDS = (("technician", "technician"), ("departed", "departure"), ("completed", "completion"),
          ("technicians", "technicians"), ("late", "late_reason"), ("consent-by", "consent_by"),
          ("consent-via", "consent_via"), ("consent-at", "consent_at"))
VIA = {"phone": "phone", "mail": "mail", "電話": "phone", "メール": "mail", "tel": "phone", "email": "mail"}
# a late reason as typed, in either language → what the desk keeps (sptui.desk.LATE_REASONS)
LATE = {word.casefold(): reason for reason, pair in VALUES["late"].items() for word in (reason, *pair)}


class FormError(ValueError):
    """A field that cannot be read: `field` is its id."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_time(text: str) -> dt.datetime:
    """`YYYY-MM-DD HH:MM` (or ISO with an offset; full-width digits too) as an aware time in Asia/Tokyo, in the
    years sptui accepts (tz's reader of what an operator types); CaseError (a ValueError) otherwise."""
    return parse_instant(text, "time", local=True)


class DispatchModal(Guarded, LocalBindings, ModalScreen[Any]):
    """`d` on an incident. `quote(incident, work)` is the desk's DispatchQuote for the work typed; `submit(incident,
    form)` stores the dispatch with the incident's version (raising what refuses it); `reload()` reads the incident
    as it is now; `take_over(incident)` takes it from the operator who owns it. The dialog closes with its result
    only once the dispatch is stored."""

    BINDINGS = bindings("dispatch")

    def __init__(self, incident: dict, quote: Callable[[dict, Work], Any], submit: Callable[[dict, dict], Any],
                 reload: Callable[[], dict] | None = None, take_over: Callable[[dict], Any] | None = None) -> None:
        super().__init__()
        self.incident, self.quote, self.submit = incident, quote, submit
        self.reload, self.take_over = reload, take_over
        self._done = False  # debounced: a second press after the dispatch was stored does nothing
        self.uncovered = False

    def _verdict(self) -> str:
        """The verdict the dispatch will be decided with (the live policy's), else the stored one."""
        try:
            return self.quote(self.incident, Work(data.now())).verdict
        except Exception:  # noqa: BLE001 - no policy yet, or a case it cannot decide: the quote line says why
            return self.incident["verdict"]

    def compose(self) -> ComposeResult:
        w = self.app.words
        with Vertical(id="dialog"):
            yield Label("", id="title")
            yield Static("", id="warning")
            yield Checkbox(w("confirm_uncovered"), id="confirm", compact=True)
            for fid, word in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(Text(w(word)))
                    yield Input(value=self._default(fid), id=fid, compact=True)
            yield Static("", id="fee")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button(w("dispatch"), id="ok", variant="primary", compact=True)
                yield Button(w("back"), id="cancel", compact=True)
                yield Button(w("take_over_button"), id="take-over", compact=True)

    def show_incident(self) -> None:
        """The title, and the uncovered machine's warning and confirmation box, for the incident as read."""
        w = self.app.words
        verdict = self._verdict()
        self.uncovered = verdict in UNCOVERED
        self.query_one("#title", Label).update(Text(w("dispatch_title", id=self.incident["id"],
                                                      verdict=w.value("verdict", verdict)), style="bold"))
        self.query_one("#warning", Static).update(Text(w("uncovered_warning", verdict=w.value("verdict", verdict))))
        self.query_one("#warning").display = self.query_one("#confirm").display = self.uncovered
        self.query_one("#take-over").display = self._owned_elsewhere()

    def _owned_elsewhere(self) -> bool:
        owner = self.incident.get("owner")
        return self.take_over is not None and owner is not None and owner != self.app.operator

    @staticmethod
    def _default(fid: str) -> str:
        if fid in ("departed", "consent-at"):
            return data.now().strftime("%Y-%m-%d %H:%M")
        return "1" if fid == "technicians" else ""

    def on_mount(self) -> None:
        self.show_incident()
        self.query_one("#technician", Input).focus()
        self.show_quote()

    def value(self, fid: str) -> str:
        return self.query_one(f"#{fid}", Input).value.strip()

    def _time(self, fid: str) -> dt.datetime | None:
        text = self.value(fid)
        if not text:
            return None
        try:
            return parse_time(text)
        except ValueError:
            raise FormError(fid, self.app.words("bad_time_in", field=self.app.words(dict(FIELDS)[fid]),
                                                text=text)) from None

    def work(self) -> Work:
        departed = self._time("departed")
        if departed is None:
            raise FormError("departed", self.app.words("bad_time_in", field=self.app.words("departure"), text=""))
        technicians = self.value("technicians") or "1"
        if not technicians.isdigit() or int(technicians) < 1:
            raise FormError("technicians", self.app.words("bad_technicians", text=technicians))
        return Work(departed, self._time("completed"), int(technicians))

    def consent(self) -> Consent | None:
        by, via = self.value("consent-by"), self.value("consent-via")
        if not by and not via:
            return None
        if via.casefold() not in VIA:
            raise FormError("consent-via", self.app.words("bad_via", text=via))
        return Consent(by, VIA[via.casefold()], self._time("consent-at") or data.now())

    def form(self) -> dict:
        """What the operator typed, as sptui.desk.dispatch takes it (FormError, BadRequest: what cannot be read)."""
        confirmed = self.uncovered and self.query_one("#confirm", Checkbox).value
        if not self.value("technician"):
            raise FormError("technician", self.app.words("need_technician"))
        return {"technician": self.value("technician"), "work": self.work(), "late_reason": self.late(),
                "consent": self.consent(), "confirm_uncovered": confirmed}

    def late(self) -> str | None:
        """The late reason typed (in either language), as the desk keeps it."""
        text = self.value("late")
        if not text:
            return None
        if text.casefold() not in LATE:
            raise FormError("late", self.app.words("bad_late", text=text))
        return LATE[text.casefold()]

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.show_quote()

    def show_quote(self) -> None:
        """The decision's fee for the work typed so far, who pays, and what the dispatch still needs."""
        from sptui.tui.text import safe

        w = self.app.words
        text = Text()
        try:
            q = self.quote(self.incident, self.work())
        except FormError as e:
            text.append(safe(str(e)), style="red")
        except Exception as e:  # noqa: BLE001 - no policy, a case it cannot decide: said where the fee would be
            text.append(safe(str(e)), style="red")
        else:
            text.append(safe(q.describe(w.lang)), style="bold" if q.customer_pays else "")
            if q.customer_pays and not (self.value("consent-by") and self.value("consent-via")):
                text.append("\n" + w("consent_needed"), style="yellow")
            if q.fee is not None and q.fee.needs_quote:
                text.append("  " + w("needs_quote"), style="bold yellow")
        self.query_one("#fee", Static).update(text)

    def say(self, message: str, field: str | None = None) -> None:
        from sptui.tui.text import safe

        self.query_one("#error", Static).update(Text(safe(message)))
        if field is not None:
            self.query_one(f"#{field}", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_dispatch()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "take-over":
            self.action_take_over()
        else:
            self.action_dispatch()

    def action_dispatch(self) -> None:
        """Store the dispatch; a refusal is said here and everything typed stays."""
        from sptui.store.db import ConflictError, StoreError

        if self._done:
            return
        try:
            result = self.submit(self.incident, self.form())
        except FormError as e:
            self.say(str(e), e.field)
        except ConflictError as e:  # another desk changed it: read again, said, the next press uses what is read
            log.warning("dispatch of incident %s refused: %s", self.incident["id"], e)
            self.conflicted(str(e))
        except (StoreError, ValueError) as e:  # refused: a conflict, consent or confirmation missing, no policy
            log.warning("dispatch of incident %s refused: %s", self.incident["id"], e)
            self.say(str(e))
        except Exception as e:  # noqa: BLE001 - the database failed: said, logged, the dialog keeps its fields
            log.exception("dispatch of incident %s failed", self.incident["id"])
            self.say(f"{type(e).__name__}: {e}")
        else:
            self._done = True
            self.dismiss(result)

    def conflicted(self, refusal: str) -> None:
        """The incident changed under the dialog: read it again and say what changed; what was typed stays."""
        w = self.app.words
        if self.reload is None:
            self.say(refusal)
            return
        try:
            old, self.incident = self.incident, self.reload()
        except Exception as e:  # noqa: BLE001 - the database failed: the refusal and why it could not be read
            log.exception("reading incident %s again failed", self.incident["id"])
            self.say(f"{refusal}\n{type(e).__name__}: {e}")
            return
        self.show_incident()
        self.show_quote()
        changes = changed(old, self.incident, w)
        text = w("dispatch_reloaded", id=self.incident["id"], who=self.incident.get("updated_by") or "?",
                 changes=changes or w("nothing_shown_changed"))
        if self._owned_elsewhere():
            text += "\n" + w("dispatch_owned_elsewhere", owner=self.incident["owner"])
        elif self.incident["status"] == "closed":
            text += "\n" + w("dispatch_closed")
        else:
            text += "\n" + w("dispatch_again")
        self.say(text)

    def action_take_over(self) -> None:
        """Take the incident from the operator who owns it now (audited), then read it again: the next press
        dispatches."""
        from sptui.store.db import ConflictError, StoreError

        if self._done or not self._owned_elsewhere():
            return
        try:
            self.take_over(self.incident)
        except ConflictError as e:
            self.conflicted(str(e))
            return
        except (StoreError, ValueError) as e:
            self.say(str(e))
            return
        self.incident = self.reload()
        self.show_incident()
        self.show_quote()
        self.say(self.app.words("taken_over_dispatch"))
        self.query_one("#ok", Button).focus()

    def action_cancel(self) -> None:
        if not self._done:
            self._done = True
            self.dismiss(None)


def changed(old: dict, new: dict, w) -> str:
    """What another desk changed that the dialog shows or depends on: `status: claimed → dispatched, …`."""
    out = []
    for key, kind in (("status", "status"), ("owner", None), ("verdict", "verdict"), ("consult", None)):
        a, b = old.get(key), new.get(key)
        if a != b:
            word = (lambda v: w.value(kind, v)) if kind else (lambda v: "—" if v is None else str(v))
            out.append(f"{w(key)}: {word(a)} → {word(b)}")
    return ", ".join(out)
