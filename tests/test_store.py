"""The store on SQLite and on PostgreSQL: schema and migrations, registry CSV, incidents, audit, concurrency."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from conftest import registry_csv, registry_row

from sptui.desk import BadRequest, Consent, Work, dispatch, open_incident
from sptui.store import ConflictError, OutdatedSchema, Store, StoreError
from sptui.store import schema as S
from sptui.store.registry import ImportFailed

JST = S.TOKYO
VARIANTS = {"weekday-9h": None, "24x7": None}


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


# ---- schema ------------------------------------------------------------------------------------------------
def test_new_database_is_created_at_the_newest_revision_and_matches_the_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sptui.store.db import current_revision, head_revision

    assert current_revision(store.db.engine) == head_revision()
    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), S.metadata)
    assert diff == []


def test_an_old_database_is_refused_with_how_to_upgrade_and_upgrades_keeping_its_rows(db_url, run):
    from sptui.store.db import head_revision, make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        cid = conn.execute(S.customers.insert().values(organisation="旧顧客", name="n", address="a", phone="1",
                                                       email="e@x", created_at=at("2025-01-01T09:00+09:00"))
                           ).inserted_primary_key[0]
    engine.dispose()
    with pytest.raises(OutdatedSchema, match="sptui db upgrade"):
        Store.open(db_url)
    r = run("db", "upgrade", "--db", db_url)
    assert r.returncode == 0, r.stderr
    assert f"0001 → {head_revision()}" in r.stdout
    s = Store.open(db_url)
    with s.db.read() as conn:
        assert conn.execute(sa.select(S.customers.c.organisation).where(S.customers.c.id == cid)).scalar() == "旧顧客"
    s.close()


def test_a_database_newer_than_this_sptui_says_to_upgrade_sptui(db_url, run):
    s = Store.open(db_url)
    with s.db.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    s.close()
    with pytest.raises(StoreError, match="revision 0099, newer than this sptui knows .*upgrade sptui here too"):
        Store.open(db_url)
    r = run("db", "upgrade", "--db", db_url)
    assert r.returncode == 1 and "upgrade sptui here too" in r.stderr and "Traceback" not in r.stderr


def test_instants_come_back_aware_in_tokyo_and_a_naive_one_is_refused(store):
    with store.db.write() as conn:
        conn.execute(S.audit.insert().values(at=at("2026-11-27T08:00:00Z"), operator="t", entity="x", action="a",
                                             detail={}))
    row = store.audit.rows("x")[0]
    assert row["at"] == at("2026-11-27T17:00:00+09:00") and row["at"].utcoffset() == dt.timedelta(hours=9)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with store.db.write() as conn:
            conn.execute(S.audit.insert().values(at=dt.datetime(2026, 11, 27, 17), operator="t", entity="x",
                                                 action="a", detail={}))


# ---- registry ------------------------------------------------------------------------------------------------
def test_import_is_all_or_nothing_and_names_row_and_column(store):
    rows = [registry_row(1), registry_row(2, purchased_on="2024/4/2"), registry_row(3, customer_phone="")]
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    text = str(e.value)
    assert 'row 3, column purchased_on: expected a date like 2026-04-01, got "2024/4/2"' in text
    assert "row 4, column customer_phone: required" in text
    assert "nothing was imported" in text
    assert store.db.counts()["machines"] == 0 and store.db.counts()["customers"] == 0


def test_partial_import_writes_the_good_rows_and_returns_the_bad(store):
    rows = [registry_row(1), registry_row(2, label_number="12-34"), registry_row(3)]
    result = store.registry.import_csv(registry_csv(rows), variants=VARIANTS, partial=True)
    assert result.imported == 2
    [(n, raw, errs)] = result.rejected
    assert n == 3 and raw["label_number"] == "12-34" and errs[0].column == "label_number"
    assert sorted(m["label_number"] for m in store.registry.rows()) == ["1234-000-001", "1234-000-003"]


def test_label_numbers_and_support_ids_are_unique_in_the_file_and_against_the_registry(store):
    store.registry.import_csv(registry_csv([registry_row(1)]), variants=VARIANTS)
    dup_in_file = [registry_row(5), registry_row(6, support_id="SP00000005")]
    with pytest.raises(ImportFailed, match='row 3, column support_id: "SP00000005" is also on row 2'):
        store.registry.import_csv(registry_csv(dup_in_file), variants=VARIANTS)
    with pytest.raises(ImportFailed, match='row 2, column label_number: "1234-000-001" is already in the registry'):
        store.registry.import_csv(registry_csv([registry_row(1, support_id="OTHER")]), variants=VARIANTS)
    assert store.db.counts()["machines"] == 1


def test_row_numbers_count_blank_rows_and_blank_rows_are_skipped(store):
    text = registry_csv([registry_row(1)]) + "\n" + registry_csv([registry_row(2, purchased_on="x")]).split("\n", 1)[1]
    text += ",,,,,,,,\n"  # a spreadsheet's trailing empty row
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(text, variants=VARIANTS)
    assert [str(x) for x in e.value.errors] == ['row 4, column purchased_on: expected a date like 2026-04-01, got "x"']


def test_a_row_with_too_many_values_is_rejected_alone_under_partial(store):
    text = registry_csv([registry_row(1), registry_row(2)])
    lines = text.splitlines()
    lines[2] += ",surplus"
    result = store.registry.import_csv("\n".join(lines) + "\n", variants=VARIANTS, partial=True)
    assert result.imported == 1 and [str(e) for _, _, errs in result.rejected for e in errs] == [
        "row 3: 1 value(s) more than the header has columns"]


def test_codes_in_full_width_are_the_same_codes_and_lengths_are_checked(store):
    store.registry.import_csv(registry_csv([registry_row(1)]), variants=VARIANTS)
    with pytest.raises(ImportFailed, match='row 2, column label_number: "1234-000-001" is already in the registry'):
        store.registry.import_csv(registry_csv([registry_row(5, label_number="１２３４-０００-００１")]), variants=VARIANTS)
    with pytest.raises(ImportFailed, match="row 2, column support_id: 41 characters, over the 40 the registry keeps"):
        store.registry.import_csv(registry_csv([registry_row(5, support_id="S" * 41)]), variants=VARIANTS)


def test_one_customer_has_one_phone_and_one_computer_name_one_machine(store):
    rows = [registry_row(1), registry_row(8, customer_phone="06-2222-2222"), registry_row(15, computer_name="SV0001")]
    assert rows[0]["customer_email"] == rows[1]["customer_email"] == rows[2]["customer_email"]
    with pytest.raises(ImportFailed) as e:
        store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    text = str(e.value)
    assert 'row 3, column customer_phone: the customer 顧客1株式会社 <desk1@example.jp> is on row 2 with "03-1234-0001"' in text
    assert 'row 4, column computer_name: "SV0001" is also on row 2' in text
    store.registry.import_csv(registry_csv(rows[:1]), variants=VARIANTS)
    with pytest.raises(ImportFailed, match='row 2, column customer_phone: the registry has this customer with "03-1234-0001"'):
        store.registry.import_csv(registry_csv(rows[1:2]), variants=VARIANTS)


def test_express_fields_are_required_when_express_was_applied_for(store):
    with pytest.raises(ImportFailed, match="row 2, column seller: required when the Express service"):
        store.registry.import_csv(registry_csv([registry_row(1, seller="")]), variants=VARIANTS)
    store.registry.import_csv(registry_csv([registry_row(1, seller="", express_start_on="", os_name="", report_method="")]),
                          variants=VARIANTS)


def test_unknown_variant_and_years_not_sold_are_refused(store):
    with pytest.raises(ImportFailed, match='row 2, column variant: unknown variant "mon-sat"'):
        store.registry.import_csv(registry_csv([registry_row(1, variant="mon-sat")]), variants=VARIANTS)
    with pytest.raises(ImportFailed, match="column years: a weekday-9h pack is sold for 1, 3, 5 years, not 7"):
        store.registry.import_csv(registry_csv([registry_row(1, years="7")]), variants={"weekday-9h": (1, 3, 5)})


def test_export_imports_again_into_an_empty_store_unchanged(store, tmp_path):
    rows = [registry_row(i, options="N8103-189:2:disk-array:direct;N8104-7001:1") for i in range(1, 4)]
    rows.append(registry_row(9, manufacture_ended_on="2028-03-31", agreed_end_on="2027-12-31", config_info="no",
                             country="SG", express_start_on="", os_name="", report_method="", seller=""))
    store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    first = store.registry.export_csv()
    other = Store.open(str(tmp_path / "other.db"))
    other.registry.import_csv(first, variants=VARIANTS)
    assert other.registry.export_csv() == first
    assert "N8103-189:2:disk-array:direct;N8104-7001:1" in first


def test_look_ups_by_label_serial_customer_and_phone(store):
    store.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 30)]), variants=VARIANTS)
    assert [m["serial_number"] for m in store.registry.find(label="1234-000-007")] == ["SN0000007"]
    assert [m["label_number"] for m in store.registry.find(serial="SN0000012")] == ["1234-000-012"]
    assert {m["label_number"] for m in store.registry.find(customer="顧客3")} == {
        registry_row(i)["label_number"] for i in range(1, 30) if i % 7 == 3}
    # the customer's phone finds all of that customer's machines; the site's phone finds the site's
    assert [m["label_number"] for m in store.registry.find(phone="(03) 1234 0000")] == [
        "1234-000-007", "1234-000-014", "1234-000-021", "1234-000-028"]
    assert [m["label_number"] for m in store.registry.find(phone="044 000 0021")] == ["1234-000-021"]
    assert [m["label_number"] for m in store.registry.find(phone="（０４４）０００－００２１")] == ["1234-000-021"]
    assert store.registry.find(label="9999-999-999") == []
    with pytest.raises(StoreError, match="give a label number"):
        store.registry.find()


# ---- incidents ------------------------------------------------------------------------------------------------
@pytest.fixture
def desk(store):
    store.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 4)]), variants=VARIANTS)
    return store


def test_an_incident_keeps_its_decision_and_the_policy_digest_and_is_audited(desk, policy):
    iid = open_incident(desk, policy, label="1234-000-001", at=at("2026-11-27T16:45+09:00"), summary="ディスク障害",
                             operator="sato")
    inc = desk.incidents.get(iid)
    direct = policy.decide(inc["case"])
    assert inc["verdict"] == direct.verdict == "covered"
    assert inc["deadline"] == direct.dispatch_deadline == at("2026-11-30T09:45+09:00")  # Fri 16:45: 45 min left, Mon 08:30 + 75
    assert inc["decision"]["policy"]["digest"] == inc["policy_digest"] == policy.digest
    assert inc["decision"]["messages_ja"] and inc["decision"]["reasons"]
    [entry] = desk.audit.rows("incident", iid)
    assert (entry["operator"], entry["action"], entry["policy_digest"]) == ("sato", "open", policy.digest)


def test_a_second_operator_cannot_claim_an_owned_incident(desk, policy, db_url):
    iid = open_incident(desk, policy, label="1234-000-002", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    other = Store.open(db_url)
    desk.incidents.claim(iid, operator="sato")
    with pytest.raises(ConflictError, match="already claimed by sato"):
        other.incidents.claim(iid, operator="suzuki")
    assert desk.incidents.get(iid)["owner"] == "sato"
    other.close()


def test_a_stale_update_writes_nothing_and_says_who_changed_it(desk, policy, db_url):
    iid = open_incident(desk, policy, label="1234-000-002", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    seen = desk.incidents.get(iid)["version"]
    desk.incidents.claim(iid, operator="sato")
    with pytest.raises(ConflictError, match=r"changed by sato \(claimed at .*nothing was saved by your close"):
        desk.incidents.close(iid, operator="suzuki", version=seen)
    assert desk.incidents.get(iid)["status"] == "claimed"
    assert [e["kind"] for e in desk.incidents.timeline(iid)] == ["opened", "claimed"]


def test_a_conflict_names_who_changed_the_incident_not_who_wrote_the_last_note(desk, policy):
    iid = open_incident(desk, policy, label="1234-000-002", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    seen = desk.incidents.get(iid)["version"]
    desk.incidents.claim(iid, operator="suzuki")
    desk.incidents.assign(iid, "sato", operator="suzuki")
    desk.incidents.add_note(iid, "お客様に確認中", operator="sato")  # the new owner's note: the last line, not a change
    with pytest.raises(ConflictError, match=r"changed by suzuki \(claimed at"):
        desk.incidents.close(iid, operator="sato", version=seen)


def test_only_the_owner_dispatches_and_a_closed_incident_stays_closed(desk, policy):
    iid = open_incident(desk, policy, label="1234-000-002", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    desk.incidents.claim(iid, operator="sato")
    with pytest.raises(ConflictError, match="owned by sato: only its owner can dispatch for it"):
        dispatch(desk, policy, iid, operator="suzuki", technician="t", work=Work(at("2026-11-27T10:20+09:00")))
    with pytest.raises(BadRequest, match="cannot be complete .* before the departure"):
        dispatch(desk, policy, iid, operator="sato", technician="t",
                 work=Work(at("2026-11-27T10:20+09:00"), at("2026-11-27T10:10+09:00")))
    desk.incidents.close(iid, operator="sato")
    with pytest.raises(StoreError, match="already closed"):
        desk.incidents.close(iid, operator="tanaka")
    assert desk.db.counts()["dispatches"] == 0


def test_marking_for_consultation_is_stored_audited_in_the_timeline_and_undone(desk, policy):
    iid = open_incident(desk, policy, label="1234-000-001", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    v = desk.incidents.mark_consult(iid, "増設メモリは相談: お客様とNECに確認", operator="sato", version=1)
    inc = desk.incidents.get(iid)
    assert (inc["consult"], inc["version"], inc["updated_by"], inc["status"], inc["owner"]) == (
        "増設メモリは相談: お客様とNECに確認", v, "sato", "claimed", "sato")  # unowned: marking it made it sato's
    with pytest.raises(StoreError, match="already marked for consultation"):
        desk.incidents.mark_consult(iid, "again", operator="sato", version=v)
    with pytest.raises(ConflictError, match="owned by sato: only its owner can clear its consultation mark"):
        desk.incidents.clear_consult(iid, operator="suzuki", version=v)
    v = desk.incidents.clear_consult(iid, operator="sato", version=v)
    assert desk.incidents.get(iid)["consult"] is None and desk.incidents.get(iid)["version"] == v
    with pytest.raises(StoreError, match="not marked for consultation"):
        desk.incidents.clear_consult(iid, operator="sato", version=v)
    with pytest.raises(StoreError, match="needs a reason"):
        desk.incidents.mark_consult(iid, "  ", operator="sato")
    assert [(e["kind"], e["operator"]) for e in desk.incidents.timeline(iid)] == [
        ("opened", "a"), ("claimed", "sato"), ("consult", "sato"), ("unconsult", "sato")]
    log = desk.audit.rows("incident", iid)
    assert [(e["action"], e["operator"], e["policy_digest"]) for e in log[1:]] == [
        ("claim", "sato", policy.digest), ("consult", "sato", policy.digest), ("unconsult", "sato", policy.digest)]
    assert log[2]["detail"] == {"text": "増設メモリは相談: お客様とNECに確認"}


def test_a_stale_consultation_mark_writes_nothing_and_says_who_changed_it(desk, policy, db_url):
    iid = open_incident(desk, policy, label="1234-000-002", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    other = Store.open(db_url)
    seen = other.incidents.get(iid)["version"]
    desk.incidents.claim(iid, operator="sato")
    with pytest.raises(ConflictError, match=r"changed by sato \(claimed at .*nothing was saved by your consult"):
        other.incidents.mark_consult(iid, "needs NEC", operator="suzuki", version=seen)
    assert desk.incidents.get(iid)["consult"] is None
    assert [e["kind"] for e in desk.incidents.timeline(iid)] == ["opened", "claimed"]
    desk.incidents.close(iid, operator="sato")
    with pytest.raises(StoreError, match="is closed"):
        other.incidents.mark_consult(iid, "needs NEC", operator="suzuki")
    other.close()


def test_dispatch_quotes_the_fee_and_a_missed_deadline_needs_a_reason(desk, policy):
    iid = open_incident(desk, policy, label="1234-000-003", at=at("2026-11-27T16:45+09:00"), summary="x", operator="a")
    with pytest.raises(BadRequest, match="give the reason it was missed"):
        dispatch(desk, policy, iid, operator="a", technician="t1", work=Work(at("2026-11-30T10:00+09:00")))
    out = dispatch(desk, policy, iid, operator="a", technician="t1",
                   work=Work(at("2026-11-27T18:00+09:00"), at("2026-11-27T19:20+09:00")),
                   consent=Consent("山田", "phone", at("2026-11-27T17:50+09:00")))
    assert out["fee"]["total_jpy"] == policy.decide(desk.incidents.get(iid)["case"]).fee.total_jpy > 0
    assert [e["kind"] for e in desk.incidents.timeline(iid)] == ["opened", "claimed", "dispatched"]


def test_two_processes_claiming_the_same_200_incidents_end_with_one_owner_each(db_url, policy, sptui_bin):
    import re
    import subprocess

    s = Store.open(db_url)
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 5)]), variants=VARIANTS)
    ids = [open_incident(s, policy, label=registry_row(1 + k % 4)["label_number"],
                           at=at("2026-11-27T10:00+09:00") + dt.timedelta(minutes=k), summary=f"call {k}", operator="desk")
           for k in range(200)]
    procs = {who: subprocess.Popen([sptui_bin, "incident", "claim", *map(str, ids), "--db", db_url, "--operator", who],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who in ("sato", "suzuki")}
    out = {who: p.communicate(timeout=300) for who, p in procs.items()}
    won = {who: {int(m) for m in re.findall(r"incident (\d+): claimed by", o[0])} for who, o in out.items()}
    lost = {who: {int(m) for m in re.findall(r"incident (\d+) (?:is already claimed by|was changed by) "
                                             r"(?:sato|suzuki)", o[1])} for who, o in out.items()}
    assert won["sato"] | won["suzuki"] == set(ids) and not won["sato"] & won["suzuki"]
    assert lost["sato"] == won["suzuki"] and lost["suzuki"] == won["sato"]  # every loser was told who won
    owners = {i["id"]: i["owner"] for i in s.incidents.rows()}
    assert all(owners[i] == ("sato" if i in won["sato"] else "suzuki") for i in ids)
    assert len([a for a in s.audit.rows("incident") if a["action"] == "claim"]) == 200
    s.close()


# ---- the commands -----------------------------------------------------------------------------------------------
def test_registry_import_command_names_row_and_column_and_writes_a_reject_file(tmp_path, db_url, run):
    f = tmp_path / "reg.csv"
    f.write_text(registry_csv([registry_row(1), registry_row(2, years="three"), registry_row(3)]), encoding="utf-8")
    r = run("registry", "import", f, "--db", db_url)
    assert r.returncode == 2 and r.stdout == ""
    assert 'row 3, column years: expected a whole number, got "three"' in r.stderr
    assert "nothing was imported" in r.stderr
    r = run("registry", "import", f, "--partial", "--db", db_url)
    assert r.returncode == 1 and "imported 2 machine(s)" in r.stdout
    rejects = (tmp_path / "reg.csv.rejects.csv").read_text(encoding="utf-8").splitlines()
    again = run("registry", "import", f, "--partial", "--db", db_url)  # the first reject file is not overwritten
    assert again.returncode == 2 and "exists already" in again.stderr
    assert rejects[0].startswith("source_row,errors,label_number") and rejects[1].startswith('3,"years: expected')
    found = run("registry", "find", "--serial", "SN0000003", "--db", db_url)
    assert found.returncode == 0 and "1234-000-003" in found.stdout
    exported = run("registry", "export", "--db", db_url)
    assert exported.returncode == 0 and len(exported.stdout.splitlines()) == 3


def test_incident_commands_open_claim_show_and_refuse_a_second_owner(db_url, run):
    s = Store.open(db_url)
    s.registry.import_csv(registry_csv([registry_row(1)]), variants=VARIANTS)
    opened = run("incident", "open", "--label", "1234-000-001", "--at", "2026-11-27T16:45+09:00",
                 "--summary", "[bold]ディスク[/] 障害", "--db", db_url, "--operator", "sato")
    assert opened.returncode == 0, opened.stderr
    assert "incident 1: covered, on site by 2026-11-30 09:45" in opened.stdout
    assert run("incident", "claim", "1", "--db", db_url, "--operator", "sato").returncode == 0
    lost = run("incident", "claim", "1", "--db", db_url, "--operator", "suzuki")
    assert lost.returncode == 1 and "incident 1 is already claimed by sato" in lost.stderr
    shown = run("incident", "show", "1", "--db", db_url, "--lang", "ja")
    assert "[第1章 2.2" in shown.stdout and "sato" in shown.stdout and "[bold]ディスク[/] 障害" in shown.stdout
    naive = run("incident", "open", "--label", "1234-000-001", "--at", "2026-11-27T16:45", "--summary", "x",
                "--db", db_url)
    assert naive.returncode == 2 and "at" in naive.stderr
    s.close()


def test_purge_erases_personal_fields_of_ended_contracts_only_with_yes(store, policy, run, db_url, tmp_path):
    rows = [registry_row(1, purchased_on="2019-04-02", years="5", customer_email="old@x.jp",
                         customer_organisation="旧顧客"),
            registry_row(2, customer_email="live@x.jp", customer_organisation="現顧客")]
    store.registry.import_csv(registry_csv(rows), variants=VARIANTS)
    iid = open_incident(store, policy, label="1234-000-001", at=at("2023-06-01T10:00+09:00"), summary="s", operator="a")
    dry = run("purge", "--ended-before", "2025-01-01", "--db", db_url)
    assert dry.returncode == 0 and "would erase customer" in dry.stdout and "1 customer(s) to erase" in dry.stdout
    assert {m["customer_organisation"] for m in store.registry.rows()} == {"旧顧客", "現顧客"}
    done = run("purge", "--ended-before", "2025-01-01", "--yes", "--db", db_url, "--operator", "auditor")
    assert done.returncode == 0 and "1 customer(s) erased" in done.stdout
    old, live = store.registry.find(label="1234-000-001")[0], store.registry.find(label="1234-000-002")[0]
    assert old["customer_organisation"] == old["customer_phone"] == old["site_name"] == "(消去済み)"
    exported = store.registry.export_csv()
    assert "旧顧客" not in exported and "old@x.jp" not in exported
    other = Store.open(str(tmp_path / "again.db"))  # an export after a purge imports again
    assert other.registry.import_csv(exported, variants=VARIANTS).imported == 2
    other.close()
    assert old["purged_at"] is not None and live["customer_organisation"] == "現顧客"
    assert store.incidents.get(iid)["verdict"]  # the history stays, anonymised
    [entry] = [a for a in store.audit.rows("customer") if a["action"] == "purge"]
    assert entry["operator"] == "auditor" and "旧顧客" not in str(entry["detail"])


def test_demo_builds_every_verdict_alarms_quarantine_and_dispatches(tmp_path, run):
    r = run("demo", "--db", tmp_path / "demo.db", "--no-open")
    assert r.returncode == 0, r.stderr
    s = Store.open(str(tmp_path / "demo.db"))
    counts = s.db.counts()
    assert counts["customers"] == 200 and counts["machines"] == 1000
    assert counts["alarms"] > 50 and counts["quarantine"] >= 3 and counts["dispatches"] > 0
    assert {i["verdict"] for i in s.incidents.rows()} == {"covered", "not-covered", "not-started", "consult", "billable"}
    assert {m["variant"] for m in s.registry.rows()} == {"weekday-9h", "24x7"}
    assert {m["years"] for m in s.registry.rows()} == {1, 3, 5, 7}
    s.close()


def test_desks_opening_a_new_database_together_create_it_once(db_url, sptui_bin):
    import subprocess

    from sptui.store.db import normalise_url

    if db_url.startswith("sqlite"):  # an empty file (a command refuses a SQLite file that is not there at all)
        __import__("pathlib").Path(normalise_url(db_url).database).touch()
    procs = [subprocess.Popen([sptui_bin, "db", "status", "--db", db_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    procs += [subprocess.Popen([sptui_bin, "registry", "find", "--label", "1234-000-001", "--db", db_url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all("Traceback" not in err and "error" not in err for _, err, _ in outs), outs
    assert [rc for *_, rc in outs[4:]] == [1, 1, 1, 1]  # "no machine found": each opened the database
    from sptui.store.db import current_revision, head_revision, make_engine

    assert current_revision(make_engine(db_url)) == head_revision()


def test_a_held_connection_serves_every_transaction_and_a_failed_one_writes_nothing(db_url):
    """hold_connection (the intake's writer): one connection for all transactions; a transaction that fails
    is rolled back, its connection dropped, and the next transaction works on a fresh one."""
    s = Store.open(db_url)
    s.db.hold_connection()
    try:
        s.registry.import_csv(registry_csv([registry_row(1)]))
        with s.db.write() as conn:
            s.audit.add(conn, "sato", "note", None, "kept", {})
        held = conn
        with s.db.read() as conn:
            assert conn is held  # every transaction on the one connection
        with pytest.raises(ZeroDivisionError), s.db.write() as conn:
            s.audit.add(conn, "sato", "note", None, "lost", {})
            1 / 0
        with s.db.write() as conn:
            s.audit.add(conn, "sato", "note", None, "after", {})
        assert conn is not held and conn is not None
        assert [a["action"] for a in s.audit.rows("note")] == ["kept", "after"]
        other = Store.open(db_url)  # committed for everyone, not only inside the held connection
        assert [a["action"] for a in other.audit.rows("note")] == ["kept", "after"]
        assert other.registry.machine("1234-000-001")["computer_name"] == "SV0001"
        other.close()
    finally:
        s.close()


def test_the_quick_schema_check_knows_the_newest_migration():
    """ensure_schema reads the revision without alembic when it is HEAD; HEAD must be alembic's head."""
    from sptui.store.db import HEAD, head_revision

    assert HEAD == head_revision()


# ---- other operators' changes as they commit (PostgreSQL LISTEN/NOTIFY) ----------------------------------------
def _listening(url: str):
    import psycopg

    conn = psycopg.connect(sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True)
    conn.execute("LISTEN sptui_changes")
    return conn


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_committed_write_notifies_listeners_and_a_refused_one_does_not(desk, policy, db_url):
    iid = open_incident(desk, policy, label="1234-000-001", at=at("2026-11-27T10:00+09:00"), summary="x", operator="a")
    conn = _listening(db_url)
    try:
        other = Store.open(db_url)
        other.incidents.claim(iid, operator="sato")
        heard = [n.channel for n in conn.notifies(timeout=2, stop_after=1)]
        with pytest.raises(ConflictError):
            other.incidents.close(iid, operator="suzuki", version=1)  # stale: rolled back, nothing sent
        refused = [n.channel for n in conn.notifies(timeout=0.5)]
        other.close()
    finally:
        conn.close()
    assert heard == ["sptui_changes"] and refused == []


def test_on_sqlite_there_is_nothing_to_listen_to(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    assert s.db.listen_for_changes(lambda: None) is None
    s.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_listener_calls_once_per_burst_and_listens_again_after_its_connection_is_killed(desk, policy, db_url):
    import threading
    import time

    iids = [open_incident(desk, policy, label="1234-000-002", at=at("2026-11-27T10:00+09:00"), summary=f"x{n}",
                               operator="a") for n in range(3)]
    calls = []
    heard = threading.Event()
    listener = desk.db.listen_for_changes(lambda: (calls.append(time.monotonic()), heard.set()))
    listener.settle = 1.0  # (wide, so that a loaded test machine's burst still falls inside it)
    listener.start()
    other = Store.open(db_url)
    try:
        assert listener.connected.wait(5)
        for iid in iids:  # a burst
            other.incidents.add_note(iid, "first call", operator="sato")
        assert heard.wait(3)
        time.sleep(1.5)
        assert len(calls) == 1  # one call for the burst
        heard.clear()
        with other.db.write() as conn:  # the listener's backend dies (a restarted server, an admin)
            killed = conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'sptui desk listener' AND datname = current_database()").scalars().all()
        assert killed == [True]
        for _ in range(100):
            if listener.connections == 2 and listener.connected.is_set():
                break
            time.sleep(0.05)
        assert listener.connections == 2  # listening again, by itself
        assert heard.wait(2)  # and it called once for what it may have missed meanwhile
        heard.clear()
        calls.clear()
        sent = time.monotonic()
        other.incidents.claim(iids[0], operator="sato")
        assert heard.wait(3) and calls[0] - sent < 1.0 + listener.settle
    finally:
        listener.stop()
        other.close()
    assert not listener._thread.is_alive()


def test_data_version_changes_with_every_commit_on_sqlite_and_is_none_elsewhere(store, db_url):
    """The desk's cheap poll: on SQLite a number that moves when anything is committed (by this store's own
    connections or another process's) and stays put otherwise; PostgreSQL desks hear changes by LISTEN."""
    first = store.db.data_version()
    if not db_url.startswith("sqlite"):
        assert first is None
        return
    assert store.db.data_version() == first  # nothing committed
    store.registry.import_csv(registry_csv([registry_row(1)]))  # this store, another of its connections
    second = store.db.data_version()
    assert second != first
    other = Store.open(db_url)
    try:
        assert store.db.data_version() == second
        other.registry.import_csv(registry_csv([registry_row(2)]))  # another desk
        assert store.db.data_version() != second
    finally:
        other.close()


# ---- the store persists, it does not decide --------------------------------------------------------------------
def test_the_store_imports_nothing_that_decides_not_even_inside_a_function():
    """store/ never imports the policy, the evaluators, the plugins, the engine, explain or the desk: what it keeps
    of a decision, the desk decided and handed over."""
    import ast
    from pathlib import Path

    import sptui.store

    deciding = ("sptui.policy", "sptui.evaluators", "sptui.plugins", "sptui.explanation", "sptui.desk")
    found = []
    for path in sorted(Path(sptui.store.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith(deciding)]
    assert found == []


def test_each_repository_works_with_what_it_is_given_and_keeps_the_decided_values(db_url):
    """The store's pieces name what they use (the database, the audit log): an incident decided elsewhere, handed
    over as values, is kept as given, its changes audited."""
    from sptui.store import Database, Decided, NewIncident
    from sptui.store.audit import AuditLog
    from sptui.store.incidents import Incidents
    from sptui.store.registry import Registry

    db = Database.open(db_url)
    try:
        audit = AuditLog(db)
        registry, incidents = Registry(db, audit), Incidents(db, audit)
        registry.import_csv(registry_csv([registry_row(1)]))
        machine = registry.machine("1234-000-001")
        notice, due = at("2026-11-27T16:45+09:00"), at("2026-11-30T09:45+09:00")
        kept = Decided({"verdict": "covered", "reasons": []}, "covered", due, "sha256:given")
        iid = incidents.open(NewIncident(machine["id"], "1234-000-001", notice, {"at": notice.isoformat()}, kept,
                                         "disk"), operator="sato")
        row = incidents.get(iid)
        assert (row["verdict"], row["deadline"], row["policy_digest"], row["received_at"]) == (
            "covered", due, "sha256:given", notice)
        assert row["decision"] == {"verdict": "covered", "reasons": []} and row["case"] == {"at": notice.isoformat()}
        assert incidents.claim(iid, operator="sato") == 2
        assert [(a["action"], a["policy_digest"]) for a in audit.rows("incident", iid)] == [
            ("open", "sha256:given"), ("claim", "sha256:given")]
    finally:
        db.close()

