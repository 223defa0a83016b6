"""bench/overview: the lead's overview over a big desk — 100,000 incidents and 200,000 alarms over a year (with
their dispatches and calls) — computed and painted, on SQLite and (given its URL) PostgreSQL.

For each engine: the figures of today, this week (the screen's periods) and the last 30 days (a range, as
`sptui report --since` asks; printed for information) (`overview`, the queries of
store/reports.py and what desk/report.py computes from them), then the `:overview` screen under Pilot, from
being pushed to the first frame handed to the driver with its figures (the same `overview` call, then the widgets'
layout and paint). The baseline, measured the same way in the same process: the same screen on an empty
database of the same engine (what the screen costs without data), and a count of every incident and alarm (the
cheapest question that touches every row).

Target (issue 20): computed and painted ≤ 1 s (today and this week).
Run: .venv/bin/python bench/overview.py [INCIDENTS [ALARMS]] [--pg URL]   (default 100,000 and 200,000; the
     PostgreSQL URL also from $SPTUI_TEST_PG, a server scripts/pg-test-server starts: a new database is made and
     dropped)
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from sptui.desk.report import Period, overview
from sptui.store import Store
from sptui.store import schema as S
from sptui.tz import TOKYO

AT = dt.datetime(2026, 11, 27, 14, 0, tzinfo=TOKYO)  # a Friday afternoon
DAYS = 365
CUSTOMERS, MACHINES = 200, 1000
CHUNK = 10_000
REPEAT = 5


def _chunks(rows, n=CHUNK):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def _registry(conn, created: dt.datetime) -> None:
    conn.execute(S.customers.insert(), [dict(organisation=f"顧客{c:03d}株式会社", name="担当", address="東京都",
                                             phone=f"03-0000-{c:04d}", email=f"c{c}@example.jp", created_at=created)
                                        for c in range(1, CUSTOMERS + 1)])
    day = dt.date(2024, 4, 2)
    conn.execute(S.machines.insert(), [dict(
        customer_id=m % CUSTOMERS + 1, label_number=f"9{m:03d}-000-{m % 1000:03d}", support_id=f"SPB{m:06d}",
        computer_name=f"BV{m:05d}", model_code="N8100-2541Y", serial_number=f"SN{m:07d}", purchased_on=day,
        country="JP", config_info=True, site_organisation="設置先", site_address="神奈川県", site_name="現場",
        site_phone="044-000-0000", created_at=created) for m in range(1, MACHINES + 1)])
    conn.execute(S.packs.insert(), [dict(machine_id=m, pack_serial=f"PKB{m:06d}", variant="24x7" if m % 5 == 0 else
                                         "weekday-9h", years=5, purchased_on=day, registration_status="accepted")
                                    for m in range(1, MACHINES + 1)])


def _times(rnd: random.Random, n: int, start: dt.datetime) -> list[dt.datetime]:
    """n receipts over the year, in order: a desk numbers its records as they come in."""
    return [start + dt.timedelta(seconds=s) for s in sorted(rnd.randrange(DAYS * 86400) for _ in range(n))]


def _incident(rnd: random.Random, n: int, received: dt.datetime) -> tuple[dict, dict | None]:
    deadline = received + dt.timedelta(hours=2)
    age = AT - received
    status = "closed" if age > dt.timedelta(days=3) and rnd.random() < 0.97 else rnd.choice(("open", "claimed",
                                                                                                "dispatched"))
    departed = deadline + dt.timedelta(minutes=rnd.randrange(-110, 30))
    sent = (status in ("closed", "dispatched") and rnd.random() < 0.8) and departed < AT
    fee = {"total_jpy": 14000, "lines": []} if sent and rnd.random() < 0.1 else None
    inc = dict(id=n, machine_id=n % MACHINES + 1, received_at=received, support="hw", summary=f"failure {n}",
               status=status if sent or status != "dispatched" else "claimed", owner="op" if status != "open" else None,
               version=1, case={}, decision={"in_service_hours": True}, verdict="covered", deadline=deadline,
               policy_digest="sha256:bench", updated_at=received, updated_by="op",
               consult="?" if rnd.random() < 0.002 else None, billing="fee" if fee else None)
    disp = dict(incident_id=n, technician="tech", technicians=1, departed_at=departed,
                completed_at=departed + dt.timedelta(hours=1), late_reason="traffic" if departed > deadline else None,
                fee=fee, operator="op", created_at=departed, billing="fee" if fee else "free") if sent else None
    return inc, disp


def _alarm(rnd: random.Random, n: int, received: dt.datetime) -> tuple[dict, list[dict]]:
    m = n % MACHINES + 1
    called = received < AT - dt.timedelta(hours=1) and rnd.random() < 0.98
    alarm = dict(id=n, machine_id=m, message_id=f"b{n}@bench", dedupe_key=f"{m}|b|{n}", computer=f"BV{m:05d}",
                 occurred_at=received, received_at=received, via="bench", status="closed" if called else "new",
                 decision={"verdict": "covered"}, next_contact_at=None if called else received,
                 arrange_technician=False, policy_digest="sha256:bench", version=1)
    calls = []
    if called:
        at = received + dt.timedelta(minutes=rnd.randrange(2, 90))
        if rnd.random() < 0.2:
            calls.append(dict(alarm_id=n, at=at, reached=False, operator="op", note=""))
            at += dt.timedelta(hours=12)
        calls.append(dict(alarm_id=n, at=at, reached=True, operator="op", note=""))
    return alarm, calls


def build(store: Store, incidents: int, alarms: int) -> None:
    rnd = random.Random(20)
    start = AT - dt.timedelta(days=DAYS - 1)
    with store.db.write() as conn:
        _registry(conn, start)
        made = [_incident(rnd, n, at) for n, at in enumerate(_times(rnd, incidents, start), 1)]
        for part in _chunks([i for i, _ in made]):
            conn.execute(S.incidents.insert(), part)
        for part in _chunks([d for _, d in made if d is not None]):
            conn.execute(S.dispatches.insert(), part)
        made = [_alarm(rnd, n, at) for n, at in enumerate(_times(rnd, alarms, start), 1)]
        for part in _chunks([a for a, _ in made]):
            conn.execute(S.alarms.insert(), part)
        for part in _chunks([c for _, calls in made for c in calls]):
            conn.execute(S.contact_attempts.insert(), part)
        if conn.dialect.name == "postgresql":  # the ids were given: the sequences follow
            for t in ("incidents", "alarms"):
                conn.exec_driver_sql(f"SELECT setval('{t}_id_seq', (SELECT max(id) FROM {t}))")
    if store.db.engine.dialect.name == "postgresql":
        with store.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with store.db.write() as conn:
            conn.exec_driver_sql("ANALYZE")


def timed(fn, n=REPEAT) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


async def _paint(store: Store, policy, span: str) -> float:
    """From pushing the `:overview` screen to the first frame after its figures are shown."""
    from sptui.tui import data
    from sptui.tui.app import DeskApp
    from sptui.tui.screens.overview import OverviewScreen
    from sptui.tui.textual_compat import on_paint

    data.now = lambda: AT
    app = DeskApp(store, policy, lang="en", operator="bench")
    paints: list[float] = []
    on_paint(app, lambda: paints.append(time.perf_counter()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = OverviewScreen(span)
        n = len(paints)
        t = time.perf_counter()
        app.push_screen(screen)
        deadline = t + 30
        while (screen.figures is None or len(paints) <= n) and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        shown = [p for p in paints[n:]]
        return (shown[-1] if screen.figures is not None and shown else float("nan")) - t


def paint(store: Store, policy, span: str = "today") -> list[float]:
    return [asyncio.run(_paint(store, policy, span)) for _ in range(3)]


def line(label: str, xs: list[float], base: list[float] | None = None) -> str:
    text = f"  {label:<46} median {statistics.median(xs) * 1e3:8.1f} ms  worst {max(xs) * 1e3:8.1f} ms"
    if base:
        text += f"  (×{statistics.median(xs) / statistics.median(base):.1f} the baseline)"
    return text


def engine_run(name: str, url: str, empty_url: str, incidents: int, alarms: int, policy) -> bool:
    empty = Store.open(empty_url)
    base_paint = paint(empty, policy)
    empty.close()
    store = Store.open(url)
    t = time.perf_counter()
    build(store, incidents, alarms)
    print(f"{name}: built {incidents:,} incidents and {alarms:,} alarms in {time.perf_counter() - t:.1f} s")

    def count():
        with store.db.read() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(S.incidents)).scalar_one()
            conn.execute(sa.select(sa.func.count()).select_from(S.alarms)).scalar_one()

    base = timed(count)
    print(line("baseline: count every incident and alarm", base))
    print(line("baseline: :overview painted, empty database", base_paint))
    medians = []
    for label, period in (("today", Period.today(AT)), ("this week", Period.week(AT)),
                          ("last 30 days (a range; for information)", Period.between(AT - dt.timedelta(days=30), AT))):
        xs = timed(lambda: overview(store, period, at=AT))
        medians.append(statistics.median(xs))
        print(line(f"overview computed: {label}", xs, base))
    painted = {span: paint(store, policy, span) for span in ("today", "week")}
    for span, xs in painted.items():
        print(line(f":overview ({span}) computed + painted, 80×24", xs, base_paint))
    store.close()
    ok = max(medians[:2]) <= 1.0 and all(statistics.median(xs) <= 1.0 for xs in painted.values())
    print(f"  target (the screen's today and this week) ≤ 1 s: {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    pg = sys.argv[sys.argv.index("--pg") + 1] if "--pg" in sys.argv else os.environ.get("SPTUI_TEST_PG")
    if pg in args:
        args.remove(pg)
    incidents = int(args[0]) if args else 100_000
    alarms = int(args[1]) if len(args) > 1 else 2 * incidents
    from sptui import load_policy
    from sptui.config import shipped_policy_dir

    policy = load_policy(shipped_policy_dir())
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= engine_run("SQLite", f"sqlite:///{Path(tmp) / 'big.db'}", f"sqlite:///{Path(tmp) / 'empty.db'}",
                         incidents, alarms, policy)
    if pg:
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        names = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
        with admin.connect() as conn:
            for n in names:
                conn.exec_driver_sql(f'CREATE DATABASE "{n}"')
        try:
            urls = [sa.make_url(pg).set(database=n).render_as_string(hide_password=False) for n in names]
            ok &= engine_run("PostgreSQL", urls[0], urls[1], incidents, alarms, policy)
        finally:
            with admin.connect() as conn:
                for n in names:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')
            admin.dispose()
    else:
        print("PostgreSQL: skipped (no --pg URL, no $SPTUI_TEST_PG)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
