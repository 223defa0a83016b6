"""bench/intake: alarm mails per second over real SMTP on loopback, stored durably — into SQLite and into
PostgreSQL — and, as the floor, the same client against an aiosmtpd server whose handler stores nothing.
All in one run, the same client (4 concurrent SMTP sessions, several mails per session), the same mails.

Target (issue 18): ≥ 500 durable alarms/s on SQLite, on the plain path (every statement through SQLAlchemy:
issue 18 removed the raw-SQL path, which the target does not need); the ratio to the floor is printed beside it.
Run: .venv/bin/python bench/intake.py [N [ROUNDS]]   (PostgreSQL: $SPTUI_TEST_PG, else scripts/pg-test-server)
"""
from __future__ import annotations

import datetime as dt
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import registry_csv, registry_row  # noqa: E402
from intake_util import JST, IntakeServer, alarm  # noqa: E402

CLIENTS = 4
MACHINES = 200


def mails(n: int) -> list[bytes]:
    base = dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST)
    return [alarm(f"SV{1 + k % MACHINES:04d}", base + dt.timedelta(seconds=k), message_id=f"bench{k}@x",
                  event_id=f"0x{k:08X}") for k in range(n)]


def blast(port: int, batch: list[bytes]) -> float:
    """Send every mail (CLIENTS sessions at once); returns the seconds until the last 250."""
    parts = [batch[i::CLIENTS] for i in range(CLIENTS)]
    errors: list[str] = []

    def client(part: list[bytes]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                c.ehlo()
                for raw in part:
                    c.mail("esmpro@example.jp")
                    c.rcpt("alarm@desk.example.jp")
                    code, text = c.data(raw)
                    if code != 250:
                        errors.append(f"{code} {text!r}")
        except (OSError, smtplib.SMTPException) as e:
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=client, args=(p,)) for p in parts]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise SystemExit(f"{len(errors)} mails not accepted, e.g. {errors[0]}")
    return elapsed


FLOOR = """
import asyncio, sys
from aiosmtpd.smtp import SMTP
class Nothing:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 accepted"
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Nothing()), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def floor_rate(batch: list[bytes]) -> float:
    p = subprocess.Popen([sys.executable, "-c", FLOOR], stdout=subprocess.PIPE, text=True)
    try:
        port = int(p.stdout.readline())
        return len(batch) / blast(port, batch)
    finally:
        p.kill()
        p.wait()


def store_rate(url: str, batch: list[bytes]) -> float:
    from sptui.store import Store

    s = Store.open(url)
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, MACHINES + 1)]))
    srv = IntakeServer(url).start()
    try:
        rate = len(batch) / blast(srv.port, batch)
        assert s.db.counts()["alarms"] == len(batch), s.db.counts()
        return rate
    finally:
        srv.stop()
        s.close()


def pg_url() -> str | None:
    url = os.environ.get("SPTUI_TEST_PG")
    if not url:
        try:
            url = subprocess.run([str(ROOT / "scripts" / "pg-test-server")], capture_output=True, text=True,
                                 check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None
    import sqlalchemy as sa

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    batch = mails(n)
    print(f"{n:,} alarm mails over SMTP on loopback, {CLIENTS} concurrent sessions; {rounds} rounds, each running the"
          f" floor, SQLite and PostgreSQL in turn (this machine's speed drifts: a ratio is taken within a round);"
          f" Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    pg = pg_url()
    runs: dict[str, list[float]] = {"floor": [], "sqlite": [], "postgresql": []}
    for i in range(rounds):
        runs["floor"].append(floor_rate(batch))
        with tempfile.TemporaryDirectory() as tmp:
            runs["sqlite"].append(store_rate(f"sqlite:///{Path(tmp) / 'desk.db'}", batch))
        if pg:
            runs["postgresql"].append(store_rate(pg if i == 0 else pg_url(), batch))  # a new database each round

    def show(label: str, key: str, target: str = "") -> None:
        rates = runs[key]
        if not rates:
            print(f"  {label:<40} no server (set SPTUI_TEST_PG or install PostgreSQL)")
            return
        line = f"  {label:<40} median {statistics.median(rates):>6,.0f}/s  (runs: {', '.join(f'{r:,.0f}' for r in rates)})"
        if key != "floor":
            ratios = [r / f for r, f in zip(rates, runs["floor"])]
            line += f"  ratio to floor: median {statistics.median(ratios):.2f} (runs: {', '.join(f'{x:.2f}' for x in ratios)})"
        print(line + target)

    show("floor: aiosmtpd, handler stores nothing", "floor")
    sqlite = statistics.median(runs["sqlite"])
    show("SQLite (WAL, synchronous=FULL)", "sqlite", f"  target ≥ 500/s: {'met' if sqlite >= 500 else 'NOT MET'}")
    show("PostgreSQL (synchronous_commit on)", "postgresql")


if __name__ == "__main__":
    main()
