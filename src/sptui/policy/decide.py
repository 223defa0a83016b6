"""case → compiled policy → evaluators → Decision.

Evaluators run in order and write into a DecisionContext; one that raises becomes an `error` reason
and the rest go on. The CLI, the desk and the TUI all get decisions only through here (`Policy.decide`).
"""
from __future__ import annotations

from typing import Any

from sptui.errors import CaseError
from sptui.model.case import VERDICTS, Case, parse_case
from sptui.model.decision import Decision, Reason

RANK = {v: i for i, v in enumerate(VERDICTS)}


class CaseView:
    """What a message template reads later: the case alone. Messages keep this, not the DecisionContext,
    so a decision makes no reference cycle (context → reasons → message → context) for the GC to chase."""

    __slots__ = ("case",)

    def __init__(self, case: dict):
        self.case = case


class DecisionContext:
    __slots__ = ("case", "view", "verdict", "in_service_hours", "trace", "dispatch_deadline", "fee",
                 "setting_recovery", "contact")

    def __init__(self, case: Case):
        self.case = case
        self.view = CaseView(case)
        self.verdict = "covered"
        self.in_service_hours = False
        self.trace: list = []  # Reasons, including rules that did not apply (skip)
        self.dispatch_deadline = self.fee = self.setting_recovery = self.contact = None

    def add(self, reason: Reason) -> None:
        self.trace.append(reason)
        if reason.outcome == "fail" and reason.effect in RANK and RANK[reason.effect] < RANK[self.verdict]:
            self.verdict = reason.effect


def _case_domain(policy) -> tuple[set[str], dict, dict, tuple]:
    """What a case may name under this policy: its variants, the domains its tables declare (the exclusion
    causes), the terms each variant is sold for (None: any), and the checks its blocks add (the longest work)
    (worked out once)."""
    rt = policy.rt
    years = {name: v.years or None for name, v in rt.variants.items()}
    domain = rt.derived["case-domain"] = (set(rt.variant_names), dict(rt.domains), years, tuple(rt.case_checks))
    return domain


def case_values(policy, case: Any) -> Case:
    """The case read and checked against this policy (variants, domains, its blocks' checks): the one Case type
    every decision takes; CaseError if bad. A Case is not read again, only checked against this policy."""
    variants, domains, years, checks = policy.rt.derived.get("case-domain") or _case_domain(policy)
    values = parse_case(case, variants=variants, domains=domains)
    pack = values["pack"]
    sold = years[pack["variant"]]
    if sold is not None and pack["years"] not in sold:
        variant = policy.rt.variants[pack["variant"]]
        raise CaseError("pack.years", f"a {variant.name} pack is sold for {', '.join(map(str, variant.years))} years, "
                        f"not {pack['years']}")
    for check in checks:
        check(values)
    return values


def decide(policy, case: Any) -> Decision:
    """The decision. An evaluator that raises becomes an `error` reason and the verdict at best `consult`. The
    fields computed from the verdict (the deadline, the fee, the recovery, the contact) follow the final verdict:
    when an evaluator lowers the verdict after others read it, every evaluator runs again from the final verdict
    (an evaluator that failed is not run again: its error stands where it ran)."""
    values = case_values(policy, case)
    failed: dict[str, Exception] = {}
    ctx, seen = _pass(policy, values, failed, "covered")
    for _ in VERDICTS:  # each pass starts from a lower verdict than the one before: this many at most
        if ctx.verdict == seen:
            break
        ctx, seen = _pass(policy, values, failed, ctx.verdict)
    return Decision(policy.name, policy.version, policy.digest, ctx.verdict, ctx.in_service_hours, ctx.dispatch_deadline,
                    ctx.fee, ctx.setting_recovery, ctx.contact, tuple(ctx.trace), ctx.view)


def _pass(policy, values: dict, failed: dict[str, Exception], verdict: str) -> tuple[DecisionContext, str]:
    """The evaluators in order, from `verdict`; returns the context and the verdict the first evaluator left,
    which every later one read (the verdict only goes down: if it is still the final one, nothing read a stale
    verdict)."""
    ctx = DecisionContext(values)
    ctx.verdict = verdict
    seen = None
    for ev in policy.evaluators:
        if failed and ev.name in failed:
            _failed(ctx, ev, failed[ev.name])
        else:
            try:
                ev.run(policy, ctx)
            except Exception as e:
                failed[ev.name] = e
                _failed(ctx, ev, e)
        if seen is None:
            seen = ctx.verdict
    return ctx, seen or verdict


def _failed(ctx: DecisionContext, ev, e: Exception) -> None:
    # a decision the evaluators could not finish is never a silent "covered": a person decides
    what = f"{type(e).__name__}: {str(e)[:200]}"
    ctx.add(Reason(ev.name, "error", (), f"評価器 {ev.name} が失敗しました（要確認）: {what}",
                   f"evaluator {ev.name} failed: {what} (a person must decide)", evaluator=ev.name))
    if RANK[ctx.verdict] > RANK["consult"]:
        ctx.verdict = "consult"
