"""Incidents, decided then kept. `open_incident` decides a registered machine's case at the notice's receipt.
A dispatch is decided once: `quote_dispatch` decides the incident's case with the work, and that decision is
what the dialog shows while the times are typed, what the CLI prints and what the store keeps (its fee, and who
pays). `dispatch` checks what the terms ask before a technician goes — the customer's consent to work they pay
for (第3章 2.3), the operator's confirmation of work on a machine the pack does not cover — then keeps it."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from sptui.desk.cases import case_for, decided, work_case
from sptui.store import BadRequest, NewIncident
from sptui.store import schema as S
from sptui.store.incidents import fits

# why a technician reached the site after the onsite deadline (a dispatch past it names one)
LATE_REASONS = ("traffic", "weather", "site", "parts")

# verdicts under which the pack does not pay for onsite work: the operator confirms, the customer pays by a quote
UNCOVERED = ("not-covered", "not-started", "consult")
CONSENT_VIA = ("phone", "mail")
# while the completion is unknown, the work is decided as if it ended a minute after the departure: enough to
# know whether it is charged and its least fee (the first hour's base); nothing decided so is stored
PROVISIONAL_END = dt.timedelta(minutes=1)


def open_incident(store, policy, *, label: str, at: dt.datetime, summary: str, operator: str, support: str = "hw",
                  repair_needed: bool = True, cause: str | None = None, component: dict | None = None) -> int:
    """Open an incident for the machine with this label number: its case decided now, at the notice's receipt
    `at`, and kept with the decision. Returns the incident's id."""
    machine = store.registry.machine(label)
    case = case_for(machine, at=at, support=support, repair_needed=repair_needed, cause=cause, component=component)
    new = NewIncident(machine["id"], label, at, case, decided(policy.decide(case)), summary, support)
    return store.incidents.open(new, operator=operator)


def _aware(name: str):
    def check(_, __, value):
        if value is not None and (not isinstance(value, dt.datetime) or value.utcoffset() is None):
            raise BadRequest(f"{name} must be a time with its zone (Asia/Tokyo, +09:00), not {value!r}")
    return check


def _after_departure(work: "Work", _, completed_at) -> None:
    if completed_at is not None and completed_at <= work.departed_at:
        raise BadRequest(f"the work cannot be complete ({completed_at:%Y-%m-%d %H:%M}) before the departure "
                         f"({work.departed_at:%Y-%m-%d %H:%M})")


def _technicians(_, __, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest(f"technicians must be 1 or more, not {value!r}")


@attrs.frozen
class Work:
    """The work of one visit: departure from the maintenance centre, end of the work (None: not known yet)."""
    departed_at: dt.datetime = attrs.field(validator=_aware("the departure"))
    completed_at: dt.datetime | None = attrs.field(default=None, validator=[_aware("the completion"),
                                                                             _after_departure])
    technicians: int = attrs.field(default=1, validator=_technicians)

    def case(self) -> dict:
        end = self.completed_at or self.departed_at + PROVISIONAL_END
        return {"departed_at": self.departed_at.isoformat(), "completed_at": end.isoformat(),
                "technicians": self.technicians}


def _consent_by(_, __, value) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("the customer's consent needs who gave it (a name)")
    fits("the consent's name", value, S.dispatches.c.consent_by)


def _consent_via(_, __, value) -> None:
    if value not in CONSENT_VIA:
        raise BadRequest(f"the customer's consent is given by {' or '.join(CONSENT_VIA)}, not {value!r}")


@attrs.frozen
class Consent:
    """The customer's consent to work they pay for: who gave it, how (phone, mail), when."""
    by: str = attrs.field(validator=_consent_by, converter=lambda v: v.strip() if isinstance(v, str) else v)
    via: str = attrs.field(validator=_consent_via)
    at: dt.datetime = attrs.field(validator=_aware("the consent's time"))

    def record(self) -> dict:
        return {"by": self.by, "via": self.via, "at": self.at}

    def words(self) -> str:
        return f"{self.by} by {self.via} at {self.at:%Y-%m-%d %H:%M}"


@attrs.frozen
class DispatchQuote:
    """The decision of the incident's case with the work, and what follows from it for the desk."""
    case: dict
    decision: Any  # sptui Decision
    provisional: bool  # the completion is not known: `fee` is the least fee, and nothing of it is stored

    @property
    def verdict(self) -> str:
        return self.decision.verdict

    @property
    def fee(self):
        """The 別表-1 fee the decision charges (FeeQuote), or None."""
        return self.decision.fee

    @property
    def billing(self) -> str:
        """Who pays: `fee` (the customer, by 別表-1), `quote-needed` (the customer, by a separate quote: work the
        pack does not cover, or a billable cause the policy charges no 別表-1 fee for) or `free` (the pack)."""
        if self.fee is not None:
            return "fee"
        return "quote-needed" if self.verdict in UNCOVERED or self.verdict == "billable" else "free"

    @property
    def customer_pays(self) -> bool:
        return self.billing != "free"

    @property
    def needs_confirmation(self) -> bool:
        return self.verdict in UNCOVERED

    def pays(self) -> str:
        """How the customer pays, in a few words."""
        if self.billing == "fee":
            return ("別表-1 fee when the completion is known" if self.provisional
                    else f"別表-1 fee {self.fee.total_jpy:,}円")
        return "quote needed" if self.billing == "quote-needed" else "nothing"

    def describe(self, lang: str = "en") -> str:
        """One line: the fee, or why there is none, and who pays."""
        ja = lang == "ja"
        fee = self.fee
        if fee is not None and self.provisional:
            return (f"時間外・有償（別表-1）: 最低 {fee.total_jpy:,}円（最初の1時間）。料金は完了時刻で決まります" if ja else
                    f"billable (別表-1): at least {fee.total_jpy:,}円 (the first hour); the fee is decided when the "
                    "completion is known")
        if fee is not None:
            quote = ("（2名以上: 別途見積・お客様承認）" if ja else " (2 or more technicians: separate quote, customer "
                     "approval)") if fee.needs_quote else ""
            return (f"料金 {fee.total_jpy:,}円（別表-1、{fee.minutes}分）: お客様負担{quote}" if ja else
                    f"fee {fee.total_jpy:,}円 (別表-1, {fee.minutes} min): the customer pays{quote}")
        reason = next((r for r in self.decision.reasons if r.rule == "fee"), None)
        if reason is not None and not self.provisional:
            return reason.message(lang)
        if self.billing == "quote-needed":
            return ("パックの対象外: 別表-1 の料金はありません。お客様負担・見積が必要です" if ja else
                    f"{self.verdict}: no 別表-1 fee; the customer pays, quote needed")
        return "無償（サービス時間内の対象作業）" if ja else "no fee: covered work inside the service hours"


def quote_dispatch(policy, incident: dict, work: Work) -> DispatchQuote:
    """The incident's case decided with the work: the one decision behind the fee shown, printed and stored."""
    try:
        case = dict(incident["case"], work=work.case())
        return DispatchQuote(case, policy.decide(case), work.completed_at is None)
    except OverflowError:  # a time at the end of the calendar (9999-12-31): nothing to decide there
        raise BadRequest(f"the work's times ({work.departed_at:%Y-%m-%d %H:%M}) are beyond the dates the desk "
                         "can decide") from None


def quote_work(policy, variant: str, work: Work, *, cause: str | None = None) -> DispatchQuote:
    """A work quoted as the desk quotes a dispatch (quote_dispatch), on a machine of `variant` that its pack covers
    (bought a month before the departure, for the shortest term the policy sells the variant for), its notice
    received at the departure; `cause`: an exclusion of 第3章 2.2 (a billable one is charged at any hour).
    BadRequest for a variant the policy does not have."""
    v = policy.variants.get(variant)
    if v is None:
        raise BadRequest(f"unknown variant {variant!r}; this policy has {', '.join(sorted(policy.variants))}")
    years = min(v.years) if v.years else 1
    return quote_dispatch(policy, {"case": work_case(variant, years, work.departed_at, cause)}, work)


def _summary(technician: str, work: Work, quote: DispatchQuote, operator: str, consent: Consent | None) -> str:
    """The dispatch's line in the timeline."""
    text = f"{technician} departs {work.departed_at:%Y-%m-%d %H:%M}"
    if quote.customer_pays:
        text += f"; the customer pays: {quote.pays()}" + (f" ({quote.verdict})" if quote.needs_confirmation else "")
    else:
        text += f"; {quote.describe()}"
    if quote.needs_confirmation:
        text += f" (confirmed by {operator})"
    if consent is not None:
        text += f"; consent: {consent.words()}"
    return text


def dispatch(store, policy, iid: int, *, operator: str, technician: str, work: Work, late_reason: str | None = None,
             version: int | None = None, confirm_uncovered: bool = False,
             consent: Consent | None = None) -> dict[str, Any]:
    """Send a technician: decided by `quote_dispatch`, refused (BadRequest) without what the terms ask, kept by
    the store under its one rule for who may act. Returns the stored fee (or None), billing and new version."""
    technician = fits("the technician's name", (technician or "").strip(), S.dispatches.c.technician)
    if not technician:
        raise BadRequest("a dispatch needs the technician's name")
    if late_reason is not None and late_reason not in LATE_REASONS:
        raise BadRequest(f"late reason must be one of {', '.join(LATE_REASONS)}, not {late_reason!r}")
    store.incidents.check_owner(iid, operator=operator, action="dispatch", version=version)
    inc = store.incidents.get(iid)
    if work.departed_at < inc["received_at"]:
        raise BadRequest(f"the departure ({work.departed_at:%Y-%m-%d %H:%M}) is before the notice was received "
                         f"({inc['received_at']:%Y-%m-%d %H:%M})")
    deadline = inc["deadline"]
    if deadline is not None and work.departed_at > deadline and late_reason is None:
        raise BadRequest(f"the onsite deadline was {deadline:%Y-%m-%d %H:%M}: give the reason it was missed "
                         f"({', '.join(LATE_REASONS)})")
    quote = quote_dispatch(policy, inc, work)
    if quote.needs_confirmation and not confirm_uncovered:
        raise BadRequest(f"incident {iid} is {quote.verdict}: not covered, the customer pays (quote needed); "
                         "confirm the dispatch (--confirm-uncovered; on the desk, the box above)")
    if quote.customer_pays and consent is None:
        raise BadRequest(f"the customer pays ({quote.pays()}): record their consent, who and by phone or mail "
                         "(--consent-by, --consent-via)")
    return store.incidents.record_dispatch(
        iid, operator=operator, version=inc["version"] if version is None else version, technician=technician,
        technicians=work.technicians, departed_at=work.departed_at, completed_at=work.completed_at,
        late_reason=late_reason, billing=quote.billing, summary=_summary(technician, work, quote, operator, consent),
        case=None if quote.provisional else quote.case,
        decided=None if quote.provisional else decided(quote.decision),
        confirmed_by=operator if quote.needs_confirmation else None,
        consent=consent.record() if consent is not None else None)


# a completion reported a little ahead of the desk's clock (a technician's watch) is accepted; later is the future
COMPLETION_SLACK = dt.timedelta(minutes=5)


def _fee_words(fee: dict | None, billing: str | None, known: bool) -> str:
    """A dispatch's fee as the timeline says it: `22,500円`, `quote needed`, `none`, `not known yet`."""
    if fee is not None:
        return f"{fee['total_jpy']:,}円"
    if billing == "fee" and not known:
        return "not known yet"
    return "quote needed" if billing == "quote-needed" else "none"


def complete(store, policy, iid: int, *, operator: str, completed_at: dt.datetime,
             version: int | None = None) -> dict[str, Any]:
    """Record when the work of the incident's (latest) dispatch really ended, as the technician reports it: the
    incident is decided again with the work (`quote_dispatch`, the one fee path), and that decision, its fee and
    who pays are kept, the fee before → after in the timeline. Same rule for who may act as a dispatch. Returns
    the stored fee (or None), billing and new version."""
    from sptui.tz import now

    store.incidents.check_owner(iid, operator=operator, action="complete", version=version)
    inc = store.incidents.get(iid)
    dispatches = store.incidents.dispatches(iid)
    if inc["status"] != "dispatched" or not dispatches:
        raise BadRequest(f"incident {iid} is {inc['status']}: a completion is recorded for a dispatched incident")
    last = dispatches[-1]
    if completed_at is None or completed_at.utcoffset() is None:
        raise BadRequest(f"the completion must be a time with its zone (Asia/Tokyo, +09:00), not {completed_at!r}")
    if completed_at > now() + COMPLETION_SLACK:
        raise BadRequest(f"the completion ({completed_at:%Y-%m-%d %H:%M}) is in the future: record it once the work "
                         "has ended")
    quote = quote_dispatch(policy, inc, Work(last["departed_at"], completed_at, last["technicians"]))
    kept = decided(quote.decision)
    before = _fee_words(last["fee"], last["billing"], last["completed_at"] is not None)
    after = _fee_words(kept.fee, quote.billing, True)
    planned = f"{last['completed_at']:%Y-%m-%d %H:%M}" if last["completed_at"] is not None else "not known"
    summary = (f"work completed {completed_at:%Y-%m-%d %H:%M} (was {planned}); fee {before} → {after}"
               + (f"; the customer pays: {quote.pays()}" if quote.customer_pays else ""))
    if quote.customer_pays and last["consent_by"] is None:
        summary += "; no consent on record for work the customer pays"
    return store.incidents.record_completion(
        iid, operator=operator, version=inc["version"] if version is None else version, dispatch_id=last["id"],
        completed_at=completed_at, billing=quote.billing, summary=summary, case=quote.case, decided=kept)
