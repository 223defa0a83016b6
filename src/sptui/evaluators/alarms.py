"""Express alarm contact (第3章 4, 第3章 2.1 (3)): the `express` block and the next contact time."""
from __future__ import annotations

import datetime as dt

import attrs

from sptui.evaluators.common import CITE, NOTE
from sptui.evaluators.hours import service_hours
from sptui.model.decision import Reason
from sptui.policy.decide import DecisionContext
from sptui.policy.expr import format_value
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, hookimpl
from sptui.tz import TOKYO


@attrs.frozen
class Express:
    cites: tuple[str, ...]
    note: str | None
    contact_hours: str
    retry: str
    arrange: object


def compile_express(b, ctx):
    arr = b.first("arrange-technician")
    return Express(b.cites(), b.note(), b.value("contact-hours", "hw"), b.value("retry", "next-day"),
                   ctx.exprs.condition(arr.args[0], b.scope()) if arr and arr.args else (lambda c: False))


EXPRESS = BlockKind(
    "express",
    BlockSchema((CITE, NOTE,
                 EntrySpec("contact-hours", ("one-of:hw|pp",), doc="contact-hours hw: the customer is phoned inside these hours"),
                 EntrySpec("retry", ("one-of:next-day",), doc="retry next-day: after an unreachable call, call again the next day"),
                 EntrySpec("arrange-technician", ("expr",), doc="arrange-technician EXPR: when a technician is arranged with the call"))),
    compile_express, named=False, cited=True, phase=60, singleton=True,
    doc="The Express alarm service: when to phone the customer after an alarm, and whether to send a technician.",
    example="express {\n  cite 第3章 4.1, 第3章 4.5\n  contact-hours hw\n  retry next-day\n  arrange-technician repair_needed\n}",
)


def run_contact(policy, ctx: DecisionContext) -> None:
    ex = policy.blocks.get("express", {}).get("express")
    alarm = ctx.case.get("alarm")
    if ex is None or alarm is None:
        return
    received = alarm["received_at"]
    hours = service_hours(policy, ctx.case["pack"]["variant"], ex.contact_hours)
    if received.astimezone(TOKYO).date() < alarm["express_start_on"]:
        ctx.contact = {"next_contact_at": None, "arrange_technician": False, "reason": "before-express-start"}
        ctx.add(Reason("express-contact", "info", ex.cites,
                       f"エクスプレス通報サービス開始日（{alarm['express_start_on']}）より前の通報です",
                       f"the alarm came before the Express start date ({alarm['express_start_on']})", ex.note, "express"))
        return
    arrange = bool(ex.arrange(ctx))
    attempts = alarm["contact_attempts"]
    if any(a["reached"] for a in attempts):
        ctx.contact = {"next_contact_at": None, "arrange_technician": arrange, "reason": "reached"}
        ja, en = "お客様に連絡済みです", "the customer has been reached"
    elif attempts:
        last = attempts[-1]["at"].astimezone(TOKYO)
        midnight = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time(), TOKYO)
        nxt = hours.next_open(midnight)
        ctx.contact = {"next_contact_at": nxt, "arrange_technician": arrange, "reason": "retry-next-day"}
        ja = lambda: f"連絡がつかなかったため翌日 {format_value(nxt)} に再連絡"  # noqa: E731 (rendered only when shown)
        en = lambda: f"unreachable at {format_value(last)}: call again the next day at {format_value(nxt)}"  # noqa: E731
    else:
        nxt = hours.next_open(received)
        ctx.contact = {"next_contact_at": nxt, "arrange_technician": arrange, "reason": "first-contact"}
        ja = lambda: f"{format_value(nxt)} にお客様へ連絡"  # noqa: E731
        en = lambda: f"phone the customer at {format_value(nxt)}"  # noqa: E731
    if arrange:
        ja = _then(ja, "（技術者を同時に手配）")
        en = _then(en, "; arrange a technician with the call")
    ctx.add(Reason("express-contact", "info", ex.cites, ja, en, ex.note, "express"))


def _then(text, more: str):
    return (lambda: text() + more) if callable(text) else text + more


@hookimpl
def sptui_block_kinds(register):
    register(EXPRESS)


@hookimpl
def sptui_evaluators(register):
    register(Evaluator("contact", 60, run_contact, doc="the next contact time after an Express alarm"))
