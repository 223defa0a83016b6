"""Alarm intake over a real SMTP conversation, and from files: stored before 250, quarantined, never dropped."""
from __future__ import annotations

import datetime as dt
import email.utils
import getpass
import os
import smtplib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import registry_csv, registry_row
from intake_util import JST, IntakeServer, alarm

from sptui.desk import file_mails
from sptui.store import Store

MAILS = Path(__file__).parent / "mails"


@pytest.fixture
def registered(db_url):
    s = Store.open(db_url)
    rows = [registry_row(i) for i in range(1, 6)]
    rows.append(registry_row(9, express_start_on="", os_name="", report_method="", seller=""))  # no Express service
    rows.append(registry_row(8, express_start_on="2027-01-01"))  # Express starts later
    s.registry.import_csv(registry_csv(rows))
    yield s
    s.close()


@pytest.fixture
def server(db_url, registered):
    srv = IntakeServer(db_url).start()
    yield srv
    srv.stop()


def data_reply(port: int, raw: bytes, sender: str = "esmpro@example.jp") -> tuple[int, str]:
    """The server's answer to DATA, as the client saw it."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo()
        code, text = c.mail(sender)
        if code != 250:
            return code, text.decode()
        c.rcpt("alarm@desk.example.jp")
        code, text = c.data(raw)
        return code, text.decode()


def test_an_alarm_is_stored_and_routed_before_the_250(server, registered):
    occurred = (dt.datetime.now(JST) - dt.timedelta(minutes=5)).replace(microsecond=0)
    code, text = data_reply(server.port, alarm("SV0001", occurred, message_id="a1@sv0001"))
    assert code == 250 and "stored as alarm" in text
    [a] = registered.alarms.rows()
    assert a["computer"] == "SV0001" and a["occurred_at"] == occurred and a["message_id"] == "a1@sv0001"
    assert a["received_at"] > occurred  # the SMTP receipt, kept apart from the machine's event time
    assert a["next_contact_at"] is not None and a["status"] == "new"
    assert a["decision"]["contact"]["reason"] == "first-contact"
    assert a["policy_digest"].startswith("sha256:")


def test_the_same_mail_twice_is_stored_once(server, registered):
    occurred = dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST)
    raw = alarm("SV0002", occurred, message_id="dup@sv0002")
    assert data_reply(server.port, raw)[0] == 250
    code, text = data_reply(server.port, raw)
    assert code == 250 and "already stored" in text
    # the same machine, event and time under another Message-ID is the same alarm too
    code, text = data_reply(server.port, alarm("SV0002", occurred, message_id="other@relay"))
    assert code == 250 and "already stored" in text
    assert len(registered.alarms.rows()) == 1


@pytest.mark.parametrize("computer,reason", [("NOPE-01", "unknown-machine"), ("SV0009", "no-express")])
def test_an_alarm_that_matches_no_alarm_contract_is_quarantined_with_its_bytes(server, registered, computer, reason):
    raw = alarm(computer, dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST), message_id=f"{computer}@x")
    code, text = data_reply(server.port, raw)
    assert code == 250 and f"quarantined as Q1 ({reason})" in text
    [q] = registered.quarantine.rows()
    assert q["reason"] == reason and q["raw"] == raw and q["message_id"] == f"{computer}@x"
    assert registered.alarms.rows() == []


def test_a_mail_the_parser_refuses_is_quarantined_with_the_parsers_reason_over_smtp(server, registered):
    """The writer parses (not the SMTP server): what it cannot read is still answered 250 and kept, with why."""
    no_fields = (b"From: esmpro@example.jp\r\nSubject: hello\r\nMessage-ID: <hello@sv>\r\n"
                 b"Content-Type: text/plain; charset=utf-8\r\n\r\njust a note, no alarm fields\r\n")
    code, text = data_reply(server.port, no_fields)
    assert code == 250 and "quarantined as Q1 (not-alarm)" in text
    [q] = registered.quarantine.rows()
    assert (q["reason"], q["message_id"], q["raw"]) == ("not-alarm", "hello@sv", no_fields)
    assert data_reply(server.port, alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST)))[0] == 250
    assert len(registered.alarms.rows()) == 1


def test_before_the_express_start_date_nobody_is_called(server, registered):
    code, _ = data_reply(server.port, alarm("SV0008", dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST)))
    assert code == 250
    [a] = registered.alarms.rows()
    assert a["next_contact_at"] is None and a["decision"]["contact"]["reason"] == "before-express-start"


def test_a_sender_off_the_allowlist_is_refused_at_mail_from(db_url, registered):
    srv = IntakeServer(db_url, "--allow", "@example.jp").start()
    try:
        assert data_reply(srv.port, alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST)),
                          sender="x@evil.test")[0] == 550
        assert data_reply(srv.port, alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST)))[0] == 250
    finally:
        srv.stop()


def test_a_mail_over_the_size_limit_is_refused_not_lost(db_url, registered):
    srv = IntakeServer(db_url, "--max-size", "20000").start()
    try:
        big = alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST), detail=("x" * 70 + "\n") * 400, charset="utf-8")
        code, _ = data_reply(srv.port, big)
        assert code == 552  # the sender keeps the mail and is told why
        assert registered.alarms.rows() == [] and registered.quarantine.rows() == []
    finally:
        srv.stop()


def test_a_store_fault_answers_451_and_the_retry_is_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    s = Store.open(url)
    s.registry.import_csv(registry_csv([registry_row(1)]))
    srv = IntakeServer(url, env={"SPTUI_SQLITE_BUSY_MS": "300"}).start()
    raw = alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST), message_id="locked@sv0001")
    try:
        lock = sqlite3.connect(tmp_path / "desk.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # another writer holds the database
        code, text = data_reply(srv.port, raw)
        assert code == 451 and "try again" in text
        lock.execute("ROLLBACK")
        lock.close()
        assert data_reply(srv.port, raw)[0] == 250
        assert [a["message_id"] for a in s.alarms.rows()] == ["locked@sv0001"]
    finally:
        srv.stop()
        s.close()


def _writer_pid(server_pid: int) -> int:
    [pid] = [int(p) for p in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()]
    return pid


def test_the_writer_process_dying_answers_451_and_a_new_writer_takes_the_retry(server, registered):
    """The store's side runs in a child process. If it dies with a mail in flight, that mail is answered
    451 (its sender keeps it), and the retry starts a new writer and is stored once."""
    import signal
    import threading

    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    assert data_reply(server.port, alarm("SV0001", t, message_id="before@sv"))[0] == 250
    old = _writer_pid(server.proc.pid)
    os.kill(old, signal.SIGSTOP)  # the writer holds the next mail without answering...
    raw = alarm("SV0002", t, message_id="inflight@sv")
    replies: list = []
    client = threading.Thread(target=lambda: replies.append(data_reply(server.port, raw)))
    client.start()
    client.join(1.0)
    assert client.is_alive() and replies == []  # no answer before the mail is committed
    os.kill(old, signal.SIGKILL)  # ...and dies with it
    client.join(30)
    [(code, text)] = replies
    assert code == 451 and "try again" in text
    code, text = data_reply(server.port, raw)  # the sender's retry
    assert code == 250 and "stored as alarm" in text
    assert _writer_pid(server.proc.pid) != old
    assert sorted(a["message_id"] for a in registered.alarms.rows()) == ["before@sv", "inflight@sv"]


def test_intake_file_takes_eml_files_and_maildirs(tmp_path, db_url, registered, run):
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(alarm("SV0003", dt.datetime(2026, 11, 27, 9, tzinfo=JST), message_id="m1"))
    (maildir / "cur" / "2.host:2,S").write_bytes(alarm("SV0004", dt.datetime(2026, 11, 28, 9, tzinfo=JST),
                                                       message_id="m2"))
    (maildir / "tmp" / "3.host").write_bytes(b"half-written")  # tmp/ is a delivery in progress: not read
    eml = tmp_path / "one.eml"
    eml.write_bytes(b"garbage that is no alarm\n")
    r = run("intake", "file", maildir, eml, "--db", db_url)
    assert r.returncode == 0, r.stderr
    assert "stored 2 duplicate 0 quarantined 1" in r.stderr
    assert sorted(a["message_id"] for a in registered.alarms.rows()) == ["m1", "m2"]
    [q] = registered.quarantine.rows()
    assert q["via"] == f"file:{eml}" and q["raw"] == b"garbage that is no alarm\n"


def test_the_malformed_corpus_is_quarantined_with_reasons_and_nothing_is_lost(tmp_path, db_url, registered, run):
    """Every malformed mail of tests/mails/bad, a 10 MB mail, an unknown machine and a computer name in Rich
    markup: each is quarantined once, with its reason, its bytes kept as they came."""
    from test_esmpro_mail import BAD

    folder = tmp_path / "incoming"
    folder.mkdir()
    expected = {}
    for name, reason in BAD.items():
        (folder / name).write_bytes((MAILS / "bad" / name).read_bytes())
        expected[name] = reason
    big = alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST), detail=("x" * 70 + "\r\n") * 150_000)
    (folder / "ten_megabytes.eml").write_bytes(big)
    expected["ten_megabytes.eml"] = "too-large"
    (folder / "unknown_machine.eml").write_bytes(alarm("SV9999", dt.datetime(2026, 11, 27, 10, tzinfo=JST)))
    expected["unknown_machine.eml"] = "unknown-machine"
    (folder / "markup_machine.eml").write_bytes(alarm("[bold]SV0001[/]", dt.datetime(2026, 11, 27, 10, tzinfo=JST)))
    expected["markup_machine.eml"] = "unknown-machine"
    assert len(expected) >= 20 and len(big) > 10_000_000
    r = run("intake", "file", folder, "--db", db_url)
    assert r.returncode == 0, r.stderr
    got = {q["via"].rsplit("/", 1)[1]: q for q in registered.quarantine.rows()}
    assert {name: q["reason"] for name, q in got.items()} == expected
    for name, q in got.items():
        assert q["raw"] == (folder / name).read_bytes() and q["message"]
    assert "'[bold]SV0001[/]'" in got["markup_machine.eml"]["message"]  # the text as typed, markup and all
    assert registered.alarms.rows() == []
    again = run("intake", "file", folder, "--db", db_url)  # the same bytes again: kept once
    assert again.returncode == 0 and len(registered.quarantine.rows()) == len(expected)


def test_an_unreached_customer_is_called_again_the_next_day_and_the_retry_is_kept(db_url, registered, policy, run):
    from sptui.intake.ingest import ingest

    occurred = dt.datetime(2026, 11, 27, 16, 0, tzinfo=JST)  # a Friday
    stored = ingest(registered, policy, alarm("SV0001", occurred, message_id="r1@sv"), via="test",
                    received_at=occurred + dt.timedelta(seconds=30))
    a = registered.alarms.get(stored.id)
    assert a["next_contact_at"] == dt.datetime(2026, 11, 27, 16, 0, 30, tzinfo=JST)  # inside the hours: at once
    r = run("alarm", "contact", str(stored.id), "--at", "2026-11-27T16:10+09:00", "--not-reached", "--db", db_url,
            "--operator", "sato")
    assert r.returncode == 0 and "call again at 2026-11-30 08:30" in r.stdout  # weekday-9h: Monday 08:30
    again = Store.open(db_url)  # the retry is data: another process (a restarted desk) sees it
    a = again.alarms.get(stored.id)
    assert a["status"] == "retry" and a["next_contact_at"] == dt.datetime(2026, 11, 30, 8, 30, tzinfo=JST)
    assert [x["id"] for x in again.alarms.due(dt.datetime(2026, 11, 30, 8, 30, tzinfo=JST))] == [stored.id]
    assert again.alarms.due(dt.datetime(2026, 11, 30, 8, 29, tzinfo=JST)) == []
    r = run("alarm", "contact", str(stored.id), "--at", "2026-11-30T08:35+09:00", "--reached", "--repair-needed",
            "--db", db_url)
    # reached, a repair needed: the alarm becomes an incident, decided at its receipt (Friday 16:00:30: 89.5
    # service minutes that day, the rest from Monday 08:30)
    assert r.returncode == 0 and "incident 1 opened: covered, on site by 2026-11-30 09:00" in r.stdout, r.stdout
    a = again.alarms.get(stored.id)
    assert a["status"] == "linked" and a["next_contact_at"] is None and a["arrange_technician"] is True
    assert [(x["action"], x["operator"]) for x in again.audit.rows("alarm", stored.id)] == [
        ("contact", "sato"), ("contact", os.environ.get("USER") or getpass.getuser())]
    again.close()


def test_a_mail_the_store_refuses_is_quarantined_and_holds_back_no_other(tmp_path, policy):
    """A failure that would repeat on every retry (here: the store refuses one mail) must not turn into an
    endless 451 for that mail, nor for the mails that share its batch; a lock answers 451 to the batch."""
    import socket

    from aiosmtpd.controller import Controller

    from sptui.intake.ingest import parse
    from sptui.intake.smtp import AlarmHandler
    from sptui.intake.writer import Writer

    from sptui.store.alarms import Alarms

    class Refusing(Alarms):
        def insert(self, conn, alarms):
            if any("POISON" in (a.mail.detail or "") for a in alarms):
                raise ValueError("value out of range for this column")
            return super().insert(conn, alarms)

    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = Store.open(url)
    store.alarms = Refusing(store.db, store.audit, store.incidents)
    store.registry.import_csv(registry_csv([registry_row(1)]))
    writer = Writer(store, policy)
    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    poison = alarm("SV0001", t, message_id="p@sv", detail="POISON")
    good = alarm("SV0001", t + dt.timedelta(minutes=1), message_id="ok@sv")

    class InProcess:  # the writer without its process: the handler's answers for what it stores
        async def submit(self, item):
            [result] = writer.take([item])
            return result

    try:
        bad, ok = writer.store_batch([(raw, parse(raw), "test", t) for raw in (poison, good)])  # one batch
        assert (bad.outcome, bad.reason, ok.outcome) == ("quarantined", "store-error", "stored")
        [q] = store.quarantine.rows()
        assert q["raw"] == poison and "out of range" in q["message"] and q["message_id"] == "p@sv"
        assert [a["message_id"] for a in store.alarms.rows()] == ["ok@sv"]
        with socket.socket() as sock:  # and over SMTP, the refused mail is answered 250, not 451
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        controller = Controller(AlarmHandler(InProcess()), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            code, text = data_reply(port, poison)
            assert code == 250 and f"quarantined as Q{q['id']} (store-error)" in text
        finally:
            controller.stop()
    finally:
        store.close()


def test_dates_a_clock_cannot_mean_are_quarantined_and_the_files_after_them_still_read(tmp_path, db_url, registered,
                                                                                        run):
    body = ("From: esmpro@example.jp\r\nSubject: alert\r\nMessage-ID: <y@sv>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "コンピュータ名：SV0001\r\n発生日付：{date}\r\n発生時間：00:00:00\r\n[詳細メッセージ]\r\n{detail}\r\n")
    (tmp_path / "a_year_one.eml").write_bytes(body.format(date="0001/01/01", detail="x").encode())
    (tmp_path / "b_relayed_overflow.eml").write_bytes(
        body.format(date="2026/11/27", detail="発生時刻 : 9999年12月31日 23:00 (-05:00)\r\nx").encode())
    (tmp_path / "c_good.eml").write_bytes(alarm("SV0002", dt.datetime(2026, 11, 27, 10, tzinfo=JST)))
    r = run("intake", "file", tmp_path, "--db", db_url)
    assert r.returncode == 0, r.stderr
    assert sorted(q["reason"] for q in registered.quarantine.rows()) == ["bad-time", "bad-time"]
    assert [a["computer"] for a in registered.alarms.rows()] == ["SV0002"]


def test_a_parser_crash_is_quarantined_not_answered_451_forever(monkeypatch, registered, policy):
    """A bug in the parser must not turn a mail into an endless retry: it is quarantined as parse-error."""
    import sptui.intake.ingest as ingest_mod

    def crash(raw, **kw):
        raise RuntimeError("index out of range")

    monkeypatch.setattr(ingest_mod, "parse_alarm_mail", crash)
    raw = alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST), message_id="crash@sv")
    err = ingest_mod.parse(raw)
    assert err.reason == "parse-error" and "index out of range" in err.message and err.message_id == "crash@sv"
    stored = ingest_mod.ingest(registered, policy, raw, via="test", received_at=dt.datetime.now(JST))
    assert (stored.outcome, stored.reason) == ("quarantined", "parse-error")


def test_every_statement_of_the_intake_goes_through_sqlalchemy_on_both_engines(db_url, policy):
    """No path around SQLAlchemy: what the intake writes, SQLAlchemy executes (its events and its statement
    log see every INSERT, on SQLite as on PostgreSQL), so a batch is stored by the one plain path."""
    import sqlalchemy as sa

    from sptui.intake.ingest import parse

    s = Store.open(db_url)
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 4)]))
    seen: list[str] = []
    sa.event.listen(s.db.engine, "before_cursor_execute", lambda conn, cur, sql, *a: seen.append(sql))
    t = dt.datetime(2026, 11, 27, 17, 29, tzinfo=JST)
    raws = [alarm(f"SV000{k}", t, message_id=f"seen{k}@x") for k in (1, 2, 3)] + [b"not a mail"]
    try:
        results = file_mails(s, policy, [(raw, parse(raw), "test", t) for raw in raws])
        assert [r.outcome for r in results] == ["stored", "stored", "stored", "quarantined"]
        assert any(sql.startswith("INSERT INTO alarms") for sql in seen), seen
        assert any(sql.startswith("SELECT") and "computer_name" in sql for sql in seen), seen
    finally:
        s.close()


def test_a_batch_larger_than_one_sqlite_statement_takes_is_stored_whole(tmp_path, policy):
    from sptui.intake.ingest import parse

    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 6)]))
    t = dt.datetime(2026, 11, 27, 17, 29, tzinfo=JST)
    s.db.hold_connection()
    with s.db.read() as conn:  # SQLite's default limit (a build may allow more, as this machine's does)
        conn.connection.driver_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766)
    n = 2007  # more values than one statement takes, at 21 a row (32,766 / 21 = 1,560 rows)
    raws = [alarm(f"SV000{1 + k % 5}", t + dt.timedelta(seconds=k), message_id=f"big{k}@x") for k in range(n)]
    try:
        results = file_mails(s, policy, [(raw, parse(raw), "test", t) for raw in raws])
        assert [r.outcome for r in results] == ["stored"] * n
        assert len({r.id for r in results}) == n and s.db.counts()["alarms"] == n
    finally:
        s.close()


# ---- hostile input: every mail ends stored, a duplicate, or quarantined (issue 17) -------------------------------
def _mail(headers: bytes, body: bytes = b"just a note, no alarm fields\r\n") -> bytes:
    return headers + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body


def test_headers_a_database_cannot_hold_are_quarantined_alike_on_both_engines(server, registered):
    """A NUL, bytes that decode to no text, a Message-ID or sender longer than its column: on SQLite and on
    PostgreSQL alike, each mail is answered 250 and kept (never 451 forever), with the Message-ID and sender
    as far as they are usable."""
    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    hostile = {
        "nul-message-id": _mail(b"From: esmpro@example.jp\r\nMessage-ID: <a\x00b@sv>\r\n"),
        "nul-from": _mail(b"From: esm\x00pro@example.jp\r\nMessage-ID: <nul-from@sv>\r\n"),
        "nul-both": _mail(b"From: \x00\r\nMessage-ID: <\x00>\r\n"),
        "raw-8bit": _mail(b"From: \xff\xfe@example.jp\r\nMessage-ID: <\xed\xa0\x80@sv>\r\n"),
        "long-from": _mail(b"From: " + b"a" * 5000 + b"@example.jp\r\nMessage-ID: <long-from@sv>\r\n"),
        "long-message-id": _mail(b"From: esmpro@example.jp\r\nMessage-ID: <" + b"m" * 5000 + b"@sv>\r\n"),
    }
    for name, raw in hostile.items():
        code, text = data_reply(server.port, raw)
        assert code == 250 and "quarantined" in text, (name, code, text)
    code, text = data_reply(server.port, alarm("SV0001", t, message_id="al\x00arm@sv"))  # an alarm all the same
    assert code == 250 and "stored as alarm" in text
    got = {q["raw"]: q for q in registered.quarantine.rows()}
    assert {got[raw]["reason"] for raw in hostile.values()} == {"not-alarm"}
    assert (got[hostile["nul-message-id"]]["message_id"], got[hostile["nul-from"]]["sender"]) == (
        "ab@sv", "esmpro@example.jp")
    assert got[hostile["long-from"]]["message_id"] == "long-from@sv" and got[hostile["long-from"]]["sender"] is None
    assert got[hostile["long-message-id"]]["message_id"] is None
    assert got[hostile["long-message-id"]]["sender"] == "esmpro@example.jp"
    [a] = registered.alarms.rows()
    assert a["message_id"] == "alarm@sv"


def test_a_quarantined_mail_keeps_a_raw_utf8_sender_and_its_message_id(server, registered):
    """A From in raw UTF-8 (no encoded word): the quarantine keeps the sender as text, and the Message-ID."""
    raw = _mail("From: 山田 太郎 <yamada@例え.jp>\r\nMessage-ID: <utf8-from@sv>\r\n".encode())
    code, text = data_reply(server.port, raw)
    assert code == 250 and "quarantined" in text
    [q] = registered.quarantine.rows()
    assert (q["message_id"], q["sender"]) == ("utf8-from@sv", "yamada@例え.jp")
    cp932 = _mail("From: 鈴木 <suzuki@example.jp>\r\nMessage-ID: <sjis-from@sv>\r\n".encode("cp932"))
    assert data_reply(server.port, cp932)[0] == 250
    assert registered.quarantine.rows()[1]["message_id"] == "sjis-from@sv"


def test_a_where_from_that_no_column_holds_is_stored_escaped_not_refused(registered, policy):
    """A source's `via` (a file's path with bytes that are no UTF-8, a NUL, a path longer than the column): the
    alarm and the quarantine keep it, escaped and cut, on both engines."""
    from sptui.intake.ingest import ingest

    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    via = "file:/in/\udcff\x00" + "d/" * 400 + "x.eml"
    stored = ingest(registered, policy, alarm("SV0001", t, message_id="via@sv"), via=via, received_at=t)
    kept = ingest(registered, policy, b"no mail at all", via=via, received_at=t)
    assert (stored.outcome, kept.outcome) == ("stored", "quarantined")
    for row in (registered.alarms.get(stored.id), registered.quarantine.rows()[0]):
        assert row["via"].startswith("file:/in/\\udcff\\x00d/d/") and len(row["via"]) == 400
        assert row["via"].endswith("…")


def _one_long_line(message_id: str, n: int) -> bytes:
    """An alarm in 8-bit UTF-8 whose detail is one line of n bytes."""
    body = ("コンピュータ名：SV0001\r\n発生日付：2026/11/27\r\n発生時間：10:00:00\r\n[イベントID]\r\n"
            f"{message_id}\r\n[詳細メッセージ]\r\n").encode() + b"x" * n + b"\r\n"
    return (f"From: esmpro@example.jp\r\nMessage-ID: <{message_id}>\r\nSubject: alert\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + body


def test_a_mail_under_the_size_limit_with_a_line_over_a_megabyte_is_kept_not_refused(db_url, registered):
    """RFC 5321's line limit is not the mail's: a mail under --max-size is answered 250 and kept whatever its
    lines (quarantined here: over the 1 MB a parsed alarm may be), never a permanent 500."""
    srv = IntakeServer(db_url, "--max-size", "3000000").start()
    try:
        for n in (1_000_001, 1_500_000, 2_999_000):
            code, text = data_reply(srv.port, _one_long_line(f"line{n}@sv", n))
            assert code == 250 and "quarantined" in text and "(too-large)" in text, (n, code, text)
        code, text = data_reply(srv.port, _one_long_line("line-900k@sv", 900_000))  # under the parser's 1 MB
        assert code == 250 and "stored as alarm" in text, text
        code, _ = data_reply(srv.port, _one_long_line("over@sv", 3_000_000))
        assert code == 552  # over the size limit: refused for its size, the sender keeps it
    finally:
        srv.stop()
    assert len(registered.quarantine.rows()) == 3 and len(registered.alarms.rows()) == 1


def _intake_file(*args) -> subprocess.CompletedProcess:
    """`sptui intake file` with a time limit: a FIFO read by mistake would hang it."""
    exe = Path(sys.executable).parent / "sptui"
    try:
        return subprocess.run([str(exe), "intake", "file", *map(str, args)], capture_output=True, text=True,
                              timeout=90)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"intake file hung: {e.stderr!r}") from None


def test_intake_file_reads_only_regular_files_and_reports_the_rest_one_line_each(tmp_path, db_url, registered):
    """A FIFO, a folder named *.eml, symlinks (to a device, to a mail file), a file over 32 MB, a sub-folder and a
    FIFO in a maildir's new/: each one line, skipped; every mail after them is read; no traceback, no hang."""
    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    folder, maildir = tmp_path / "in", tmp_path / "Maildir"
    (folder / "b.eml").mkdir(parents=True)
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (folder / "a.eml").write_bytes(alarm("SV0001", t, message_id="a@sv"))
    os.mkfifo(folder / "a_fifo.eml")
    (folder / "b.eml" / "inside.eml").write_bytes(alarm("SV0002", t, message_id="inside@sv"))
    (folder / "c_zero.eml").symlink_to("/dev/zero")
    (folder / "c_link.eml").symlink_to(folder / "a.eml")  # a symlink, even to a mail file, is not followed
    with open(folder / "d_huge.eml", "wb") as f:
        f.truncate(40 * 1024 * 1024)
    (folder / "e.eml").write_bytes(alarm("SV0003", t, message_id="e@sv"))
    (maildir / "new" / "1.dir").mkdir()
    os.mkfifo(maildir / "new" / "2.fifo")
    (maildir / "new" / "3.host").write_bytes(alarm("SV0004", t, message_id="m3@sv"))
    r = _intake_file(folder, maildir, "--db", db_url)
    assert "Traceback" not in r.stderr
    skipped = {line.split(": skipped: ")[0]: line.split(": skipped: ")[1] for line in r.stderr.splitlines()
               if ": skipped: " in line}
    assert skipped == {
        f"{folder}/a_fifo.eml": "a FIFO, not a mail file",
        f"{folder}/b.eml": "a folder, not a mail file (the .eml files in it are read)",
        f"{folder}/c_link.eml": "a symbolic link, not a mail file",
        f"{folder}/c_zero.eml": "a symbolic link, not a mail file",
        f"{folder}/d_huge.eml": "over 33,554,432 bytes, the largest mail taken",
        f"{maildir}/new/1.dir": "a folder, not a mail file",
        f"{maildir}/new/2.fifo": "a FIFO, not a mail file",
    }
    assert "stored 4 duplicate 0 quarantined 0 skipped 7" in r.stderr and r.returncode == 1
    assert sorted(a["message_id"] for a in registered.alarms.rows()) == ["a@sv", "e@sv", "inside@sv", "m3@sv"]


def _dated(date: str, message_id: str) -> bytes:
    raw = alarm("SV0001", dt.datetime(2026, 11, 27, 10, tzinfo=JST), message_id=message_id)
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:")]
    return b"\r\n".join([*lines, b"Date: " + date.encode()]) + sep + body


def test_a_date_header_far_from_the_intakes_clock_is_not_the_receipt_time(tmp_path, db_url, registered):
    """Year 9999 −12:00, year 100, year 1 +14:00, a week ahead: implausible receipt times (more than 366 days
    before the intake's clock or 1 day after it). The mail is stored all the same, at the file's modification
    time, and the run says so; a Date header just inside the range is the receipt time."""
    from email.utils import format_datetime

    now = dt.datetime.now(JST)
    delivered = (now - dt.timedelta(hours=2)).replace(microsecond=0)
    dates = {"far_future": "Fri, 31 Dec 9999 23:59:59 -1200", "year_100": "Fri, 01 Jan 0100 00:00:00 +0900",
             "year_1": "Mon, 01 Jan 0001 00:00:00 +1400", "next_week": format_datetime(now + dt.timedelta(days=7)),
             "old_inside": format_datetime((now - dt.timedelta(days=365)).replace(microsecond=0)),
             "ahead_inside": format_datetime((now + dt.timedelta(hours=20)).replace(microsecond=0))}
    for name, date in dates.items():
        path = tmp_path / f"{name}.eml"
        path.write_bytes(_dated(date, f"{name}@sv").replace(b"0x8000070B", name.encode()))  # each its own event
        os.utime(path, (delivered.timestamp(), delivered.timestamp()))
    r = _intake_file(tmp_path, "--db", db_url)
    assert r.returncode == 0, r.stderr
    received = {a["message_id"].split("@")[0]: a["received_at"] for a in registered.alarms.rows()}
    assert set(received) == set(dates)
    for name in ("far_future", "year_100", "year_1", "next_week"):
        assert received[name] == delivered, name
        [line] = [line for line in r.stdout.splitlines() if f"{name}.eml" in line]
        assert "received at the file's modification time: its Date header" in line, line
    assert received["old_inside"] == email.utils.parsedate_to_datetime(dates["old_inside"])
    assert received["ahead_inside"] == email.utils.parsedate_to_datetime(dates["ahead_inside"])
    for a in registered.alarms.rows():
        if a["received_at"] == delivered:  # routed at the receipt time: someone calls (year 100 closed it unheard)
            assert a["next_contact_at"] is not None and a["status"] == "new"


def test_a_receipt_time_is_plausible_from_366_days_before_the_intakes_clock_to_1_day_after():
    """Both ends of the range, and the instants at the ends of the calendar (no overflow comparing them)."""
    from sptui.plugins.mailfiles import MailFile, plausible, received_at

    now = dt.datetime(2026, 12, 5, 12, 0, tzinfo=JST)
    second = dt.timedelta(seconds=1)
    assert plausible(now - dt.timedelta(days=366), now) and not plausible(now - dt.timedelta(days=366) - second, now)
    assert plausible(now + dt.timedelta(days=1), now) and not plausible(now + dt.timedelta(days=1) + second, now)
    year_1 = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14)))
    year_9999 = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
    assert not plausible(year_1, now) and not plausible(year_9999, now)
    # neither a Date header nor the file's time is plausible: the intake's clock, saying why
    far = MailFile(Path("x.eml"), raw=b"Date: Fri, 31 Dec 9999 23:59:59 -1200\r\n\r\n", mtime=0.0)
    when, note = received_at(far, now)
    assert when == now and note == (
        "received now: its Date header 9999-12-31T23:59:59-12:00 is more than 1 day after the intake's clock; "
        "the file's modification time 1970-01-01T09:00:00+09:00 is more than 366 days before the intake's clock")
    assert received_at(MailFile(Path("x.eml"), raw=b"\r\n", mtime=now.timestamp()), now) == (now, None)


@pytest.mark.parametrize("table", ["alarms", "quarantine", "machines"])
def test_a_lock_held_on_postgresql_answers_451_within_seconds_and_the_retry_is_stored_once(db_url, registered, table):
    """Another transaction holds a lock the intake needs (a long LOCK TABLE, a desk's open transaction): the
    intake waits a few seconds, then answers 451 (the sender keeps the mail); once the lock is gone the retry is
    stored, once. An SMTP client is never left hanging."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's lock waits (SQLite's: test_a_store_fault_answers_451_and_the_retry_is_stored)")
    import time

    import sqlalchemy as sa

    srv = IntakeServer(db_url).start()
    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    raw = (_mail(b"Message-ID: <q-locked@x>\r\nSubject: not an alarm\r\n") if table == "quarantine"
           else alarm("SV0001", t, message_id="locked@sv0001"))
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as lock:
            lock.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # held until the rollback
            for _ in range(2):
                started = time.monotonic()
                code, text = data_reply(srv.port, raw)
                took = time.monotonic() - started
                assert code == 451 and "try again" in text, (code, text)
                assert took < 15, f"the 451 took {took:.1f} s"
            lock.rollback()
        assert data_reply(srv.port, raw)[0] == 250
        assert "already" in data_reply(srv.port, raw)[1] or table == "quarantine"
        stored = registered.quarantine.rows() if table == "quarantine" else registered.alarms.rows()
        assert [r["message_id"] for r in stored] == ["q-locked@x" if table == "quarantine" else "locked@sv0001"]
    finally:
        engine.dispose()
        srv.stop()


def test_intake_file_never_reads_through_a_symbolic_link(tmp_path, db_url, registered):
    """A drop folder (or a maildir) with links in it: to a file outside it (/etc/…, another user's mail), a cycle,
    a link to itself, a dangling one, a link named on the command line, a maildir whose new/ is a link. None is
    followed: each is one line, skipped; nothing of what they point to is stored or quarantined; no hang."""
    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.eml").write_bytes(alarm("SV0002", t, message_id="outside@sv"))
    (outside / "passwd").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    drop, maildir, linked = tmp_path / "drop", tmp_path / "Maildir", tmp_path / "Linked"
    drop.mkdir()
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (linked / "cur").mkdir(parents=True)
    (linked / "new").symlink_to(outside)
    (drop / "a.eml").write_bytes(alarm("SV0001", t, message_id="a@sv"))
    (drop / "b_out.eml").symlink_to(outside / "secret.eml")
    (drop / "c_self.eml").symlink_to(drop / "c_self.eml")
    (drop / "d_one.eml").symlink_to(drop / "d_two.eml")
    (drop / "d_two.eml").symlink_to(drop / "d_one.eml")
    (drop / "e_gone.eml").symlink_to(tmp_path / "nothing.eml")
    (drop / "f_dir.eml").symlink_to(drop)  # (a folder reached through a link: not entered)
    (maildir / "new" / "1.passwd").symlink_to(outside / "passwd")
    (maildir / "new" / "2.loop").symlink_to(maildir / "new" / "2.loop")
    (maildir / "new" / "3.host").write_bytes(alarm("SV0003", t, message_id="m3@sv"))
    (tmp_path / "named.eml").symlink_to(outside / "secret.eml")
    r = _intake_file(drop, maildir, linked, tmp_path / "named.eml", "--db", db_url)
    assert "Traceback" not in r.stderr, r.stderr
    skipped = {line.split(": skipped: ")[0]: line.split(": skipped: ")[1] for line in r.stderr.splitlines()
               if ": skipped: " in line}
    link = "a symbolic link, not a mail file"
    assert skipped == {f"{drop}/b_out.eml": link, f"{drop}/c_self.eml": link, f"{drop}/d_one.eml": link,
                       f"{drop}/d_two.eml": link, f"{drop}/e_gone.eml": link, f"{drop}/f_dir.eml": link,
                       f"{maildir}/new/1.passwd": link, f"{maildir}/new/2.loop": link,
                       f"{linked}/new": "a symbolic link, not entered", f"{tmp_path}/named.eml": link}
    assert sorted(a["message_id"] for a in registered.alarms.rows()) == ["a@sv", "m3@sv"]
    assert registered.quarantine.rows() == []


def test_intake_file_reads_a_mail_however_deep_its_folder_is(tmp_path, db_url, registered):
    """Folders nested 1,500 deep (deeper than Python's recursion goes): the mail at the bottom is read, the run does
    not fail."""
    t = dt.datetime(2026, 11, 27, 10, tzinfo=JST)
    top = tmp_path / "drop"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(1500):  # (relative to the last folder: a path this long is beyond what one call takes)
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("deep.eml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
            f.write(alarm("SV0001", t, message_id="deep@sv"))
    finally:
        os.close(fd)
    try:
        r = _intake_file(top, "--db", db_url)
        assert r.returncode == 0 and "Traceback" not in r.stderr and "RecursionError" not in r.stderr, r.stderr[-500:]
        assert [a["message_id"] for a in registered.alarms.rows()] == ["deep@sv"]
    finally:
        _remove_deep(top)


def _remove_deep(top) -> None:
    """Remove the 1,500-deep folders level by level (pytest's clean-up of old temporary folders recurses: it would
    fail on them with a RecursionError in a later run)."""
    import shutil

    while (top / "d").is_dir():
        if (top / "d" / "d").is_dir():
            os.rename(top / "d" / "d", top / "next")
        shutil.rmtree(top / "d")
        if (top / "next").is_dir():
            os.rename(top / "next", top / "d")
