"""Personal data and the registry CSV, on SQLite and PostgreSQL: purge (第3章 1.8) leaves nothing of the customer,
an export is safe to open in a spreadsheet and imports back unchanged, what the CLI prints cannot drive the
terminal, and no cell of a registry CSV breaks the import or a later computation."""
from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import itertools
import json
import os
import select
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REGISTRY_FIELDS, registry_csv, registry_row
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sptui.csvcell import TRIGGERS, from_cell, to_cell
from sptui.store import Store
from sptui.store import schema as S
from sptui.store.registry import ImportFailed
from sptui.terminal import CATEGORIES, CONTROL, shown
from sptui.testing import alarm_mail
from sptui.desk import open_incident

JST = S.TOKYO
VARIANTS = {"weekday-9h": None, "24x7": None}


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


# ---- purge (第3章 1.8) -------------------------------------------------------------------------------------------
GONE = {  # the purged customer's personal data, as typed into the registry
    "customer_organisation": "山田商事株式会社", "customer_name": "山田 太郎", "customer_address": "東京都千代田区丸の内9-9-9",
    "customer_phone": "03-5555-0101", "customer_email": "yamada.taro@example.jp", "site_organisation": "山田商事 横浜工場",
    "site_address": "神奈川県横浜市西区みなとみらい8-8-8", "site_name": "佐藤 花子", "site_phone": "045-555-0202",
}
# the same data as it reaches the desk in other ways: another width, case, separators, inside free text
GONE_FORMS = [*GONE.values(), "YAMADA.TARO@EXAMPLE.JP", "０３（５５５５）０１０１", "山田　太郎", "0455550202", "YAMADA-SV"]
LIVE = {"customer_organisation": "鈴木工業株式会社", "customer_name": "鈴木 一郎", "customer_email": "suzuki@example.jp",
        "customer_phone": "06-7777-0303"}


def _mails() -> dict[str, bytes]:
    """Mails about the purged customer (quarantined or filed) and one about the live customer."""
    occurred = at("2023-06-02T10:00:00+09:00")
    name, phone, email = GONE["customer_name"], GONE["customer_phone"], GONE["customer_email"]
    b64 = base64.encodebytes(f"担当 {GONE['site_name']} 住所 {GONE['site_address']}".encode()).decode()
    return {
        "alarm": alarm_mail("YAMADA-SV", occurred, message_id="a1@yamada.example.jp", sender=email,
                            detail=f"{name} 様 {phone} へ連絡"),
        "utf8": alarm_mail("UNKNOWN-1", occurred, charset="utf-8", sender="YAMADA.TARO@EXAMPLE.JP",
                           detail="山田　太郎 ０３（５５５５）０１０１"),
        "jis": alarm_mail("UNKNOWN-2", occurred, detail=f"担当: {name} {GONE['customer_address']}",
                          sender="relay@example.net"),
        "base64": (f"From: relay@example.net\r\nSubject: fwd\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\n{b64}").encode(),
        "junk": b"no headers at all \xff\xfe " + GONE["site_phone"].encode(),
        "header": (f"From: =?utf-8?b?{base64.b64encode(name.encode()).decode()}?= <relay@example.net>\r\n"
                   "Subject: fwd\r\n\r\nonly the sender's name says whose mail this is: 7f3a9c1e5b\r\n").encode(),
        "live": alarm_mail("UNKNOWN-3", occurred, detail=f"{LIVE['customer_name']} 様", sender=LIVE["customer_email"]),
    }


def _build(store, policy) -> dict:
    from sptui.intake.ingest import ingest

    gone = registry_row(1, purchased_on="2019-04-02", pack_purchased_on="2019-04-02", submitted_on="2019-04-10",
                        completed_on="2019-04-20", express_start_on="2019-05-01", computer_name="YAMADA-SV", **GONE)
    store.registry.import_csv(registry_csv([gone, registry_row(2, **LIVE)]), variants=VARIANTS)
    label = gone["label_number"]
    iid = open_incident(store, policy, label=label, at=at("2023-06-01T10:00+09:00"), operator="sato",
                              summary=f"{GONE['customer_name']} 様より {GONE['customer_phone']}")
    store.incidents.add_note(iid, f"{GONE['customer_email']} に連絡済み", operator="sato")
    store.incidents.mark_consult(iid, f"{GONE['customer_address']} の入館手続き", operator="sato")
    from sptui.desk import Consent, Work, dispatch

    dispatch(store, policy, iid, operator="sato", technician="田村", late_reason="traffic",
             work=Work(at("2023-06-01T18:00+09:00"), at("2023-06-01T20:00+09:00")),
             consent=Consent(GONE["customer_name"], "phone", at("2023-06-01T17:50+09:00")))  # who consented: theirs too
    store.incidents.close(iid, operator="sato", text=f"{GONE['site_name']} 様 了承")
    mails = _mails()
    folders = {k: GONE["customer_name"] if k == "alarm" else k for k in mails}  # a path may name the customer
    stored = {k: ingest(store, policy, raw, via=f"file:/mail/{folders[k]}/{k}.eml",
                        received_at=at("2023-06-02T10:05:00+09:00")) for k, raw in mails.items()}
    assert stored["alarm"].outcome == "stored" and all(stored[k].outcome == "quarantined" for k in mails if k != "alarm")
    from sptui.desk import contact

    contact(store, policy, stored["alarm"].id, at=at("2023-06-02T11:00+09:00"), reached=False, operator="sato",
            note=f"{GONE['customer_name']} 不在 {GONE['customer_phone']}")
    contact(store, policy, stored["alarm"].id, at=at("2023-06-03T09:00+09:00"), reached=True, operator="sato",
            repair_needed=False, reason=f"{GONE['customer_name']} 様: 再起動で復旧")  # an end's reason: free text
    return {"incident": iid, "label": label, "mails": mails, "quarantine": {k: s.id for k, s in stored.items()}}


def _rows_text(store) -> str:
    """Every value of every row of every table, as text (bytes as they would decode, JSON as written)."""
    out = []
    with store.db.read() as conn:
        for table in S.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for v in row:
                    out.append(v.decode("utf-8", "replace") if isinstance(v, bytes)
                               else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
    return "\n".join(out)


def _file_bytes(db_url: str) -> bytes:
    path = Path(sa.make_url(db_url).database)
    return b"".join(Path(f"{path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{path}{s}").exists())


def _left(haystack: bytes, text: str, mails: list[bytes], kept: bytes) -> list[str]:
    """The personal data found in a database's bytes: any form of it, and any stretch of a mail's body (but for
    the stretches every alarm mail has, as the `kept` one does)."""
    found = [f for f in GONE_FORMS if f.encode() in haystack or f.lower().encode() in haystack.lower()]
    found += [f for f in GONE_FORMS if f in text or f.casefold() in text.casefold()]
    for raw in mails:
        body = raw.split(b"\r\n\r\n", 1)[-1]
        found += [f"mail body {body[i:i + 24]!r}" for i in range(0, max(1, len(body) - 24), 8)
                  if body[i:i + 24] in haystack and body[i:i + 24] not in kept]
    return found


def test_purge_leaves_no_personal_data_of_the_customer_in_rows_or_files(store, db_url, policy, run):
    built = _build(store, policy)
    mails = [raw for k, raw in built["mails"].items() if k != "live"]
    live = built["mails"]["live"]
    assert _left(_file_bytes(db_url) if db_url.startswith("sqlite") else b"", _rows_text(store), mails, live)
    done = run("purge", "--ended-before", "2025-01-01", "--yes", "--db", db_url, "--operator", "auditor")
    assert done.returncode == 0, done.stderr
    assert "1 customer(s) erased" in done.stdout
    text = _rows_text(store)
    haystack = _file_bytes(db_url) if db_url.startswith("sqlite") else text.encode()
    assert _left(haystack, text, mails, live) == []
    # what billing and the audit need stays: the label, the verdict, the fee, the alarm's event, who did what
    inc = store.incidents.get(built["incident"])
    assert inc["verdict"] and inc["status"] == "closed" and inc["summary"] == "(消去済み)"
    [d] = [a for a in store.audit.rows("incident", built["incident"]) if a["action"] == "dispatch"]
    assert d["detail"]["fee_total_jpy"] > 0 and d["detail"]["technician"] == "田村" and d["operator"] == "sato"
    [a] = store.alarms.rows()
    assert a["event_id"] == "0x8000070B" and a["computer"] == "(消去済み)" and a["message_id"] is None
    assert store.registry.find(label=built["label"])[0]["computer_name"] is None
    # the live customer and the mail about them are untouched
    assert LIVE["customer_name"] in text and LIVE["customer_email"] in text
    live = [q for q in store.quarantine.rows() if q["id"] == built["quarantine"]["live"]][0]
    assert live["raw"] == built["mails"]["live"] and live["sender"] == LIVE["customer_email"]


@given(st.lists(st.text("ab0.*田中", min_size=1, max_size=6), max_size=30), st.text("ab0.*田中", max_size=60))
def test_the_quarantine_search_finds_a_value_exactly_where_it_occurs(words, text):
    from sptui.store.purge import _any_of

    pattern = _any_of(words)
    assert (pattern is not None and pattern.search(text) is not None) == any(w in text for w in words)


def test_purge_refuses_a_date_after_today_or_before_2000_in_one_line(store, db_url, run):
    store.registry.import_csv(registry_csv([registry_row(1, purchased_on="2019-04-02")]), variants=VARIANTS)
    for date, said in (("9999-12-31", "is after today"), ("0001-01-01", "is before 2000-01-01"),
                       (f"{dt.date.today() + dt.timedelta(days=2)}", "is after today")):
        r = run("purge", "--ended-before", date, "--yes", "--db", db_url)
        assert r.returncode == 2 and said in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr
    assert store.registry.find(label="1234-000-001")[0]["customer_name"] == "担当 1"  # nothing erased


def test_a_row_dated_9999_in_an_old_database_never_ends_and_purge_still_runs(store, db_url, run):
    """A row stored before imports checked their dates (here written straight into the table)."""
    store.registry.import_csv(registry_csv([registry_row(1, purchased_on="2019-04-02"), registry_row(2)]), variants=VARIANTS)
    with store.db.write() as conn:
        conn.execute(S.machines.update().where(S.machines.c.label_number == "1234-000-002")
                     .values(purchased_on=dt.date(9999, 1, 1)))
    r = run("purge", "--ended-before", "2025-01-01", "--yes", "--db", db_url)
    assert r.returncode == 0 and "1 customer(s) erased" in r.stdout and "Traceback" not in r.stderr, r.stderr
    assert store.registry.find(label="1234-000-002")[0]["customer_name"] == "担当 2"


# ---- export: safe to open in a spreadsheet, and back unchanged ----------------------------------------------------
FORMULAS = {  # cells as typed into the CSV, and the values the registry keeps of them
    "customer_organisation": ('=HYPERLINK("http://evil.example","x")', '=HYPERLINK("http://evil.example","x")'),
    "customer_name": ("@SUM(1+1)*cmd", "@SUM(1+1)*cmd"), "customer_phone": ("+81-3-1234-5678", "+81-3-1234-5678"),
    "site_name": ("-2+3", "-2+3"), "site_organisation": ("''quoted already", "'quoted already"),
    "site_phone": ("'0451234567", "0451234567"), "customer_address": ("＝ＣＭＤ(1)", "＝ＣＭＤ(1)"),
    "seller": (" =1+1", "=1+1"), "os_name": ("+-@=", "+-@=")}


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def _typed_csv(rows: list[dict]) -> str:
    """Rows with their cells as typed into a spreadsheet (a mark `'` is the typist's)."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=REGISTRY_FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def test_export_writes_formula_cells_as_text_and_import_reads_them_back_unchanged(store, tmp_path):
    cells = {k: cell for k, (cell, _) in FORMULAS.items()}
    store.registry.import_csv(_typed_csv([registry_row(1, **cells), registry_row(2)]), variants=VARIANTS)
    got = store.registry.find(label="1234-000-001")[0]
    assert {k: got[k] for k in FORMULAS} == {k: value for k, (_, value) in FORMULAS.items()}
    exported = store.registry.export_csv()
    assert [c for c in _cells(exported) if c.lstrip(" \u3000")[:1] in TRIGGERS] == []
    assert "'=HYPERLINK" in exported and "'+81-3-1234-5678" in exported and "''quoted already" in exported
    other = Store.open(str(tmp_path / "again.db"))
    other.registry.import_csv(exported, variants=VARIANTS)
    assert other.registry.export_csv() == exported
    again = other.registry.find(label="1234-000-001")[0]
    assert {k: again[k] for k in FORMULAS} == {k: got[k] for k in FORMULAS}
    other.close()


def test_the_reject_file_writes_formula_cells_as_text_and_imports_as_the_file_did(store, tmp_path):
    from sptui.store.registry import reject_file

    rows = [registry_row(1, customer_name="=cmd|' /C calc'!A0", years="x"), registry_row(2, seller="'+81", years="y")]
    result = store.registry.import_csv(_typed_csv(rows), variants=VARIANTS, partial=True)
    text = reject_file(result.rejected)
    assert [c for c in _cells(text) if c.lstrip(" \u3000")[:1] in TRIGGERS] == []
    fixed = io.StringIO()  # the operator fixes the years and imports the rows again, without the first two columns
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        csv.writer(fixed, lineterminator="\n").writerow([c if (i == 0 or REGISTRY_FIELDS[k] != "years") else "5"
                                                          for k, c in enumerate(row[2:])])
    other = Store.open(str(tmp_path / "again.db"))
    assert other.registry.import_csv(fixed.getvalue(), variants=VARIANTS).imported == 2
    names = {m["label_number"]: (m["customer_name"], m["seller"]) for m in other.registry.rows()}
    assert names == {"1234-000-001": ("=cmd|' /C calc'!A0", "販売店A"), "1234-000-002": ("担当 2", "+81")}
    other.close()


def test_registry_csv_of_sptui_testing_writes_values_that_import_as_given(store):
    values = {"customer_name": "'t Hooft", "site_name": "=1+1", "customer_phone": "+81-3-1234-5678"}
    store.registry.import_csv(registry_csv([registry_row(1, **values)]), variants=VARIANTS)
    got = store.registry.find(label="1234-000-001")[0]
    assert {k: got[k] for k in values} == values


@given(st.text())
def test_a_value_written_as_a_cell_reads_back_and_never_starts_a_formula(value):
    cell = to_cell(value)
    assert from_cell(cell) == value
    assert cell.lstrip(" \u3000")[:1] not in TRIGGERS


# ---- what the CLI prints ----------------------------------------------------------------------------------------
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\u2066\x01\n\r\tX\x7f"  # PostgreSQL holds no NUL


def test_every_control_character_and_only_those_is_shown_escaped():
    import sys
    import unicodedata

    wrong = [hex(cp) for cp in range(sys.maxunicode + 1)
             if bool(CONTROL.fullmatch(chr(cp))) != (unicodedata.category(chr(cp)) in CATEGORIES)
             and unicodedata.category(chr(cp)) != "Cn"]  # newer Unicode may give an unassigned one a category
    assert wrong == []
    assert shown(HOSTILE) == "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil\\u2066\\x01\\n\\r\\tX\\x7f"
    assert shown("[bold]株式会社[/] 😀 café") == "[bold]株式会社[/] 😀 café"


def _hostile_desk(store, policy) -> None:
    """Data with control characters in every printed field, as an old database or another writer may hold it."""
    from sptui.intake.ingest import ingest

    store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, computer_name="NOPE")]), variants=VARIANTS)
    with store.db.write() as conn:
        conn.execute(S.customers.update().values(organisation=f"org{HOSTILE}", name=f"name{HOSTILE}",
                                                 phone=f"03{HOSTILE}"))
        conn.execute(S.machines.update().values(site_organisation=f"site{HOSTILE}"))
    iid = open_incident(store, policy, label="1234-000-001", at=at("2026-11-27T16:45+09:00"), summary=f"sum{HOSTILE}",
                              operator=f"op{HOSTILE}")
    store.incidents.add_note(iid, f"note{HOSTILE}", operator="sato")
    store.incidents.claim(iid, operator=f"op{HOSTILE}")  # another's claim is refused naming this owner
    ingest(store, policy, alarm_mail("SV0001", at("2026-11-27T16:00+09:00")), via=f"file:/x{HOSTILE}",
           received_at=at("2026-11-27T16:01+09:00"))
    with store.db.write() as conn:
        conn.execute(S.alarms.update().values(computer=f"SV{HOSTILE}", event_id=f"ev{HOSTILE}"))
    ingest(store, policy, b"junk", via=f"file:/q{HOSTILE}", received_at=at("2026-11-27T16:02+09:00"))


@pytest.mark.parametrize("args", [("registry", "find", "--customer", "org"), ("registry", "find", "--label", "1234-000-001"),
                                  ("incident", "show", "1"), ("alarm", "list"), ("alarm", "list", "--quarantine"),
                                  ("incident", "claim", "1"), ("incident", "show", "1", "--lang", "ja")])
def test_the_cli_shows_control_characters_in_data_escaped(store, db_url, policy, run, args):
    _hostile_desk(store, policy)
    r = run(*args, "--db", db_url, *(("--operator", "suzuki") if "claim" in args else ()))
    out = r.stdout + r.stderr
    assert "Traceback" not in out and out.strip(), out
    assert CONTROL.search(out.replace("\n", "")) is None, repr(out)
    assert "\\x1b]0;pwned\\x07" in out and "\\u202eevil" in out
    lines = [ln for ln in out.splitlines() if "pwned" in ln]
    assert all(ln.count("pwned") == ln.count("\\x1b]0;pwned") for ln in lines)  # one record, one line


def test_a_registry_error_quoting_a_hostile_header_is_shown_escaped(tmp_path, db_url, run):
    f = tmp_path / "reg.csv"
    text = registry_csv([registry_row(1)])
    f.write_text(text.replace("options", "\x1b[2Joptions\u202e", 1), encoding="utf-8")
    r = run("registry", "import", f, "--db", db_url)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert CONTROL.search(r.stderr.replace("\n", "")) is None and "\\x1b[2Joptions\\u202e" in r.stderr


# ---- dates: a sane range at import, and nothing later overflows -------------------------------------------------
@pytest.mark.parametrize("column", ["purchased_on", "pack_purchased_on", "completed_on", "agreed_end_on",
                                    "manufacture_ended_on", "express_start_on", "submitted_on"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
def test_a_date_outside_2000_to_2100_is_refused_naming_row_and_column(store, column, day):
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, **{column: day})]), variants=VARIANTS)
    assert [str(x) for x in e.value.errors] == [
        f"row 3, column {column}: {day} is outside the dates the registry takes (2000-01-01 to 2100-12-31)"]
    assert store.registry.rows() == []


def test_the_last_dates_the_registry_takes_decide_and_purge_without_overflow(store, policy, db_url, run):
    row = registry_row(1, purchased_on="2100-12-31", pack_purchased_on="2100-12-31", submitted_on="2100-12-31",
                       completed_on="2100-12-31", express_start_on="2100-12-31")
    store.registry.import_csv(registry_csv([row, registry_row(2, years="99")]), variants=None)
    iid = open_incident(store, policy, label="1234-000-001", at=at("2100-12-31T23:00+09:00"), summary="s", operator="a")
    assert store.incidents.get(iid)["verdict"]
    r = run("purge", "--ended-before", dt.date.today().isoformat(), "--db", db_url)
    assert r.returncode == 0 and "0 customer(s) to erase" in r.stdout, r.stderr


# ---- every cell: an error naming its row and column, on both engines --------------------------------------------
def test_a_cell_over_131072_characters_is_an_error_naming_row_and_column(tmp_path, db_url, run):
    f = tmp_path / "reg.csv"
    f.write_text(registry_csv([registry_row(1), registry_row(2, customer_address="東" * 140_000)]), encoding="utf-8")
    r = run("registry", "import", f, "--db", db_url)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "row 3, column customer_address: 140,000 characters, over the 400 the registry keeps" in r.stderr
    r = run("registry", "import", f, "--partial", "--db", db_url)
    assert r.returncode == 1 and "imported 1 machine(s)" in r.stdout
    assert "customer_address: 140,000 characters" in (tmp_path / "reg.csv.rejects.csv").read_text(encoding="utf-8")


def test_a_column_given_twice_is_refused_naming_both(store):
    header, line = registry_csv([registry_row(1)]).splitlines()
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(f"{header},years\n{line},7\n", variants=VARIANTS)
    assert [str(x) for x in e.value.errors] == ["row 1, column years: given twice, as columns 10 and 32 of the header"]


def test_computer_names_differing_only_in_letter_case_are_refused_in_the_file_and_against_the_registry(store):
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv([registry_row(1), registry_row(2, computer_name="sv0001")]), variants=VARIANTS)
    assert [str(x) for x in e.value.errors] == [
        'row 3, column computer_name: "sv0001" is also on row 2 (as "SV0001": letter case does not tell computer '
        'names apart)']
    store.registry.import_csv(registry_csv([registry_row(1)]), variants=VARIANTS)
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv([registry_row(2, computer_name="Sv0001")]), variants=VARIANTS)
    assert [str(x) for x in e.value.errors] == [
        'row 2, column computer_name: "Sv0001" is already in the registry (as "SV0001")']


@pytest.mark.parametrize("bad", ["\x00", "\x1b[2J", "\x7f", "\x85", "\u202e", "\u200b", "\ud800", "\n", "\t"])
def test_a_control_character_in_any_cell_is_refused_naming_row_and_column(store, bad):
    rows = [registry_row(1), registry_row(2, customer_name=f"山田{bad}太郎", computer_name=f"SV{bad}2")]
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    assert [(x.row, x.column) for x in e.value.errors] == [(3, "customer_name"), (3, "computer_name")]
    assert all(f"a control character ({shown(bad[0])}) at character 3" in x.message for x in e.value.errors)
    result = store.registry.import_csv(registry_csv(rows), variants=VARIANTS, partial=True)
    assert result.imported == 1 and [n for n, _, _ in result.rejected] == [3]


def test_a_number_or_option_the_database_cannot_hold_is_an_error_naming_row_and_column(store):
    rows = [registry_row(1, years="99999999999999999999"), registry_row(2, options="N8103-189:99999999999"),
            registry_row(3, options=f"{'N' * 41}:1"), registry_row(4, years="0"), registry_row(5, years="1" * 5000)]
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv(rows), variants=None)
    assert [(x.row, x.column) for x in e.value.errors] == [(2, "years"), (3, "options"), (4, "options"), (5, "years"),
                                                           (6, "years")]


def test_registry_import_of_something_not_a_regular_file_says_so(tmp_path, db_url, run):
    fifo = tmp_path / "reg.csv"
    os.mkfifo(fifo)
    r = run("registry", "import", fifo, "--db", db_url)
    assert r.returncode == 2 and "is not a regular file" in r.stderr


# ---- any CSV at all: rows and columns named, never a traceback, never a partial import --------------------------
_SERIAL = itertools.count(1)
_CELLS = st.one_of(
    st.sampled_from(["", " ", "2024-04-02", "2100-12-31", "9999-12-31", "0", "5", "7", "=1+1", "'+81", "SV0001",
                     "sv0001", "weekday-9h", "24x7", "accepted", "yes", "JP", "N8103-189:2", "a:b:c:d:e", '"', ",",
                     "1234-000-001", "x" * 140_000]),
    st.text(max_size=20),
    st.text(st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Lu", "Ll", "Nd", "Po"]), max_size=20),
)
_HEADERS = st.one_of(st.just(REGISTRY_FIELDS), st.permutations(REGISTRY_FIELDS),
                     st.lists(st.sampled_from([*REGISTRY_FIELDS, "bogus", "", " label_number "]), max_size=40))


@st.composite
def registry_texts(draw) -> str:
    """Mostly a registry CSV with a few odd cells (so that rows are checked, and some imported); else any text."""
    header = REGISTRY_FIELDS if draw(st.integers(0, 3)) else draw(_HEADERS)
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        row = registry_row(next(_SERIAL))
        row.update(draw(st.dictionaries(st.sampled_from(REGISTRY_FIELDS), _CELLS, max_size=2)))
        rows.append([row.get(h, draw(_CELLS)) for h in header] + draw(st.lists(_CELLS, max_size=1)))
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    kind = draw(st.integers(0, 9))
    return out.getvalue() if kind < 7 else draw(st.text(max_size=200)) if kind < 9 else out.getvalue() + draw(
        st.text(max_size=40))


def _machines(store) -> int:
    with store.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(S.machines)).scalar_one()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=registry_texts(), partial=st.booleans())
def test_any_csv_text_imports_or_names_rows_and_columns_never_partially(store, text, partial):
    before = _machines(store)
    try:
        result = store.registry.import_csv(text, variants=VARIANTS, partial=partial)
    except ImportFailed as e:
        event("refused")
        assert e.errors and all(x.row >= 1 and (x.column or "more than the header" in x.message
                                                or "not readable as CSV" in x.message) for x in e.errors)
        assert _machines(store) == before  # nothing at all
        return
    event(f"imported {'some' if result.imported else 'none'}, rejected {'some' if result.rejected else 'none'}")
    assert _machines(store) == before + result.imported
    for _, _, errs in result.rejected:
        assert partial and errs and all(x.row >= 2 for x in errs)


def test_a_name_a_remaining_customer_shares_does_not_erase_their_mail_but_the_purged_ones_phone_does(store, policy, run,
                                                                                                       db_url):
    from sptui.intake.ingest import ingest

    shared = "佐藤 一郎"
    rows = [registry_row(1, purchased_on="2019-04-02", customer_name=shared, customer_phone="03-1111-0001"),
            registry_row(2, customer_name=shared, customer_phone="03-2222-0002")]
    store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    when = at("2023-06-02T10:05:00+09:00")
    theirs = alarm_mail("UNKNOWN-9", when, detail=f"{shared} 様 03-2222-0002")
    gone = alarm_mail("UNKNOWN-8", when, detail=f"{shared} 様 ０３（１１１１）０００１")
    ids = [ingest(store, policy, raw, via="smtp:127.0.0.1", received_at=when).id for raw in (theirs, gone)]
    assert run("purge", "--ended-before", "2025-01-01", "--yes", "--db", db_url).returncode == 0
    kept = {q["id"]: q["raw"] for q in store.quarantine.rows()}
    assert kept[ids[0]] == theirs and kept[ids[1]] != gone and shared.encode() not in kept[ids[1]]


def test_registry_export_to_a_terminal_shows_control_characters_escaped_and_to_a_pipe_stays_csv(store, db_url,
                                                                                                 sptui_bin):
    import pty
    import subprocess

    store.registry.import_csv(registry_csv([registry_row(1)]), variants=VARIANTS)
    with store.db.write() as conn:  # as an old database may hold it
        conn.execute(S.customers.update().values(name=f"name{HOSTILE}"))
    piped = subprocess.run([sptui_bin, "registry", "export", "--db", db_url], capture_output=True, timeout=120)
    assert f"name{HOSTILE}".encode() in piped.stdout  # a file or a pipe gets the data itself
    leader, follower = pty.openpty()
    with subprocess.Popen([sptui_bin, "registry", "export", "--db", db_url], stdout=follower,
                          stderr=subprocess.PIPE) as proc:
        os.close(follower)
        seen = b""
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "registry export on a terminal still running after 120 s"
            if not select.select([leader], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=120) == 0
    os.close(leader)
    text = seen.decode()
    assert "\\x1b]0;pwned\\x07" in text and CONTROL.search(text.replace("\r\n", "")) is None


def test_registry_import_never_reads_through_a_symbolic_link(tmp_path, db_url, run):
    """A CSV that is a symbolic link (to a file elsewhere, say one the operator may read and the uploader may not;
    or a cycle of links) is refused with one line: nothing of the linked file is read, shown or imported."""
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(registry_csv([registry_row(1)]), encoding="utf-8")
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "reg.csv").symlink_to(secret)
    (upload / "loop.csv").symlink_to(upload / "loop.csv")
    r = run("registry", "import", upload / "reg.csv", "--db", db_url)
    assert r.returncode == 2 and "is not a regular file (it is a symbolic link" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "imported" not in r.stdout
    r = run("registry", "import", upload / "loop.csv", "--db", db_url)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def _encoded_forms(text: str) -> dict[str, str]:
    """A name as a mail may carry it without the name's own characters: HTML entities (hex and decimal),
    percent-encoded, an RFC 2047 encoded word (B and Q) in a body, quoted-printable in a body that says nothing of
    it, and those nested (an entity, percent-encoded)."""
    import quopri
    import urllib.parse

    data = text.encode("utf-8")
    hexed = "".join(f"&#x{ord(c):X};" for c in text)
    return {"html-hex": hexed, "html-dec": "".join(f"&#{ord(c)};" for c in text),
            "percent": urllib.parse.quote(text), "percent-cp932": urllib.parse.quote(text.encode("cp932")),
            "word-b": f"=?UTF-8?B?{base64.b64encode(data).decode()}?=",
            "word-q": "=?utf-8?q?" + "".join(f"={b:02X}" for b in data) + "?=",
            "qp": quopri.encodestring(data).decode(), "percent-of-html": urllib.parse.quote(hexed)}


def test_purge_erases_a_name_carried_encoded_and_every_mail_linked_to_the_purged_machines(store, policy, run, db_url):
    """第3章 1.8: a quarantined mail that carries the purged customer's name encoded (HTML entities, percent-encoded,
    an encoded word or quoted-printable where no header says so) is erased as one that carries it plainly; a mail
    the intake tied to one of their machines (`no-express`: the machine was found) is erased by that link, even
    when nothing in it is long enough to search for. The remaining customer's mails, in the same forms, stay."""
    from sptui.intake.ingest import ingest

    gone_org, kept_org = "山田精機工業株式会社", "鈴木物産株式会社"
    rows = [registry_row(1, purchased_on="2019-04-02", customer_organisation=gone_org, customer_name="山田 太郎"),
            registry_row(3, purchased_on="2019-04-02", computer_name="Q7", express_start_on=""),
            registry_row(2, customer_organisation=kept_org, customer_name="鈴木 花子")]
    rows[1].update({k: rows[0][k] for k in rows[0] if k.startswith("customer_")})  # machine 3: the same customer
    store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    when = at("2023-06-02T10:05:00+09:00")

    def mail(body: str, subject: str = "fwd") -> bytes:
        return (f"From: relay@example.net\r\nSubject: {subject}\r\nMessage-ID: <{abs(hash(body))}@x>\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n\r\n" f"note: {body}\r\n").encode()

    def store_mail(raw: bytes) -> int:
        stored = ingest(store, policy, raw, via="smtp:127.0.0.1", received_at=when)
        assert stored.outcome == "quarantined"
        return stored.id

    gone = {k: store_mail(mail(v)) for k, v in _encoded_forms(gone_org).items()}
    gone["subject"] = store_mail(mail("see subject", subject=_encoded_forms(gone_org)["word-b"]))
    kept = {k: store_mail(mail(v)) for k, v in _encoded_forms(kept_org).items()}
    linked = ingest(store, policy, alarm_mail("Q7", when, message_id="q7@x"), via="smtp:127.0.0.1", received_at=when)
    assert linked.outcome == "quarantined" and linked.reason == "no-express"
    done = run("purge", "--ended-before", "2025-01-01", "--yes", "--db", db_url)
    assert done.returncode == 0, done.stderr
    rows_now = {q["id"]: q for q in store.quarantine.rows()}
    survived = [k for k, qid in gone.items() if rows_now[qid]["via"] != "(消去済み)"]
    assert survived == [], f"the purged customer's name survived purge encoded as {survived}"
    assert rows_now[linked.id]["via"] == "(消去済み)" and b"Q7" not in rows_now[linked.id]["raw"]
    assert all(rows_now[qid]["via"] == "smtp:127.0.0.1" for qid in kept.values())
