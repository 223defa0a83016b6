"""sptui-extended-hours: a pack variant with other hours and its own fee table.

NEC's terms (the shipped policy) know two variants. Other desks sell others; this plugin is the worked
example of one, `mon-sat-20h` (月～土 延長時間対応): HW service Monday to Saturday 08:30–20:00, closed on
its own calendar (31 Dec – 3 Jan), PP service as the weekday pack, and its own off-hours fee bands.
Its hours and fees are an illustration of what a plugin can carry, not an NEC offering.

It brings:
- a policy file with a `calendar`, a `table` and a `variant` block (the core's block kinds), and
- a block kind of its own, `variant-fees`, which gives a variant its own fee-band table. `sptui check`
  validates `variant-fees` blocks against the schema below, with positions (an unknown entry, a
  missing `bands`, a variant or table that does not exist, a table without band/base/add outputs);
  its compile step tells the fee evaluator which table a variant's work is charged by.
"""
from __future__ import annotations

from pathlib import Path

import attrs

from sptui.plugins.api import CITE, NOTE, BlockKind, BlockSchema, EntrySpec, VariantPack, did_you_mean, hookimpl

__version__ = "0.1.0"
POLICY = Path(__file__).resolve().parent / "extended-hours.sptp"


@attrs.frozen
class VariantFees:
    cites: tuple[str, ...]
    variants: tuple[str, ...]
    bands: str


def compile_variant_fees(b, ctx) -> VariantFees:
    bands = b.value("bands")
    first = b.first("bands")
    table = ctx.rt.tables.get(bands)
    if table is None and bands is not None:
        ctx.error("E065", f"no table named `{bands}`", first.args[0].span, did_you_mean(bands, ctx.rt.tables))
    variants = []
    for entry in b.all("variants"):
        for arg in entry.args:
            name = ctx.convert(arg, "name", quiet=True)
            if name is None:
                continue
            if name not in ctx.rt.variants:
                ctx.error("E070", f"no variant named `{name}`", arg.span, did_you_mean(name, ctx.rt.variants))
                continue
            variants.append(name)
    if table is not None:
        missing = [c for c in ("band", "base", "add") if c not in table.outputs]
        if missing:
            ctx.error("E065", f"the table `{bands}` lacks output(s) {', '.join(missing)}", first.args[0].span,
                      "a fee-band table has: output band, base, add")
    for v in variants:
        if v in ctx.rt.fee_bands:
            ctx.error("E036", f"the variant `{v}` already has its fee table `{ctx.rt.fee_bands[v]}`",
                      b.first("variants").span, "give each variant one variant-fees block")
            continue
        if table is not None:
            ctx.rt.fee_bands[v] = bands
    return VariantFees(b.cites(), tuple(variants), bands or "")


VARIANT_FEES = BlockKind(
    "variant-fees",
    BlockSchema((CITE, NOTE,
                 EntrySpec("variants", variadic="ref:variant", required=True,
                           doc="variants mon-sat-20h: the variants whose work is charged by this table"),
                 EntrySpec("bands", ("ref:table",), required=True,
                           doc="bands ext-fee-band: a table with outputs band, base, add (as 別表-1)"))),
    compile_variant_fees, named=True, cited=True, phase=55,
    doc="Gives pack variants their own fee-band table; the fee block's rules (base, blocks, quote) still apply.",
    example="variant-fees mon-sat-20h-fees {\n  cite 別表-1\n  variants mon-sat-20h\n  bands ext-fee-band\n}",
)


@hookimpl
def sptui_block_kinds(register):
    register(VARIANT_FEES)


@hookimpl
def sptui_variants(register):
    register(VariantPack("mon-sat-20h", (str(POLICY),), years=(1, 3, 5),
                         doc="月～土 延長時間対応: HW Mon–Sat 08:30–20:00, its own calendar and fee bands (an example)"))
