"""The desk's work: decide with the policy, then keep it in the store (the store persists, it does not decide).
The CLI, the TUI and the intake all come here, so they agree.

    iid = open_incident(store, policy, label=…, at=…, summary=…, operator=…)   # decided at the notice's receipt
    quote = quote_dispatch(policy, incident, Work(departed_at, completed_at, technicians))
    quote.fee, quote.billing, quote.describe("ja")        # what the dialog shows while the times are typed
    quote_work(policy, "24x7", Work(…))                 # `sptui fee`: the same, on a covered machine of a variant
    dispatch(store, policy, iid, operator=…, technician=…, work=…, consent=Consent(…), confirm_uncovered=True)
    complete(store, policy, iid, operator=…, completed_at=…)  # the real end, reported later: the fee decided again
    file_mails(store, policy, [(raw, mail, via, received_at), …])   # intake: each alarm routed, then filed
    contact(store, policy, aid, at=…, reached=True, repair_needed=True, operator=…)   # an alarm becomes work
    purge(store, ended_before, operator=…, dry_run=False)  # 第3章 1.8: whose contracts ended (registry.py's rule)

A request that is incomplete or wrong (no consent for billable work, an unconfirmed dispatch on an uncovered
machine, a completion before the departure) is a `BadRequest`; the one rule for who may act on an incident is
the store's (`store.incidents.check_owner`), a refusal there a `ConflictError`.
"""
from sptui.desk.alarms import contact, file_mails
from sptui.desk.incidents import (CONSENT_VIA, LATE_REASONS, UNCOVERED, Consent, DispatchQuote, Work, complete,
                                  dispatch, open_incident, quote_dispatch, quote_work)
from sptui.desk.purge import purge
from sptui.store.db import BadRequest

__all__ = ["BadRequest", "CONSENT_VIA", "Consent", "DispatchQuote", "LATE_REASONS", "UNCOVERED", "Work", "complete",
           "contact", "dispatch", "file_mails", "open_incident", "purge", "quote_dispatch", "quote_work"]
