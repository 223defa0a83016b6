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
from typing import Any, Callable, Iterable

import attrs

from sptui.plugins.sources import IncomingMail

log = logging.getLogger("sptui.intake")


@attrs.frozen
class Outcome:
    via: str
    kind: str  # stored, duplicate, quarantined, not-stored
    id: int | None = None
    reason: str | None = None
    error: str | None = None


def _short(e: Exception) -> str:
    """An error on one line: a database error's own first line, without the statement and its parameters."""
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    return f"{type(getattr(e, 'orig', None) or e).__name__}: {text[0] if text else ''}"


def _log_outcome(o: Outcome) -> None:
    if o.kind == "not-stored":
        log.warning("%s: not stored, left for a retry: %s", o.via, o.error)


def run_source(mails: Iterable[IncomingMail], store, policy, report: Callable[[Outcome], Any] = _log_outcome,
               *, backoff: bool = False, sleep: Callable[[float], Any] = time.sleep) -> dict[str, int]:
    """Store every mail the source yields; `report` hears each outcome (by default a failure is logged).
    Returns the counts by kind. A mail that could not be stored is reported `not-stored` and left to the
    source (its `done` is not called); the loop goes on with the next. With `backoff` (a source that
    follows), each failure in a row waits longer before the next mail: 1 s, 2 s, 4 s … up to a minute."""
    from sptui.intake.ingest import ingest

    counts = {"stored": 0, "duplicate": 0, "quarantined": 0, "not-stored": 0}
    failures = 0
    for mail in mails:
        if not isinstance(mail, IncomingMail):
            raise TypeError(f"an alarm source must yield IncomingMail, not {type(mail).__name__}")
        try:
            r = ingest(store, policy, mail.raw, via=mail.via, received_at=mail.received_at)
        except Exception as e:  # the store's fault: the mail stays with the source, for another run
            o = Outcome(mail.via, "not-stored", error=_short(e))
            failures += 1
            counts[o.kind] += 1
            report(o)
            if backoff:
                sleep(min(60.0, 2.0 ** (failures - 1)))
            continue
        failures = 0
        o = Outcome(mail.via, "quarantined" if r.reason else r.outcome, r.id, r.reason)
        try:
            mail.done()
        except Exception as e:  # stored; the source could not mark it: it may come again (a duplicate then)
            log.warning("%s: stored, but the source could not mark it done: %s: %s", mail.via, type(e).__name__, e)
        counts[o.kind] += 1
        report(o)
    return counts
