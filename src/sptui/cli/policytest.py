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


def write_updates(policy, results, sources: dict[str, str]):
    """`--update`: each failing test's file rewritten to expect what it got (atomically, file by file); what could
    not be updated is said. Returns the results of running the tests again."""
    import os
    import tempfile
    from pathlib import Path

    from sptui.policy.testrun import load_tests, run_test
    from sptui.policy.testupdate import update

    texts, left = update(results, sources)
    for file, text in texts.items():
        folder = os.path.dirname(os.path.abspath(file))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sptui-update-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, file)
        say(f"updated {file}")
    for why in left:
        say(f"not updated: {why}")
    if not texts:
        return results
    names = {r.test.name for r in results}
    tests, _, _ = load_tests([Path(f) for f in sources])
    return [run_test(policy, t) for t in tests if t.name in names]
