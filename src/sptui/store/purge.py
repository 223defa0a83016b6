"""第3章 1.8 (8): after a contract ends, the customer's personal information is erased.

The desk chooses the customers whose every contract ended before a date (sptui.desk.purge); `Purge` erases, in
the one transaction the choice was made in:

- the registry's personal columns: the customer's organisation, name, address, phone and e-mail, each site's
  organisation, address, name and phone (the marker `(消去済み)`), and each machine's computer name (NULL);
- every free text of their records, whole, whatever it holds (`FREE_TEXT`): incident summaries and 相談 reasons,
  timeline texts, contact notes, and the text fields of their alarms, as the mail carried them;
- the audit detail of those records, but for the facts in `AUDIT_FACTS` (label number, verdict, times …);
- every quarantined mail of theirs: its bytes, sender, Message-ID, message and origin, with the audit detail of its
  quarantining. A mail the intake tied to one of their machines (`machine_id`: no Express service, no decision)
  goes by that link, whatever it holds. The others are tied to no machine, so they are searched (`Needles`):
  each mail decoded as a mail reader would (headers, base64, quoted-printable, ISO-2022-JP, Shift_JIS …), every
  text of it also as the forms hidden in it decode (`unveiled`: HTML entities, percent-encoding, encoded words and
  quoted-printable anywhere, nested), and compared with the customer's names, addresses, phones, e-mails, label
  numbers, support IDs and computer names, ignoring letter case, width and separators.

Kept, as the non-personal facts billing and the audit need: label numbers, support IDs, model codes, serials,
packs, options, dates, verdicts, decisions and cases (built from those facts), deadlines, fees, dispatch times
and technicians, statuses, event IDs, operators and the audit's who/when/what.

Erased bytes must be gone, not merely unreachable. On SQLite the erasing connection zeroes what it deletes
(`PRAGMA secure_delete`), then the file is rebuilt (`VACUUM`, dropping stale copies left by earlier updates) and
its write-ahead log emptied (`wal_checkpoint(TRUNCATE)`). On PostgreSQL the touched tables are vacuumed, so
no dead row version keeps the old values; the server's WAL archive and backups are the DBA's to rotate.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import re
import unicodedata
from typing import Any, Iterable, Iterator

import sqlalchemy as sa

from sptui.store import schema as S
from sptui.store.audit import AuditLog
from sptui.store.database import Database, now
from sptui.store.db import StoreError

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
        """Whether any of the texts names them, as written or in an encoded form (`unveiled`: HTML entities,
        percent-encoding, encoded words, quoted-printable). The texts are read one at a time: a generator keeps one
        in memory."""
        pattern = self._pattern
        return pattern is not None and any(pattern.search(folded(form)) for t in texts if t
                                           for piece in _pieces(t) for form in unveiled(piece))


def _pieces(text: str) -> Iterator[str]:
    """A text in overlapping pieces (UNVEIL_PIECE characters, overlapping by UNVEIL_OVERLAP: more than any encoded
    name takes), so that what its forms decode to is held a piece at a time, however large the mail."""
    if len(text) <= UNVEIL_PIECE:
        yield text
        return
    step = UNVEIL_PIECE - UNVEIL_OVERLAP
    for start in range(0, len(text) - UNVEIL_OVERLAP, step):
        yield text[start:start + UNVEIL_PIECE]


# ---- the forms a text may hide a name in --------------------------------------------------------------------------
_ENTITY = re.compile(r"&#?\w{1,10};?")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_WORD = re.compile(r"=\?[^?\s]{1,40}\?[BbQq]\?[^?\s]*\?=")
_QP = re.compile(r"=[0-9A-Fa-f]{2}|=\r?\n")
UNVEIL_DEPTH = 3  # forms nested in one another (an entity, percent-encoded, in a quoted-printable body)
UNVEIL_PIECE, UNVEIL_OVERLAP = 65536, 4096  # characters: a 200-character name nested three deep fits in the overlap


def unveiled(text: str) -> Iterator[str]:
    """The text, and what the encoded forms in it decode to, nested up to UNVEIL_DEPTH deep (an entity,
    percent-encoded, in quoted-printable): HTML character references (`&#x682A;`, `&#26666;`, `&amp;`),
    percent-encoding, RFC 2047 encoded words anywhere (a body too), quoted-printable anywhere (also where no header
    says so). Bytes that percent-encoding and quoted-printable give are read as UTF-8, then as Shift_JIS: at most
    2 × UNVEIL_DEPTH more texts, each decoding every form in one pass."""
    yield text
    for charset in ("utf-8", "cp932"):
        current = text
        for _ in range(UNVEIL_DEPTH):
            decoded = _decode_forms(current, charset)
            if decoded == current:
                break
            yield decoded
            current = decoded


def _decode_forms(text: str, charset: str) -> str:
    import html
    import urllib.parse

    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    if "%" in text and _PERCENT.search(text):
        text = urllib.parse.unquote(text, encoding=charset, errors="ignore")
    if "=?" in text and _WORD.search(text):
        text = _WORD.sub(lambda m: _header_text(m.group(0)), text)
    if "=" in text and _QP.search(text):
        import quopri

        text = quopri.decodestring(text.encode("utf-8", "surrogateescape")).decode(charset, "ignore")
    return text


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


class Purge:
    """Erasing customers' personal data (see the module's docstring). The desk chooses whom (sptui.desk.purge: the
    contracts' ends are a rule of the terms); the store erases, inside the transaction the choice was made in:

        with store.purge.erasing() as conn:
            chosen = …(store.purge.contracts(conn))
            store.purge.erase(conn, chosen, operator=…, ended_before=…)
    """

    def __init__(self, db: Database, audit: AuditLog):
        self.db, self.audit = db, audit

    @staticmethod
    def contracts(conn) -> list[dict]:
        """Every machine of a customer not purged yet, with what its contract's end is reckoned from: customer_id,
        organisation, label_number, purchased_on (the machine's), years and agreed_end_on (its pack's)."""
        q = (sa.select(S.machines.c.customer_id, S.machines.c.label_number, S.machines.c.purchased_on, S.packs.c.years,
                       S.packs.c.agreed_end_on, S.customers.c.organisation)
             .select_from(S.machines.join(S.packs).join(S.customers)).where(S.customers.c.purged_at.is_(None)))
        return [dict(r) for r in conn.execute(q).mappings()]

    @contextlib.contextmanager
    def erasing(self) -> Iterator[sa.Connection]:
        """The erasing transaction: on SQLite what it deletes is overwritten with zeros; once it has committed, the
        erased bytes are cleared from the database's files. StoreError if they could not be (what was erased stays
        erased; run it again)."""
        with self.db.write() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            yield conn
        self._clear_files()

    def erase(self, conn, customers: list[dict], *, operator: str, ended_before: dt.date) -> None:
        """Erase the personal data of `customers` (each a dict with its customer_id and labels), audited, in the
        erasing transaction."""
        when = now()
        if customers:
            self._erase(conn, [c["customer_id"] for c in customers], when)
        for c in customers:
            self.audit.add(conn, operator, "customer", c["customer_id"], "purge",
                           {"machines": len(c["labels"]), "ended_before": ended_before.isoformat()}, None, when)

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
        quarantined = self._erase_quarantine(conn, needles, machines)
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
    def _erase_quarantine(conn, needles: Needles, machines: list[int]) -> list[int]:
        """Erase, whole, every quarantined mail the intake tied to one of the machines (by that link, whatever it
        holds), and every other one that names the customers (searched); returns their ids."""
        q = S.quarantine
        linked = _ids(conn, q.c.id, q.c.machine_id, machines)
        searched: list[int] = []
        if needles.values:
            for (qid,) in conn.execute(sa.select(q.c.id).where(q.c.via != PURGED, q.c.machine_id.is_(None))
                                       .order_by(q.c.id)).all():
                row = conn.execute(sa.select(q).where(q.c.id == qid)).one()  # one mail in memory at a time
                if needles.named_in(itertools.chain((row.sender, row.message_id, row.message, row.via),
                                                    mail_texts(row.raw))):
                    searched.append(qid)
        for qid in (*linked, *searched):
            marker = f"{PURGED} Q{qid}".encode()
            conn.execute(q.update().where(q.c.id == qid).values(
                raw=marker, sha256=hashlib.sha256(marker).hexdigest(), sender=None, message_id=None,
                message=PURGED, via=PURGED))
        return sorted({*linked, *searched})

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
        engine = self.db.engine
        if engine.dialect.name == "sqlite":
            self._clear_sqlite()
        elif engine.dialect.name == "postgresql":
            tables = ", ".join(t.name for t in (S.customers, S.machines, S.incidents, S.incident_events,
                                                S.contact_attempts, S.alarms, S.quarantine, S.audit))
            try:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f"VACUUM {tables}")
            except sa.exc.DBAPIError as e:
                raise StoreError(f"the personal data was erased, but VACUUM failed ({str(e.orig or e).strip()}): old "
                                 f"row versions may keep it on disk until a VACUUM of {tables} (ask the DBA)") from None

    def _clear_sqlite(self) -> None:
        if self.db.engine.url.database in (None, "", ":memory:"):
            return
        import sqlite3

        raw = self.db.engine.raw_connection()
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
