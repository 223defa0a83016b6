"""The ESMPRO "インターネットメール通報" parser against real-shaped mails: tests/mails/good and tests/mails/bad."""
from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sptui.intake.esmpro import REASONS, TOKYO, AlarmMail, AlarmParseError, parse_alarm_mail

MAILS = Path(__file__).resolve().parent / "mails"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_mails", MAILS / "make_mails.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_mails = _load_generator()


def tokyo(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TOKYO)


STANDARD = dict(product="Express5800/R120h-1M", trap="ディスク障害", source="ESMDiskArray", event_id="0x8000070B",
                detail="論理ドライブが縮退しました。", action="保守員に連絡してください。", alert_type="ESMPRO/AC",
                relayed_at=None, occurred_at=tokyo(2026, 11, 27, 16, 45, 10),
                message_id="20261127164512.0001@sv01.example.jp", sender="esmpro@sv01.example.jp",
                subject="[ESMPRO] 障害通報 SV01")


def expect(**fields) -> dict:
    return {**STANDARD, **fields}


# file name -> every field of the AlarmMail it must give
GOOD = {
    "iso2022jp.eml": expect(computer="SV01", charset="iso-2022-jp"),
    "shift_jis.eml": expect(computer="SV02", charset="shift_jis", occurred_at=tokyo(2026, 1, 5, 9, 3, 0),
                            trap="温度異常", source="ESMCpuPerf", event_id="0xC00003EA",
                            detail="温度センサ異常を検出しました。\nセンサ番号: 3\n現在値: 72℃", subject="温度異常 SV02"),
    # declared Shift_JIS, but with NEC special characters only cp932 has
    "cp932_nec_chars.eml": expect(computer="SV03", charset="cp932", detail="①番ファンが停止しました。(㈱テスト設置)"),
    "utf8.eml": expect(computer="sv04.example.jp", charset="utf-8", occurred_at=tokyo(2026, 11, 27, 16, 45, 0),
                       product="Ｅｘｐｒｅｓｓ5800/GT110j", subject="ESMPRO 通報 ✔"),
    "base64.eml": expect(computer="SV06", charset="utf-8", occurred_at=tokyo(2026, 11, 27, 7, 5, 9),
                         detail="電源ユニット 1 の障害を検出しました。\n冗長性が失われています。", subject="電源障害"),
    "quoted_printable.eml": expect(computer="SV07", charset="utf-8", detail="メモリ訂正可能エラーが多発しています。" * 4),
    # NEC's own example, relayed by ESMPRO/ServerManager: 発生時刻 is the event, 発生日付/発生時間 the relay
    "relayed.eml": expect(computer="SV-MGR-REL", charset="iso-2022-jp", product="Express5800/T120h",
                          occurred_at=tokyo(2026, 1, 1, 1, 0, 0), relayed_at=tokyo(2026, 1, 1, 1, 2, 30),
                          trap="TEST_APP(1)", source="TEST_APP", event_id="1 ( 40000001 )",
                          detail="プログラムで警告メッセージが発生しました。", alert_type="Default(情報)",
                          message_id="relay-0001@mgr.example.jp", sender="alertmanager@mgr.example.jp"),
    # 2026-11-26 23:59 at -05:00 is 2026-11-27 13:59 in Tokyo
    "relayed_other_offset.eml": expect(computer="SV-NY01", charset="utf-8", occurred_at=tokyo(2026, 11, 27, 13, 59, 0),
                                       relayed_at=tokyo(2026, 11, 27, 14, 0, 5), detail="ファン回転数が低下しました。",
                                       alert_type="Default(警告)"),
    # text/html first, then the text/plain alarm, then a text/plain attachment
    "multipart.eml": expect(computer="SV09", charset="iso-2022-jp"),
    "rich_markup.eml": expect(computer="SV10", charset="utf-8", product="[bold]Express5800[/]",
                              trap="[@click=app.quit]", detail=make_mails.RICH_DETAIL,
                              action="[/]保守員に連絡してください。[bold]", subject="[bold]ESMPRO[/] [@click=app.quit]"),
    "no_charset_utf8.eml": expect(computer="SV11", charset="utf-8"),
    "no_charset_jis.eml": expect(computer="SV12", charset="iso-2022-jp"),
    # labelled iso-8859-1 by a misconfigured relay; the body is cp932
    "mislabelled_latin1.eml": expect(computer="SV13", charset="cp932"),
    # half-width katakana key, full-width digits and brackets, "[名前] 値" and "名前: 値" forms, LF line ends
    "one_line_forms.eml": expect(computer="SV05", charset="utf-8", product="Express5800/R120h-2M",
                                 detail="論理ドライブが縮退しました。\n\u3000続き: 物理ドライブ 2 を交換してください。"),
    # a mail gateway's footer after the last field; a raw ISO-2022-JP Subject with no RFC 2047
    "gateway_footer_raw_jis_subject.eml": expect(computer="SV08", charset="iso-2022-jp",
                                                 subject="[ESMPRO] 障害通報 SV08"),
    # field-like lines inside [詳細メッセージ] are detail text
    "detail_with_key_lines.eml": expect(computer="SV14", charset="utf-8", detail=make_mails.DETAIL_WITH_KEY_LINES),
}

# file name -> the reason code it must be refused with
BAD = {
    "undecodable_utf8.eml": "bad-encoding",
    "wrong_charset_eucjp.eml": "bad-encoding",
    "utf16_declared_utf8.eml": "bad-encoding",
    "undeclared_binary.eml": "bad-encoding",
    "missing_computer.eml": "missing-field",
    "empty_computer.eml": "missing-field",
    "missing_date.eml": "missing-field",
    "missing_time.eml": "missing-field",
    "bad_date.eml": "bad-time",
    "bad_time.eml": "bad-time",
    "feb_30.eml": "bad-time",
    "date_without_year.eml": "bad-time",
    "relayed_no_offset.eml": "naive-time",
    "relayed_bad_offset.eml": "bad-time",
    "relayed_unreadable_time.eml": "bad-time",
    "zero_bytes.eml": "empty",
    "empty_body.eml": "empty",
    "headers_only.eml": "empty",
    "binary_garbage.eml": "not-mime",
    "pasted_body_no_headers.eml": "not-mime",
    "html_only.eml": "no-text-part",
    "attachment_only.eml": "no-text-part",
    "truncated_base64.eml": "bad-transfer-encoding",
    "base64_label_on_8bit_text.eml": "bad-transfer-encoding",
    "unknown_transfer_encoding.eml": "bad-transfer-encoding",
    "human_reply.eml": "not-alarm",
    "two_alarms_digest.eml": "duplicate-field",
    "computer_name_too_long.eml": "field-too-long",
}

# what the message must name, for the cases where the field is the whole point
BAD_MESSAGE = {
    "missing_computer.eml": "コンピュータ名",
    "empty_computer.eml": "コンピュータ名",
    "missing_date.eml": "発生日付",
    "missing_time.eml": "発生時間",
    "bad_time.eml": "発生時間",
    "date_without_year.eml": "発生日付",
    "relayed_no_offset.eml": "発生時刻",
    "two_alarms_digest.eml": "コンピュータ名",
}


def test_the_committed_mails_are_what_the_generator_writes():
    built = make_mails.build()
    on_disk = {f"{p.parent.name}/{p.name}": p.read_bytes() for d in ("good", "bad") for p in (MAILS / d).glob("*.eml")}
    assert sorted(on_disk) == sorted(built), "run: python tests/mails/make_mails.py"
    for rel, data in built.items():
        assert on_disk[rel] == data, f"{rel} differs from the generator; run: python tests/mails/make_mails.py"


def test_every_mail_file_is_in_a_table():
    assert {p.name for p in (MAILS / "good").glob("*.eml")} == set(GOOD)
    assert {p.name for p in (MAILS / "bad").glob("*.eml")} == set(BAD)
    assert len(GOOD) >= 6 and len(BAD) >= 22
    assert set(BAD.values()) <= REASONS


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_mail(name):
    mail = parse_alarm_mail((MAILS / "good" / name).read_bytes())
    assert isinstance(mail, AlarmMail)
    got = {field: getattr(mail, field) for field in GOOD[name]}
    assert got == GOOD[name]
    for when in (mail.occurred_at, mail.relayed_at):
        if when is not None:
            assert when.tzinfo is TOKYO and when.utcoffset() == dt.timedelta(hours=9)
    for value in (mail.computer, mail.product, mail.trap, mail.source, mail.event_id, mail.detail, mail.action,
                  mail.alert_type, mail.subject):
        assert value is None or ("\ufffd" not in value and "\x00" not in value)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_mail(name):
    with pytest.raises(AlarmParseError) as caught:
        parse_alarm_mail((MAILS / "bad" / name).read_bytes())
    assert caught.value.reason == BAD[name], caught.value.message
    assert caught.value.message
    assert BAD_MESSAGE.get(name, "") in caught.value.message


def test_ten_megabytes_is_refused_unread():
    raw = (MAILS / "good" / "iso2022jp.eml").read_bytes()
    huge = raw + b"x" * (10 * 1024 * 1024)
    with pytest.raises(AlarmParseError) as caught:
        parse_alarm_mail(huge)
    assert caught.value.reason == "too-large"
    assert parse_alarm_mail(raw, max_size=len(raw)).computer == "SV01"  # the limit itself is allowed
    with pytest.raises(AlarmParseError, match="too-large"):
        parse_alarm_mail(raw, max_size=len(raw) - 1)


def test_relayed_time_in_another_zone_is_converted_not_relabelled():
    mail = parse_alarm_mail((MAILS / "good" / "relayed_other_offset.eml").read_bytes())
    assert mail.occurred_at == dt.datetime(2026, 11, 27, 4, 59, tzinfo=dt.timezone.utc)
    assert mail.relayed_at - mail.occurred_at == dt.timedelta(minutes=1, seconds=5)


def test_error_carries_reason_and_message():
    with pytest.raises(AlarmParseError) as caught:
        parse_alarm_mail(b"")
    assert (caught.value.reason, caught.value.message) == ("empty", "the mail is empty")
    assert str(caught.value) == "empty: the mail is empty"


_HEADS = st.sampled_from([b"", b"From: a@b.example\r\n\r\n",
                          b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
                          b"Subject: x\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n"
                          b"Content-Transfer-Encoding: base64\r\n\r\n",
                          b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HEADS, st.binary(max_size=2000))
def test_random_bytes_raise_only_alarm_parse_error(head, body):
    raw = head + body
    try:
        parse_alarm_mail(raw)
    except AlarmParseError as e:
        assert e.reason in REASONS and e.message


_SEED_MAILS = [(MAILS / "good" / name).read_bytes() for name in sorted(GOOD)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_SEED_MAILS), st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=8)), max_size=4),
       st.integers(0, 2000))
def test_damaged_real_mails_raise_only_alarm_parse_error(raw, patches, cut):
    """Real mails with bytes overwritten and the tail cut off: what a bad line or a full disk makes."""
    data = bytearray(raw)
    for at, junk in patches:
        data[at % len(data):at % len(data) + len(junk)] = junk
    data = bytes(data[: len(data) - cut % len(data)])
    try:
        mail = parse_alarm_mail(data)
    except AlarmParseError as e:
        assert e.reason in REASONS and e.message
    else:
        assert mail.computer and mail.occurred_at.tzinfo is TOKYO


_TEXT = st.text(alphabet=st.sampled_from(list("ab [/]@=.:：テスト名\t ")), max_size=60)


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=6))
def test_detail_text_is_kept_as_typed(lines):
    """Whatever the detail holds - Rich markup, brackets, colons - comes back as typed (blank ends trimmed)."""
    body = make_mails.alarm(detail="\n".join(lines))
    try:
        mail = parse_alarm_mail(make_mails.mail(body, charset="utf-8", cte="8bit"))
    except AlarmParseError as e:
        raise AssertionError(f"{lines!r}: {e}") from e
    kept = [line.rstrip(" \t\u3000") for line in lines]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    want = None if not kept else kept[0].strip(" \t\u3000") if len(kept) == 1 else "\n".join(kept)
    assert mail.detail == want


def test_a_body_that_decodes_only_to_lone_surrogates_is_no_text():
    """UTF-7 (a charset a mail may declare) decodes "+2AA-" to a lone surrogate, which no database can store:
    such a reading is refused like any other that is not text, not handed on to the store."""
    body = "コンピュータ名：SV01\r\n発生日付：2026/11/27\r\n発生時間：10:00:00\r\n[詳細メッセージ]\r\n".encode("utf-7")
    raw = (b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n" + body + b"+2AA-\r\n")
    with pytest.raises(AlarmParseError) as caught:
        parse_alarm_mail(raw)
    assert caught.value.reason == "bad-encoding"


def test_a_mail_that_is_no_alarm_keeps_its_message_id_and_sender_as_the_parser_reads_them():
    """envelope(): the headers of any mail, read as an alarm's are (raw UTF-8 or cp932, NULs dropped, lengths
    the store holds), for the quarantine."""
    from sptui.intake.esmpro import envelope

    assert envelope("From: 山田 <yamada@例え.jp>\r\nMessage-ID: <u@sv>\r\n\r\nhi".encode()) == ("u@sv", "yamada@例え.jp")
    assert envelope("From: 鈴木 <suzuki@example.jp>\r\nMessage-ID: <s@sv>\r\n\r\n".encode("cp932")) == (
        "s@sv", "suzuki@example.jp")
    assert envelope(b"From: a\x00b@example.jp\r\nMessage-ID: <m\x00@sv>\r\n\r\n") == ("m@sv", "ab@example.jp")
    assert envelope(b"Message-ID: <" + b"x" * 401 + b">\r\nFrom: " + b"y" * 401 + b"@z\r\n\r\n") == (None, None)
    assert envelope(b"") == (None, None) and envelope(b"\xff" * 70000) == (None, None)
