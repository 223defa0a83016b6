"""Alarm sources beside SMTP: what a plugin's `AlarmSource.open` gives, and the loop that stores it.

A source is opened with a location (a folder, a URL: the source says) and yields `IncomingMail`s. The
host stores each mail (or quarantines it) in its own transaction, then calls the mail's `done()`, so a
source removes or marks a mail only once it is safe in the store. A mail whose storing failed is not
`done`: it stays where it was, for the next run. Duplicates (the same Message-ID, or the same machine,
event and time) are stored once, so a source that yields a mail again after a crash loses nothing and
doubles nothing.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

import attrs

from sptui.plugins.sources import IncomingMail

if TYPE_CHECKING:
    from sptui.store import Stored

log = logging.getLogger("sptui.intake")


@attrs.frozen
class Delivery:
    """What became of one mail of a source: the store's answer (`stored`), or, when the store failed, the `error`
    (the mail stays with the source, for another run)."""
    mail: IncomingMail
    stored: Stored | None = None
    error: str | None = None

    @property
    def via(self) -> str:
        return self.mail.via

    @property
    def kind(self) -> str:
        """stored, duplicate, quarantined (Stored.kind) or not-stored."""
        return self.stored.kind if self.stored is not None else "not-stored"

    def words(self) -> str:
        """`VIA: stored alarm 5`, `VIA: quarantined Q3 (reason)` (then the mail's note, if any), or `VIA: not
        stored, left for a retry: ERROR`."""
        if self.stored is None:
            return f"{self.via}: not stored, left for a retry: {self.error}"
        return f"{self.via}: {self.kind} {self.stored.ref()}" + (f"; {self.mail.note}" if self.mail.note else "")


def _short(e: Exception) -> str:
    """An error on one line: a database error's own first line, without the statement and its parameters."""
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    return f"{type(getattr(e, 'orig', None) or e).__name__}: {text[0] if text else ''}"


def _log_failure(d: Delivery) -> None:
    if d.stored is None:
        log.warning("%s", d.words())


def run_source(mails: Iterable[IncomingMail], store, policy, report: Callable[[Delivery], Any] = _log_failure,
               *, backoff: bool = False, sleep: Callable[[float], Any] = time.sleep) -> dict[str, int]:
    """Store every mail the source yields; `report` hears each delivery (by default a failure is logged).
    Returns the counts by kind. A mail that could not be stored is reported `not-stored` and left to the
    source (its `done` is not called); the loop goes on with the next. With `backoff` (a source that
    follows), each failure in a row waits longer before the next mail: 1 s, 2 s, 4 s … up to a minute.
    Every intake but SMTP comes here: files, maildirs, a plugin's source."""
    from sptui.intake.ingest import ingest  # (a plugin imports this module: the store loads only when used)

    counts = {"stored": 0, "duplicate": 0, "quarantined": 0, "not-stored": 0}
    failures = 0
    for mail in mails:
        if not isinstance(mail, IncomingMail):
            raise TypeError(f"an alarm source must yield IncomingMail, not {type(mail).__name__}")
        try:
            d = Delivery(mail, ingest(store, policy, mail.raw, via=mail.via, received_at=mail.received_at))
        except Exception as e:  # the store's fault: the mail stays with the source, for another run
            d = Delivery(mail, error=_short(e))
            failures += 1
            counts[d.kind] += 1
            report(d)
            if backoff:
                sleep(min(60.0, 2.0 ** (failures - 1)))
            continue
        failures = 0
        try:
            mail.done()
        except Exception as e:  # stored; the source could not mark it: it may come again (a duplicate then)
            log.warning("%s: stored, but the source could not mark it done: %s: %s", mail.via, type(e).__name__, e)
        counts[d.kind] += 1
        report(d)
    return counts
