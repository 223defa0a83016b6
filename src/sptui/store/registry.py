"""The registry as CSV: import (checked per 第2章 1.1, all or nothing, or --partial with a reject file) and export.

Rows are numbered as a spreadsheet numbers them: the header is row 1, the first machine row 2. An error
reads `row 5, column purchased_on: expected a date like 2026-04-01, got "2026/4/1"`.

Fields marked ● in the registration form (第2章 1.1) are required: the customer's organisation, address,
name, phone and e-mail; the pack serial, the body's model code (型名), serial (製造番号) and purchase
date; the site's organisation, address, name and phone; and, when the Express service was applied for,
the OS name, report method and seller. The login (e-mail ID, password, secret question) is NEC's web
account, not the desk's: it is not imported.

Every cell is checked before anything is written, so a bad cell is an error naming its row and column, never
a database's refusal: no control character (`sptui.terminal`), no value longer than its column keeps, dates
from 2000-01-01 to 2100-12-31, numbers in their range. Cells are read and written through `sptui.csvcell`
(a formula-looking cell is exported as text, and reads back as it was).
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

from sptui.csvcell import from_cell, to_cell
from sptui.store import schema as S
from sptui.store.audit import AuditLog
from sptui.store.database import Database
from sptui.store.db import StoreError
from sptui.terminal import first_control

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


# the dates a registry row may carry: older or later ones are typing mistakes, and every date the desk derives from
# them (a period's end N years on, a deadline, a purge cut-off) stays far inside what a date can hold
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
YEARS = range(1, 100)  # a pack's term; the policy's variants narrow it further
QUANTITY = range(1, 10_000)  # of one option


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


def _quoted(text: str, most: int = 60) -> str:
    """A cell's text inside an error message: quoted, and cut short when long."""
    return f'"{text}"' if len(text) <= most else f'"{text[:most]}…" ({len(text):,} characters)'


def _whole(text: str, allowed: range) -> int:
    """A whole number in `allowed` (which starts at 1), from ASCII digits; never a 5,000-digit int()."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"expected a whole number, got {_quoted(text)}")
    digits = text.lstrip("0")
    if not (0 < len(digits) <= 9 and int(digits) in allowed):
        raise ValueError(f"expected a whole number from {allowed.start} to {allowed.stop - 1}, got {_quoted(text)}")
    return int(digits)


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date like 2026-04-01, got {_quoted(text)}") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"{day.isoformat()} is outside the dates the registry takes ({DATE_MIN} to {DATE_MAX})")
    return day


def _options(text: str) -> list[dict]:
    out = []
    most = S.options.c.model_code.type.length
    for part in filter(None, (p.strip() for p in text.split(";"))):
        bits = part.split(":")
        if len(bits) < 2 or len(bits) > 4 or not bits[0] or any(len(b) > most for b in bits):
            raise ValueError(f"expected MODEL:QTY[:CATEGORY[:CONNECTION]], each part up to {most} characters, "
                             f"got {_quoted(part)}")
        out.append({"model_code": bits[0], "quantity": _whole(bits[1], QUANTITY),
                    "category": bits[2] if len(bits) > 2 and bits[2] else None,
                    "connection": bits[3] if len(bits) > 3 and bits[3] else None})
    return out


def _convert(col: Col, text: str, variants: dict[str, tuple[int, ...] | None] | None):
    k = col.kind
    if k == "date":
        return _date(text)
    if k == "int":
        return _whole(text, YEARS)
    if k == "bool":
        low = text.lower()
        if low in ("yes", "true", "1", "y", "はい", "有"):
            return True
        if low in ("no", "false", "0", "n", "いいえ", "無"):
            return False
        raise ValueError(f"expected yes or no, got {_quoted(text)}")
    if k == "label":
        if not LABEL.fullmatch(text):
            raise ValueError(f"expected a label number like 1234-567-890, got {_quoted(text)}")
        return text
    if k == "status":
        if text not in STATUSES:
            raise ValueError(f"expected one of {', '.join(STATUSES)}, got {_quoted(text)}")
        return text
    if k == "country":
        if not re.fullmatch(r"[A-Z]{2}", text):
            raise ValueError(f"expected a two-letter country code like JP, got {_quoted(text)}")
        return text
    if k == "options":
        return _options(text)
    return text


def cell_text(cell: str) -> str:
    """What a cell says: without surrounding spaces and a spreadsheet's text mark (`sptui.csvcell`)."""
    return from_cell(cell.strip()).strip()


def _text(col: Col, cell: str) -> str:
    """A cell's text as the registry compares and keeps it; ValueError if it cannot be kept."""
    text = cell_text(cell)
    if col.name in CODES:
        text = code_key(text, dashes=col.name in DASHED)
    bad = first_control(text)
    if bad is not None:
        raise ValueError(f"a control character ({bad[1]}) at character {bad[0]}: the registry keeps printable text "
                         "on one line")
    most = MAX_LEN.get(col.name, 10_000)
    if len(text) > most:
        raise ValueError(f"{len(text):,} characters, over the {most:,} the registry keeps")
    return text


def check_row(n: int, raw: dict, variants: dict[str, tuple[int, ...] | None] | None) -> tuple[dict, list[RowError]]:
    """One CSV row → values, and every error in it (not just the first)."""
    errs: list[RowError] = []
    vals: dict = {}
    for col in COLUMNS:
        vals[col.name] = None
        try:
            text = _text(col, raw.get(col.name) or "")
            if text:
                vals[col.name] = _convert(col, text, variants)
            elif col.required:
                errs.append(RowError(n, col.name, "required (● in 第2章 1.1) but empty"))
        except ValueError as e:
            errs.append(RowError(n, col.name, str(e)))
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


def _records(text: str) -> Iterable[list[str]]:
    """The CSV's records. A cell may be as long as the text (the registry's own limits are checked per column,
    with the row and column named), not only csv's default 131,072 characters. (csv's limit is process-wide:
    it is raised for the time of the reading and put back.)"""
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, len(text) + 1))
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    finally:
        csv.field_size_limit(before)


def _header_errors(header: list[str]) -> list[RowError]:
    errs = [RowError(1, c.name, "missing from the header") for c in COLUMNS if c.required and c.name not in header]
    first: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        if not name:
            errs.append(RowError(1, f"{i}", "the header names no column here"))
        elif name in first:
            errs.append(RowError(1, name, f"given twice, as columns {first[name]} and {i} of the header"))
        elif name not in BY_NAME:
            errs.append(RowError(1, _quoted(name), f"unknown column; known: {', '.join(NAMES)}"))
        first.setdefault(name, i)
    return errs


def read_csv(text: str) -> tuple[list[tuple[int, dict, list[RowError]]], list[RowError]]:
    """The rows of a registry CSV with their row numbers and any error in their shape; header problems are
    errors at row 1. Rows are counted as a spreadsheet counts them (blank ones too); blank rows are skipped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    records = _records(text)
    header = [h.strip() for h in next(records, [])]
    errs = _header_errors(header)
    rows = []
    n = 1
    try:
        for n, record in enumerate(records, 2):  # the header is row 1
            if not any(v.strip() for v in record):
                continue  # a blank row (a spreadsheet's trailing ,,,, too)
            shape = []
            if len(record) > len(header):
                shape.append(RowError(n, None, f"{len(record) - len(header)} value(s) more than the header has columns"))
            rows.append((n, dict(zip(header, record)), shape))
    except csv.Error as e:  # csv's own refusal (none is known with these settings): the row it stopped at
        errs.append(RowError(n + 1, None, f"not readable as CSV: {e}"))
    return rows, errs


def _unique_key(key: str, value: str) -> str:
    """How a unique column's values are compared: computer names without letter case (ESMPRO's alarms match them
    so), the label number and support ID exactly."""
    return value.casefold() if key == "computer_name" else value


def _check_file(checked: list) -> dict[tuple[str, str], tuple[int, str]]:
    """Errors between the rows of one file (a unique value twice, one customer written two ways), added to each
    row's errors; returns each unique value's first row and spelling."""
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    customers: dict[tuple[str, str], tuple[int, dict]] = {}
    for n, raw, vals, errs in checked:
        for key in UNIQUE:
            v = vals.get(key)
            if v is None:
                continue
            first = seen.setdefault((key, _unique_key(key, v)), (n, v))
            if first[0] != n:
                errs.append(RowError(n, key, f"{_quoted(v)} is also on row {first[0]}"
                                     + (f" (as {_quoted(first[1])}: letter case does not tell computer names apart)"
                                        if first[1] != v else "")))
        ckey = (vals.get("customer_organisation"), vals.get("customer_email"))
        if None not in ckey:
            first = customers.setdefault(ckey, (n, vals))
            for col in CUSTOMER:
                if first[0] != n and vals.get(col) is not None and vals[col] != first[1][col]:
                    errs.append(RowError(n, col, f"the customer {ckey[0]} <{ckey[1]}> is on row {first[0]} "
                                         f"with {_quoted(first[1][col])}; one customer has one {col[9:]}"))
    return seen


def _taken(conn: sa.Connection, seen) -> dict[tuple[str, str], str]:
    """The unique values of the file the registry has already (compared as `_unique_key`), with its spelling."""
    taken: dict[tuple[str, str], str] = {}
    for key in ("label_number", "support_id"):
        col = S.machines.c[key]
        wanted = [v for (k, v) in seen if k == key]
        for i in range(0, len(wanted), 5000):
            taken.update({(key, v): v for (v,) in conn.execute(sa.select(col).where(col.in_(wanted[i:i + 5000])))})
    if any(k == "computer_name" for k, _ in seen):  # every name, folded here: SQLite's lower() folds ASCII only
        col = S.machines.c.computer_name
        for (v,) in conn.execute(sa.select(col).where(col.is_not(None))):
            if ("computer_name", v.casefold()) in seen:
                taken[("computer_name", v.casefold())] = v
    return taken


def _phone_is(phone: str):
    """A machine whose customer's or site's phone has these digits (imports store phones NFKC-normalised)."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isascii() and ch.isdigit())
    if not digits:
        raise StoreError("a phone number look-up needs digits")

    def bare(col):  # the stored number without its separators
        for sep in ("-", " ", "+", "(", ")", "."):
            col = sa.func.replace(col, sep, "")
        return col
    return sa.or_(bare(S.customers.c.phone) == digits, bare(S.machines.c.site_phone) == digits)


class Registry:
    """The registry's customers, machines, packs and options: CSV import and export, and look-ups."""

    def __init__(self, db: Database, audit: AuditLog):
        self.db, self.audit = db, audit

    def import_csv(self, text: str, *, variants: dict[str, tuple[int, ...] | None] | None = None,
                   partial: bool = False, operator: str = "unknown") -> ImportResult:
        """Import a registry CSV. All or nothing: any error raises ImportFailed and nothing is written.
        With partial=True the good rows are written (in one transaction) and the bad ones returned. `variants`:
        the variants a row may name, each with the terms it is sold for (None: any), as the desk reads them from
        the policy (sptui.desk.registry.sold_terms); None: any variant."""
        rows, header_errs = read_csv(text)
        if header_errs:
            raise ImportFailed(header_errs)
        checked = []
        for n, raw, shape in rows:
            vals, errs = check_row(n, raw, variants)
            checked.append((n, raw, vals, shape + errs))
        seen = _check_file(checked)
        with self.db.write() as conn:
            self._check_registry(conn, checked, seen)
            bad = [(n, raw, errs) for n, raw, vals, errs in checked if errs]
            if bad and not partial:
                raise ImportFailed([e for _, _, errs in bad for e in errs])
            good = [(n, vals) for n, raw, vals, errs in checked if not errs]
            self._insert_machines(conn, good)
            self.audit.add(conn, operator, "registry", None, "import",
                       {"imported": len(good), "rejected": len(bad), "labels": [v["label_number"] for _, v in good][:1000]})
        return ImportResult(len(good), bad)

    @staticmethod
    def _check_registry(conn: sa.Connection, checked: list, seen) -> None:
        """Errors against what the registry holds (a unique value taken, a customer known otherwise), added to
        each row's errors."""
        taken = _taken(conn, seen)
        known = {}
        for org, email in {(v["customer_organisation"], v["customer_email"]) for _, _, v, _ in checked} - {None}:
            row = conn.execute(sa.select(S.customers).where(S.customers.c.organisation == org,
                                                            S.customers.c.email == email,
                                                            S.customers.c.purged_at.is_(None))).first()
            if row is not None:
                known[(org, email)] = row
        for n, raw, vals, errs in checked:
            for key in UNIQUE:
                had = taken.get((key, _unique_key(key, vals[key]))) if vals.get(key) is not None else None
                if had is not None:
                    errs.append(RowError(n, key, f"{_quoted(vals[key])} is already in the registry"
                                         + (f" (as {_quoted(had)})" if had != vals[key] else "")))
            row = known.get((vals.get("customer_organisation"), vals.get("customer_email")))
            for col in CUSTOMER if row is not None else ():
                if vals.get(col) is not None and vals[col] != getattr(row, col[9:]):
                    errs.append(RowError(n, col, f"the registry has this customer with {_quoted(getattr(row, col[9:]))}; "
                                         f"one customer has one {col[9:]}"))

    @classmethod
    def _insert_machines(cls, conn: sa.Connection, rows: list[tuple[int, dict]]) -> None:
        """Write the checked rows. The checks leave the database nothing to refuse; should it refuse a row still
        (another import took its label number meanwhile), the import fails naming that row, and nothing is kept."""
        at = dt.datetime.now(S.TOKYO)
        customers: dict[tuple[str, str], int] = {}
        for n, v in rows:
            try:
                cls._insert_machine(conn, v, customers, at)
            except (sa.exc.IntegrityError, sa.exc.DataError) as e:
                reason = str(e.orig or e).strip().splitlines()[0]
                raise ImportFailed([RowError(n, None, f"the database refused it: {reason}")]) from None

    @staticmethod
    def _insert_machine(conn: sa.Connection, v: dict, customers: dict, at: dt.datetime) -> None:
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

    def export_csv(self) -> str:
        """The registry as CSV, in the import's columns (an export imports again into an empty store)."""
        rows = self.rows()
        with self.db.read() as conn:
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
            w.writerow(map(to_cell, vals))
        return out.getvalue()

    # ---- look-ups ----------------------------------------------------------------------------------------------
    def rows(self, where=None, limit: int | None = None) -> list[dict]:
        """Machines with their pack and customer, by label number; those `where` selects (at most `limit`)."""
        j = S.machines.join(S.customers).join(S.packs)
        q = (sa.select(S.machines, S.packs.c.pack_serial, S.packs.c.variant, S.packs.c.years,
                       S.packs.c.purchased_on.label("pack_purchased_on"), S.packs.c.registration_status,
                       S.packs.c.submitted_on, S.packs.c.completed_on, S.packs.c.agreed_end_on,
                       S.packs.c.express_start_on, S.packs.c.os_name, S.packs.c.report_method, S.packs.c.seller,
                       S.customers.c.organisation.label("customer_organisation"),
                       S.customers.c.name.label("customer_name"), S.customers.c.address.label("customer_address"),
                       S.customers.c.phone.label("customer_phone"), S.customers.c.email.label("customer_email"),
                       S.customers.c.purged_at)
             .select_from(j).order_by(S.machines.c.label_number))
        if where is not None:
            q = q.where(where)
        if limit:
            q = q.limit(limit)
        return self.db.rows(q)

    def find(self, *, label: str | None = None, serial: str | None = None, customer: str | None = None,
             phone: str | None = None, support_id: str | None = None, limit: int = 100) -> list[dict]:
        """Look-up by label number (機器管理番号), serial (製造番号), customer organisation/name, or phone.

        Codes match as the registry keeps them (code_key: １２３４－５６７－８９０ finds 1234-567-890); phones
        match on their digits (03-1234-5678 finds 0312345678); names by substring."""
        conds = []
        if label:
            conds.append(S.machines.c.label_number == code_key(label))
        if serial:
            conds.append(S.machines.c.serial_number == code_key(serial))
        if support_id:
            conds.append(S.machines.c.support_id == code_key(support_id))
        if customer:
            text = customer.strip()  # a substring, in any letter case; % and _ are plain characters
            columns = (S.customers.c.organisation, S.customers.c.name, S.machines.c.site_organisation)
            if len(text) > max(c.type.length or 0 for c in columns) and all(c.type.length for c in columns):
                return []  # longer than any name kept: nothing matches (and SQLite refuses so long a LIKE pattern)
            conds.append(sa.or_(*(c.icontains(text, autoescape=True) for c in columns)))
        if phone:
            conds.append(_phone_is(phone))
        if not conds:
            raise StoreError("give a label number, serial, support ID, customer or phone to look up")
        return self.rows(sa.and_(*conds), limit)

    def machine(self, label: str) -> dict:
        rows = self.find(label=label)
        if not rows:
            raise StoreError(f"no machine with label number {label}")
        return rows[0]

    def machine_by_id(self, machine_id: int) -> dict:
        rows = self.rows(S.machines.c.id == machine_id, 1)
        if not rows:
            raise StoreError(f"no machine {machine_id}")
        return rows[0]


def reject_file(rejected: Iterable[tuple[int, dict, list[RowError]]]) -> str:
    """The rejected rows as CSV, each with its row number and errors, ready to fix and import again."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("source_row", "errors", *NAMES))
    for n, raw, errs in rejected:  # each cell as the file had it, read and written as cells are
        w.writerow(map(to_cell, (str(n), "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errs),
                                 *(cell_text(raw.get(name, "") or "") for name in NAMES))))
    return out.getvalue()
