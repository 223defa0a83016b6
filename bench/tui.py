"""bench/tui: the desk's speed — cold start to first paint on the demo database, and with 100,000 incidents
in the store: first paint, and keystroke-to-paint for cursor moves, filtering and opening an incident.

In process (Textual's headless driver under Pilot: from a key's arrival to the next frame the app hands its
driver, App._display), against a baseline in the same process (an app of one table of 500 rows: the least a desk does);
and end to end in tmux (send-keys, then capture-pane until the screen changes).

Targets (issue 5): cold start ≤ 1.0 s; first paint at 100,000 incidents ≤ 1.5 s; keystroke-to-paint median
≤ 50 ms, p95 ≤ 100 ms.
Run: .venv/bin/python bench/tui.py [INCIDENTS]
"""
from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPTUI = str(Path(sys.executable).parent / "sptui")


def build(db: Path, incidents: int | None = None) -> None:
    """The demo desk, then (given `incidents`) copies of its open incidents until it holds that many open."""
    subprocess.run([SPTUI, "demo", "--db", str(db), "--no-open"], check=True, capture_output=True)
    if incidents is None:
        return
    import sqlalchemy as sa

    eng = sa.create_engine(f"sqlite:///{db}")
    with eng.begin() as conn:
        have = conn.exec_driver_sql("SELECT count(*) FROM incidents WHERE status != 'closed'").scalar()
        rounds = max(0, (incidents - have) // max(have, 1) + 1)
        cols = ("machine_id, alarm_id, received_at, support, summary, status, owner, version, \"case\", decision, "
                "verdict, deadline, policy_digest, updated_at, updated_by")
        conn.exec_driver_sql(
            f"WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {rounds}) "
            f"INSERT INTO incidents ({cols}) SELECT {cols} FROM incidents, n WHERE status != 'closed'")
        conn.exec_driver_sql(
            f"DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE status != 'closed' "
            f"ORDER BY id DESC LIMIT max(0, (SELECT count(*) FROM incidents WHERE status != 'closed') - {incidents}))")
    eng.dispose()


def paint_hook(app) -> list[float]:
    """The times at which the app hands a frame to its driver (App._display): the paints."""
    paints: list[float] = []
    display = app._display

    def hooked(screen, renderable):
        if renderable is not None:
            paints.append(time.perf_counter())
        return display(screen, renderable)

    app._display = hooked
    return paints


async def key_to_paint(pilot, paints: list[float], *keys: str) -> float:
    """From the key's arrival to the first frame after it."""
    n = len(paints)
    t = time.perf_counter()
    await pilot.press(*keys)
    deadline = t + 5
    while len(paints) <= n and time.perf_counter() < deadline:
        await asyncio.sleep(0.001)
    return paints[n] - t if len(paints) > n else float("nan")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def show(label: str, xs: list[float], base: list[float] | None = None) -> None:
    line = f"  {label:<44} median {statistics.median(xs) * 1e3:7.1f} ms  p95 {pct(xs, 0.95) * 1e3:7.1f} ms  (n={len(xs)})"
    if base:
        line += f"  ×{statistics.median(xs) / statistics.median(base):.1f} the baseline"
    print(line)


# ---- in process -----------------------------------------------------------------------------------------------
async def baseline(keys: int) -> tuple[float, list[float]]:
    from rich.text import Text
    from textual.app import App
    from textual.widgets import DataTable, Footer

    class One(App):
        def compose(self):
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self):
            t = self.query_one(DataTable)
            for c in "abcdefghi":
                t.add_column(c)
            for n in range(500):
                t.add_row(*(Text(f"{c}{n}") for c in "abcdefghi"))
            t.focus()

    t0 = time.perf_counter()
    app = One()
    paints = paint_hook(app)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        first = paints[0] - t0
        moves = [await key_to_paint(pilot, paints, "down") for _ in range(keys)]
    return first, moves


async def desk(db: Path, keys: int) -> dict:
    import sptui
    from sptui.store import Store
    from sptui.tui.app import DeskApp, TriageScreen

    out: dict = {}
    t0 = time.perf_counter()
    store = Store.open(str(db))
    policy = sptui.load_policy(str(ROOT / "policies"))
    app = DeskApp(store, policy, lang="en", operator="bench")
    paints = paint_hook(app)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        out["first"] = paints[0] - t0
        out["count"] = str(app.screen.query_one("#count").render())
        while not app.screen.complete:  # every row read (in the background): the filter searches them all
            await asyncio.sleep(0.01)
        out["complete"] = time.perf_counter() - t0

        async def timed(*keys_: str) -> float:
            return await key_to_paint(pilot, paints, *keys_)

        out["down"] = [await timed("down") for _ in range(keys)]
        await pilot.press("slash")
        out["filter"] = []
        for ch in "1234-0":  # each keystroke narrows the 100,000 rows
            out["filter"].append(await timed(ch))
        for _ in range(6):
            out["filter"].append(await timed("backspace"))
        await pilot.press("escape")
        out["open"] = []
        for _ in range(max(5, keys // 4)):
            out["open"].append(await timed("enter"))
            assert isinstance(app.screen, TriageScreen)
            await pilot.press("escape")
            await pilot.pause()
    store.close()
    return out


# ---- end to end in tmux -----------------------------------------------------------------------------------------
class Tmux:
    def __init__(self, *command: str):
        self.name = f"bench-{uuid.uuid4().hex[:8]}"
        self.t0 = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "160", "-y", "48", "env",
                        "TERM=xterm-256color", "LANG=C.UTF-8", *command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-e", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    def until(self, pred, timeout: float = 60) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if pred(self.screen()):
                return time.perf_counter()
            time.sleep(0.002)
        raise SystemExit(f"tmux: timed out; the screen:\n{self.screen()}")

    def key_to_paint(self, key: str, literal: bool = False) -> float:
        before = self.screen()
        t = time.perf_counter()
        subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), key], check=True)
        return self.until(lambda s: s != before, timeout=10) - t

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def tmux_run(db: Path, keys: int) -> dict:
    out: dict = {}
    t = Tmux(SPTUI, "--db", str(db), "--lang", "en", "--operator", "bench")
    try:
        out["first"] = t.until(lambda s: " shown" in s) - t.t0
        t.until(lambda s: "loading the rest" not in s)  # every row read: the filter searches them all
        time.sleep(1.0)
        out["down"] = [t.key_to_paint("Down") for _ in range(keys)]
        t.key_to_paint("/")
        out["filter"] = [t.key_to_paint(ch, literal=True) for ch in "1234-0"]
        out["filter"] += [t.key_to_paint("BSpace") for _ in range(6)]
        t.key_to_paint("Escape")
        out["open"] = []
        for _ in range(max(5, keys // 4)):
            out["open"].append(t.key_to_paint("Enter"))
            time.sleep(0.3)
            t.key_to_paint("Escape")
            time.sleep(0.3)
    finally:
        t.kill()
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    keys = 40
    print(f"bench/tui: Python {sys.version.split()[0]}; terminal 160×48")
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo.db"
        big = Path(tmp) / "big.db"
        build(demo)
        shutil.copy(demo, big)
        build(big, n)
        base_first, base_moves = asyncio.run(baseline(keys))
        print("in process (headless driver, Pilot):")
        print(f"  baseline: one table of 500 rows, first paint {base_first * 1e3:.0f} ms")
        show("baseline: cursor move", base_moves)
        small = asyncio.run(desk(demo, 5))
        print(f"  demo desk: first paint {small['first'] * 1e3:.0f} ms ({small['count']})"
              f"  ×{small['first'] / base_first:.1f} the baseline")
        r = asyncio.run(desk(big, keys))
        print(f"  {n:,} incidents: first paint {r['first'] * 1e3:.0f} ms ({r['count']})  (target ≤ 1,500 ms);"
              f" every row read after {r['complete'] * 1e3:.0f} ms")
        show("cursor move (down)", r["down"], base_moves)
        show("filter keystroke", r["filter"], base_moves)
        show("open an incident (enter)", r["open"], base_moves)
        print("    targets: median ≤ 50 ms, p95 ≤ 100 ms")
        if shutil.which("tmux") is None:
            print("end to end: tmux is not installed")
            return
        print("end to end in tmux (send-keys, then capture-pane until the screen changes):")
        cold = tmux_run(demo, 5)
        print(f"  cold start to first paint, demo desk: {cold['first'] * 1e3:.0f} ms  (target ≤ 1,000 ms)")
        e = tmux_run(big, keys)
        print(f"  {n:,} incidents: first paint {e['first'] * 1e3:.0f} ms  (target ≤ 1,500 ms)")
        show("cursor move (down)", e["down"])
        show("filter keystroke", e["filter"])
        show("open an incident (enter)", e["open"])


if __name__ == "__main__":
    main()
