"""Arbitrary header values and bytes through the intake's parser and writer, on SQLite and on PostgreSQL: every
mail ends stored, a duplicate, or quarantined. No exception escapes, and no mail is answered "try again" (451)
for a problem that a retry would meet again."""
from __future__ import annotations

import datetime as dt

import pytest
from conftest import registry_csv, registry_row
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sptui.intake.writer import Writer
from sptui.store import Store
from sptui.store.alarms import Stored

JST = dt.timezone(dt.timedelta(hours=9))
HEADERS = (b"From", b"Message-ID", b"Subject", b"Date", b"Content-Type", b"Content-Transfer-Encoding", b"X-Mailer")
# any code point, lone surrogates included (what a source's text can carry)
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=600)


@pytest.fixture
def desk(db_url, policy):
    s = Store.open(db_url)
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 4)]))
    yield s, Writer(s, policy)
    s.close()


def _value() -> st.SearchStrategy[bytes]:
    """A header value as bytes: any bytes, text in any encoding, very long, NULs, CR/LF, encoded words."""
    return st.one_of(
        st.binary(max_size=300),
        ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.text(max_size=80).map(lambda t: t.encode("cp932", "replace")),
        st.integers(390, 5000).map(lambda n: b"<" + b"m" * n + b"@sv>"),
        st.sampled_from([b"\x00", b"<a\x00b@sv>", b"=?utf-8?b?AAAA?=", b"=?x-unknown?q?=FF?=", b"<>", b"\xed\xa0\x80",
                         b"=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=", b"Fri, 31 Dec 9999 23:59:59 -1200"]),
    )


def _body() -> st.SearchStrategy[bytes]:
    """An ESMPRO body whose fields are fuzzed (most name a registered machine and a real time, so that many
    mails are alarms), or bytes."""
    def mostly(good: list[str], text=ANY_TEXT) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), text)

    alarm = st.builds(
        lambda computer, day, time, event, detail: (
            f"コンピュータ名：{computer}\n発生日付：{day}\n発生時間：{time}\n[イベントID]\n{event}\n"
            f"[詳細メッセージ]\n{detail}\n").encode("utf-8", "surrogatepass"),
        mostly(["SV0001", "SV0002", "sv0003", "SV0009"]),
        mostly(["2026/11/27", "2026年11月28日"], st.sampled_from(["9999/12/31", "0001/01/01", "2026/02/30"]) | ANY_TEXT),
        mostly(["10:00:00", "23:59"]), st.text(max_size=40), mostly(["x"], st.text()) | ANY_TEXT)
    return st.one_of(alarm, alarm, alarm, st.binary(max_size=2000))


def _mail() -> st.SearchStrategy[bytes]:
    """From, Message-ID, Subject and Date with fuzzed values (or left out), then any headers, then a body."""
    usual = st.lists(st.tuples(st.sampled_from(HEADERS[:4]), _value()), min_size=1, max_size=5)
    other = st.lists(st.tuples(st.sampled_from(HEADERS), _value()), max_size=2)
    return st.builds(
        lambda hs, more, body: b"".join(n + b": " + v + b"\r\n" for n, v in [*hs, *more]) + b"\r\n" + body,
        usual, st.one_of(st.just([]), other), _body())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mails=st.lists(_mail(), min_size=1, max_size=5), via=st.one_of(st.just("smtp:127.0.0.1"), ANY_TEXT))
def test_every_mail_ends_stored_a_duplicate_or_quarantined(desk, mails, via):
    store, writer = desk
    received = dt.datetime.now(JST)
    results = writer.take([(raw, via, received) for raw in mails])  # one batch, as the SMTP intake sends it
    assert len(results) == len(mails)
    for raw, result in zip(mails, results):
        assert isinstance(result, Stored), f"{result!r} for {raw[:200]!r}"  # not ("transient" | "failed", …): 451
        event(f"{result.outcome} {result.reason or ''}")
        if result.reason is None:
            assert result.outcome in ("stored", "duplicate")
            assert store.alarms.get(result.id)["received_at"] is not None
        else:
            assert result.outcome in ("quarantined", "duplicate")
            [kept] = [q for q in store.quarantine.rows() if q["id"] == result.id]
            assert kept["raw"] == raw and kept["reason"] == result.reason
