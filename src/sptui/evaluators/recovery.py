"""HW setting recovery (第3章 2.1 (4), tables 1–4): the `recovery` block."""
from __future__ import annotations

import attrs

from sptui.evaluators.common import CITE, NOTE
from sptui.model.decision import Reason
from sptui.policy.decide import DecisionContext
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, hookimpl

ACTIONS = {
    "auto-by-replacement": ("ディスク交換で自動復旧（RAID有効・1台故障）", "recovered automatically by replacing the disk (RAID on, one disk)"),
    "restore-from-config": ("工場出荷状態に戻し、構成情報から表3の設定を復旧", "restore to factory state, then the table-3 settings from the configuration info"),
    "factory-restore-with-hearing": ("現地で構成をヒアリングし工場出荷状態に復旧", "hear the configuration on site, restore to factory state"),
}


@attrs.frozen
class Recovery:
    cites: tuple[str, ...]
    note: str | None
    when: object
    action: object
    uses: tuple[str, ...]


def compile_recovery(b, ctx):
    scope = b.scope()
    when = b.first("when")
    action = b.first("action")
    uses = tuple(n for n in b.values("uses") if n)
    for e in b.all("uses"):
        for a, n in zip(e.args, b.values("uses")):
            if n and n not in ctx.rt.tables:
                ctx.error("E065", f"no table named `{n}`", a.span, did_you_mean(n, ctx.rt.tables))
    return Recovery(b.cites(), b.note(),
                    ctx.exprs.condition(when.args[0], scope) if when and when.args else None,
                    ctx.exprs.compile(action.args[0], scope).fn if action and action.args else (lambda c: None),
                    uses)


RECOVERY = BlockKind(
    "recovery",
    BlockSchema((CITE, NOTE,
                 EntrySpec("when", ("expr",), doc="when EXPR: when setting recovery is decided"),
                 EntrySpec("action", ("expr",), required=True, doc="action EXPR: the recovery action (usually a table lookup)"),
                 EntrySpec("uses", variadic="ref:table", doc="uses recovery-scope, config-info: tables whose rows the desk is shown")),
                lets=True),
    compile_recovery, named=False, cited=True, phase=60, singleton=True,
    doc="What HW setting recovery does after a system-disk failure (table 2).",
    example="recovery {\n  cite 第3章 2.1 (4), 表2\n  when failure != null and verdict == covered\n"
            "  action lookup(system-disk, action, failure.raid, failure.disks_failed, failure.mirror_lost, device.config_info)\n}",
)


def run_recovery(policy, ctx: DecisionContext) -> None:
    rec = policy.blocks.get("recovery", {}).get("recovery")
    if rec is None or ctx.case.get("failure") is None:
        return
    if rec.when is not None and not rec.when(ctx):
        ctx.add(Reason("setting-recovery", "skip", rec.cites, "", "", rec.note, "recovery"))
        return
    action = rec.action(ctx)
    if action is None:
        return
    ctx.setting_recovery = {"action": action, "cite": ", ".join(rec.cites)}
    ja, en = ACTIONS.get(action, (action, action))
    cites = list(rec.cites)
    for name in rec.uses:
        table = policy.rt.tables.get(name)
        if table is not None:
            cites.extend(c for c in table.cites if c not in cites)
    ctx.add(Reason("setting-recovery", "info", tuple(cites), f"HW設定復旧: {ja}", f"HW setting recovery: {en}", rec.note,
                   "recovery"))


@hookimpl
def sptui_block_kinds(register):
    register(RECOVERY)


@hookimpl
def sptui_evaluators(register):
    register(Evaluator("recovery", 50, run_recovery, doc="the table-2 action after a system-disk failure"))
