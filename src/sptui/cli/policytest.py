"""What `sptui test` prints besides the test results: coverage by outcome (sptui.policy.coverage), and the
threshold it must reach."""
from __future__ import annotations

from sptui.cli.errors import say

KIND_WORDS = {"outcome": "rule outcomes", "row": "table rows", "item": "clause items", "clause": "clauses"}


def coverage_lines(cov: dict) -> list[str]:
    """Each target no test reached (file:line, what), then one line of percentages."""
    out = []
    if cov["missed"]:
        out.append("not covered:")
        out += [f"  {m['file']}:{m['line']}: {m['name']}" for m in cov["missed"]]
    parts = ", ".join(f"{KIND_WORDS[k]} {v['percent']:.0f}% ({v['covered']}/{v['total']})"
                      for k, v in cov["by_kind"].items())
    out.append(f"coverage: {_pct(cov['percent'])} — {parts}")
    return out


def _pct(p: float) -> str:
    return f"{p:.0f}%" if p in (0.0, 100.0) or p == int(p) else f"{p:.1f}%"


def say_coverage(cov: dict) -> None:
    for line in coverage_lines(cov):
        say(line)


def below_threshold(cov: dict, threshold: float | None) -> str | None:
    """Why the run fails its threshold, or None."""
    if threshold is None or cov["percent"] >= threshold:
        return None
    return f"coverage {_pct(cov['percent'])} is below the threshold {threshold:g}%"
