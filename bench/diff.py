"""bench/diff: a policy change replayed over 100,000 recorded cases (`sptui diff --cases`), beside `sptui eval
--jsonl` over the same file, in the same process (click's runner: no start-up counted), and the same replay over a
SQLite store (`sptui diff --db`, the cases read back from the database).

Target (issue 19): 100,000 recorded cases replayed in well under a minute.
Run: .venv/bin/python bench/diff.py [N]
"""
from __future__ import annotations

import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from click.testing import CliRunner  # noqa: E402

from decide import make_cases  # noqa: E402
from sptui.cli import main  # noqa: E402


def _changed_policy(folder: Path) -> Path:
    """The shipped policy with weekday-9h's HW hours ending at 17:00 instead of 17:30."""
    new = folder / "new"
    shutil.copytree(ROOT / "policies", new)
    f = new / "hours.sptp"
    f.write_text(f.read_text(encoding="utf-8").replace("window 08:30-17:30", "window 08:30-17:00", 1), encoding="utf-8")
    return new


def _timed(args: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    r = CliRunner().invoke(main, args)
    took = time.perf_counter() - start
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return took, r.exit_code, r.stdout


def _store(folder: Path, cases: list[dict]) -> str:
    """A SQLite desk whose incidents carry the cases (one machine; the cases as the desk would have kept them)."""
    import datetime as dt

    from sptui.store import Store
    from sptui.store import schema as S
    from sptui.testing import registry_csv, registry_row
    from sptui.tz import TOKYO

    url = f"sqlite:///{folder / 'desk.db'}"
    store = Store.open(url)
    store.registry.import_csv(registry_csv([registry_row(1)]))
    now = dt.datetime.now(TOKYO)
    rows = [dict(machine_id=1, received_at=dt.datetime.fromisoformat(c["at"]), support=c["support"], summary="bench",
                 status="closed", version=1, case=c, decision={}, verdict="covered", policy_digest="bench",
                 updated_at=now) for c in cases]
    with store.db.write() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(S.incidents.insert(), rows[i:i + 5000])
    store.close()
    return url


def main_(n: int) -> None:
    cases = make_cases(n)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        f = folder / "cases.jsonl"
        f.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
        old, new = str(ROOT / "policies"), str(_changed_policy(folder))
        took_eval, code, _ = _timed(["eval", "--policy", old, "--jsonl", str(f)])
        print(f"eval --jsonl      {n:,} cases in {took_eval:6.2f} s  {n / took_eval:9,.0f} cases/s  (exit {code})")
        took, code, out = _timed(["diff", old, new, "--cases", str(f), "--format", "json"])
        s = json.load(io.StringIO(out))["summary"]
        print(f"diff --cases      {n:,} cases in {took:6.2f} s  {n / took:9,.0f} cases/s  (each decided twice; "
              f"{s['changed']:,} changed; exit {code})")
        url = _store(folder, cases)
        took_db, code, out = _timed(["diff", old, new, "--db", url, "--format", "json"])
        print(f"diff --db sqlite  {n:,} cases in {took_db:6.2f} s  {n / took_db:9,.0f} cases/s  "
              f"({json.loads(out)['summary']['changed']:,} changed; exit {code})")
        print(f"target: {n:,} replayed well under 60 s — files {took:.1f} s, store {took_db:.1f} s")


if __name__ == "__main__":
    main_(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
