"""bench/policy_load: the shipped policy loaded (parse + check + compile), and the live diagnostics of the policy
editor (check_live of the policy with one file edited, as on each keystroke); as a baseline in the same run,
json.loads of the same text.

Targets (issue 18): shipped policy ≤ 50 ms; live diagnostics ≤ 30 ms per keystroke. Each is printed as its share of
the target and as a ratio to the baseline (how many json.loads of the same text it takes).
Run: .venv/bin/python bench/policy_load.py [ROUNDS]
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sptui.plugins.manager import default_manager  # noqa: E402
from sptui.policy.compile import check_live, load_policy  # noqa: E402
from sptui.policy.parse import _last_parse, parser  # noqa: E402

POLICY = ROOT / "policies"


def timed(fn, rounds: int) -> tuple[float, float]:
    """The median and the best time of fn() over the rounds; what fn returns is freed after the clock stops."""
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        del result
    return statistics.median(times), min(times)


def report(label: str, took: tuple[float, float], target_ms: float, baseline: float) -> None:
    median, best = took
    verdict = "holds" if 1000 * median <= target_ms else "MISSED"
    print(f"{label}: {1000 * median:.1f} ms median (best {1000 * best:.1f}); target ≤ {target_ms:.0f} ms: "
          f"{1000 * median / target_ms:.2f} of it, {verdict}; {median / baseline:,.0f}× the baseline")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    plugins = default_manager()
    t = time.perf_counter()
    parser()
    print(f"parser build (first use in the process): {1000 * (time.perf_counter() - t):.0f} ms")
    load_policy(POLICY, plugins=plugins)  # warm: modules imported, parser built, plugins loaded
    files = sorted(POLICY.glob("*.sptp"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    as_json = json.dumps({"files": texts}, ensure_ascii=False)
    baseline = timed(lambda: json.loads(as_json), rounds)[0]
    print(f"baseline: json.loads of the same text ({len(files)} files, {sum(map(len, texts)):,} chars): "
          f"{1e6 * baseline:.1f} µs")

    def cold():  # every file parsed, as when the desk or a command starts
        _last_parse.clear()
        return load_policy(POLICY, plugins=plugins)

    edited, count = files[1], [0]

    def keystroke():  # the editor's check of the policy with one file as typed (a new text each time)
        count[0] += 1
        text = edited.read_text(encoding="utf-8") + f"\n# keystroke {count[0]}\n"
        return check_live([POLICY], plugins=plugins, extra_text={str(edited): text})

    report("shipped policy load", timed(cold, rounds), 50, baseline)
    report("live diagnostics, one file edited", timed(keystroke, rounds), 30, baseline)


if __name__ == "__main__":
    main()
