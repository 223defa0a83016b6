"""The lead's figures over a period, computed from what the store recorded (store.reports reads; this computes):
the `:overview` screen and `sptui report` show the same `Overview`.

    p = Period.today(at) | Period.week(at) | Period.between(since, until)     # Asia/Tokyo days, half-open
    ov = overview(store, p, at=now)          # ov.json(), report_lines(ov, lang)

What each figure means:
- an onsite deadline (第1章 2.2 ※) falls in the period if the incident's deadline does. It was **met** when the
  first technician departed at or before it — the desk's own rule, which asks a late reason of a departure after
  it — and **missed** when the departure was later (with the dispatch's late reason), or when no technician was
  sent and the deadline has passed (`not-dispatched`). An incident closed without a dispatch (no onsite repair
  followed) and one whose deadline is still ahead without a dispatch are counted apart (`closed_without_dispatch`,
  `pending`).
- the time from an alarm's receipt to the customer reached is the first reached call's time minus the alarm's
  receipt, over the alarms received in the period; an alarm not reached yet is counted as `unreached`.
- calls overdue now: alarms still to call whose next call's time has passed; deadlines overdue now: open incidents
  past their deadline with no technician sent.
- an off-hours dispatch is one of a covered incident that the customer pays by 別表-1 (the fee applies to covered
  work only when the departure is outside the HW service hours, 第3章 2.3); the other dispatches the customer pays
  for are billable exclusions or uncovered work (`customer_pays`).
- the slack of a dispatch is its deadline minus its departure, in minutes (negative: late).
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from typing import Any

import attrs

from sptui.store import BadRequest
from sptui.tz import TOKYO, iso

HOUR = dt.timedelta(hours=1)
MAX_DAYS = 366  # the longest period the views chart
# the slack histogram's bins, minutes: (low, high] ... the first open below, the last open above
SLACK_BINS = (-60, 0, 30, 60, 90, 120)
NOT_DISPATCHED = "not-dispatched"
NO_REASON = "no-reason"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), TOKYO)


@attrs.frozen
class Period:
    """A span of time, `since <= t < until`, aware in Asia/Tokyo; `name` says how it was asked for."""
    since: dt.datetime
    until: dt.datetime
    name: str = "range"

    @classmethod
    def today(cls, at: dt.datetime) -> "Period":
        day = at.astimezone(TOKYO).date()
        return cls(_midnight(day), _midnight(day + dt.timedelta(days=1)), "today")

    @classmethod
    def week(cls, at: dt.datetime) -> "Period":
        """The Japan-time week (Monday to Sunday) that holds `at`."""
        day = at.astimezone(TOKYO).date()
        monday = day - dt.timedelta(days=day.weekday())
        return cls(_midnight(monday), _midnight(monday + dt.timedelta(days=7)), "week")

    @classmethod
    def between(cls, since: dt.datetime, until: dt.datetime) -> "Period":
        for name, t in (("since", since), ("until", until)):
            if t.utcoffset() is None:
                raise BadRequest(f"--{name} must carry its zone (+09:00)")
        if until <= since:
            raise BadRequest(f"the period ends ({until:%Y-%m-%d %H:%M}) before it starts ({since:%Y-%m-%d %H:%M})")
        if until - since > dt.timedelta(days=MAX_DAYS):
            raise BadRequest(f"a period is at most {MAX_DAYS} days long")
        return cls(since.astimezone(TOKYO), until.astimezone(TOKYO))

    def hours(self) -> list[dt.datetime]:
        """The start of each hour in the period (the charts' points)."""
        first = self.since.replace(minute=0, second=0, microsecond=0)
        return [first + n * HOUR for n in range(math.ceil((self.until - first) / HOUR))]

    def json(self) -> dict:
        return {"name": self.name, "since": iso(self.since), "until": iso(self.until)}


def minutes(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


@attrs.frozen
class Overview:
    """The figures of a period (see the module docstring); `at` is when they were computed."""
    period: Period
    at: dt.datetime
    deadlines: dict[str, int]  # met, missed, pending, closed_without_dispatch
    late_reasons: dict[str, int]
    reach: dict[str, Any]  # alarms, reached, unreached, median_minutes, worst_minutes
    overdue: dict[str, int]  # calls, deadlines (now)
    open_by_verdict: dict[str, int]
    open_by_status: dict[str, int]
    consults_waiting: int
    dispatches: dict[str, int]  # total, off_hours, customer_pays
    incidents_per_hour: list[int]
    alarms_per_hour: list[int]
    slack: list[tuple[str, int]]  # (bin's label, how many)
    by_customer: list[dict]
    by_variant: list[dict]

    @property
    def deadlines_counted(self) -> int:
        return self.deadlines["met"] + self.deadlines["missed"]

    def json(self) -> dict:
        out = attrs.asdict(self, recurse=False)
        out.update(schema=1, period=self.period.json(), at=iso(self.at), slack=[{"bin": b, "n": n} for b, n in self.slack],
                   hours=[iso(h) for h in self.period.hours()])
        return out


def _deadline_outcome(row: dict, at: dt.datetime) -> tuple[str, str | None]:
    """met / missed (with its reason) / pending / closed_without_dispatch: the deadline of one incident."""
    departed, deadline = row["departed_at"], row["deadline"]
    if departed is not None:
        return ("met", None) if departed <= deadline else ("missed", row["late_reason"] or NO_REASON)
    if row["status"] == "closed":
        return "closed_without_dispatch", None
    return ("missed", NOT_DISPATCHED) if deadline < at else ("pending", None)


def slack_label(n: int) -> str:
    lows = (None,) + SLACK_BINS
    highs = SLACK_BINS + (None,)
    low, high = lows[n], highs[n]
    return f"<= {high}" if low is None else f"> {low}" if high is None else f"{low}..{high}"


def _slack(rows: list[dict]) -> list[tuple[str, int]]:
    counts = [0] * (len(SLACK_BINS) + 1)
    for r in rows:
        if r["departed_at"] is None:
            continue
        m = minutes(r["deadline"] - r["departed_at"])
        counts[next((n for n, high in enumerate(SLACK_BINS) if m <= high), len(SLACK_BINS))] += 1
    return [(slack_label(n), c) for n, c in enumerate(counts)]


def _reach(rows: list[dict]) -> dict[str, Any]:
    times = [minutes(r["reached_at"] - r["received_at"]) for r in rows if r["reached_at"] is not None]
    return {"alarms": len(rows), "reached": len(times), "unreached": len(rows) - len(times),
            "median_minutes": statistics.median(times) if times else None, "worst_minutes": max(times, default=None)}


def _series(counts: dict[int, int], period: Period) -> list[int]:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return [counts.get(int((h - epoch) / HOUR), 0) for h in period.hours()]


def _groups(key: str, opened: list[dict], deadlines: list[tuple[dict, str]], reach: list[dict],
            dispatches: list[dict]) -> list[dict]:
    """The figures per customer or per variant (`key`), the busiest first."""
    acc: dict[str, dict[str, Any]] = defaultdict(lambda: {"opened": 0, "met": 0, "missed": 0, "off_hours": 0,
                                                          "_reach": []})
    for r in opened:
        acc[r[key]]["opened"] += r["n"]
    for r, outcome in deadlines:
        if outcome in ("met", "missed"):
            acc[r[key]][outcome] += 1
    for r in reach:
        if r["reached_at"] is not None:
            acc[r[key]]["_reach"].append(minutes(r["reached_at"] - r["received_at"]))
    for d in dispatches:
        acc[d[key]]["off_hours"] += off_hours(d)
    out = []
    for name, g in acc.items():
        times = g.pop("_reach")
        out.append({key: name, **g, "median_reach_minutes": statistics.median(times) if times else None})
    return sorted(out, key=lambda g: (-g["opened"], -(g["met"] + g["missed"]), str(g[key])))


def off_hours(d: dict) -> bool:
    """A covered incident's dispatch the customer pays by 別表-1: work outside the HW service hours."""
    return d["billing"] == "fee" and d["verdict"] == "covered"


def overview(store, period: Period, *, at: dt.datetime) -> Overview:
    """The period's figures (see the module docstring), as of `at`, read in one transaction."""
    with store.reports.snapshot() as r:
        return _overview(r, period, at)


def _overview(r, period: Period, at: dt.datetime) -> Overview:
    rows = r.deadlines(period.since, period.until)
    outcomes = [(row, *_deadline_outcome(row, at)) for row in rows]
    tally = Counter(o for _, o, _ in outcomes)
    reach = r.reach_times(period.since, period.until)
    dispatches = r.dispatches(period.since, period.until)
    opened = r.opened(period.since, period.until)
    open_rows = r.open_incidents()
    by_verdict: Counter = Counter()
    by_status: Counter = Counter()
    for row in open_rows:
        by_verdict[row["verdict"]] += row["n"]
        by_status[row["status"]] += row["n"]
    pairs = [(row, o) for row, o, _ in outcomes]
    return Overview(
        period=period, at=at,
        deadlines={k: tally.get(k, 0) for k in ("met", "missed", "pending", "closed_without_dispatch")},
        late_reasons=dict(Counter(reason for _, o, reason in outcomes if o == "missed").most_common()),
        reach=_reach(reach), overdue=r.overdue(at), open_by_verdict=dict(by_verdict.most_common()),
        open_by_status=dict(by_status.most_common()),
        consults_waiting=sum(row["n"] for row in open_rows if row["consult"]),
        dispatches={"total": len(dispatches), "off_hours": sum(off_hours(d) for d in dispatches),
                    "customer_pays": sum(d["billing"] in ("fee", "quote-needed") for d in dispatches)},
        incidents_per_hour=_series(r.per_hour("incidents", period.since, period.until), period),
        alarms_per_hour=_series(r.per_hour("alarms", period.since, period.until), period),
        slack=_slack(rows), by_customer=_groups("customer", opened, pairs, reach, dispatches),
        by_variant=_groups("variant", opened, pairs, reach, dispatches))
