"""Alarm sources beside SMTP: what a plugin registers (`AlarmSource`) and what its `open` yields (`IncomingMail`).

The host (sptui.intake.source.run_source) stores each mail, or quarantines it, then calls its `done()`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import attrs


def _nothing() -> None:
    return None


def _aware(instance, attribute, value) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be an aware datetime (Asia/Tokyo), got {value!r}")


@attrs.frozen
class IncomingMail:
    """One alarm mail from a source: its bytes, when it arrived, where it came from (`via`, shown on the
    desk and kept with the alarm), what to do once it is stored (`done`), and a `note` on its receipt time
    when that was not the obvious one (a Date header passed over, and why)."""

    raw: bytes
    received_at: dt.datetime = attrs.field(validator=_aware)
    via: str
    done: Callable[[], Any] = _nothing
    note: str | None = None


@attrs.frozen
class AlarmSource:
    """A place Express alarm mails come from beside SMTP. `open(location, follow=False)` yields
    `IncomingMail`s: with `follow=False` what is there now, then it ends; with `follow=True` it keeps
    watching until the host closes the iterator. `sptui intake source NAME LOCATION` runs it."""

    name: str
    open: Callable[..., Any]
    doc: str = ""
