"""The desk's work flow in a real terminal of 80×24 (tmux; capture-pane reads the screen): after a claim and a
dispatch the newest timeline line is on screen, the dispatch dialog shows its buttons even with a refusal in it,
and `y` `r` on an alarm brings its incident up."""
from __future__ import annotations

import datetime as dt

from conftest import registry_csv, registry_row
from intake_util import alarm
from test_desk_terminal import Tmux, pytestmark  # noqa: F401  (the same skip without tmux)

from sptui.intake.ingest import parse
from sptui.store import Store
from sptui.testing import tokyo
from sptui.desk import file_mails, open_incident


def _lines(screen: str) -> list[str]:
    return screen.rstrip("\n").split("\n")


def test_at_80x24_the_timeline_the_dispatch_dialog_and_an_alarms_incident_stay_in_view(tmp_path, policy, sptui_bin):
    db = tmp_path / "desk.db"
    store = Store.open(str(db))
    store.registry.import_csv(registry_csv([registry_row(1), registry_row(2)]))
    iid = open_incident(store, policy, label="1234-000-001", at=tokyo("2026-11-27 17:10"), summary="friday evening",
                              operator="setup")
    for n in range(12):  # a timeline longer than its part of the screen
        store.incidents.add_note(iid, f"call {n}", operator="setup")
    now = dt.datetime.now(tokyo("2026-01-01 00:00").tzinfo).replace(microsecond=0)
    raw = alarm("SV0002", now - dt.timedelta(minutes=3), message_id="flow80@tmux")
    [al] = file_mails(store, policy, [(raw, parse(raw), "test", now - dt.timedelta(minutes=2))])
    t = Tmux([sptui_bin, "--db", str(db), "--operator", "tmux", "--lang", "en"], width=80, height=24)
    try:
        t.wait_for("shown")
        t.keys("/")
        t.keys("friday", literal=True)
        t.wait_for("\n 1 of ")
        t.keys("Enter")
        t.keys("Enter")
        t.wait_for(f"incident #{iid}")
        t.keys("c")
        shown = t.wait_for("claimed: claimed by tmux")
        assert len(_lines(shown)) == 24 and "call 11" in shown  # the newest lines, the claim last
        t.keys("d")
        t.wait_for("technician")
        t.keys("yamada", literal=True)
        t.keys("Tab", "End", "C-u")  # the departure, in place of now's
        t.keys("2026-11-27 19:00", literal=True)
        t.keys("Tab")
        t.keys("2026-11-27 20:30", literal=True)  # off-hours work: billable, by 別表-1
        t.keys("Tab", "Tab")
        t.keys("traffic", literal=True)
        t.keys("Enter")  # no consent yet: refused in the dialog, which stays
        shown = t.wait_for("record their consent")
        dialog = [line for line in _lines(shown) if "│" in line]
        assert any("dispatch" in line and "back" in line for line in dialog), shown  # both buttons on screen
        assert "yamada" in shown and "traffic" in shown and "fee 18,000円" in shown  # what was typed stays
        t.keys("Tab")
        t.keys("山田", literal=True)
        t.keys("Tab")
        t.keys("phone", literal=True)
        t.keys("Enter")
        shown = t.wait_for("yamada departs")
        assert "╭" not in shown  # the dialog is gone
        bottom = " ".join(line.rstrip(" ▁▂▃▄▅▆▇█") for line in _lines(shown)[-4:-1])  # above the key bar
        assert ("dispatched: yamada departs 2026-11-27 19:00; the customer pays: 別表-1 fee 18,000円; consent: 山田 "
                "by phone") in bottom, shown  # the newest line, whole, at the bottom
        t.keys("Escape")
        t.wait_for("shown")
        t.keys("/")
        t.keys("C-u")
        t.keys("SV0002", literal=True)
        t.wait_for("\n 1 of ")
        t.keys("Enter")
        t.keys("Enter")
        t.wait_for(f"alarm #{al.id}")
        t.keys("y")
        t.wait_for("Does the machine need")
        t.keys("r")
        t.wait_for(f"alarm #{al.id}: incident #")  # said; then (once the notice is gone) the incident's timeline
        shown = t.wait_for(f"alarm: alarm #{al.id} received")
        assert "incident #2  status: open" in shown and "Traceback" not in shown
    finally:
        t.kill()
    a = store.alarms.get(al.id)
    assert a["status"] == "linked" and store.incidents.get(a["incident_id"])["received_at"] == a["received_at"]
    store.close()
