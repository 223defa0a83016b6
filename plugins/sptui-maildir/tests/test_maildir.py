"""The maildir alarm source, through `sptui intake source maildir` on a real SQLite store."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sptui.intake.source import run_source
from sptui.store import Store
from sptui.testing import alarm_mail, load_policy_with, registry_csv, registry_row, tokyo

import sptui_maildir

SPTUI = str(Path(sys.executable).parent / "sptui")


@pytest.fixture
def desk(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    s = Store.open(url)
    s.registry.import_csv(registry_csv([registry_row(1), registry_row(2)]))
    yield url, s
    s.close()


@pytest.fixture
def maildir(tmp_path):
    root = tmp_path / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True)
    return root


def deliver(root: Path, name: str, raw: bytes) -> Path:
    """As a delivery agent does: write into tmp/, then rename into new/."""
    (root / "tmp" / name).write_bytes(raw)
    os.replace(root / "tmp" / name, root / "new" / name)
    return root / "new" / name


def sptui(*args, **kw):
    return subprocess.run([SPTUI, *map(str, args)], capture_output=True, text=True, timeout=120, **kw)


def test_the_installed_plugin_is_listed_and_offers_its_source():
    p = sptui("plugins")
    assert p.returncode == 0, p.stderr
    assert "maildir 0.1.0 (installed" in p.stdout
    p = sptui("intake", "source")
    assert "maildir" in p.stdout


def test_each_mail_is_stored_or_quarantined_then_moved_to_cur(desk, maildir):
    url, store = desk
    deliver(maildir, "1.a", alarm_mail("SV0001", tokyo("2026-11-27 17:29:00"), message_id="m1@esm"))
    deliver(maildir, "2.b", alarm_mail("SV0002", tokyo("2026-11-27 17:31:00"), message_id="m2@esm"))
    deliver(maildir, "3.c", b"From: someone@example.jp\r\nSubject: hello\r\n\r\nnot an alarm\r\n")
    p = sptui("intake", "source", "maildir", maildir, "--db", url)
    assert p.returncode == 0, p.stderr
    assert "stored 2 duplicate 0 quarantined 1 not-stored 0" in p.stderr
    assert list((maildir / "new").iterdir()) == []
    assert sorted(f.name for f in (maildir / "cur").iterdir()) == ["1.a:2,S", "2.b:2,S", "3.c:2,S"]
    alarms = store.alarms.rows()
    assert sorted(a["computer"] for a in alarms) == ["SV0001", "SV0002"]
    # each alarm names where its mail is now: the absolute path in cur/
    assert sorted(a["via"] for a in alarms) == [f"maildir:{(maildir / 'cur' / n).resolve()}" for n in ("1.a:2,S", "2.b:2,S")]
    [q] = store.quarantine.rows()
    assert q["via"] == f"maildir:{(maildir / 'cur' / '3.c:2,S').resolve()}"


@pytest.mark.parametrize("name, seen", [("1.a", "1.a:2,S"), ("6.a:2,", "6.a:2,S"), ("7.b:2,RF", "7.b:2,FRS"),
                                        ("8.c:2,S", "8.c:2,S")])
def test_a_stored_mail_keeps_its_flags_and_gains_seen(name, seen):
    assert sptui_maildir.seen_name(name) == seen


def test_a_mail_delivered_again_is_a_duplicate_and_still_moved(desk, maildir):
    url, store = desk
    raw = alarm_mail("SV0001", tokyo("2026-11-27 17:29:00"), message_id="same@esm")
    deliver(maildir, "1", raw)
    assert sptui("intake", "source", "maildir", maildir, "--db", url).returncode == 0
    deliver(maildir, "2", raw)
    p = sptui("intake", "source", "maildir", maildir, "--db", url)
    assert "duplicate 1" in p.stderr, p.stderr
    assert len(store.alarms.rows()) == 1
    assert not list((maildir / "new").iterdir())


def test_follow_takes_a_mail_delivered_while_watching(desk, maildir):
    url, store = desk
    proc = subprocess.Popen([SPTUI, "intake", "source", "maildir", str(maildir), "--follow", "--db", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, SPTUI_MAILDIR_POLL="0.2"))
    try:
        time.sleep(1.0)
        deliver(maildir, "late", alarm_mail("SV0002", tokyo("2026-11-28 03:00:00"), message_id="late@esm"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (maildir / "cur" / "late:2,S").exists():
            time.sleep(0.1)
        assert (maildir / "cur" / "late:2,S").exists()
        assert [a["computer"] for a in store.alarms.rows()] == ["SV0002"]
        assert proc.poll() is None  # still watching
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_a_mail_the_store_cannot_take_stays_in_new(desk, maildir):
    url, store = desk
    deliver(maildir, "1", alarm_mail("SV0001", tokyo("2026-11-27 17:29:00"), message_id="x@esm"))
    with store.db.engine.begin() as conn:  # a real fault of the database: the alarms' table is gone
        conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
    policy = load_policy_with(sptui_maildir)
    counts = run_source(sptui_maildir.open_maildir(str(maildir)), store, policy)
    assert counts["not-stored"] == 1
    assert [f.name for f in (maildir / "new").iterdir()] == ["1"]  # left for the next run
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
    counts = run_source(sptui_maildir.open_maildir(str(maildir)), store, policy)
    assert counts["stored"] == 1 and not list((maildir / "new").iterdir())


def test_a_folder_that_is_not_a_maildir_is_one_clear_error(desk, tmp_path):
    url, _ = desk
    p = sptui("intake", "source", "maildir", tmp_path, "--db", url)
    assert p.returncode == 1
    assert "is not a maildir (it has no new/ folder)" in p.stderr
    assert "Traceback" not in p.stderr


def test_what_is_no_mail_file_in_new_is_reported_and_left_and_every_mail_is_stored(desk, maildir):
    """A sub-folder, a FIFO and a symlink (to a device) in new/: each one line, left where it is; the mails
    around them are stored; nothing hangs, no traceback."""
    url, store = desk
    deliver(maildir, "1.a", alarm_mail("SV0001", tokyo("2026-11-27 17:29:00"), message_id="m1@esm"))
    (maildir / "new" / "2.dir").mkdir()
    os.mkfifo(maildir / "new" / "3.fifo")
    (maildir / "new" / "4.zero").symlink_to("/dev/zero")
    deliver(maildir, "5.b", alarm_mail("SV0002", tokyo("2026-11-27 17:31:00"), message_id="m2@esm"))
    p = sptui("intake", "source", "maildir", maildir, "--db", url)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert "stored 2 duplicate 0 quarantined 0 not-stored 0" in p.stderr
    new = maildir.resolve() / "new"
    for name, why in (("2.dir", "a folder"), ("3.fifo", "a FIFO"), ("4.zero", "a symbolic link")):
        assert f"maildir: {new / name}: skipped: {why}, not a mail file" in p.stderr
    assert sorted(f.name for f in (maildir / "new").iterdir()) == ["2.dir", "3.fifo", "4.zero"]
    assert sorted(a["message_id"] for a in store.alarms.rows()) == ["m1@esm", "m2@esm"]


def test_following_a_maildir_says_once_what_it_skips(desk, maildir):
    url, store = desk
    os.mkfifo(maildir / "new" / "1.fifo")
    deliver(maildir, "2.a", alarm_mail("SV0001", tokyo("2026-11-27 17:29:00"), message_id="f1@esm"))
    proc = subprocess.Popen([SPTUI, "intake", "source", "maildir", str(maildir), "--follow", "--db", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, SPTUI_MAILDIR_POLL="0.1"))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (maildir / "cur" / "2.a:2,S").exists():
            time.sleep(0.1)
        time.sleep(1.0)  # ten more scans
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert (maildir / "cur" / "2.a:2,S").exists(), err
    assert err.count("1.fifo: skipped: a FIFO") == 1, err


def test_a_symbolic_link_in_new_is_never_followed(desk, maildir, tmp_path):
    """new/ holding links: to a file outside the maildir (/etc/passwd, another mailbox's alarm), to itself, in a
    cycle, dangling. None is read (nothing of what it points to becomes an alarm or a quarantined mail), each is
    one line, left where it is; the real mails are stored; no loop, no traceback."""
    url, store = desk
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "alarm.eml").write_bytes(alarm_mail("SV0002", tokyo("2026-11-27 17:20:00"), message_id="out@esm"))
    (outside / "passwd").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    new = maildir / "new"
    (new / "1.out").symlink_to(outside / "alarm.eml")
    (new / "2.passwd").symlink_to(outside / "passwd")
    (new / "3.self").symlink_to(new / "3.self")
    (new / "4.one").symlink_to(new / "4.two")
    (new / "4.two").symlink_to(new / "4.one")
    (new / "5.gone").symlink_to(outside / "nothing")
    deliver(maildir, "6.a", alarm_mail("SV0001", tokyo("2026-11-27 17:29:00"), message_id="m1@esm"))
    p = sptui("intake", "source", "maildir", maildir, "--db", url)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    for name in ("1.out", "2.passwd", "3.self", "4.one", "4.two", "5.gone"):
        assert f"maildir: {maildir.resolve() / 'new' / name}: skipped: a symbolic link, not a mail file" in p.stderr
    assert [a["message_id"] for a in store.alarms.rows()] == ["m1@esm"]
    assert store.quarantine.rows() == []
    assert sorted(f.name for f in new.iterdir()) == ["1.out", "2.passwd", "3.self", "4.one", "4.two", "5.gone"]


def test_a_maildir_whose_new_is_a_link_out_of_it_is_refused(desk, tmp_path):
    url, _ = desk
    root = tmp_path / "Maildir"
    (root / "cur").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "new").symlink_to(tmp_path / "elsewhere")
    p = sptui("intake", "source", "maildir", root, "--db", url)
    assert p.returncode == 1 and "is not a maildir" in p.stderr and "Traceback" not in p.stderr
