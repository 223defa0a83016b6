"""case → compiled policy → evaluators → Decision.

Evaluators run in order and write into a DecisionContext; one that raises becomes an `error` reason
and the rest go on. The CLI, the TUI and the store all get decisions only through here.
"""
from __future__ import annotations

from typing import Any

from sptui.model.case import VERDICTS, CaseError, parse_case
from sptui.model.decision import Decision, Reason

RANK = {v: i for i, v in enumerate(VERDICTS)}
_new = object.__new__


class CaseView:
    """What a message template reads later: the case alone. Messages keep this, not the DecisionContext,
    so a decision makes no reference cycle (context → reasons → message → context) for the GC to chase."""

    __slots__ = ("case",)

    def __init__(self, case: dict):
        self.case = case


class DecisionContext:
    __slots__ = ("case", "view", "verdict", "in_service_hours", "trace", "dispatch_deadline", "fee",
                 "setting_recovery", "contact")

    def __init__(self, case: dict):
        self.case = case
        self.view = view = _new(CaseView)  # (CaseView(case) without the call of __init__)
        view.case = case
        self.verdict = "covered"
        self.in_service_hours = False
        self.trace: list = []  # Reasons (and the rules' Outcomes), including rules that did not apply (skip)
        self.dispatch_deadline = self.fee = self.setting_recovery = self.contact = None

    def add(self, reason: Reason) -> None:
        self.trace.append(reason)
        if reason.outcome == "fail" and reason.effect in RANK and RANK[reason.effect] < RANK[self.verdict]:
            self.verdict = reason.effect


def _case_domain(policy) -> tuple[set[str], set[str] | None, dict]:
    """The variants and exclusion causes a case may name under this policy, and the terms each variant
    is sold for (None: any) (worked out once)."""
    exclusions = policy.rt.tables.get("exclusions")
    causes = set(exclusions.keys()) if exclusions is not None else None
    years = {name: v.years or None for name, v in policy.rt.variants.items()}
    domain = policy.rt.generated["case-domain"] = (set(policy.rt.variant_names), causes, years)
    return domain


def case_values(policy, case: Any) -> dict:
    """The case parsed and checked against this policy (variants, causes); CaseError if bad."""
    variants, causes, years = policy.rt.generated.get("case-domain") or _case_domain(policy)
    values = parse_case(case, variants=variants, causes=causes)
    pack = values["pack"]
    sold = years[pack["variant"]]
    if sold is not None and pack["years"] not in sold:
        variant = policy.rt.variants[pack["variant"]]
        raise CaseError("pack.years", f"a {variant.name} pack is sold for {', '.join(map(str, variant.years))} years, "
                        f"not {pack['years']}")
    return values


def decide(policy, case: Any) -> Decision:
    values = case_values(policy, case)
    ctx = DecisionContext(values)
    for ev in policy.evaluators:
        try:
            ev.run(policy, ctx)
        except Exception as e:
            # a decision the evaluators could not finish is never a silent "covered": a person decides
            ctx.add(Reason(ev.name, "error", (), f"評価器 {ev.name} が失敗しました（要確認）: {e}",
                           f"evaluator {ev.name} failed: {type(e).__name__}: {e} (a person must decide)",
                           evaluator=ev.name))
            if RANK[ctx.verdict] > RANK["consult"]:
                ctx.verdict = "consult"
    return Decision(policy.name, policy.version, policy.digest, ctx.verdict, ctx.in_service_hours, ctx.dispatch_deadline,
                    ctx.fee, ctx.setting_recovery, ctx.contact, tuple(ctx.trace), ctx.view)
