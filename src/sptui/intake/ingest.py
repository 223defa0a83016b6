"""One alarm mail into the store, whatever brought it (SMTP, a file, a maildir, a plugin's source).

Parsed and matched: routed by the policy and stored as an alarm (or found to be a duplicate), by the desk
(sptui.desk.alarms.file_mails). Not parsed or not matched: quarantined with the reason. Nothing is dropped; a fault of the store itself propagates, so
the source can answer "try again" (SMTP 451) instead of losing the mail.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError

from sptui.desk.alarms import file_mails
from sptui.intake.esmpro import AlarmParseError, envelope, parse_alarm_mail
from sptui.store import Stored

log = logging.getLogger("sptui.intake")

MAX_PARSE = 1_000_000  # bytes: a larger mail is no ESMPRO alarm; it is quarantined unparsed
TRANSIENT = (OperationalError, InterfaceError, SATimeoutError)  # the store's faults that a retry may not meet
# seconds an intake waits for another's lock on the store (a desk's open transaction, a LOCK TABLE) before it gives
# the mail back (SMTP 451; a file or maildir mail stays for the next run): a sender is never left hanging
LOCK_WAIT = 5.0


def parse(raw: bytes):
    """The AlarmMail, or the AlarmParseError (with the Message-ID and sender as far as they can be read)."""
    try:
        return parse_alarm_mail(raw, max_size=MAX_PARSE)
    except AlarmParseError as e:
        e.message_id, e.sender = envelope(raw)
        return e
    except Exception as e:  # a parser bug must not lose the mail: it is quarantined with what went wrong
        log.exception("the alarm parser failed")
        err = AlarmParseError("parse-error", f"the parser failed: {type(e).__name__}: {e}")
        err.message_id, err.sender = envelope(raw)
        return err


def ingest(store, policy, raw: bytes, *, via: str, received_at: dt.datetime) -> Stored:
    """One mail, in its own transaction."""
    return store_one(store, policy, raw, parse(raw), via, received_at)


def store_one(store, policy, raw: bytes, mail, via: str, received_at: dt.datetime) -> Stored:
    """One parsed mail in its own transaction. A transient fault of the store (TRANSIENT) propagates, so the
    source can retry. Any other failure would fail again on every retry: the mail is quarantined with the
    error instead (`store-error`), and only if even that fails does the error propagate."""
    try:
        [stored] = file_mails(store, policy, [(raw, mail, via, received_at)])
        return stored
    except TRANSIENT:
        raise
    except Exception as e:
        log.exception("a mail the store refused is quarantined")
        return store.quarantine.keep(raw, reason="store-error", message=f"{type(e).__name__}: {e}", via=via,
                                     received_at=received_at, message_id=getattr(mail, "message_id", None),
                                     sender=getattr(mail, "sender", None))
