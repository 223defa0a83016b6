"""A desk's Thursday with known figures, for the lead's views (overview, report, billing, the screens).

Thursday 2026-11-26, looked at on Friday 2026-11-27 10:00 (AT):
- five onsite deadlines fall on Thursday: three met (1, 2, 3), one missed by a late departure (4: traffic), one
  missed with nobody sent (5, a 24x7 machine's evening incident);
- a sixth incident (6, weekday-9h, received 18:00) is dispatched off-hours at 19:00 (別表-1: 18,000円, the
  customer consented); its deadline is on Friday (10:30): met;
- three alarms: A (SV0003 09:30, reached 09:40: 10 min), B (SV0004 11:00, unreached 11:05, reached 11:35: 35 min),
  C (SV0006 16:00, never called: its call is overdue).
"""
from __future__ import annotations

import datetime as dt

from sptui.desk import Consent, Work, contact, dispatch, file_mails, open_incident
from sptui.intake.ingest import parse
from sptui.testing import alarm_mail, registry_csv, registry_row
from sptui.tz import TOKYO

THURSDAY = dt.date(2026, 11, 26)
AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=TOKYO)


def t(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hh, mm, tzinfo=TOKYO)


def label(i: int) -> str:
    return f"1234-000-{i:03d}"


def build(store, policy) -> dict:
    """The day above, through the desk's own paths; returns the ids."""
    rows = [registry_row(i, variant="24x7" if i >= 5 else "weekday-9h") for i in range(1, 7)]
    store.registry.import_csv(registry_csv(rows))
    ids = {}
    plan = [(1, t(26, 9), t(26, 10, 30), t(26, 11, 30), None), (2, t(26, 10), t(26, 11), t(26, 12), None),
            (3, t(26, 13), t(26, 14), t(26, 15), None), (4, t(26, 14), t(26, 16, 30), t(26, 17), "traffic"),
            (5, t(26, 20), None, None, None)]
    for n, received, departed, completed, late in plan:
        iid = ids[n] = open_incident(store, policy, label=label(n), at=received, summary=f"disk failure {n}",
                                     operator="sato")
        if departed is not None:
            dispatch(store, policy, iid, operator="sato", technician=f"tech{n}", work=Work(departed, completed),
                     late_reason=late)
    ids[6] = open_incident(store, policy, label=label(2), at=t(26, 18), summary="fan stopped", operator="suzuki")
    dispatch(store, policy, ids[6], operator="suzuki", technician="tanaka", work=Work(t(26, 19), t(26, 20, 30)),
             consent=Consent("担当 2", "phone", t(26, 18, 30)))
    for key, computer, received in (("A", "SV0003", t(26, 9, 30)), ("B", "SV0004", t(26, 11)),
                                    ("C", "SV0006", t(26, 16))):
        raw = alarm_mail(computer, received - dt.timedelta(minutes=1), message_id=f"report-{key}@example.jp")
        ids[key] = file_mails(store, policy, [(raw, parse(raw), "test", received)])[0].id
    contact(store, policy, ids["A"], at=t(26, 9, 40), reached=True, repair_needed=False, reason="rebooted",
            operator="sato")
    contact(store, policy, ids["B"], at=t(26, 11, 5), reached=False, operator="sato")
    contact(store, policy, ids["B"], at=t(26, 11, 35), reached=True, repair_needed=False, reason="fixed itself",
            operator="sato")
    return ids
