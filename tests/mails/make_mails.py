"""Write the ESMPRO alarm test mails: tests/mails/good/*.eml and tests/mails/bad/*.eml.

The charsets and transfer encodings are produced here by code, so the files are what a real mailer sends.
Run it after changing a mail: ``python tests/mails/make_mails.py``. tests/test_esmpro_mail.py checks that the
committed files are exactly what this script writes.

The body layout follows NEC's description of the "インターネットメール通報" mail (support FAQ 3150024793).
"""
from __future__ import annotations

import base64
import quopri
import random
from email.header import Header
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOUNDARY = "==sptui-test-boundary=="

DEFAULTS = {
    "コンピュータ名": "SV01",
    "製品名": "Express5800/R120h-1M",
    "発生日付": "2026/11/27",
    "発生時間": "16:45:10",
    "トラップ名": "ディスク障害",
    "ソース名": "ESMDiskArray",
    "イベントID": "0x8000070B",
    "詳細メッセージ": "論理ドライブが縮退しました。",
    "対処方法": "保守員に連絡してください。",
    "アラートタイプ": "ESMPRO/AC",
}
LINE_KEYS = ("コンピュータ名", "製品名", "発生日付", "発生時間")
SECTION_KEYS = ("トラップ名", "ソース名", "イベントID", "詳細メッセージ", "対処方法", "アラートタイプ")


def alarm(*, colon: str = "：", preamble: str = "", omit: tuple[str, ...] = (), footer: str = "", **values: str) -> str:
    """An alarm body (LF line ends). Keyword values override DEFAULTS by their English-free key names."""
    fields = dict(DEFAULTS)
    for key, value in values.items():
        fields[_KEYS[key]] = value
    out = [preamble] if preamble else []
    for key in LINE_KEYS:
        if _ENGLISH[key] not in omit:
            out.append(f"{key}{colon}{fields[key]}")
    for key in SECTION_KEYS:
        if _ENGLISH[key] not in omit:
            out += [f"[{key}]", fields[key]]
    if footer:
        out.append(footer)
    return "\n".join(out) + "\n"


_ENGLISH = {"コンピュータ名": "computer", "製品名": "product", "発生日付": "date", "発生時間": "time",
            "トラップ名": "trap", "ソース名": "source", "イベントID": "event_id", "詳細メッセージ": "detail",
            "対処方法": "action", "アラートタイプ": "alert_type"}
_KEYS = {v: k for k, v in _ENGLISH.items()}


def headers(*, subject: str | None = "[ESMPRO] 障害通報 SV01", subject_charset: str = "iso-2022-jp",
            message_id: str = "<20261127164512.0001@sv01.example.jp>", sender: str = "esmpro@sv01.example.jp",
            extra: tuple[str, ...] = ()) -> list[str]:
    out = [f"From: ESMPRO Alert Manager <{sender}>", "To: desk@support.example.jp",
           "Date: Fri, 27 Nov 2026 16:45:12 +0900", f"Message-ID: {message_id}"]
    if subject is not None:
        out.append("Subject: " + Header(subject, subject_charset).encode())
    out.append("MIME-Version: 1.0")
    return out + list(extra)


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def encode_body(text: str | bytes, codec: str, cte: str) -> bytes:
    data = text if isinstance(text, bytes) else text.encode(codec)
    if cte == "base64":
        return crlf(base64.encodebytes(data))
    if cte == "quoted-printable":
        return crlf(quopri.encodestring(data))
    return crlf(data)


def mail(text: str | bytes, *, charset: str | None = "iso-2022-jp", codec: str | None = None, cte: str = "7bit",
         content_type: str | None = "text/plain", verbatim: bool = False, **head) -> bytes:
    """A single-part mail. ``charset`` is what the header declares, ``codec`` what the body is really in.
    ``verbatim``: ``text`` is the body bytes as they go on the wire, transfer encoding already applied (or not)."""
    lines = headers(**head)
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}" + (f"; charset={charset}" if charset else ""))
    if cte:
        lines.append(f"Content-Transfer-Encoding: {cte}")
    body = crlf(text) if verbatim else encode_body(text, codec or charset or "utf-8", cte)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def multipart(parts: list[tuple[str, bytes]], *, subtype: str = "alternative", **head) -> bytes:
    """parts: (part headers, part body bytes)."""
    lines = headers(**head) + [f'Content-Type: multipart/{subtype}; boundary="{BOUNDARY}"']
    out = ("\r\n".join(lines) + "\r\n\r\nThis is a multi-part message in MIME format.\r\n").encode("ascii")
    for part_headers, body in parts:
        out += f"\r\n--{BOUNDARY}\r\n{part_headers}\r\n\r\n".encode("ascii") + body
    return out + f"\r\n--{BOUNDARY}--\r\n".encode("ascii")


RICH_DETAIL = ("[bold]論理ドライブ[/]が縮退しました。\n"
               "[@click=app.quit]ここを押す[/]\n"
               "[bold]\n"
               "[/]\n"
               "[red]温度[/red] [link=https://example.jp]リンク[/link]")

# NEC's example mail (FAQ 3150024793) as relayed by ESMPRO/ServerManager, trailing blanks and all.
NEC_SAMPLE = "\n".join([
    "件名 : ESMPRO_ALERT",
    "日時 : 2026年1月1日 01:02 ",
    "SUPPORT-DESK TEST_HEADER ",
    "コンピュータ名 : SV-MGR-REL ",
    "製品名 : Express5800/T120h ",
    "発生日付 : 2026/1/1",
    "発生時間 : 01:02:30",
    "[トラップ名] ",
    "TEST_APP(1) ",
    "[ソース名] ",
    "TEST_APP ",
    "[イベントID] ",
    "1 ( 40000001 ) ",
    "[詳細メッセージ]",
    "発生時刻 : 2026年1月1日 01:00 (+09:00)",
    "プログラムで警告メッセージが発生しました。 ",
    "[対処方法] ",
    "保守員に連絡してください。 ",
    "[アラートタイプ]",
    "Default(情報)",
    "",
])

ONE_LINE_FORMS = """ｺﾝﾋﾟｭｰﾀ名: SV05
製品名 ： Express5800/R120h-2M
発生日付：２０２６／１１／２７
発生時間：１６：４５：１０
[トラップ名] ディスク障害
［ソース名］：ESMDiskArray
イベントＩＤ: 0x8000070B
詳細メッセージ: 論理ドライブが縮退しました。
　続き: 物理ドライブ 2 を交換してください。
対処方法：保守員に連絡してください。
アラートタイプ: ESMPRO/AC
"""

DETAIL_WITH_KEY_LINES = ("RAID コントローラのログ:\n"
                         "コンピュータ名：OTHER-HOST\n"
                         "発生日付：2020/01/01\n"
                         "ソース名: raidctl\n"
                         "[トラップ名の説明]")

GATEWAY_FOOTER = ("--\n"
                  "このメールはウイルスチェック済みです。\n"
                  "This message was scanned by MailGate.")

HUMAN_REPLY = """お疲れ様です。
先ほどの SV01 の件、保守員の手配をお願いできますでしょうか。
よろしくお願いいたします。
"""


def good() -> dict[str, bytes]:
    jis_subject_raw = "[ESMPRO] 障害通報 SV08".encode("iso2022_jp")
    return {
        "iso2022jp.eml": mail(alarm()),
        "shift_jis.eml": mail(alarm(colon=" : ", computer="SV02", date="2026/1/5", time="09:03:00",
                                    trap="温度異常", source="ESMCpuPerf", event_id="0xC00003EA",
                                    detail="温度センサ異常を検出しました。\nセンサ番号: 3\n現在値: 72℃"),
                              charset="Shift_JIS", cte="8bit", subject="温度異常 SV02", subject_charset="shift_jis"),
        "cp932_nec_chars.eml": mail(alarm(computer="SV03", detail="①番ファンが停止しました。(㈱テスト設置)"),
                                    charset="Shift_JIS", codec="cp932", cte="8bit"),
        "utf8.eml": mail(alarm(computer="sv04.example.jp", date="2026-11-27", time="16:45",
                               product="Ｅｘｐｒｅｓｓ5800/GT110j").replace("[ソース名]", "［ソース名］"),
                         charset="utf-8", cte="8bit", subject="ESMPRO 通報 ✔", subject_charset="utf-8"),
        "base64.eml": mail(alarm(computer="SV06", date="2026年11月27日", time="7:05:09",
                                 detail="電源ユニット 1 の障害を検出しました。\n冗長性が失われています。"),
                           charset="utf-8", cte="base64", subject="電源障害", subject_charset="utf-8"),
        "quoted_printable.eml": mail(alarm(computer="SV07", detail="メモリ訂正可能エラーが多発しています。" * 4),
                                     charset="utf-8", cte="quoted-printable"),
        "relayed.eml": mail(NEC_SAMPLE, message_id="<relay-0001@mgr.example.jp>", sender="alertmanager@mgr.example.jp"),
        "relayed_other_offset.eml": mail(alarm(computer="SV-NY01", date="2026/11/27", time="14:00:05",
                                               detail="発生時刻 : 2026年11月26日 23:59 (-05:00)\n"
                                                      "ファン回転数が低下しました。",
                                               alert_type="Default(警告)"),
                                         charset="utf-8", cte="8bit"),
        "multipart.eml": multipart([
            ("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit",
             crlf("<html><body><p>コンピュータ名：HTML-ONLY-PART</p></body></html>\n".encode("utf-8"))),
            ("Content-Type: text/plain; charset=iso-2022-jp\r\nContent-Transfer-Encoding: 7bit",
             encode_body(alarm(computer="SV09"), "iso2022_jp", "7bit")),
            ("Content-Type: text/plain; charset=utf-8; name=log.txt\r\n"
             "Content-Disposition: attachment; filename=log.txt\r\nContent-Transfer-Encoding: 8bit",
             crlf("コンピュータ名：ATTACHMENT\n".encode("utf-8"))),
        ], subtype="mixed"),
        "rich_markup.eml": mail(alarm(computer="SV10", product="[bold]Express5800[/]", trap="[@click=app.quit]",
                                      detail=RICH_DETAIL, action="[/]保守員に連絡してください。[bold]"),
                                charset="utf-8", cte="8bit", subject="[bold]ESMPRO[/] [@click=app.quit]",
                                subject_charset="utf-8"),
        "no_charset_utf8.eml": mail(alarm(computer="SV11"), charset=None, codec="utf-8", cte="8bit", content_type=None),
        "no_charset_jis.eml": mail(alarm(computer="SV12"), charset=None, codec="iso2022_jp", cte=""),
        "mislabelled_latin1.eml": mail(alarm(computer="SV13"), charset="iso-8859-1", codec="cp932", cte="8bit"),
        "one_line_forms.eml": mail(ONE_LINE_FORMS, charset="utf-8", cte="8bit").replace(b"\r\n", b"\n"),
        "gateway_footer_raw_jis_subject.eml": mail(alarm(computer="SV08", footer=GATEWAY_FOOTER), subject=None,
                                                   extra=()).replace(b"MIME-Version",
                                                                     b"Subject: " + jis_subject_raw +
                                                                     b"\r\nMIME-Version"),
        "detail_with_key_lines.eml": mail(alarm(computer="SV14", detail=DETAIL_WITH_KEY_LINES), charset="utf-8",
                                          cte="8bit"),
    }


def bad() -> dict[str, bytes]:
    ok_utf8 = alarm().encode("utf-8")
    rng = random.Random(20261127)
    garbage = bytes(rng.randrange(256) for _ in range(3000))
    b64 = base64.b64encode(ok_utf8)
    cut = len(b64) // 2 // 4 * 4 + 2  # the connection dropped mid-quad
    truncated_b64 = b"\n".join(b64[:cut][i:i + 76] for i in range(0, cut, 76)) + b"\n"
    plain = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
    return {
        # charsets
        "undecodable_utf8.eml": mail(ok_utf8.replace("縮退".encode("utf-8"), b"\xe7\xb8\xff\xfe\x80\x81\xfd"),
                                     charset="utf-8", cte="8bit"),
        "wrong_charset_eucjp.eml": mail(alarm(), charset="iso-2022-jp", codec="euc_jp", cte="8bit"),
        "utf16_declared_utf8.eml": mail(alarm(), charset="utf-8", codec="utf-16-le", cte="8bit"),
        "undeclared_binary.eml": mail(b"\x00\x01\x02PK\x03\x04" + garbage, charset=None, cte="8bit",
                                      content_type=None),
        # required fields
        "missing_computer.eml": mail(alarm(omit=("computer",))),
        "empty_computer.eml": mail(alarm(computer="")),
        "missing_date.eml": mail(alarm(omit=("date",))),
        "missing_time.eml": mail(alarm(omit=("time",))),
        # times
        "bad_date.eml": mail(alarm(date="2026/13/45")),
        "bad_time.eml": mail(alarm(time="25:99")),
        "feb_30.eml": mail(alarm(date="2026/2/30")),
        "date_without_year.eml": mail(alarm(date="11/27")),
        "relayed_no_offset.eml": mail(alarm(detail="発生時刻 : 2026年11月27日 16:40\n論理ドライブが縮退しました。")),
        "relayed_bad_offset.eml": mail(alarm(detail="発生時刻 : 2026年11月27日 16:40 (+25:00)\n縮退しました。")),
        "relayed_unreadable_time.eml": mail(alarm(detail="発生時刻 : 不明\n論理ドライブが縮退しました。")),
        # no body, no mail
        "zero_bytes.eml": b"",
        "empty_body.eml": mail(""),
        "headers_only.eml": ("\r\n".join(headers()) + "\r\n").encode("ascii"),
        "binary_garbage.eml": garbage,
        "pasted_body_no_headers.eml": alarm().encode("utf-8"),
        # MIME
        "html_only.eml": mail("<html><body><p>コンピュータ名：SV01</p></body></html>\n", charset="utf-8", cte="8bit",
                              content_type="text/html"),
        "attachment_only.eml": multipart([
            ("Content-Type: application/octet-stream; name=alarm.dat\r\n"
             "Content-Disposition: attachment; filename=alarm.dat\r\nContent-Transfer-Encoding: base64",
             crlf(base64.encodebytes(garbage[:300]))),
            (plain + "\r\nContent-Disposition: attachment; filename=alarm.txt", crlf(ok_utf8)),
        ], subtype="mixed"),
        "truncated_base64.eml": mail(truncated_b64, charset="utf-8", cte="base64", verbatim=True),
        "base64_label_on_8bit_text.eml": mail(ok_utf8, charset="utf-8", cte="base64", verbatim=True),
        "unknown_transfer_encoding.eml": mail(ok_utf8, charset="utf-8", cte="x-gzip64"),
        # readable, but no alarm
        "human_reply.eml": mail(HUMAN_REPLY, subject="Re: [ESMPRO] 障害通報 SV01"),
        "two_alarms_digest.eml": mail(alarm() + "\n" + alarm(computer="SV99", event_id="0x80000001")),
        "computer_name_too_long.eml": mail(alarm(computer="SV" + "X" * 199)),
    }


def build() -> dict[str, bytes]:
    """Relative path under tests/mails -> the bytes of that file."""
    return {**{f"good/{k}": v for k, v in good().items()}, **{f"bad/{k}": v for k, v in bad().items()}}


def main() -> None:
    for rel, data in build().items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{len(data):8d}  {rel}")


if __name__ == "__main__":
    main()
