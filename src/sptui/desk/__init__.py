"""The desk's work: decide with the policy, then keep it in the store (the store persists, it does not decide).
The CLI and the TUI both come here, so they agree.

    quote = quote_dispatch(policy, incident, Work(departed_at, completed_at, technicians))
    quote.fee, quote.billing, quote.describe("ja")        # what the dialog shows while the times are typed
    dispatch(store, policy, iid, operator=…, technician=…, work=…, consent=Consent(…), confirm_uncovered=True)
    contact(store, policy, aid, at=…, reached=True, repair_needed=True, operator=…)   # an alarm becomes work

A request that is incomplete or wrong (no consent for billable work, an unconfirmed dispatch on an uncovered
machine, a completion before the departure) is a `BadRequest`; the one rule for who may act on an incident is
the store's (`Store.check_owner`), a refusal there a `ConflictError`.
"""
from sptui.desk.alarms import contact
from sptui.desk.incidents import CONSENT_VIA, UNCOVERED, Consent, DispatchQuote, Work, dispatch, quote_dispatch
from sptui.store.db import BadRequest

__all__ = ["BadRequest", "CONSENT_VIA", "Consent", "DispatchQuote", "UNCOVERED", "Work", "contact", "dispatch",
           "quote_dispatch"]
