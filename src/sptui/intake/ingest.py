"""One alarm mail into the store, whatever brought it (SMTP, a file, a maildir, a plugin's source).

Parsed and matched: stored as an alarm, routed by the policy (or found to be a duplicate). Not parsed or
not matched: quarantined with the reason. Nothing is dropped; a fault of the store itself propagates, so
the source can answer "try again" (SMTP 451) instead of losing the mail.
"""
from __future__ import annotations

import datetime as dt

from sptui.intake.esmpro import AlarmParseError, parse_alarm_mail
from sptui.store.alarms import Stored

MAX_PARSE = 1_000_000  # bytes: a larger mail is no ESMPRO alarm; it is quarantined unparsed


def _headers(raw: bytes) -> tuple[str | None, str | None]:
    """Message-ID and sender of a mail that could not be parsed, as far as they can be read."""
    import email
    import email.policy

    try:
        msg = email.message_from_bytes(raw[:65536], policy=email.policy.compat32)
        mid = (msg.get("Message-ID") or "").strip().strip("<>") or None
        sender = email.utils.parseaddr(msg.get("From") or "")[1] or None
        return (mid[:400] if mid else None), (sender[:400] if sender else None)
    except Exception:  # headers are a courtesy here; the raw bytes are what is kept
        return None, None


def parse(raw: bytes):
    """The AlarmMail, or the AlarmParseError (with the Message-ID and sender as far as they can be read)."""
    try:
        return parse_alarm_mail(raw, max_size=MAX_PARSE)
    except AlarmParseError as e:
        e.message_id, e.sender = _headers(raw)
        return e


def ingest(store, policy, raw: bytes, *, via: str, received_at: dt.datetime) -> Stored:
    """One mail, in its own transaction."""
    [stored] = store.ingest_batch(policy, [(raw, parse(raw), via, received_at)])
    return stored
