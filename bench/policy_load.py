"""bench/policy_load: parse + check + compile the shipped policy, and generated policies of 1,000 and
10,000 rules; as a baseline in the same run, loading the same content as JSON with the standard library.

Targets (issue 2): shipped policy ≤ 50 ms warm; 10,000 rules ≤ 2 s; 10k/1k time ratio ≤ 12.
Run: .venv/bin/python bench/policy_load.py
"""
from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sptui.policy.compile import load_policy  # noqa: E402
from sptui.policy.parse import parse_text, parser  # noqa: E402

HEADER = '''policy "generated"
version "1"
effective 2021-08-01
date-rounding clamp

register {
  clause 第1章 1, "対象"
  clause 第1章 4, "期間", items(i, ii, iii)
  clause 第3章 2.2, "除外作業", items(19)
}

let excluded = {disk-array, printer, thin-client}
'''

CATEGORIES = ["disk-array", "printer", "camera", "encoder", "ups"]


def rule(i: int) -> tuple[str, dict]:
    cat = CATEGORIES[i % len(CATEGORIES)]
    text = (f"rule r-{i} {{\n"
            f"  cite 第1章 1, 第3章 2.2 ({i % 19 + 1})\n"
            f"  when component.kind == option and pack.years >= {i % 7 + 1}\n"
            f"  require component.category != {cat} and date(at) < add_years(device.purchased_on, pack.years)\n"
            f"  on-fail not-covered\n"
            f'  fail-ja "対象外です（{{component.category}}）"\n'
            f'  fail-en "not covered ({{component.category}})"\n'
            f"}}\n\n")
    data = {"rule": f"r-{i}", "cite": ["第1章 1", f"第3章 2.2 ({i % 19 + 1})"],
            "when": {"and": [{"==": ["component.kind", "option"]}, {">=": ["pack.years", i % 7 + 1]}]},
            "require": {"and": [{"!=": ["component.category", cat]},
                                {"<": [{"date": "at"}, {"add_years": ["device.purchased_on", "pack.years"]}]}]},
            "on-fail": "not-covered", "fail-ja": "対象外です（{component.category}）",
            "fail-en": "not covered ({component.category})"}
    return text, data


def generate(n: int, folder: Path) -> Path:
    texts, datas = zip(*(rule(i) for i in range(n)))
    (folder / "policy.sptp").write_text(HEADER + "".join(texts), encoding="utf-8")
    (folder / "policy.json").write_text(json.dumps({"header": HEADER, "rules": list(datas)}, ensure_ascii=False),
                                        encoding="utf-8")
    return folder


def timed(fn, repeat: int) -> float:
    """The median time of fn(); what fn returns is freed after the clock stops (a load's result is kept)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        del result
    return statistics.median(times)


def main() -> None:
    t = time.perf_counter()
    parser()
    print(f"parser build (first use in the process): {1000 * (time.perf_counter() - t):.0f} ms")
    load_policy(ROOT / "policies")  # warm: modules imported, parser built, plugins loaded
    shipped = timed(lambda: load_policy(ROOT / "policies"), 30)
    best = min(timed(lambda: load_policy(ROOT / "policies"), 1) for _ in range(30))
    files = sorted((ROOT / "policies").glob("*.sptp"))
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    as_json = json.dumps({"files": [f.read_text(encoding="utf-8") for f in files]}, ensure_ascii=False)
    baseline = timed(lambda: json.loads(as_json), 20)
    print(f"shipped policy ({len(files)} files, {len(text):,} chars): {1000 * shipped:.1f} ms warm, median of 30 "
          f"(best {1000 * best:.1f} ms; target ≤ 50 ms); json.loads of the same text: {1000 * baseline:.3f} ms")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000):
            folder = Path(tmp) / f"n{n}"
            folder.mkdir()
            generate(n, folder)
            src = folder / "policy.json"
            policy_file = folder / "policy.sptp"
            ours = timed(lambda: load_policy(policy_file), 5 if n == 1000 else 3)  # the median of the runs
            base = timed(lambda: json.loads(src.read_text(encoding="utf-8")), 3)
            results[n] = ours
            policy = load_policy(policy_file)
            assert len(policy.blocks["rule"]) == n
            print(f"{n:>6,} rules: {ours:.3f} s (parse + check + compile, median of {5 if n == 1000 else 3}); "
                  f"json.loads of the same rules: "
                  f"{base:.3f} s; ratio {ours / base:.0f}×")
            if n == 10000:  # where the time goes: the parse alone, and Lark's own LALR parser on the same text
                text = policy_file.read_text(encoding="utf-8")
                gc.disable()  # as load_policy does while it loads
                try:
                    parse = timed(lambda: parse_text(text, "policy.sptp"), 1)
                    lark = timed(lambda: parser().parse(text), 1)
                finally:
                    gc.enable()
                print(f"        of which parsing to the AST: {parse:.3f} s (Lark's own parser, same grammar and "
                      f"transformer: {lark:.3f} s)")
    print(f"10k/1k time ratio: {results[10000] / results[1000]:.1f} (target ≤ 12); "
          f"10,000 rules: {results[10000]:.2f} s (target ≤ 2 s)")


if __name__ == "__main__":
    main()
