"""Parse ESMPRO/ServerAgent "インターネットメール通報" (Internet mail) alarm e-mails. No database code here.

The body the alert manager writes (NEC support FAQ 3150024793) is, after an optional free-text "message
header" the customer configured::

    コンピュータ名 : TEST_SERVER
    製品名 : SEIHIN
    発生日付 : 2000/1/1
    発生時間 : 01:00:00
    [トラップ名]
    TEST_APP(1)
    [ソース名]
    TEST_APP
    [イベントID]
    1 ( 40000001 )
    [詳細メッセージ]
    プログラムで警告メッセージが発生しました。
    [対処方法]
    保守員に連絡してください。
    [アラートタイプ]
    Default

When ESMPRO/ServerManager (WebSAM AlertManager) relays the alarm, 発生日付/発生時間 are the manager's
receipt time, and the real event time is prefixed to the detail as ``発生時刻 : 2000年1月1日 01:00 (+09:00)``.

Liberal in what is accepted (half/full-width colons and brackets, ``[名前] 値`` and ``名前: 値`` on one line,
three date spellings, HH:MM with or without seconds, mislabelled charsets), strict in what is returned:
aware times, text decoded strictly (no replacement characters, no NULs), lengths the store can hold, and
every failure an AlarmParseError with a short reason code.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email
import email.header
import email.policy
import email.utils
import re
import unicodedata
from email.message import Message

import attrs

from sptui.errors import SptuiError
from sptui.tz import TOKYO

__all__ = ["AlarmMail", "AlarmParseError", "REASONS", "TOKYO", "envelope", "parse_alarm_mail"]


#: Every reason code AlarmParseError.reason can carry.
REASONS = frozenset({
    "too-large",              # raw mail over max_size; not parsed at all
    "empty",                  # nothing but whitespace, or headers with no body
    "not-mime",               # not an e-mail (no mail headers), or the MIME structure cannot be read
    "no-text-part",           # no text/plain part (HTML-only, attachment-only)
    "bad-transfer-encoding",  # broken/truncated base64, or an unknown Content-Transfer-Encoding
    "bad-encoding",           # the body decodes in no charset (declared, utf-8, cp932, iso-2022-jp)
    "not-alarm",              # readable text, but no ESMPRO field in it (a reply, a newsletter...)
    "parse-error",            # the parser itself failed on this mail (a bug): kept, with what went wrong
    "missing-field",          # コンピュータ名, 発生日付 or 発生時間 absent or empty
    "duplicate-field",        # the same field twice with different values (two alarms in one mail)
    "bad-time",               # a date/time/offset that is not one
    "naive-time",             # 発生時刻 of a relayed mail without its UTC offset
    "field-too-long",         # a value longer than the store's column
})


class AlarmParseError(SptuiError):
    """The mail is not a usable ESMPRO alarm. ``reason`` is a code from REASONS, ``message`` a sentence."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message

    def __reduce__(self):  # pickled to the intake's writer process, with message_id and sender if set
        return (self.__class__, (self.reason, self.message), self.__dict__)


@attrs.frozen
class AlarmMail:
    message_id: str | None  # Message-ID without <>
    sender: str | None  # From address
    computer: str  # コンピュータ名
    product: str | None  # 製品名
    occurred_at: dt.datetime  # aware, Asia/Tokyo: the event time (発生時刻 of a relayed mail)
    relayed_at: dt.datetime | None  # relayed mails only: the manager's receipt time (発生日付 + 発生時間)
    trap: str | None  # [トラップ名]
    source: str | None  # [ソース名]
    event_id: str | None  # [イベントID]
    detail: str | None  # [詳細メッセージ], without the 発生時刻 line of a relayed mail
    action: str | None  # [対処方法]
    alert_type: str | None  # [アラートタイプ]
    charset: str  # the charset the body was decoded with
    subject: str | None


# -- field names -----------------------------------------------------------------------------------------

COMPUTER, PRODUCT, DATE, TIME = "コンピュータ名", "製品名", "発生日付", "発生時間"
TRAP, SOURCE, EVENT_ID, DETAIL, ACTION, ALERT_TYPE = ("トラップ名", "ソース名", "イベントID", "詳細メッセージ",
                                                      "対処方法", "アラートタイプ")
RELAY_KEY = "発生時刻"
LINE_KEYS = frozenset({COMPUTER, PRODUCT, DATE, TIME})  # "名前 : 値", one line
SECTION_KEYS = frozenset({TRAP, SOURCE, EVENT_ID, DETAIL, ACTION, ALERT_TYPE})  # "[名前]" then the value
TEXT_SECTIONS = frozenset({DETAIL, ACTION})  # may run over several lines; the others take one line
REQUIRED = (COMPUTER, DATE, TIME)

# Column sizes of the store's alarms table (sptui.store.schema): a longer value is refused here, not cut.
MAX_LEN = {COMPUTER: 200, PRODUCT: 200, SOURCE: 200, EVENT_ID: 100, ALERT_TYPE: 100}
MAX_MESSAGE_ID = 400  # a longer Message-ID is no usable key: message_id is None, the alarm is still good
MAX_SENDER = 400  # a longer From address is no address (RFC 5321 allows 256): sender is None

_FALLBACK_CHARSETS = ("utf-8", "cp932", "iso-2022-jp")
# Labels mailers use that Python does not know under that name.
_CHARSET_ALIASES = {"windows-31j": "cp932", "x-sjis": "shift_jis", "shift-jis": "shift_jis", "x-euc-jp": "euc_jp",
                    "iso-2022-jp-ms": "iso2022_jp_ext", "cp50220": "iso2022_jp_ext"}
# Python codecs that are no text charset a mail could be in (they interpret escapes or raise on anything).
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"})
_MAIL_HEADERS = frozenset({"from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type",
                           "content-transfer-encoding", "received", "return-path", "delivered-to", "sender",
                           "reply-to", "x-mailer"})

_SP = "[ \\t\\u3000]"
# Keys are short: the bounded key groups keep every pattern linear on a hostile megabyte-long line.
_BRACKET_RE = re.compile(rf"^{_SP}{{0,40}}[\[［](?P<key>[^\]］\n]{{0,40}})[\]］]{_SP}*(?:[:：]{_SP}*)?(?P<rest>.*)$")
_KV_RE = re.compile(r"^(?P<key>[^:：\[［\]］\n]{1,40})[:：](?P<rest>.*)$")
_RELAY_RE = re.compile(rf"^{_SP}{{0,40}}{RELAY_KEY}{_SP}{{0,40}}[:：](?P<value>.*)$")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

_DATE_RES = tuple(re.compile(p) for p in (
    r"(?P<y>[0-9]{4}) */ *(?P<m>[0-9]{1,2}) */ *(?P<d>[0-9]{1,2})",
    r"(?P<y>[0-9]{4}) *- *(?P<m>[0-9]{1,2}) *- *(?P<d>[0-9]{1,2})",
    r"(?P<y>[0-9]{4}) *年 *(?P<m>[0-9]{1,2}) *月 *(?P<d>[0-9]{1,2}) *日",
))
_TIME_RE = re.compile(r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?")
_OFFSET_RE = re.compile(r"\(? *(?:UTC|GMT)? *(?P<sign>[+-])(?P<h>[0-9]{2}):?(?P<m>[0-9]{2}) *\)?")


# -- entry point -----------------------------------------------------------------------------------------

def parse_alarm_mail(raw: bytes, *, max_size: int = 1_000_000) -> AlarmMail:
    """Parse one raw RFC 5322 mail into an AlarmMail, or raise AlarmParseError."""
    raw = bytes(raw)
    if len(raw) > max_size:
        raise AlarmParseError("too-large", f"the mail is {len(raw)} bytes, over the limit of {max_size} bytes")
    if not raw.strip():
        raise AlarmParseError("empty", "the mail is empty")
    msg = _read_mime(raw)
    part = _text_part(msg)
    payload = _payload(part)
    if not payload.strip():
        raise AlarmParseError("empty", "the mail has headers but its text body is empty")
    text, charset = _decode(payload, _guard(part.get_content_charset))
    fields = _Fields.scan(text)

    for key in REQUIRED:
        if not fields.get(key):
            raise AlarmParseError("missing-field", f"missing field {key}" + (
                " (the line is there but its value is empty)" if key in fields.values else ""))
    local = _local_time(fields.get(DATE), fields.get(TIME))
    detail, relayed_from = _split_relay(fields.get(DETAIL))
    occurred_at, relayed_at = (relayed_from, local) if relayed_from is not None else (local, None)

    mail = AlarmMail(
        message_id=_message_id(msg), sender=_sender(msg), computer=fields.get(COMPUTER), product=fields.get(PRODUCT),
        occurred_at=occurred_at, relayed_at=relayed_at, trap=fields.get(TRAP), source=fields.get(SOURCE),
        event_id=fields.get(EVENT_ID), detail=detail, action=fields.get(ACTION), alert_type=fields.get(ALERT_TYPE),
        charset=charset, subject=_subject(msg))
    for name, value in ((COMPUTER, mail.computer), (PRODUCT, mail.product), (SOURCE, mail.source),
                        (EVENT_ID, mail.event_id), (ALERT_TYPE, mail.alert_type)):
        if value is not None and len(value) > MAX_LEN[name]:
            raise AlarmParseError("field-too-long", f"field {name} is {len(value)} characters long, "
                                                    f"over the limit of {MAX_LEN[name]}")
    return mail


def envelope(raw: bytes) -> tuple[str | None, str | None]:
    """(Message-ID, sender) of any mail, as far as its headers can be read: for a mail that is no alarm, which
    is kept with them. Read as parse_alarm_mail reads them (raw 8-bit and JIS decoded, no NULs, lengths the
    store holds); never raises."""
    head = bytes(raw[:65536])
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    try:
        msg = email.message_from_bytes(head[:end] + b"\r\n\r\n", policy=email.policy.compat32)
        return _message_id(msg), _sender(msg)
    except Exception:  # noqa: BLE001 - headers nothing can read: the raw bytes are what is kept
        return None, None


# -- MIME ------------------------------------------------------------------------------------------------

def _guard(call, *args):
    """Call into the email package. It has known crashes on hostile input; those become not-mime."""
    try:
        return call(*args)
    except AlarmParseError:
        raise
    except Exception as e:  # noqa: BLE001 - a boundary: any crash of the MIME reader means an unreadable mail
        raise AlarmParseError("not-mime", f"the MIME structure cannot be read ({type(e).__name__})") from e


def _read_mime(raw: bytes) -> Message:
    # compat32: headers stay raw strings until asked for (the default policy parses each one: 3× slower)
    msg = _guard(lambda: email.message_from_bytes(raw, policy=email.policy.compat32))
    names = {name.lower() for name, _ in _guard(msg.raw_items)}
    if not names & _MAIL_HEADERS:
        raise AlarmParseError("not-mime", "this is not an e-mail: it has no mail headers (From, Subject, Date...)")
    return msg


def _text_part(msg: Message) -> Message:
    def find():
        seen = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            attached = _is_attachment(part)
            if ctype == "text/plain" and not attached:
                return part, seen
            seen.append(f"{ctype} (attachment)" if attached else ctype)
        return None, seen

    part, seen = _guard(find)
    if part is None:
        found = ", ".join(dict.fromkeys(seen)) or "nothing"
        raise AlarmParseError("no-text-part", f"the mail has no text/plain part (found {found})")
    return part


def _is_attachment(part: Message) -> bool:
    return str(part.get("content-disposition") or "").split(";")[0].strip().lower() == "attachment"


def _payload(part: Message) -> bytes:
    """The body bytes of a text part, transfer encoding undone. Broken base64 is refused, not guessed."""
    cte = str(_guard(part.get, "content-transfer-encoding", "") or "").strip().lower()
    if cte in ("", "7bit", "8bit", "binary", "quoted-printable"):
        data = _guard(part.get_payload, None, True)
        return data if isinstance(data, bytes) else b""
    if cte == "base64":
        text = _guard(part.get_payload)
        if not isinstance(text, str):
            return b""
        if not text.isascii():
            raise AlarmParseError("bad-transfer-encoding", "the body is labelled base64 but holds 8-bit text")
        # RFC 2045 6.8: characters outside the base64 alphabet are ignored; the rest must be whole quads.
        compact = re.sub(r"[^A-Za-z0-9+/=]", "", text)
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError) as e:
            raise AlarmParseError("bad-transfer-encoding", "the base64 body is broken (truncated or badly "
                                                           "padded)") from e
    raise AlarmParseError("bad-transfer-encoding", f"unknown Content-Transfer-Encoding {cte!r}; expected 7bit, "
                                                   "8bit, quoted-printable or base64")


# -- charsets --------------------------------------------------------------------------------------------

def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(_CHARSET_ALIASES.get(label, label)).name
    except (LookupError, ValueError, TypeError):
        return None
    return None if name in _NOT_CHARSETS else name


def _try_decode(payload: bytes, label: str) -> str | None:
    codec = _codec(label)
    if codec is None:
        return None
    try:
        text = payload.decode(codec, "strict")
    except (UnicodeError, ValueError, LookupError):
        return None
    if "\x00" in text or _SURROGATE_RE.search(text):  # binary, UTF-16 read as something else, or a UTF-7 lone
        return None  # surrogate: never text a desk can store
    return text[1:] if text.startswith("\ufeff") else text


def _decode(payload: bytes, declared: str | None) -> tuple[str, str]:
    """Decode strictly: the declared charset, then utf-8, cp932, iso-2022-jp.

    The first reading in which an ESMPRO field name appears wins. A reading that decodes but shows no field
    is mojibake or no alarm (utf-8 reads ISO-2022-JP escapes without error, latin-1 reads anything), so the
    next charset is tried; only if none shows a field is the mail refused, saying why.
    """
    declared = declared.strip().lower() if isinstance(declared, str) and declared.strip() else None
    labels: list[str] = [declared] if declared else []
    codecs_seen = {_codec(declared)} if declared else set()
    for label in _FALLBACK_CHARSETS:
        if _codec(label) not in codecs_seen:
            labels.append(label)
            codecs_seen.add(_codec(label))
    first = None
    declared_ok = False
    for label in labels:
        text = _try_decode(payload, label)
        if text is None:
            continue
        declared_ok = declared_ok or label == declared
        if _Fields.looks_like_alarm(text):
            return text, label
        first = first or label
    if first is None:
        tried = ", ".join(f"{label} (declared)" if label == declared else label for label in labels)
        raise AlarmParseError("bad-encoding", f"the body is text in none of the charsets tried: {tried}")
    if declared and not declared_ok:
        raise AlarmParseError("bad-encoding", f"the body is not valid {declared} as declared, and read as {first} "
                                              "it holds no ESMPRO alarm fields")
    raise AlarmParseError("not-alarm", "the mail holds no ESMPRO alarm fields (コンピュータ名, [トラップ名], ...)")


# -- body ------------------------------------------------------------------------------------------------

def _key(raw_key: str) -> str:
    return unicodedata.normalize("NFKC", raw_key).strip()


def _classify(line: str) -> tuple[str, str, str] | None:
    """("bracket" | "kv", field name, rest of the line) if the line starts a known field, else None.

    Only the known names count: "[bold]" or "[@click=app.quit]" in a detail is text, not a header.
    """
    m = _BRACKET_RE.match(line)
    if m and _key(m["key"]) in SECTION_KEYS:
        return "bracket", _key(m["key"]), m["rest"]
    m = _KV_RE.match(line)
    if m and (_key(m["key"]) in LINE_KEYS or _key(m["key"]) in SECTION_KEYS):
        return "kv", _key(m["key"]), m["rest"].lstrip(" \t\u3000")
    return None


class _Fields:
    """The fields of a body.

    "[詳細メッセージ]" and "[対処方法]" run over lines until the next "[名前]" of a known field; opened as
    "詳細メッセージ: 値", until the next known field line of either form. The other fields take one value
    line; lines outside any field (the customer's message header, "件名 :", "日時 :", a footer) are ignored.
    """

    def __init__(self) -> None:
        self.values: dict[str, str | None] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def put(self, key: str, value: str | None) -> None:
        if key in self.values and self.values[key] != value:
            raise AlarmParseError("duplicate-field", f"field {key} appears twice with different values "
                                                     f"({_short(self.values[key])} and {_short(value)})")
        self.values[key] = value

    @staticmethod
    def looks_like_alarm(text: str) -> bool:
        return any(_classify(line) for line in _NEWLINE_RE.split(text))

    @classmethod
    def scan(cls, text: str) -> _Fields:
        fields = cls()
        current: str | None = None  # the open section
        mode: str | None = None  # how it was opened: "bracket" or "kv"
        lines: list[str] = []

        def close() -> None:
            nonlocal current, mode
            if current is not None:
                fields.put(current, _join(lines))
            current, mode = None, None
            lines.clear()

        for line in _NEWLINE_RE.split(text):
            hit = _classify(line)
            # In a "[詳細メッセージ]"/"[対処方法]" text only "[名前]" ends it: "名前: 値" lines there are text.
            if hit and (hit[0] == "bracket" or mode != "bracket" or current not in TEXT_SECTIONS):
                form, key, rest = hit
                close()
                if key in LINE_KEYS:
                    fields.put(key, rest.strip(" \t\u3000") or None)
                    continue
                current, mode = key, form
                if rest.strip():
                    lines.append(rest)
                    if key not in TEXT_SECTIONS:
                        close()
                continue
            if current is None:
                continue  # the message header the customer configured, "件名 :", "日時 :", a footer...
            lines.append(line)
            if current not in TEXT_SECTIONS and line.strip():
                close()  # one-line fields end at their value; what follows is no part of them
        close()
        return fields


def _short(value: str | None, limit: int = 40) -> str:
    return repr(value if value is None or len(value) <= limit else value[:limit] + "…")


def _join(lines: list[str]) -> str | None:
    """Lines as typed, minus trailing blanks on each line and blank lines around them."""
    out = [line.rstrip(" \t\u3000") for line in lines]
    filled = [i for i, line in enumerate(out) if line.strip()]
    if not filled:
        return None
    out = out[filled[0]:filled[-1] + 1]
    if len(out) == 1:
        return out[0].strip(" \t\u3000")
    return "\n".join(out)


# -- times -----------------------------------------------------------------------------------------------

def _date(value: str, field: str) -> tuple[int, int, int]:
    norm = unicodedata.normalize("NFKC", value).strip()
    for pattern in _DATE_RES:
        m = pattern.fullmatch(norm)
        if m:
            return int(m["y"]), int(m["m"]), int(m["d"])
    raise AlarmParseError("bad-time", f"field {field} is {value!r}; expected a date like 2026/11/27, 2026-11-27 "
                                      "or 2026年11月27日")


def _time(value: str, field: str) -> tuple[int, int, int]:
    m = _TIME_RE.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if not m:
        raise AlarmParseError("bad-time", f"field {field} is {value!r}; expected a time like 16:45 or 16:45:10")
    return int(m["H"]), int(m["M"]), int(m["S"] or 0)


YEARS = range(1990, 2200)  # an alarm from outside these years is a broken clock, not an event to call about


def _make(date: tuple[int, int, int], time: tuple[int, int, int], tz: dt.tzinfo, what: str) -> dt.datetime:
    if date[0] not in YEARS:
        raise AlarmParseError("bad-time", f"{what}: the year {date[0]} is outside {YEARS.start}–{YEARS.stop - 1}")
    try:
        return dt.datetime(*date, *time, tzinfo=tz)
    except (ValueError, OverflowError) as e:
        raise AlarmParseError("bad-time", f"{what} is no real date and time ({e})") from e


def _local_time(date: str, time: str) -> dt.datetime:
    """発生日付 + 発生時間: Japan time, the mail carries no zone."""
    return _make(_date(date, DATE), _time(time, TIME), TOKYO, f"{DATE} {date} {TIME} {time}")


def _split_relay(detail: str | None) -> tuple[str | None, dt.datetime | None]:
    """A detail that starts with "発生時刻 : 2026年1月1日 01:00 (+09:00)": the rest, and that instant."""
    if detail is None:
        return None, None
    lines = detail.split("\n")
    m = _RELAY_RE.match(lines[0])
    if not m:
        return detail, None
    value = unicodedata.normalize("NFKC", m["value"]).strip()
    mt = None
    for pattern in _DATE_RES:
        md = pattern.match(value)
        if md:
            mt = re.compile(r" +" + _TIME_RE.pattern).match(value, md.end())
            break
    if mt is None:
        raise AlarmParseError("bad-time", f"{RELAY_KEY} is {m['value'].strip()!r}; expected a time like "
                                          "2026年1月1日 01:00 (+09:00)")
    rest = value[mt.end():].strip()
    if not rest:
        raise AlarmParseError("naive-time", f"{RELAY_KEY} {value!r} has no UTC offset; expected e.g. "
                                            "2026年1月1日 01:00 (+09:00)")
    mo = _OFFSET_RE.fullmatch(rest)
    if not mo or int(mo["h"]) > 14 or int(mo["m"]) > 59:
        raise AlarmParseError("bad-time", f"{RELAY_KEY} {value!r} has no valid UTC offset; expected e.g. "
                                          "(+09:00)")
    offset = dt.timedelta(hours=int(mo["h"]), minutes=int(mo["m"])) * (-1 if mo["sign"] == "-" else 1)
    tz = dt.timezone(offset)
    date = (int(md["y"]), int(md["m"]), int(md["d"]))
    time = (int(mt["H"]), int(mt["M"]), int(mt["S"] or 0))
    occurred = _make(date, time, tz, f"{RELAY_KEY} {value}").astimezone(TOKYO)
    return _join(lines[1:]), occurred


# -- headers ---------------------------------------------------------------------------------------------

def _clean_header(value: str) -> str | None:
    """A header as text: raw 8-bit bytes read as utf-8 or cp932, raw JIS escapes decoded, no NULs."""
    if _SURROGATE_RE.search(value):
        data = value.encode("utf-8", "surrogateescape")
        for codec in ("utf-8", "cp932"):
            try:
                value = data.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        else:
            value = data.decode("utf-8", "replace")
    if "\x1b" in value:
        try:
            value = value.encode("ascii").decode("iso2022_jp")
        except UnicodeError:
            pass
    value = _SURROGATE_RE.sub("\ufffd", value).replace("\x00", "")
    return re.sub(r"[\r\n]+[ \t]*", " ", value).strip() or None


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in _guard(msg.raw_items):
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return None


def _subject(msg: Message) -> str | None:
    raw = _raw_header(msg, "subject")
    if raw is None:
        return None
    try:
        value = str(email.header.make_header(email.header.decode_header(raw)))
    except Exception:  # noqa: BLE001 - an encoded word that does not decode: the header as written
        value = raw
    return _clean_header(value)


def _sender(msg: Message) -> str | None:
    raw = _raw_header(msg, "from")
    if raw is None:
        return None
    try:
        addr = email.utils.parseaddr(raw)[1]
    except Exception:  # noqa: BLE001 - an address the parser chokes on is no address
        addr = ""
    addr = _clean_header(addr or "")
    return addr if addr and addr != "<>" and len(addr) <= MAX_SENDER else None


def _message_id(msg: Message) -> str | None:
    raw = _raw_header(msg, "message-id")
    if raw is None:
        return None
    value = _clean_header(raw)
    if value is None:
        return None
    value = re.sub(r"\s+", "", value).removeprefix("<").removesuffix(">")
    return value if value and len(value) <= MAX_MESSAGE_ID else None
