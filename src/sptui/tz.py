"""Time at sptui's boundaries: Japan time, the one reader of an instant a user gives, and its ISO form.

Every instant sptui takes or shows is an aware datetime in Asia/Tokyo. An instant a user gives (a case's
field, a CLI option, a time typed at the desk) is read here and nowhere else: ISO 8601 with an offset, in the
years sptui accepts (YEARS); a naive date-time is an error, except where the desk reads what an operator
types (`local=True`: `2026-05-06 10:00` is Japan time).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from sptui.errors import CaseError, shown

TOKYO = ZoneInfo("Asia/Tokyo")
# the years of the instants and dates sptui accepts from a user (a case, a CLI option, a policy's date-times), as
# written: wide enough for any contract, narrow enough that every computation on them stays inside Python's calendar
# (years 1-9999) and Japan time is +09:00 (Asia/Tokyo is local mean time before 1888)
YEARS = (1900, 2999)


def now() -> dt.datetime:
    """The current instant, in Japan time."""
    return dt.datetime.now(TOKYO)


def parse_instant(value: Any, field: str, *, local: bool = False) -> dt.datetime:
    """An instant a user gives, as an aware datetime in Asia/Tokyo; CaseError naming `field` otherwise.

    ISO 8601 with an offset (`2026-11-27T17:00+09:00`, `…Z`), in the years YEARS. With `local` (what an operator
    types at the desk): full-width digits and `/` are read too, and a date-time without an offset is Japan time."""
    expected = "a date-time like 2026-11-27 17:00" if local else "an ISO 8601 date-time with an offset"
    if not isinstance(value, str):
        raise CaseError(field, f"expected {expected}, got {shown(value)}")
    text = unicodedata.normalize("NFKC", value).strip().replace("/", "-") if local else value
    try:
        t = dt.datetime.fromisoformat(text)  # Python 3.11 reads every ISO 8601 form, Z included
    except ValueError:
        raise CaseError(field, f"expected {expected}, got {shown(value)}") from None
    if local and t.tzinfo is None:
        t = t.replace(tzinfo=TOKYO)
    return require_aware(t, field)


def parse_day(value: Any, field: str) -> dt.date:
    """A date a user gives: YYYY-MM-DD in the years YEARS; CaseError naming `field` otherwise."""
    if not isinstance(value, str):
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {shown(value)}")
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {shown(value)}") from None
    if not YEARS[0] <= d.year <= YEARS[1]:
        raise CaseError(field, f"{shown(value)} is outside the years {YEARS[0]}–{YEARS[1]} that sptui accepts")
    return d


def require_aware(t: dt.datetime, field: str) -> dt.datetime:
    """An instant given as a datetime, checked as parse_instant checks it (aware, in YEARS), in Asia/Tokyo;
    CaseError naming `field` otherwise."""
    if not isinstance(t, dt.datetime):
        raise CaseError(field, f"expected a date-time, got {shown(t)}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise CaseError(field, f"{shown(t.isoformat())} is a naive date-time; give its offset (+09:00 for Japan time)")
    if not YEARS[0] <= t.year <= YEARS[1]:
        raise CaseError(field, f"{shown(t.isoformat())} is outside the years {YEARS[0]}–{YEARS[1]} that sptui accepts")
    return t.astimezone(TOKYO)


def iso(t: dt.datetime | None) -> str | None:
    """An instant as sptui writes it: ISO 8601 in Japan time (None stays None)."""
    if t is None:
        return None
    return t.astimezone(TOKYO).isoformat()


__all__ = ["TOKYO", "YEARS", "now", "parse_instant", "parse_day", "require_aware", "iso"]
