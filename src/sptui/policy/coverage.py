"""Coverage that counts outcomes (`sptui test --coverage`): each rule's pass and its fail (a fail, warn or info
when its `require` does not hold), each row of the tables a decision reads (by `lookup` or as fee bands), each
cited clause item (`第3章 2.2 (19)`), and each computable clause — every one with the file:line where it is
written, so the report names what no test reaches. A rule whose `require` is a constant has one outcome only.

    with trace.recording_rows() as rows:
        results = [run_test(policy, t) for t in tests]
    report = outcome_coverage(policy, results, rows)
"""
from __future__ import annotations

import re
from typing import Any

import attrs

_LOOKUP = re.compile(r"lookup\(\s*([A-Za-z_][A-Za-z0-9_-]*)")
_BANDS = re.compile(r"^\s*bands\s+([A-Za-z_][A-Za-z0-9_-]*)", re.M)
_ITEM = re.compile(r" \([^)]*\)$")


@attrs.frozen
class Target:
    """One thing a test can reach: its kind (outcome, row, item, clause), what it is, where it is written."""
    kind: str
    name: str
    file: str
    line: int
    hit: bool

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "file": self.file, "line": self.line, "covered": self.hit}


def _sides(require) -> tuple[str, ...]:
    """The outcomes a rule can have: `require true` only passes, `require false` only fails (a note, a fact)."""
    constant = require.value if require.const else {"True": True, "False": False}.get(require.src)
    return ("pass",) if constant is True else ("fail",) if constant is False else ("pass", "fail")


def _rule_targets(policy, results) -> list[Target]:
    seen: set[tuple[str, str]] = set()
    for r in results:
        if r.decision is None:
            continue
        for reason in r.decision.trace:
            if reason.evaluator == "rules" and reason.outcome in ("pass", "fail", "warn", "info"):
                seen.add((reason.rule, "pass" if reason.outcome == "pass" else "fail"))
    out = []
    for rule in policy.blocks.get("rule", {}).values():
        sides = _sides(rule.require)
        out += [Target("outcome", f"rule {rule.id}: {side}", rule.span.file, rule.span.line, (rule.id, side) in seen)
                for side in sides]
    return out


def decided_tables(policy) -> list[str]:
    """The tables a decision reads: named in a `lookup(…)` or as fee bands (a table only shown, such as the
    recovery tables the desk lists, has no rows a decision matches)."""
    names: set[str] = set(policy.rt.fee_bands.values())
    for text in policy.sources.values():
        names.update(_LOOKUP.findall(text))
        names.update(_BANDS.findall(text))
    return [n for n in policy.rt.tables if n in names]


def _row_text(policy, span) -> str:
    """A row as written, up to its `=>` (`row ex-01`, `row true, 1, false, _`)."""
    lines = policy.sources.get(span.file, "").splitlines()
    text = lines[span.line - 1].strip() if 0 < span.line <= len(lines) else "row"
    return text.split("=>")[0].strip()


def _row_targets(policy, rows_hit: set) -> list[Target]:
    out = []
    for name in decided_tables(policy):
        table = policy.rt.tables[name]
        for row in table.rows:
            key = _row_text(policy, row.span).removeprefix("row ")
            out.append(Target("row", f"table {name} row {key}", row.span.file, row.span.line,
                              (name, row.span.file, row.span.line) in rows_hit))
    return out


def _cited(policy, results) -> set[str]:
    """Every clause (and item) a reason that ran cites, with those a rule inherits from the lets it uses."""
    cited: set[str] = set()
    inherited = policy.rt.inherited_cites
    for r in results:
        if r.decision is not None:
            for reason in r.decision.trace:
                if reason.outcome != "skip":
                    cited.update(reason.cite)
                    if reason.evaluator == "rules":
                        cited.update(str(ref) for ref, *_ in inherited.get(("rule", reason.rule), ()))
    return cited


def _item_targets(policy, cited: set[str]) -> list[Target]:
    first: dict[str, Any] = {}
    for ref, _owner in policy.rt.citation_refs:
        if ref.item is not None:
            first.setdefault(str(ref), ref.span)
    return [Target("item", f"clause {item}", span.file, span.line, item in cited) for item, span in first.items()]


def _clause_targets(policy, cited: set[str]) -> list[Target]:
    hit = {_ITEM.sub("", c) for c in cited}
    return [Target("clause", f"clause {c}", cl.span.file, cl.span.line, c in hit)
            for c, cl in policy.clauses.items() if cl.not_computable is None]


def _percent(targets: list[Target]) -> float:
    return 100.0 * sum(t.hit for t in targets) / len(targets) if targets else 100.0


KINDS = ("outcome", "row", "item", "clause")


def outcome_coverage(policy, results, rows_hit: set) -> dict:
    """Every target with whether a test reached it, the percentage of each kind and of all, and what was missed."""
    cited = _cited(policy, results)
    targets = (_rule_targets(policy, results) + _row_targets(policy, rows_hit) + _item_targets(policy, cited)
               + _clause_targets(policy, cited))
    by_kind = {k: [t for t in targets if t.kind == k] for k in KINDS}
    return {
        "percent": _percent(targets),
        "by_kind": {k: {"covered": sum(t.hit for t in ts), "total": len(ts), "percent": _percent(ts)}
                    for k, ts in by_kind.items()},
        "missed": [t.to_json() for t in targets if not t.hit],
        "targets": targets,
    }
