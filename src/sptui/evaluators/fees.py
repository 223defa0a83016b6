"""Off-hours and excluded work fees (第3章 2.3, 2.4, 別表-1): the `fee` and `expenses` blocks."""
from __future__ import annotations

import datetime as dt

import attrs

from sptui.engine import DecisionContext
from sptui.evaluators.core import CITE, NOTE
from sptui.hookspecs import hookimpl
from sptui.model.decision import FeeLine, FeeQuote, Reason
from sptui.policy import literals as L
from sptui.policy.expr import format_value
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator


class FeeError(ValueError):
    pass


@attrs.frozen
class Expenses:
    cites: tuple[str, ...]
    items: tuple[tuple[str, str], ...]


@attrs.frozen
class Fee:
    cites: tuple[str, ...]
    note: str | None
    bands: str
    base_minutes: int
    block_minutes: int
    charge_when: object
    quote_from: int


def compile_fee(b, ctx):
    bands = b.value("bands")
    table = ctx.rt.tables.get(bands)
    first = b.first("bands")
    if table is None and first is not None and first.args:
        ctx.error("E065", f"no table named `{bands}`", first.args[0].span, "bands names a table with band, base, add outputs")
    elif table is not None:
        missing = [c for c in ("band", "base", "add") if c not in table.outputs]
        if missing:
            ctx.error("E065", f"the table `{bands}` lacks output(s) {', '.join(missing)}", first.args[0].span,
                      "output band, base, add")
        for row in table.rows:
            for col in ("base", "add"):
                if col in row.out and not isinstance(row.out[col], L.Money):
                    ctx.error("E033", f"the fee band's `{col}` must be an amount in yen, got `{row.out[col]}`",
                              row.out_spans.get(col, row.span),
                              f"write {row.out[col]:,}円" if isinstance(row.out[col], int) else "write it like 12,000円")
    base = b.value("base-covers")
    block = b.value("block")
    cw = b.first("charge-when")
    charge = ctx.exprs.condition(cw.args[0], b.scope()) if cw and cw.args else (lambda c: True)
    return Fee(b.cites(), b.note(), bands or "", base.minutes if base else 60, block.minutes if block else 15, charge,
               b.value("quote-from", 2))


FEE = BlockKind(
    "fee",
    BlockSchema((CITE, NOTE,
                 EntrySpec("bands", ("ref:table",), required=True, doc="bands fee-band: the table of bands (band, base, add)"),
                 EntrySpec("base-covers", ("duration",), required=True, doc="base-covers 60min: what the base charge covers"),
                 EntrySpec("block", ("duration",), required=True, doc="block 15min: each further started block adds its band's rate"),
                 EntrySpec("charge-when", ("expr",), doc="charge-when EXPR: when the work is charged"),
                 EntrySpec("quote-from", ("int",), doc="quote-from 2: from this many technicians a separate quote is needed"))),
    compile_fee, named=False, cited=True, phase=60, singleton=True,
    doc="The fee for off-hours or excluded work, per technician per visit, from departure to completion.",
    example="fee {\n  cite 第3章 2.3, 別表-1\n  bands fee-band\n  base-covers 60min\n  block 15min\n  quote-from 2\n}",
)

EXPENSES = BlockKind(
    "expenses",
    BlockSchema((CITE, NOTE, EntrySpec("item", ("string", "string"), repeat=True, required=True,
                                       doc='item "電力", "power": a cost the customer bears (Japanese, English)'))),
    lambda b, ctx: Expenses(b.cites(), tuple((e.args[0].value, e.args[1].value) for e in b.all("item")
                                              if len(e.args) == 2 and all(isinstance(getattr(a, "value", None), str)
                                                                          for a in e.args))),
    named=False, cited=True, phase=60, singleton=True,
    doc="Costs the customer bears besides the fee (第3章 2.4), listed with every fee quote.",
    example='expenses {\n  cite 第3章 2.4\n  item "電力・水道", "power and water"\n}',
)


def fee_quote(policy, departed_at: dt.datetime, completed_at: dt.datetime, technicians: int = 1,
              lang: str = "en", variant: str | None = None) -> FeeQuote:
    """The 別表-1 fee: base by the departure's band, then a block per started `block` by its start's band.
    A variant with its own fee-band table (`policy.rt.fee_bands`, which a plugin's block fills) uses it."""
    fee = policy.blocks["fee"]["fee"]
    table = policy.rt.tables[policy.rt.fee_bands.get(variant, fee.bands) if variant else fee.bands]
    if departed_at.tzinfo is None or completed_at.tzinfo is None:
        raise FeeError("departure and completion must carry their offset (Asia/Tokyo)")
    if completed_at <= departed_at:
        raise FeeError("the work must complete after the departure")
    if technicians < 1:
        raise FeeError("technicians must be 1 or more")

    def band(t: dt.datetime):
        row = table.match(t)
        if row is None:
            raise FeeError(f"no fee band covers {format_value(t)}")
        return row.out

    first = band(departed_at)
    lines = [FeeLine("base", first["band"], departed_at, first["base"].yen)]
    seconds = (completed_at - departed_at).total_seconds()
    extra = seconds - fee.base_minutes * 60
    if extra > 0:
        blocks = int(-(-extra // (fee.block_minutes * 60)))
        for i in range(blocks):
            start = departed_at + dt.timedelta(minutes=fee.base_minutes + i * fee.block_minutes)
            b = band(start)
            lines.append(FeeLine("add", b["band"], start, b["add"].yen))
    per = sum(ln.amount_jpy for ln in lines)
    expenses = policy.blocks.get("expenses", {}).get("expenses")
    pays = tuple(ja if lang == "ja" else en for ja, en in (expenses.items if expenses else ()))
    return FeeQuote(per * technicians, per, technicians, technicians >= fee.quote_from, tuple(lines),
                    int(seconds // 60), ", ".join(fee.cites), pays)


# why the work has no 別表-1 fee, by the verdict: free only where the pack covers it
_NO_FEE = {
    "covered": ("この作業は無償です（サービス時間内の対象作業）", "no fee: covered work inside the service hours"),
    "not-covered": ("別表-1 の料金はありません: パックの対象外の作業です（{verdict}）。お客様負担で、別途見積が必要です",
                    "no 別表-1 fee: the pack does not cover this work ({verdict}); the customer pays by a separate "
                    "quote"),
    "consult": ("別表-1 の料金はありません: 別途協議が必要な作業です（相談）。お客様負担で、見積が必要です",
                "no 別表-1 fee: this work needs separate agreement ({verdict}); the customer pays by a quote"),
    "billable": ("このポリシーでは別表-1 の料金はかかりません（{verdict}）。お客様負担で、別途見積が必要です",
                 "no 別表-1 fee under this policy ({verdict}); the customer pays by a separate quote"),
}
_NO_FEE["not-started"] = _NO_FEE["not-covered"]


def run_fee(policy, ctx: DecisionContext) -> None:
    fee = policy.blocks.get("fee", {}).get("fee")
    work = ctx.case.get("work")
    if fee is None or work is None:
        return
    if not fee.charge_when(ctx):
        ja, en = _NO_FEE.get(ctx.verdict, _NO_FEE["billable"])
        ctx.add(Reason("fee", "info", fee.cites, ja.format(verdict=ctx.verdict), en.format(verdict=ctx.verdict),
                       fee.note, "fee"))
        return
    q = fee_quote(policy, work["departed_at"], work["completed_at"], work["technicians"], variant=ctx.case["pack"]["variant"])
    ctx.fee = q
    quote_ja = "（2名以上のため別途見積・お客様承認が必要）" if q.needs_quote else ""
    quote_en = " (two or more technicians: separate quote, customer approval)" if q.needs_quote else ""
    expenses = policy.blocks.get("expenses", {}).get("expenses")
    cites = fee.cites + (expenses.cites if expenses else ())
    ctx.add(Reason("fee", "info", cites,
                   f"料金 {q.total_jpy:,}円（1名 {q.per_technician_jpy:,}円 × {q.technicians}名）{quote_ja}",
                   f"fee {q.total_jpy:,} JPY ({q.per_technician_jpy:,} per technician × {q.technicians}){quote_en}",
                   fee.note, "fee"))


@hookimpl
def sptui_block_kinds(register):
    register(FEE)
    register(EXPENSES)


@hookimpl
def sptui_evaluators(register):
    register(Evaluator("fee", 40, run_fee, doc="the 別表-1 fee when the work is off-hours or a billable exclusion"))
