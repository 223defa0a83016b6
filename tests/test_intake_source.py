"""Alarm sources (sptui.intake.source): a source's mails stored on a real SQLite store, `done` only after."""
from __future__ import annotations

import datetime as dt

import pytest

from sptui.intake.source import run_source
from sptui.plugins.api import IncomingMail
from sptui.store import Store
from sptui.testing import alarm_mail, registry_csv, registry_row, tokyo


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(1)]))
    yield s
    s.close()


def mails(n: int, done: list) -> list[IncomingMail]:
    return [IncomingMail(alarm_mail("SV0001", tokyo("2026-11-27 17:29") + dt.timedelta(minutes=k), message_id=f"s{k}@x"),
                         tokyo("2026-11-27 17:30"), f"test:{k}", done=lambda k=k: done.append(k)) for k in range(n)]


def test_each_mail_is_stored_then_marked_done(store, policy):
    done: list = []
    heard = []
    counts = run_source(mails(3, done), store, policy, heard.append)
    assert counts == {"stored": 3, "duplicate": 0, "quarantined": 0, "not-stored": 0}
    assert done == [0, 1, 2] and [o.kind for o in heard] == ["stored"] * 3
    assert sorted(a["via"] for a in store.alarms.rows()) == ["test:0", "test:1", "test:2"]


def test_a_store_fault_leaves_each_mail_with_the_source_on_one_line_and_backs_off(store, policy):
    done: list = []
    heard, slept = [], []
    with store.db.engine.begin() as conn:  # a real fault of the database
        conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
    counts = run_source(mails(4, done), store, policy, heard.append, backoff=True, sleep=slept.append)
    assert counts["not-stored"] == 4 and done == []
    assert slept == [1.0, 2.0, 4.0, 8.0]  # each failure in a row waits longer
    assert all("\n" not in o.error and "no such table" in o.error and "[SQL" not in o.error for o in heard)
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
    assert run_source(mails(4, done), store, policy, heard.append, backoff=True, sleep=slept.append)["stored"] == 4
    assert done == [0, 1, 2, 3] and len(slept) == 4  # no wait once storing works


def test_a_source_must_give_aware_times_and_incoming_mails(store, policy):
    with pytest.raises(ValueError, match="aware"):
        IncomingMail(b"x", dt.datetime(2026, 11, 27, 17, 30), "test:naive")
    with pytest.raises(TypeError, match="IncomingMail"):
        run_source([b"raw bytes"], store, policy)


def test_the_intake_refuses_a_database_that_does_not_exist(run, tmp_path):
    p = run("intake", "file", tmp_path, "--db", tmp_path / "typo.db")
    assert p.returncode == 2 and "no database at" in p.stderr and "sptui db upgrade" in p.stderr
    assert not (tmp_path / "typo.db").exists()


def test_an_alarm_for_a_machine_on_a_variant_the_policy_lacks_is_quarantined_with_why(store, policy, caplog):
    """A plugin's variant that is gone (uninstalled, or failed to load): the mail is kept, named, no traceback."""
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE packs SET variant = 'longterm-weekday-9h'")
    done: list = []
    heard = []
    counts = run_source(mails(1, done), store, policy, heard.append)
    assert counts["quarantined"] == 1 and done == [0]
    [q] = store.quarantine.rows()
    assert q["reason"] == "no-decision"
    assert "machine 1234-000-001" in q["message"] and "longterm-weekday-9h" in q["message"]
    assert "plugin" in q["message"]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback in the log


def test_intake_file_takes_the_sources_one_path_a_store_fault_is_one_line_per_file(store, tmp_path, run):
    """`sptui intake file` stores through run_source, as a plugin's source does: a store that fails leaves each
    file where it is with one line saying so (the database's own first line, not its SQL and parameters), and
    a run that works afterwards stores them."""
    folder = tmp_path / "in"
    folder.mkdir()
    for k, mail in enumerate(mails(2, [])):
        (folder / f"{k}.eml").write_bytes(mail.raw)
    db = str(store.db.engine.url.database)
    with store.db.engine.begin() as conn:  # a real fault of the database
        conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
    failed = run("intake", "file", folder, "--db", db)
    lines = [line for line in failed.stderr.splitlines() if ".eml" in line]
    assert failed.returncode == 1 and len(lines) == 2, failed.stderr
    assert all("not stored" in line and "no such table: alarms" in line for line in lines), lines
    assert "[SQL" not in failed.stderr and "Traceback" not in failed.stderr
    assert "stored 0 duplicate 0 quarantined 0 not-stored 2" in failed.stderr
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
    again = run("intake", "file", folder, "--db", db)
    assert again.returncode == 0 and "stored 2 duplicate 0 quarantined 0" in again.stderr
    assert sorted(a["message_id"] for a in store.alarms.rows()) == ["s0@x", "s1@x"]
