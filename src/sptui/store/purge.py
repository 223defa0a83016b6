"""第3章 1.8 (8): after a contract ends, the customer's personal information is erased.

`purge` chooses the customers whose every contract ended before a date and erases, in one transaction:

- the registry's personal columns: the customer's organisation, name, address, phone and e-mail, each site's
  organisation, address, name and phone (the marker `(消去済み)`), and each machine's computer name (NULL);
- every free text of their records, whole, whatever it holds (`FREE_TEXT`): incident summaries and 相談 reasons,
  timeline texts, contact notes, and the text fields of their alarms, as the mail carried them;
- the audit detail of those records, but for the facts in `AUDIT_FACTS` (label number, verdict, times …);
- every quarantined mail that names them (`Needles`): its bytes, sender, Message-ID, message and origin, with the
  audit detail of its quarantining. Quarantined mails are tied to no machine, so they are searched: each mail
  decoded as a mail reader would (headers, base64, quoted-printable, ISO-2022-JP, Shift_JIS …) and compared
  with the customer's names, addresses, phones, e-mails, label numbers, support IDs and computer names,
  ignoring letter case, width and separators.

Kept, as the non-personal facts billing and the audit need: label numbers, support IDs, model codes, serials,
packs, options, dates, verdicts, decisions and cases (built from those facts), deadlines, fees, dispatch times
and technicians, statuses, event IDs, operators and the audit's who/when/what.

Erased bytes must be gone, not merely unreachable. On SQLite the erasing connection zeroes what it deletes
(`PRAGMA secure_delete`), then the file is rebuilt (`VACUUM`, dropping stale copies left by earlier updates) and
its write-ahead log emptied (`wal_checkpoint(TRUNCATE)`). On PostgreSQL the touched tables are vacuumed, so
no dead row version keeps the old values; the server's WAL archive and backups are the DBA's to rotate.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import unicodedata
from typing import Any, Iterable, Iterator

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.db import StoreError
from sptui.store.registry import DATE_MIN

PURGED = "(消去済み)"

# free text of the purged customer's records, replaced whole (an empty one stays empty)
FREE_TEXT = {
    S.incidents: ("summary", "consult"),
    S.incident_events: ("text",),
    S.contact_attempts: ("note",),
    S.alarms: ("computer", "product", "trap", "source", "detail", "action", "alert_type", "via", "closed_reason"),
    S.dispatches: ("consent_by",),
}
# keys of an audit detail whose values are kept facts; every other text in a purged record's detail is erased
AUDIT_FACTS = frozenset({"label", "labels", "verdict", "owner", "technician", "technicians", "departed_at",
                         "completed_at", "late_reason", "fee_total_jpy", "reached", "at", "next_contact_at",
                         "reason", "machines", "ended_before", "imported", "rejected", "billing", "status",
                         "confirmed_by", "with", "from", "to", "incident_id", "incident_opened"})
_CHUNK = 900  # ids per IN (…): under every SQLite's limit on bound values


def contract_end(row: dict) -> dt.date:
    """The last day a machine's pack covers: N years from the purchase date, or an earlier agreed end (第1章 4).
    A period that would end past the last representable day (a date typed 9999) never ends: date.max."""
    from sptui.clock.dates import add_months

    try:
        end = add_months(row["purchased_on"], 12 * row["years"], "clamp") - dt.timedelta(days=1)
    except (ValueError, OverflowError):
        end = dt.date.max
    return min(end, row["agreed_end_on"]) if row["agreed_end_on"] else end


def check_cutoff(ended_before: dt.date) -> None:
    """A purge's date lies from 2000-01-01 (the registry's first date) to today: StoreError saying why not."""
    today = dt.datetime.now(S.TOKYO).date()
    if ended_before > today:
        raise StoreError(f"--ended-before {ended_before.isoformat()} is after today ({today.isoformat()}): a contract "
                         "that has not ended keeps its personal data (第3章 1.8); give today or an earlier date")
    if ended_before < DATE_MIN:
        raise StoreError(f"--ended-before {ended_before.isoformat()} is before {DATE_MIN.isoformat()}, the first date "
                         "the registry holds: no contract ended before it")


# ---- what names a customer --------------------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−()（）.,・/_+]+")


def folded(text: str) -> str:
    """Text as purge compares it: NFKC (full-width is half-width), no letter case, no spaces or separators
    (03-1234-5678 and (03)1234 5678 are one phone)."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).casefold())


def _any_of(words: list[str]) -> re.Pattern | None:
    """One pattern that finds any of the words, shaped as their trie: a search costs about one step per
    character of the text, however many words (an alternation of N words would cost N). A word that has a
    shorter one as its prefix adds nothing (where it is, the shorter one is)."""
    trie: dict = {}
    for word in sorted(set(words), key=len):
        node = trie
        for ch in word:
            if "" in node:
                break
            node = node.setdefault(ch, {})
        else:
            node[""] = {}

    def pattern(node: dict) -> str:
        if "" in node:
            return ""
        alts = [re.escape(ch) + pattern(child) for ch, child in node.items()]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return re.compile(pattern(trie)) if trie else None


class Needles:
    """The values that name the customers being purged: theirs, long enough to mean them (2 characters with one
    beyond ASCII, a surname 田中; else 3, SV1), and not also a remaining customer's (a name or a building two
    customers share names neither: a mail naming it may be the other's)."""

    def __init__(self, values: Iterable[str | None], others: Iterable[str | None] = ()):
        found = {folded(v) for v in values if v and v != PURGED} - {folded(v) for v in others if v}
        self.values = sorted(v for v in found if len(v) >= (2 if not v.isascii() else 3))
        self._pattern = _any_of(self.values)

    def named_in(self, texts: Iterable[str | None]) -> bool:
        """Whether any of the texts names them (the texts are read one at a time: a generator keeps one in memory)."""
        return self._pattern is not None and any(t and self._pattern.search(folded(t)) for t in texts)


def mail_texts(raw: bytes) -> Iterator[str]:
    """Every text a mail holds, decoded as a reader would show it (headers, every part, base64 and
    quoted-printable, the usual Japanese charsets), and the bytes themselves read in those charsets, one at a
    time. Never raises: a quarantined mail is whatever arrived."""
    import email
    import email.policy

    for cs in _CHARSETS:
        yield raw.decode(cs, "ignore")
    try:  # compat32: the headers as written, decoded below (the default policy's header classes cost 10×)
        parts = list(email.message_from_bytes(raw, policy=email.policy.compat32).walk())
    except Exception:  # not readable as a mail at all: the bytes read above are all there is
        return
    for part in parts:
        try:  # a hostile header or part must not hide the parts after it
            headers = "\n".join(_header_text(v) for v in part.values())
            payload = part.get_payload(decode=True)
            charsets = (part.get_content_charset() or "utf-8", *_CHARSETS)
        except Exception:
            continue
        yield headers
        if isinstance(payload, bytes):
            for cs in charsets:
                yield _decoded(payload, cs)


_CHARSETS = ("utf-8", "cp932", "euc-jp", "iso-2022-jp")


def _header_text(value) -> str:
    """A header's text with its RFC 2047 encoded words decoded (as written, where they cannot be)."""
    import email.header

    try:
        return "".join(b.decode(cs or "utf-8", "ignore") if isinstance(b, bytes) else b
                       for b, cs in email.header.decode_header(str(value)))
    except (LookupError, ValueError):  # an unknown charset, a broken encoded word
        return str(value)


def _decoded(payload: bytes, charset: str) -> str:
    try:
        return payload.decode(charset, "ignore")
    except LookupError:  # a charset Python does not know
        return ""


def scrub(detail: Any, key: str | None = None) -> Any:
    """An audit detail with every text outside AUDIT_FACTS replaced by the marker."""
    if isinstance(detail, dict):
        return {k: scrub(v, k) for k, v in detail.items()}
    if isinstance(detail, list):
        return [scrub(v, key) for v in detail]
    if isinstance(detail, str) and detail and key not in AUDIT_FACTS:
        return PURGED
    return detail


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _ids(conn, column: sa.Column, where_col: sa.Column, keys: list[int]) -> list[int]:
    out: list[int] = []
    for some in _chunks(keys):
        out += [r[0] for r in conn.execute(sa.select(column).where(where_col.in_(some)))]
    return out


class PurgeOps:
    def purge(self, ended_before: dt.date, *, operator: str, dry_run: bool = True) -> list[dict]:
        """第3章 1.8: erase the personal data of customers whose every contract ended before the date (see the
        module's docstring for what goes and what stays).

        Returns what is (or would be) purged; writes nothing when dry_run. The customers are chosen inside the
        erasing transaction, so a machine imported meanwhile is not erased with them. The date must lie from
        2000-01-01 to today: a contract that has not ended keeps its data. StoreError if it does not, or if the
        erased bytes could not be cleared from the files (what was erased stays erased; run it again)."""
        check_cutoff(ended_before)
        if dry_run:
            with self.read() as conn:
                return self._due(conn, ended_before)
        when = dt.datetime.now(S.TOKYO)
        with self.write() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete = ON")  # what is deleted is overwritten with zeros
            due = self._due(conn, ended_before)
            if due:
                self._erase(conn, [d["customer_id"] for d in due], when)
            for d in due:
                self.audit(conn, operator, "customer", d["customer_id"], "purge",
                           {"machines": len(d["labels"]), "ended_before": ended_before.isoformat()}, None, when)
        self._clear_files()
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

    def _erase(self, conn, customer_ids: list[int], when: dt.datetime) -> None:
        """Erase the customers' personal data everywhere in this transaction (see the module's docstring)."""
        needles = self._needles(conn, customer_ids)
        machines = _ids(conn, S.machines.c.id, S.machines.c.customer_id, customer_ids)
        incidents = _ids(conn, S.incidents.c.id, S.incidents.c.machine_id, machines)
        alarms = _ids(conn, S.alarms.c.id, S.alarms.c.machine_id, machines)
        for some in _chunks(customer_ids):
            conn.execute(S.customers.update().where(S.customers.c.id.in_(some)).values(
                organisation=PURGED, name=PURGED, address=PURGED, phone=PURGED, email=PURGED, purged_at=when))
        for some in _chunks(machines):
            conn.execute(S.machines.update().where(S.machines.c.id.in_(some)).values(
                site_organisation=PURGED, site_address=PURGED, site_name=PURGED, site_phone=PURGED, computer_name=None))
        links = {S.incidents: (S.incidents.c.id, incidents), S.incident_events: (S.incident_events.c.incident_id, incidents),
                 S.alarms: (S.alarms.c.id, alarms), S.dispatches: (S.dispatches.c.incident_id, incidents)}
        for table, (col, ids) in links.items():
            self._erase_text(conn, table, col, ids)
        self._erase_text(conn, S.contact_attempts, S.contact_attempts.c.alarm_id, alarms)
        self._erase_text(conn, S.contact_attempts, S.contact_attempts.c.incident_id, incidents)
        for some in _chunks(alarms):
            conn.execute(S.alarms.update().where(S.alarms.c.id.in_(some)).values(message_id=None))
        quarantined = self._erase_quarantine(conn, needles)
        for entity, ids in (("incident", incidents), ("alarm", alarms), ("quarantine", quarantined)):
            self._scrub_audit(conn, entity, ids)

    @staticmethod
    def _needles(conn, customer_ids: list[int]) -> Needles:
        """What names the customers being purged, apart from what names the customers who stay."""
        purged = set(customer_ids)
        values: list[str | None] = []
        others: list[str | None] = []
        c, m = S.customers.c, S.machines.c
        for row in conn.execute(sa.select(c.id, c.organisation, c.name, c.address, c.phone, c.email)
                                .where(c.purged_at.is_(None))):
            (values if row.id in purged else others).extend(row[1:])
        for row in conn.execute(sa.select(m.customer_id, m.site_organisation, m.site_address, m.site_name,
                                          m.site_phone, m.computer_name, m.label_number, m.support_id)
                                .select_from(S.machines.join(S.customers)).where(c.purged_at.is_(None))):
            (values if row.customer_id in purged else others).extend(row[1:])
        return Needles(values, others)

    @staticmethod
    def _erase_text(conn, table: sa.Table, link: sa.Column, ids: list[int]) -> None:
        """Replace the table's free text (FREE_TEXT) in the rows linked to `ids`; an empty text stays empty."""
        for name in FREE_TEXT[table]:
            col = table.c[name]
            for some in _chunks(ids):
                conn.execute(table.update().where(link.in_(some), col.is_not(None), col != "").values({name: PURGED}))

    @staticmethod
    def _erase_quarantine(conn, needles: Needles) -> list[int]:
        """Erase every quarantined mail that names the customers, whole; returns their ids."""
        erased: list[int] = []
        q = S.quarantine
        if not needles.values:
            return erased
        for (qid,) in conn.execute(sa.select(q.c.id).where(q.c.via != PURGED).order_by(q.c.id)).all():
            row = conn.execute(sa.select(q).where(q.c.id == qid)).one()  # one mail in memory at a time
            if needles.named_in(itertools.chain((row.sender, row.message_id, row.message, row.via),
                                                mail_texts(row.raw))):
                marker = f"{PURGED} Q{qid}".encode()
                conn.execute(q.update().where(q.c.id == qid).values(
                    raw=marker, sha256=hashlib.sha256(marker).hexdigest(), sender=None, message_id=None,
                    message=PURGED, via=PURGED))
                erased.append(qid)
        return erased

    @staticmethod
    def _scrub_audit(conn, entity: str, ids: list[int]) -> None:
        a = S.audit
        for some in _chunks(ids):
            for row in conn.execute(sa.select(a.c.id, a.c.detail).where(a.c.entity == entity, a.c.entity_id.in_(some))):
                clean = scrub(row.detail)
                if clean != row.detail:
                    conn.execute(a.update().where(a.c.id == row.id).values(detail=clean))

    def _clear_files(self) -> None:
        """Make the erased bytes unreadable in the database's files (see the module's docstring)."""
        if self.engine.dialect.name == "sqlite":
            self._clear_sqlite()
        elif self.engine.dialect.name == "postgresql":
            tables = ", ".join(t.name for t in (S.customers, S.machines, S.incidents, S.incident_events,
                                                S.contact_attempts, S.alarms, S.quarantine, S.audit))
            try:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f"VACUUM {tables}")
            except sa.exc.DBAPIError as e:
                raise StoreError(f"the personal data was erased, but VACUUM failed ({str(e.orig or e).strip()}): old "
                                 f"row versions may keep it on disk until a VACUUM of {tables} (ask the DBA)") from None

    def _clear_sqlite(self) -> None:
        if self.engine.url.database in (None, "", ":memory:"):
            return
        import sqlite3

        raw = self.engine.raw_connection()
        try:
            db = raw.driver_connection  # autocommit (isolation_level None): VACUUM runs outside a transaction
            db.execute("PRAGMA secure_delete = ON")
            db.execute("VACUUM")
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as e:
            raise StoreError(f"the personal data was erased, but the database file could not be rebuilt ({e}): its "
                             "old bytes may remain until `sptui purge --yes` is run again with the same date") from None
        finally:
            raw.close()
        if busy:
            raise StoreError("the personal data was erased, but another process (a desk, an intake) kept the "
                             "database open, so its write-ahead log still holds the old bytes: close them and run "
                             "`sptui purge --yes` again with the same date")
