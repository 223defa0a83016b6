"""The registry as CSV: import (checked per 第2章 1.1, all or nothing, or --partial with a reject file) and export.

Rows are numbered as a spreadsheet numbers them: the header is row 1, the first machine row 2. An error
reads `row 5, column purchased_on: expected a date like 2026-04-01, got "2026/4/1"`.

Fields marked ● in the registration form (第2章 1.1) are required: the customer's organisation, address,
name, phone and e-mail; the pack serial, the body's model code (型名), serial (製造番号) and purchase
date; the site's organisation, address, name and phone; and, when the Express service was applied for,
the OS name, report method and seller. The login (e-mail ID, password, secret question) is NEC's web
account, not the desk's: it is not imported.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from typing import Iterable

import attrs
import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.db import StoreError

LABEL = re.compile(r"\d{4}-\d{3}-\d{3}", re.ASCII)
# codes are compared as codes (code_key): full-width １２３４ is 1234, ‐ and ー are -; names and addresses are kept as
# written
CODES = {"label_number", "support_id", "pack_serial", "model_code", "serial_number", "computer_name", "years",
         "pack_purchased_on", "purchased_on", "submitted_on", "completed_on", "agreed_end_on", "manufacture_ended_on",
         "express_start_on", "country", "config_info", "registration_status", "variant", "options",
         "customer_phone", "site_phone"}
STATUSES = ("accepted", "pending", "rejected")
# what an IME or a word processor types for the hyphen in 1234-567-890: NFKC makes － (full width) and ｰ (half width)
# into - and ー, but leaves the dashes, the minus sign and the long vowel mark as they are. Only in the codes looked
# up by number: a computer name (サーバー01) keeps its ー
DASHES = str.maketrans({ch: "-" for ch in "‐‑‒–—―−⁃﹘﹣ー"})
DASHED = {"label_number", "support_id", "pack_serial", "model_code", "serial_number", "customer_phone", "site_phone"}


def code_key(text: str, *, dashes: bool = True) -> str:
    """A code as the registry keeps and compares it: NFKC (full-width １２３４ is 1234), no surrounding space; and
    where `dashes` (a label number, serial, support ID, model code, phone) every dash variant a hyphen."""
    text = unicodedata.normalize("NFKC", text)
    return (text.translate(DASHES) if dashes else text).strip()


@attrs.frozen
class Col:
    name: str
    kind: str = "text"  # text, date, int, bool, label, status, country, options
    required: bool = True
    doc: str = ""


COLUMNS = (
    Col("label_number", "label", doc="機器管理番号 on the machine's label (第2章 2), e.g. 1234-567-890"),
    Col("support_id", doc="the support ID from NEC's notice"),
    Col("customer_organisation", doc="お客様 会社名"),
    Col("customer_name", doc="お客様 担当者名"),
    Col("customer_address", doc="お客様 住所"),
    Col("customer_phone", doc="お客様 電話番号"),
    Col("customer_email", doc="お客様 メールアドレス"),
    Col("pack_serial", doc="SupportPack の製造番号"),
    Col("variant", doc="the hours variant, as the policy names it (weekday-9h, 24x7)"),
    Col("years", "int", doc="the pack's term in years"),
    Col("pack_purchased_on", "date", doc="the day the pack was bought"),
    Col("model_code", doc="本体 型名, e.g. N8100-2541Y"),
    Col("serial_number", doc="本体 製造番号"),
    Col("purchased_on", "date", doc="本体 購入日 (the warranty start)"),
    Col("site_organisation", doc="設置場所 会社名"),
    Col("site_address", doc="設置場所 住所 (where technicians go)"),
    Col("site_name", doc="設置場所 担当者名"),
    Col("site_phone", doc="設置場所 電話番号"),
    Col("registration_status", "status", doc="accepted, pending or rejected"),
    Col("submitted_on", "date", False, "the day the registration was sent"),
    Col("completed_on", "date", False, "the day of NEC's 登録完了のお知らせ"),
    Col("agreed_end_on", "date", False, "an end date agreed at registration (第1章 4 (i))"),
    Col("manufacture_ended_on", "date", False, "the end of manufacture (parts are kept 5 years after it)"),
    Col("country", "country", False, "where the machine is installed (JP if empty)"),
    Col("config_info", "bool", False, "whether configuration info was collected (yes/no)"),
    Col("computer_name", "text", False, "the コンピュータ名 its ESMPRO alarms carry"),
    Col("express_start_on", "date", False, "the Express alarm service start date, when applied for"),
    Col("os_name", "text", False, "OS name (required with express_start_on)"),
    Col("report_method", "text", False, "通報手段, e.g. mail (required with express_start_on)"),
    Col("seller", "text", False, "販売店 (required with express_start_on)"),
    Col("options", "options", False, "options as MODEL:QTY[:CATEGORY[:CONNECTION]] separated by ;"),
)
NAMES = tuple(c.name for c in COLUMNS)
BY_NAME = {c.name: c for c in COLUMNS}
EXPRESS_NEEDS = ("os_name", "report_method", "seller")
_WHERE = {"label_number": S.machines, "support_id": S.machines, "computer_name": S.machines, "model_code": S.machines,
          "serial_number": S.machines, "site_organisation": S.machines, "site_address": S.machines,
          "site_name": S.machines, "site_phone": S.machines, "pack_serial": S.packs, "variant": S.packs,
          "os_name": S.packs, "report_method": S.packs, "seller": S.packs}
MAX_LEN = {name: table.c[name].type.length for name, table in _WHERE.items()}
MAX_LEN.update({f"customer_{k}": S.customers.c[k].type.length for k in ("organisation", "name", "address", "phone",
                                                                           "email")})
UNIQUE = ("label_number", "support_id", "computer_name")  # a computer name tells a machine's alarms apart
CUSTOMER = ("customer_name", "customer_address", "customer_phone")  # one customer: (organisation, e-mail)


def policy_variants(policy) -> dict[str, tuple[int, ...] | None]:
    """The variants a registry row may name under this policy, each with the terms it is sold for (None: any)."""
    return {name: tuple(v.years) if v.years else None for name, v in policy.variants.items()}


@attrs.frozen
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}" if self.column else f"row {self.row}: {self.message}"


class ImportFailed(StoreError):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "\n".join(map(str, errors[:50]))
        more = f"\n… and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} error(s); nothing was imported:\n{shown}{more}")


@attrs.frozen
class ImportResult:
    imported: int
    rejected: list[tuple[int, dict, list[RowError]]]


def _convert(col: Col, text: str, variants: dict[str, tuple[int, ...] | None] | None):
    k = col.kind
    if k == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f'expected a date like 2026-04-01, got "{text}"') from None
    if k == "int":
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f'expected a whole number, got "{text}"')
        return int(text)
    if k == "bool":
        low = text.lower()
        if low in ("yes", "true", "1", "y", "はい", "有"):
            return True
        if low in ("no", "false", "0", "n", "いいえ", "無"):
            return False
        raise ValueError(f'expected yes or no, got "{text}"')
    if k == "label":
        if not LABEL.fullmatch(text):
            raise ValueError(f'expected a label number like 1234-567-890, got "{text}"')
        return text
    if k == "status":
        if text not in STATUSES:
            raise ValueError(f'expected one of {", ".join(STATUSES)}, got "{text}"')
        return text
    if k == "country":
        if not re.fullmatch(r"[A-Z]{2}", text):
            raise ValueError(f'expected a two-letter country code like JP, got "{text}"')
        return text
    if k == "options":
        out = []
        for part in filter(None, (p.strip() for p in text.split(";"))):
            bits = part.split(":")
            if len(bits) < 2 or len(bits) > 4 or not bits[0] or not bits[1].isdigit() or int(bits[1]) < 1:
                raise ValueError(f'expected MODEL:QTY[:CATEGORY[:CONNECTION]], got "{part}"')
            out.append({"model_code": bits[0], "quantity": int(bits[1]),
                        "category": bits[2] if len(bits) > 2 and bits[2] else None,
                        "connection": bits[3] if len(bits) > 3 and bits[3] else None})
        return out
    return text


def check_row(n: int, raw: dict, variants: dict[str, tuple[int, ...] | None] | None) -> tuple[dict, list[RowError]]:
    """One CSV row → values, and every error in it (not just the first)."""
    errs: list[RowError] = []
    vals: dict = {}
    for col in COLUMNS:
        text = (raw.get(col.name) or "").strip()
        if col.name in CODES:
            text = code_key(text, dashes=col.name in DASHED)
        if len(text) > MAX_LEN.get(col.name, 10_000):
            errs.append(RowError(n, col.name, f"{len(text)} characters, over the {MAX_LEN[col.name]} the registry keeps"))
            vals[col.name] = None
            continue
        if not text:
            if col.required:
                errs.append(RowError(n, col.name, "required (● in 第2章 1.1) but empty"))
            vals[col.name] = None
            continue
        try:
            vals[col.name] = _convert(col, text, variants)
        except ValueError as e:
            errs.append(RowError(n, col.name, str(e)))
            vals[col.name] = None
    vals["country"] = vals["country"] or "JP"
    vals["config_info"] = bool(vals["config_info"])
    vals["options"] = vals["options"] or []
    if variants is not None and vals["variant"] is not None:
        if vals["variant"] not in variants:
            errs.append(RowError(n, "variant", f'unknown variant "{vals["variant"]}"; the policy has '
                                 f'{", ".join(sorted(variants))}'))
        elif vals["years"] is not None and variants[vals["variant"]] and vals["years"] not in variants[vals["variant"]]:
            errs.append(RowError(n, "years", f"a {vals['variant']} pack is sold for "
                                 f"{', '.join(map(str, variants[vals['variant']]))} years, not {vals['years']}"))
    if vals["express_start_on"] is not None:
        for name in EXPRESS_NEEDS:
            if vals[name] is None:
                errs.append(RowError(n, name, "required when the Express service was applied for (express_start_on)"))
    if vals["registration_status"] == "accepted" and vals["completed_on"] is None and not any(
            e.column == "completed_on" for e in errs):
        errs.append(RowError(n, "completed_on", "an accepted registration has a completion date"))
    return vals, errs


def read_csv(text: str) -> tuple[list[tuple[int, dict, list[RowError]]], list[RowError]]:
    """The rows of a registry CSV with their row numbers and any error in their shape; header problems are
    errors at row 1. Rows are counted as a spreadsheet counts them (blank ones too); blank rows are skipped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    errs = []
    missing = [c.name for c in COLUMNS if c.required and c.name not in header]
    for name in missing:
        errs.append(RowError(1, name, "missing from the header"))
    for name in header:
        if name not in BY_NAME:
            errs.append(RowError(1, name, f"unknown column; known: {', '.join(NAMES)}"))
    rows = []
    for i, record in enumerate(reader):
        n = i + 2  # the header is row 1
        if not any(v.strip() for v in record):
            continue  # a blank row (a spreadsheet's trailing ,,,, too)
        shape = []
        if len(record) > len(header):
            shape.append(RowError(n, None, f"{len(record) - len(header)} value(s) more than the header has columns"))
        rows.append((n, dict(zip(header, record)), shape))
    return rows, errs


class RegistryOps:
    def import_registry(self, text: str, *, variants=None, partial: bool = False, operator: str = "unknown"
                        ) -> ImportResult:
        """Import a registry CSV. All or nothing: any error raises ImportFailed and nothing is written.
        With partial=True the good rows are written (in one transaction) and the bad ones returned."""
        rows, header_errs = read_csv(text)
        if header_errs:
            raise ImportFailed(header_errs)
        checked = []
        for n, raw, shape in rows:
            vals, errs = check_row(n, raw, variants)
            checked.append((n, raw, vals, shape + errs))
        seen: dict[tuple[str, str], int] = {}
        customers: dict[tuple[str, str], tuple[int, dict]] = {}
        for n, raw, vals, errs in checked:
            for key in UNIQUE:
                v = vals.get(key)
                if v is None:
                    continue
                if (key, v) in seen:
                    errs.append(RowError(n, key, f'"{v}" is also on row {seen[(key, v)]}'))
                else:
                    seen[(key, v)] = n
            ckey = (vals.get("customer_organisation"), vals.get("customer_email"))
            if None not in ckey:
                first = customers.setdefault(ckey, (n, vals))
                for col in CUSTOMER:
                    if first[0] != n and vals.get(col) is not None and vals[col] != first[1][col]:
                        errs.append(RowError(n, col, f'the customer {ckey[0]} <{ckey[1]}> is on row {first[0]} '
                                             f'with "{first[1][col]}"; one customer has one {col[9:]}'))
        with self.write() as conn:
            taken = set()
            for key in UNIQUE:
                col = S.machines.c[key]
                wanted = [v for (k, v) in seen if k == key]
                for i in range(0, len(wanted), 5000):
                    taken |= {(key, v) for (v,) in conn.execute(sa.select(col).where(col.in_(wanted[i:i + 5000])))}
            known = {}
            for org, email in customers:
                row = conn.execute(sa.select(S.customers).where(S.customers.c.organisation == org,
                                                                S.customers.c.email == email,
                                                                S.customers.c.purged_at.is_(None))).first()
                if row is not None:
                    known[(org, email)] = row
            for n, raw, vals, errs in checked:
                for key in UNIQUE:
                    if (key, vals.get(key)) in taken:
                        errs.append(RowError(n, key, f'"{vals[key]}" is already in the registry'))
                row = known.get((vals.get("customer_organisation"), vals.get("customer_email")))
                for col in CUSTOMER if row is not None else ():
                    if vals.get(col) is not None and vals[col] != getattr(row, col[9:]):
                        errs.append(RowError(n, col, f'the registry has this customer with "{getattr(row, col[9:])}"; '
                                             f"one customer has one {col[9:]}"))
            bad = [(n, raw, errs) for n, raw, vals, errs in checked if errs]
            if bad and not partial:
                raise ImportFailed([e for _, _, errs in bad for e in errs])
            good = [vals for n, raw, vals, errs in checked if not errs]
            self._insert_machines(conn, good)
            self.audit(conn, operator, "registry", None, "import",
                       {"imported": len(good), "rejected": len(bad), "labels": [v["label_number"] for v in good][:1000]})
        return ImportResult(len(good), bad)

    @staticmethod
    def _insert_machines(conn: sa.Connection, rows: list[dict]) -> None:
        at = dt.datetime.now(S.TOKYO)
        customers: dict[tuple[str, str], int] = {}
        for v in rows:
            key = (v["customer_organisation"], v["customer_email"])
            cid = customers.get(key)
            if cid is None:
                cid = conn.execute(sa.select(S.customers.c.id).where(
                    S.customers.c.organisation == key[0], S.customers.c.email == key[1],
                    S.customers.c.purged_at.is_(None))).scalar()
            if cid is None:
                cid = conn.execute(S.customers.insert().values(
                    organisation=v["customer_organisation"], name=v["customer_name"], address=v["customer_address"],
                    phone=v["customer_phone"], email=v["customer_email"], created_at=at)).inserted_primary_key[0]
            customers[key] = cid
            mid = conn.execute(S.machines.insert().values(
                customer_id=cid, created_at=at,
                **{k: v[k] for k in ("label_number", "support_id", "computer_name", "model_code", "serial_number",
                                     "purchased_on", "manufacture_ended_on", "country", "config_info",
                                     "site_organisation", "site_address", "site_name", "site_phone")})
            ).inserted_primary_key[0]
            conn.execute(S.packs.insert().values(
                machine_id=mid, purchased_on=v["pack_purchased_on"],
                **{k: v[k] for k in ("pack_serial", "variant", "years", "registration_status", "submitted_on",
                                     "completed_on", "agreed_end_on", "express_start_on", "os_name", "report_method",
                                     "seller")}))
            if v["options"]:
                conn.execute(S.options.insert(), [dict(o, machine_id=mid) for o in v["options"]])

    def export_registry(self) -> str:
        """The registry as CSV, in the import's columns (an export imports again into an empty store)."""
        rows = self.machine_rows()
        with self.read() as conn:
            opts: dict[int, list] = {}
            for o in conn.execute(sa.select(S.options).order_by(S.options.c.id)):
                opts.setdefault(o.machine_id, []).append(o)
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(NAMES)
        for r in rows:
            vals = []
            for col in COLUMNS:
                name = col.name
                if name == "options":
                    v = ";".join(":".join(x for x in (o.model_code, str(o.quantity), o.category or "",
                                                      o.connection or "") if x is not None).rstrip(":")
                                 for o in opts.get(r["id"], []))
                elif name == "config_info":
                    v = "yes" if r["config_info"] else "no"
                else:
                    v = r.get(name)
                vals.append("" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v))
            w.writerow(vals)
        return out.getvalue()


def reject_file(rejected: Iterable[tuple[int, dict, list[RowError]]]) -> str:
    """The rejected rows as CSV, each with its row number and errors, ready to fix and import again."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("source_row", "errors", *NAMES))
    for n, raw, errs in rejected:
        w.writerow((n, "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errs),
                    *(raw.get(name, "") or "" for name in NAMES)))
    return out.getvalue()


PURGED = "(消去済み)"


def contract_end(row: dict) -> dt.date:
    """The last day a machine's pack covers: N years from the purchase date, or an earlier agreed end (第1章 4)."""
    from sptui.policy.literals import add_months

    end = add_months(row["purchased_on"], 12 * row["years"], "clamp") - dt.timedelta(days=1)
    return min(end, row["agreed_end_on"]) if row["agreed_end_on"] else end


class PurgeOps:
    def purge(self, ended_before: dt.date, *, operator: str, dry_run: bool = True) -> list[dict]:
        """第3章 1.8: erase the personal fields of customers whose every contract ended before the date.

        Names, addresses, phones and e-mails of the customer and of each site are replaced by a marker;
        machines, packs, incidents, alarms and the audit log stay (anonymised history). Returns what is
        (or would be) purged; writes nothing when dry_run. The customers are chosen inside the erasing
        transaction, so a machine imported meanwhile is not erased with them."""
        if dry_run:
            with self.read() as conn:
                return self._due(conn, ended_before)
        when = dt.datetime.now(S.TOKYO)
        with self.write() as conn:
            due = self._due(conn, ended_before)
            for d in due:
                conn.execute(S.customers.update().where(S.customers.c.id == d["customer_id"]).values(
                    organisation=PURGED, name=PURGED, address=PURGED, phone=PURGED, email=PURGED, purged_at=when))
                conn.execute(S.machines.update().where(S.machines.c.customer_id == d["customer_id"]).values(
                    site_organisation=PURGED, site_address=PURGED, site_name=PURGED, site_phone=PURGED))
                self.audit(conn, operator, "customer", d["customer_id"], "purge",
                           {"machines": len(d["labels"]), "ended_before": ended_before.isoformat()}, None, when)
        return due

    def _due(self, conn, ended_before: dt.date) -> list[dict]:
        q = (sa.select(S.machines.c.customer_id, S.machines.c.label_number, S.machines.c.purchased_on, S.packs.c.years,
                       S.packs.c.agreed_end_on, S.customers.c.organisation)
             .select_from(S.machines.join(S.packs).join(S.customers)).where(S.customers.c.purged_at.is_(None)))
        by_customer: dict[int, list] = {}
        for r in conn.execute(q).mappings():
            by_customer.setdefault(r["customer_id"], []).append(r)
        return [{"customer_id": cid, "organisation": rows[0]["organisation"],
                 "labels": [r["label_number"] for r in rows], "ended_on": max(contract_end(r) for r in rows)}
                for cid, rows in by_customer.items() if all(contract_end(r) < ended_before for r in rows)]
