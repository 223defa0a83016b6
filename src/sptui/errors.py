"""Every exception sptui raises on purpose: one tree, rooted at SptuiError.

::

    SptuiError
     ├── CaseError (ValueError)        bad case input: `.field` names it (`pack.purchased_on`), `.message` says why
     ├── LiteralError (ValueError)     a policy literal that is not a value (2026-02-30, 25:00): `.hint`
     ├── FileProblem (ValueError)      a file that cannot be read as text (sptui.files): `.name`, `.reason`
     ├── PolicyError                   the policy has errors: `.diagnostics` (every one), `.sources`
     ├── FeeError (ValueError)         a work the policy does not price, or times it does not accept
     ├── NeverOpen (ValueError)        service hours with no open minute in the time searched (names the hours)
     ├── StoreError                    something about the desk's store the operator must act on
     │    ├── OutdatedSchema           the database needs `sptui db upgrade`
     │    ├── ConflictError            another operator changed the record first: nothing was written
     │    └── BadRequest               an incomplete or wrong request: nothing was written (the CLI exits 2)
     └── IntakeError                   the alarm intake could not start or store (the SMTP sender retries)

`ValueError` stays among the bases where callers have always caught it. `except SptuiError` catches every
error sptui means to raise; anything else is a bug.
"""
from __future__ import annotations

import reprlib
from typing import Any


class SptuiError(Exception):
    """The root of every exception sptui raises on purpose."""


class CaseError(SptuiError, ValueError):
    """Bad input: names the field (`pack.purchased_on`) and what was expected."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class LiteralError(SptuiError, ValueError):
    """A literal that lexed but is not a valid value (2026-02-30, 25:00). `hint` says what fits."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class FileProblem(SptuiError, ValueError):
    """A file that cannot be read as text: `reason` says why (no such file, not a regular file, too large,
    not UTF-8 at byte N); str() is `NAME: reason`."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class NeverOpen(SptuiError, ValueError):
    """Service hours that open no minute in the time searched (a calendar that closes every day they have): the
    message names the hours (variant, support kind, file:line)."""


class PolicyError(SptuiError):
    """The policy has errors; `diagnostics` lists all of them, `sources` the text to show them in."""

    def __init__(self, diagnostics: list, sources: dict[str, str]):
        self.diagnostics = diagnostics
        self.sources = sources
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0] if errors else diagnostics[0]
        super().__init__(f"{len(errors)} error(s) in the policy; first: {first.span}: {first.message}")


class FeeError(SptuiError, ValueError):
    """A fee that cannot be quoted: a work the policy does not price, or times it does not accept."""


class StoreError(SptuiError):
    """Something about the store the operator must act on; the message says what."""


class OutdatedSchema(StoreError):
    """The database's schema is older than this sptui: `sptui db upgrade`."""


class ConflictError(StoreError):
    """Another operator changed the record first (optimistic concurrency): nothing was written."""


class BadRequest(StoreError):
    """A request that is incomplete or wrong: the message says what to give (the CLI exits 2). Nothing was written."""


class IntakeError(SptuiError):
    """The alarm intake could not start (a broken policy, a store it cannot open) or store a mail."""


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN.maxlong = 60
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 2, 4, 4


def shown(value: Any) -> str:
    """A value as an error message quotes it: its repr (control characters and lone surrogates escaped),
    cut short (a value of megabytes, or nested a thousand deep, is quoted in a line)."""
    return _SHOWN.repr(value)


__all__ = ["SptuiError", "CaseError", "LiteralError", "FileProblem", "NeverOpen", "PolicyError", "FeeError", "StoreError",
           "OutdatedSchema", "ConflictError", "BadRequest", "IntakeError", "shown"]
