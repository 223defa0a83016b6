"""第3章 1.8 (8): after a contract ends, the customer's personal information is erased. The desk chooses whose:
the customers whose every contract ended before a date (`desk.registry.contract_end`); the store erases it
(sptui.store.purge says what goes and what stays)."""
from __future__ import annotations

import datetime as dt

from sptui.desk.registry import contract_end
from sptui.store import BadRequest, now
from sptui.store.registry import DATE_MIN


def check_cutoff(ended_before: dt.date) -> None:
    """A purge's date lies from 2000-01-01 (the registry's first date) to today: BadRequest saying why not."""
    today = now().date()
    if ended_before > today:
        raise BadRequest(f"--ended-before {ended_before.isoformat()} is after today ({today.isoformat()}): a contract "
                         "that has not ended keeps its personal data (第3章 1.8); give today or an earlier date")
    if ended_before < DATE_MIN:
        raise BadRequest(f"--ended-before {ended_before.isoformat()} is before {DATE_MIN.isoformat()}, the first date "
                         "the registry holds: no contract ended before it")


def due(contracts: list[dict], ended_before: dt.date) -> list[dict]:
    """The customers whose every contract ended before the date, from their machines' contracts
    (store.purge.contracts): each with customer_id, organisation, labels and ended_on (the last end)."""
    by_customer: dict[int, list[dict]] = {}
    for r in contracts:
        by_customer.setdefault(r["customer_id"], []).append(r)
    return [{"customer_id": cid, "organisation": rows[0]["organisation"],
             "labels": [r["label_number"] for r in rows], "ended_on": max(contract_end(r) for r in rows)}
            for cid, rows in by_customer.items() if all(contract_end(r) < ended_before for r in rows)]


def purge(store, ended_before: dt.date, *, operator: str, dry_run: bool = True) -> list[dict]:
    """Erase the personal data of customers whose every contract ended before the date. Returns what is (or would
    be) purged; writes nothing when dry_run. The customers are chosen inside the erasing transaction, so a machine
    imported meanwhile is not erased with them. BadRequest if the date is after today or before 2000-01-01 (a
    contract that has not ended keeps its data); StoreError if the erased bytes could not be cleared from the
    files (what was erased stays erased; run it again)."""
    check_cutoff(ended_before)
    if dry_run:
        with store.db.read() as conn:
            return due(store.purge.contracts(conn), ended_before)
    with store.purge.erasing() as conn:
        chosen = due(store.purge.contracts(conn), ended_before)
        store.purge.erase(conn, chosen, operator=operator, ended_before=ended_before)
    return chosen
