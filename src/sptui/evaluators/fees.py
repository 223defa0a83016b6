"""Off-hours and excluded work fees (第3章 2.3, 2.4, 別表-1): the `fee` and `expenses` blocks."""
from __future__ import annotations

import datetime as dt

import attrs

from sptui.errors import CaseError, FeeError
from sptui.evaluators.common import CITE, NOTE, day_gaps, fixed_minutes
from sptui.model.case import INT_RANGES
from sptui.model.decision import FeeLine, FeeQuote, Reason
from sptui.model.values import Money
from sptui.policy.decide import DecisionContext
from sptui.policy.expr import format_value
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, hookimpl
from sptui.tz import require_aware


@attrs.frozen
class Expenses:
    cites: tuple[str, ...]
    items: tuple[tuple[str, str], ...]


# the most lines one fee may have (a base and its blocks): a policy whose longest work at its block length
# makes more is refused (E033), so a fee's size is bounded whatever a case says
MAX_FEE_LINES = 2_000


@attrs.frozen
class Fee:
    cites: tuple[str, ...]
    note: str | None
    bands: str
    base_minutes: int
    block_minutes: int
    charge_when: object
    quote_from: int
    longest_minutes: int  # the longest work one visit is priced for (`longest-work`)

    def check_work(self, departed_at: dt.datetime, completed_at: dt.datetime) -> None:
        """FeeError unless the work completes after the departure, within the policy's longest work."""
        if completed_at <= departed_at:
            raise FeeError("the work must complete after the departure")
        length = completed_at - departed_at
        if length > dt.timedelta(minutes=self.longest_minutes):
            raise FeeError(f"the work runs {_length(length)} from departure to completion; the policy prices one "
                           f"visit of at most {_length(dt.timedelta(minutes=self.longest_minutes))} "
                           f"({', '.join(self.cites)}): a longer work needs a separate quote")

    def check_case(self, values: dict) -> None:
        """A case's work, as check_work checks it (CaseError on `work`): the engine runs this on every case."""
        work = values["work"]
        if work is not None:
            try:
                self.check_work(work["departed_at"], work["completed_at"])
            except FeeError as e:
                raise CaseError("work", str(e)) from None


def _length(d: dt.timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    parts = [f"{days:,} day{'s' if days != 1 else ''}"] if days else []
    if rest // 60:
        parts.append(f"{rest // 60} h")
    if rest % 60 or not parts:
        parts.append(f"{rest % 60} min")
    return " ".join(parts)


def check_fee_bands(table, ctx, span, whose: str = "", outputs: bool = True) -> None:
    """What the fee needs of a fee-band table: outputs band, base and add (E065), amounts in yen (E033), and one
    band for every minute of the day: one input column of time windows that leave no gap (E066)."""
    if outputs:
        missing = [c for c in ("band", "base", "add") if c not in table.outputs]
        if missing:
            ctx.error("E065", f"the table `{table.name}` lacks output(s) {', '.join(missing)}", span,
                      "output band, base, add")
    for row in table.rows:
        for col in ("base", "add"):
            if col in row.out and not isinstance(row.out[col], Money):
                ctx.error("E033", f"the fee band's `{col}` must be an amount in yen, got `{row.out[col]}`",
                          row.out_spans.get(col, row.span),
                          f"write {row.out[col]:,}円" if isinstance(row.out[col], int) else "write it like 12,000円")
    what = f"the fee table `{table.name}`{whose}"
    hint = "fee bands have one input, the departure's time of day, and rows of windows covering 00:00-24:00"
    if len(table.inputs) != 1:
        ctx.error("E066", f"{what} has {len(table.inputs)} input columns; a departure has one band by its time "
                  "of day", span, hint)
        return
    plain = [r for r in table.rows if r.cells[0].kind != "window"]
    if plain:
        ctx.error("E066", f"{what} has a row that is no time window (line {plain[0].span.line})", span, hint)
        return
    covered = {m for r in table.rows for m in r.cells[0].minutes()}
    gaps = day_gaps(covered)
    if gaps and not table.complete_day:  # (`complete day` reports its gaps itself: E061)
        ctx.error("E066", f"{what} gives no band from {', '.join(str(g) for g in gaps)}", span, hint)


def compile_fee(b, ctx):
    bands = b.value("bands")
    table = ctx.rt.tables.get(bands)
    first = b.first("bands")
    if table is None and first is not None and first.args:
        ctx.error("E065", f"no table named `{bands}`", first.args[0].span, "bands names a table with band, base, add outputs")
    elif table is not None:
        check_fee_bands(table, ctx, first.args[0].span)
    for variant, name in sorted(ctx.rt.fee_bands.items()):
        other = ctx.rt.tables.get(name)
        if other is not None and other is not table:  # (a block kind that gives a variant its table checks its outputs)
            check_fee_bands(other, ctx, other.span, f" (of the variant `{variant}`)", outputs=False)
    base = fixed_minutes(b, "base-covers", 60, ctx, least=0)
    block = fixed_minutes(b, "block", 15, ctx, least=1)
    longest = fixed_minutes(b, "longest-work", 7 * 1440, ctx, least=1)
    lines = 1 + -(-max(longest - base, 0) // block)
    if lines > MAX_FEE_LINES:
        ctx.error("E033", f"a work of {_length(dt.timedelta(minutes=longest))} makes {lines:,} fee lines of "
                  f"{block} min; at most {MAX_FEE_LINES:,}", b.first("longest-work").args[0].span,
                  "a shorter longest-work, or a longer block")
    cw = b.first("charge-when")
    charge = ctx.exprs.condition(cw.args[0], b.scope()) if cw and cw.args else (lambda c: True)
    fee = Fee(b.cites(), b.note(), bands or "", base, block, charge, b.value("quote-from", 2), longest)
    ctx.rt.case_checks.append(fee.check_case)
    return fee


FEE = BlockKind(
    "fee",
    BlockSchema((CITE, NOTE,
                 EntrySpec("bands", ("ref:table",), required=True, doc="bands fee-band: the table of bands (band, base, add)"),
                 EntrySpec("base-covers", ("duration",), required=True, doc="base-covers 60min: what the base charge covers"),
                 EntrySpec("block", ("duration",), required=True, doc="block 15min: each further started block adds its band's rate"),
                 EntrySpec("longest-work", ("duration",), required=True,
                           doc="longest-work 7 days: the longest work one visit is priced for; a case with a longer "
                               "work is refused (it needs a separate quote)"),
                 EntrySpec("charge-when", ("expr",), doc="charge-when EXPR: when the work is charged"),
                 EntrySpec("quote-from", ("int",), doc="quote-from 2: from this many technicians a separate quote is needed"))),
    compile_fee, named=False, cited=True, phase=60, singleton=True,
    doc="The fee for off-hours or excluded work, per technician per visit, from departure to completion.",
    example="fee {\n  cite 第3章 2.3, 別表-1\n  bands fee-band\n  base-covers 60min\n  block 15min\n  longest-work 7 days\n"
            "  quote-from 2\n}",
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
    A variant with its own fee-band table (`policy.rt.fee_bands`, which a plugin's block fills) uses it.
    FeeError for a work the policy does not price (see Fee.check_work), or times outside the years sptui accepts."""
    fee = policy.blocks.get("fee", {}).get("fee")
    if fee is None:
        raise FeeError("this policy has no fee block: it prices no work")
    try:
        departed_at = require_aware(departed_at, "departure")
        completed_at = require_aware(completed_at, "completion")
    except CaseError as e:
        raise FeeError(f"the {e.field}: {e.message}") from None
    lo, hi = INT_RANGES["work.technicians"]
    if isinstance(technicians, bool) or not isinstance(technicians, int) or not lo <= technicians <= hi:
        raise FeeError(f"technicians must be from {lo} to {hi}, not {technicians!r}")
    fee.check_work(departed_at, completed_at)
    table = policy.rt.tables[policy.rt.fee_bands.get(variant, fee.bands) if variant else fee.bands]

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
