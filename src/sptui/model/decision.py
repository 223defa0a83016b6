"""A decision: the verdict, every reason with its clause, and the computed fields of eval.md."""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, NamedTuple

import attrs

from sptui.tz import iso

OUTCOMES = ("pass", "fail", "warn", "info", "skip", "error")


class Reason(NamedTuple):
    """One rule's outcome (immutable; a tuple because a decision makes a dozen of them). A message is
    text, a function of nothing, or a template rendered against `view` (the case): rendered only
    when it is read (most decisions are never shown). A rule records one constant Reason per outcome,
    without a view; the decision's trace gives each the decision's view (see Decision.trace)."""

    rule: str
    outcome: str
    cite: tuple[str, ...]
    text_ja: Any
    text_en: Any
    note: str | None = None
    evaluator: str = ""
    effect: str | None = None  # the verdict a failing rule sets
    view: Any = None  # what a template message reads

    @property
    def message_ja(self) -> str:
        return _render(self.text_ja, self.view)

    @property
    def message_en(self) -> str:
        return _render(self.text_en, self.view)

    def message(self, lang: str = "en") -> str:
        return self.message_ja if lang == "ja" else self.message_en

    def to_json(self, lang: str = "en") -> dict:
        d: dict[str, Any] = {"rule": self.rule, "outcome": self.outcome, "cite": ", ".join(self.cite),
                             "message": self.message(lang)}
        if self.note:
            d["note"] = self.note
        if self.effect:
            d["effect"] = self.effect
        return d


def _render(text: Any, view: Any) -> str:
    """A message as text: a str as it is, a template (with `render`) against the case, else a function of nothing."""
    if isinstance(text, str):
        return text
    if text is None:
        return ""
    render = getattr(text, "render", None)
    return render(view) if render is not None else text()


@attrs.frozen
class FeeLine:
    kind: str  # base | add
    band: str
    starts_at: dt.datetime
    amount_jpy: int


@attrs.frozen
class FeeQuote:
    total_jpy: int
    per_technician_jpy: int
    technicians: int
    needs_quote: bool
    lines: tuple[FeeLine, ...]
    minutes: int
    cite: str = "別表-1"
    customer_pays: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "total_jpy": self.total_jpy, "per_technician_jpy": self.per_technician_jpy,
            "technicians": self.technicians, "needs_quote": self.needs_quote, "minutes": self.minutes,
            "lines": [{"kind": ln.kind, "band": ln.band, "starts_at": iso(ln.starts_at), "amount_jpy": ln.amount_jpy}
                      for ln in self.lines],
            "cite": self.cite, "customer_pays": list(self.customer_pays),
        }


@attrs.frozen(eq=False)
class Decision:
    policy_name: str
    policy_version: str
    policy_digest: str
    verdict: str
    in_service_hours: bool
    dispatch_deadline: dt.datetime | None
    fee: FeeQuote | None
    setting_recovery: dict | None
    contact: dict | None
    recorded: tuple = attrs.field(repr=False)  # Reasons, in the order the rules ran (a rule's own without a view)
    view: Any = attrs.field(default=None, repr=False)  # the case, for the messages (equality: see _key)

    @functools.cached_property
    def trace(self) -> tuple[Reason, ...]:
        """Every rule's reason, including the rules that did not apply (outcome skip)."""
        view = self.view
        return tuple(r if r.view is not None else r._replace(view=view) for r in self.recorded)

    @functools.cached_property
    def reasons(self) -> tuple[Reason, ...]:
        """The reasons of the rules that applied."""
        return tuple(r for r in self.trace if r.outcome != "skip")

    def _key(self) -> tuple:
        """What makes two decisions the same: every field, and each reason as it reads."""
        return (self.policy_digest, self.verdict, self.in_service_hours, self.dispatch_deadline, self.fee,
                repr(self.setting_recovery), repr(self.contact),
                tuple((r.rule, r.outcome, r.cite, r.effect, r.note, r.message_en, r.message_ja) for r in self.reasons))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Decision:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def to_json(self, lang: str = "en") -> dict:
        contact = None
        if self.contact is not None:
            contact = dict(self.contact)
            contact["next_contact_at"] = iso(contact.get("next_contact_at"))
        return {
            "schema": 1,
            "policy": {"name": self.policy_name, "version": self.policy_version, "digest": self.policy_digest},
            "verdict": self.verdict,
            "reasons": [r.to_json(lang) for r in self.reasons],
            "in_service_hours": self.in_service_hours,
            "dispatch_deadline": iso(self.dispatch_deadline),
            "fee": self.fee.to_json() if self.fee else None,
            "setting_recovery": self.setting_recovery,
            "contact": contact,
        }

