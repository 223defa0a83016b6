"""`sptui demo` builds a working desk's shift, relative to now: most incidents recent, most older ones dispatched or
closed, a handful overdue, every machine's dates in order and none in the future."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sptui.store import Store
from sptui.store import schema as S
from sptui.tui import data

HANDFUL = 5


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sptui_bin):
    import subprocess

    db = tmp_path_factory.mktemp("demo") / "demo.db"
    r = subprocess.run([sptui_bin, "demo", "--db", str(db), "--no-open"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    s = Store.open(str(db))
    yield s, dt.datetime.now(S.TOKYO)
    s.close()


def test_the_first_screen_has_a_handful_overdue_not_most_of_it(demo):
    store, now = demo
    rows = data.queue(store)
    incidents = [r for r in rows if r.kind == "incident" and not r.dispatched and r.due() is not None]
    late = [r for r in incidents if r.due() < now]
    calls = [r for r in rows if r.kind == "alarm" and r.due() is not None and r.due() < now]
    assert len(late) <= HANDFUL and len(calls) <= HANDFUL, ([r.key for r in late], [r.key for r in calls])
    assert all(now - r.due() < dt.timedelta(hours=8) for r in late + calls)  # none days overdue
    assert len(incidents) >= 20  # … of a queue with plenty of work waiting
    first = rows[:20]  # what the queue shows first: mostly deadlines still ahead, not a wall of red
    assert sum(r.due() is not None and r.due() < now for r in first) <= HANDFUL


def test_most_incidents_are_recent_and_most_older_ones_are_dispatched_or_closed(demo):
    store, now = demo
    incidents = store.incidents.rows()
    assert len(incidents) >= 150
    recent = [i for i in incidents if now - i["received_at"] < dt.timedelta(hours=8)]
    old = [i for i in incidents if now - i["received_at"] > dt.timedelta(days=1)]
    assert len(recent) >= 0.4 * len(incidents)
    assert old and sum(i["status"] in ("dispatched", "closed") for i in old) >= 0.7 * len(old)
    assert {i["status"] for i in incidents} == {"open", "claimed", "dispatched", "closed"}
    assert {i["verdict"] for i in incidents} == {"covered", "not-covered", "not-started", "consult", "billable"}


def test_nothing_happened_after_now_and_everything_in_its_order(demo):
    store, now = demo
    i, d, c = S.incidents, S.dispatches, S.contact_attempts
    with store.db.read() as conn:
        dispatches = conn.execute(sa.select(d.c.departed_at, d.c.completed_at, i.c.received_at, i.c.deadline,
                                            d.c.late_reason).join(i, i.c.id == d.c.incident_id)).all()
        calls = conn.execute(sa.select(c.c.at, S.alarms.c.received_at).join(S.alarms)).all()
    assert dispatches and calls
    for departed, completed, received, deadline, late in dispatches:
        assert received <= departed <= now and (completed is None or departed < completed <= now)
        assert late is None and (deadline is None or departed <= deadline)  # technicians on time
    assert all(received <= at <= now for at, received in calls)
    assert max(a["received_at"] for a in store.alarms.rows()) <= now


def test_every_machine_was_bought_before_its_pack_was_registered_and_nothing_is_dated_in_the_future(demo):
    store, now = demo
    machines = store.registry.rows()
    assert len(machines) == 1000
    today = now.date()
    for m in machines:
        dates = [m["purchased_on"], m["pack_purchased_on"], m["submitted_on"], m["completed_on"]]
        known = [x for x in dates if x is not None]
        assert known == sorted(known) and known[-1] <= today, m["label_number"]
        assert (m["registration_status"] == "accepted") == (m["completed_on"] is not None)
        assert m["express_start_on"] is None or m["express_start_on"] <= today
    assert {m["registration_status"] for m in machines} == {"accepted", "pending", "rejected"}


def test_the_overview_of_the_demo_week_agrees_with_the_queue(demo):
    """The lead's figures on the demo desk: what the queue calls overdue is what the overview calls overdue now, and
    every deadline of the week is counted once."""
    from sptui.desk.report import Period, overview

    store, now = demo
    ov = overview(store, Period.week(now), at=now)
    rows = data.queue(store)
    late = [r for r in rows if r.kind == "incident" and not r.dispatched and r.due() is not None and r.due() < now]
    calls = [r for r in rows if r.kind == "alarm" and r.due() is not None and r.due() < now]
    assert ov.overdue == {"calls": len(calls), "deadlines": len(late)}
    assert sum(ov.open_by_status.values()) == len([r for r in rows if r.kind == "incident"])
    with store.db.read() as conn:
        due = conn.execute(sa.select(sa.func.count()).select_from(S.incidents).where(
            S.incidents.c.deadline >= ov.period.since, S.incidents.c.deadline < ov.period.until)).scalar_one()
    assert sum(ov.deadlines.values()) == due and ov.deadlines_counted > 0
