"""Service hours (第1章 3) and the onsite deadline (第1章 2.2 ※): the `onsite` block and its evaluators."""
from __future__ import annotations

import datetime as dt

import attrs

from sptui.errors import NeverOpen
from sptui.evaluators.common import CITE, NOTE, fixed_minutes
from sptui.model.decision import Reason
from sptui.policy.decide import DecisionContext
from sptui.policy.expr import format_value
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, Function, hookimpl


def service_hours(policy_or_rt, variant: str, support: str):
    rt = getattr(policy_or_rt, "rt", policy_or_rt)
    return rt.variants[variant].hours[support]


def in_service_hours(rt, variant: str, support: str, t: dt.datetime) -> bool:
    return service_hours(rt, variant, support).contains(t)


def next_service_open(rt, variant: str, support: str, t: dt.datetime) -> dt.datetime:
    return service_hours(rt, variant, support).next_open(t)


@attrs.frozen
class Onsite:
    cites: tuple[str, ...]
    note: str | None
    within_minutes: int
    hours: str
    when: object


MOST_WITHIN = 30 * 1440  # the longest `within` (of service time): its deadline is found in the hours of 800 days


def compile_onsite(b, ctx):
    minutes = fixed_minutes(b, "within", 120, ctx, least=1, most=MOST_WITHIN)
    when = b.first("when")
    when_fn = ctx.exprs.condition(when.args[0], b.scope()) if when and when.args else None
    return Onsite(b.cites(), b.note(), minutes, b.value("hours", "hw"), when_fn)


ONSITE = BlockKind(
    "onsite",
    BlockSchema((CITE, NOTE,
                 EntrySpec("within", ("duration",), required=True, doc="within 2h: service time allowed before work starts"),
                 EntrySpec("hours", ("one-of:hw|pp",), doc="hours hw: whose service hours the clock counts"),
                 EntrySpec("when", ("expr",), doc="when EXPR: when a deadline is set (e.g. repair_needed and verdict == covered)"))),
    compile_onsite, named=False, cited=True, phase=60, singleton=True,
    doc="The onsite-response deadline: the instant at which `within` of service hours have passed since the notice.",
    example="onsite {\n  cite 第1章 2.2\n  within 2h\n  hours hw\n  when repair_needed and verdict == covered\n}",
)


def service_deadline(policy, variant: str, at: dt.datetime) -> dt.datetime:
    """The onsite deadline for a notice at `at` (the `onsite` block's within, counted in its hours)."""
    onsite = policy.blocks["onsite"]["onsite"]
    return service_hours(policy, variant, onsite.hours).add_service_minutes(at, onsite.within_minutes)


def run_hours(policy, ctx: DecisionContext) -> None:
    c = ctx.case
    hours = service_hours(policy, c["pack"]["variant"], c["support"])
    ctx.in_service_hours = inside = hours.contains(c["at"])
    variant = policy.variants[c["pack"]["variant"]]

    def message(lang: str) -> str:  # rendered only when shown
        when, kind = format_value(c["at"]), c["support"].upper()
        if inside:
            return (f"{when} は {variant.title_ja} の{kind}サービス時間内です" if lang == "ja" else
                    f"{when} is inside the {kind} service hours of {variant.name}")
        try:
            nxt = format_value(hours.next_open(c["at"]))
        except NeverOpen:
            nxt = "—" if lang == "en" else "なし"
        return (f"{when} は {variant.title_ja} の{kind}サービス時間外です（次の開始 {nxt}）" if lang == "ja" else
                f"{when} is outside the {kind} service hours of {variant.name} (next opening {nxt})")

    ctx.add(Reason("service-hours", "info", variant.cites, lambda: message("ja"), lambda: message("en"), None, "hours"))


def run_onsite(policy, ctx: DecisionContext) -> None:
    onsite = policy.blocks.get("onsite", {}).get("onsite")
    if onsite is None:
        return
    if onsite.when is not None and not onsite.when(ctx):
        ctx.add(Reason("onsite-deadline", "skip", onsite.cites, "", "", onsite.note, "onsite"))
        return
    deadline = service_deadline(policy, ctx.case["pack"]["variant"], ctx.case["at"])
    ctx.dispatch_deadline = deadline
    h = onsite.within_minutes / 60
    span = f"{h:g}h" if h == int(h) else f"{onsite.within_minutes}min"
    ctx.add(Reason("onsite-deadline", "info", onsite.cites,
                   lambda: f"技術者は {format_value(deadline)} までに作業開始（サービス時間で{span}）",
                   lambda: f"technician on site by {format_value(deadline)} ({span} of service hours)", onsite.note,
                   "onsite"))


@hookimpl
def sptui_block_kinds(register):
    register(ONSITE)


@hookimpl
def sptui_functions(register):
    register(Function("in_service_hours", ("variant", "support", "datetime"), "bool", in_service_hours,
                      doc="whether an instant is inside a variant's service hours for hw or pp",
                      example="not in_service_hours(pack.variant, hw, work.departed_at)"))
    register(Function("next_service_open", ("variant", "support", "datetime"), "datetime", next_service_open,
                      doc="the first in-hours instant at or after the given one",
                      example="next_service_open(pack.variant, hw, at)"))


@hookimpl
def sptui_evaluators(register):
    register(Evaluator("hours", 20, run_hours, doc="in_service_hours for the notice, per variant and support kind"))
    register(Evaluator("onsite", 30, run_onsite, doc="the 2-service-hour onsite deadline"))
