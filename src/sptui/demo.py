"""A realistic demo desk, built through the same code paths as real work (registry import, incidents
decided by the policy, alarm mails through intake, dispatches): about 200 customers and 1,000 machines over
every variant and term, incidents in every verdict, alarms (some quarantined) and dispatches in flight.

The data is made up (random with a fixed seed, so two demo desks are alike) and relative to now: a working desk
at the start of a shift. Most incidents came in recently; most older ones are dispatched or closed; a handful
(OVERDUE) is past its deadline with no technician yet, and as many alarm calls are due; every machine's dates are in
order (bought, its pack bought, the registration sent, completed) and none is after today.
"""
from __future__ import annotations

import csv
import email.policy
import datetime as dt
import io
import random
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sptui.desk import Consent, Work, contact, dispatch, open_incident, quote_dispatch
from sptui.desk.registry import sold_terms
from sptui.store.registry import COLUMNS
from sptui.tz import TOKYO

ORGS = ["東都映像", "北浜セキュリティ", "みなと監視サービス", "さくら交通", "Kanto Retail", "関西物流", "青葉病院",
        "港北市役所", "Osaka Media Works", "[bold]株式会社[/]"]  # the last: markup in data, shown as typed
PEOPLE = ["佐藤 一郎", "鈴木 花子", "高橋 健", "田中 美咲", "伊藤 翔", "渡辺 陽子", "山本 大輔", "中村 由美"]
PLACES = ["東京都港区芝5-7-1", "大阪府大阪市北区梅田1-1-3", "神奈川県横浜市西区みなとみらい2-2-1",
          "愛知県名古屋市中村区名駅4-7-1", "福岡県福岡市博多区博多駅前2-1-1", "北海道札幌市中央区北5条西2-5"]
MODELS = ["N8100-2541Y", "N8100-2760Y", "N8100-3011Y", "N8100-2889Y"]
OPTIONS = [("N8103-189", "disk-array", "direct"), ("N8104-7001", "nic", "internal"),
           ("N8142-36", "ups", "direct"), ("N8160-88", "printer", "direct"), ("NF8300-5", "camera", "appliance-linked")]
EVENTS = [("0x8000070B", "ESMDiskArray", "論理ドライブが縮退しました。", "ディスク障害"),
          ("0xC0000451", "ESMCpuPerf", "CPU 温度が上限を超えました。", "温度異常"),
          ("0x80000065", "ESMPowerSupply", "電源ユニットが故障しました。", "電源障害"),
          ("0x40000201", "ESMFan", "ファンの回転数が低下しました。", "ファン異常")]


def _registration(rnd: random.Random, years: int, today: dt.date) -> dict:
    """A machine's dates in the order they happen, none after today: bought, its pack bought the same month, the
    registration sent after that, NEC's completion after that (not yet, if it would be after today: pending)."""
    bought = today - dt.timedelta(days=rnd.randrange(30, 365 * years + 200))
    pack_bought = min(bought + dt.timedelta(days=rnd.randrange(0, 25)), today)
    submitted = pack_bought + dt.timedelta(days=rnd.randrange(1, 20))
    completed = submitted + dt.timedelta(days=rnd.randrange(3, 15))
    status = rnd.choices(["accepted", "pending", "rejected"], [92, 6, 2])[0]
    if submitted > today:
        submitted, status = None, "pending"
    if status == "accepted" and completed > today:
        status = "pending"
    started = (completed if status == "accepted" else pack_bought) + dt.timedelta(days=rnd.randrange(1, 30))
    return {"purchased_on": bought.isoformat(), "pack_purchased_on": pack_bought.isoformat(),
            "registration_status": status, "submitted_on": submitted.isoformat() if submitted else "",
            "completed_on": completed.isoformat() if status == "accepted" else "",
            "express_start_on": started.isoformat() if started <= today and rnd.random() < 0.7 else ""}


def _row(rnd: random.Random, i: int, customer: int, variants: dict[str, tuple[int, ...] | None], today: dt.date) -> dict:
    variant = sorted(variants)[i % len(variants)]
    years = (variants[variant] or (1, 3, 5, 7))[(i // len(variants)) % len(variants[variant] or (1, 3, 5, 7))]
    dates = _registration(rnd, years, today)
    bought = dt.date.fromisoformat(dates["purchased_on"])
    org = ORGS[customer % len(ORGS)] + (f" {customer // len(ORGS)}" if customer >= len(ORGS) else "")
    row = {
        "label_number": f"{2000 + customer:04d}-{i // 1000:03d}-{i % 1000:03d}",
        "support_id": f"SP{26000000 + i}",
        "customer_organisation": org, "customer_name": PEOPLE[customer % len(PEOPLE)],
        "customer_address": PLACES[customer % len(PLACES)], "customer_phone": f"03-5555-{customer:04d}",
        "customer_email": f"desk{customer}@example.jp", "pack_serial": f"PK{700000 + i}", "variant": variant,
        "years": str(years), "model_code": rnd.choice(MODELS), "serial_number": f"{rnd.randrange(10**6, 10**7)}{i:04d}",
        "site_organisation": org + " 監視センター",
        "site_address": rnd.choice(PLACES), "site_name": rnd.choice(PEOPLE), "site_phone": f"045-000-{i:04d}",
        **dates,
        "agreed_end_on": (today + dt.timedelta(days=rnd.randrange(-200, 400))).isoformat()
        if rnd.random() < 0.04 else "",
        "manufacture_ended_on": (bought - dt.timedelta(days=rnd.randrange(300, 2500))).isoformat()
        if rnd.random() < 0.15 else "",
        "country": "JP" if rnd.random() < 0.98 else "SG", "config_info": "yes" if rnd.random() < 0.8 else "no",
        "computer_name": f"VA{i:05d}", "os_name": "", "report_method": "", "seller": "",
        "options": ";".join(f"{m}:1:{c}:{k}" for m, c, k in rnd.sample(OPTIONS, rnd.randrange(0, 3))),
    }
    if row["express_start_on"]:
        row.update(os_name="Windows Server 2022", report_method="mail", seller="NEC フィールディング")
    return row


def alarm_mail(computer: str, occurred: dt.datetime, event: tuple[str, str, str, str], *, seq: int) -> bytes:
    """An ESMPRO/ServerAgent Internet-mail alarm, as the agent sends it (UTF-8 here)."""
    eid, source, detail, trap = event
    msg = EmailMessage()
    msg["From"] = f"esmpro@{computer.lower()}.example.jp"
    msg["To"] = "alarm@desk.example.jp"
    msg["Subject"] = f"ESMPRO Alert {computer} {trap}"
    msg["Date"] = format_datetime(occurred)
    msg["Message-ID"] = make_msgid(idstring=f"demo{seq}", domain=f"{computer.lower()}.example.jp")
    body = (f"コンピュータ名：{computer}\n製品名：Express5800/R120h-1M\n発生日付：{occurred:%Y/%m/%d}\n"
            f"発生時間：{occurred:%H:%M:%S}\n[トラップ名]\n{trap}\n[ソース名]\n{source}\n[イベントID]\n{eid}\n"
            f"[詳細メッセージ]\n{detail}\n[対処方法]\n保守員に連絡してください。\n[アラートタイプ]\nESMPRO/AC\n")
    msg.set_content(body, charset="utf-8")
    return msg.as_bytes(policy=email.policy.SMTP)


OPERATORS = ["sato", "suzuki", "takahashi"]
CAUSES = [None] * 8 + ["ex-01", "ex-04", "ex-07", "ex-12"]
OVERDUE = 3  # a working desk's handful: incidents past their deadline with no technician yet, calls overdue


def _ago(rnd: random.Random, *, hours: float, days: int) -> dt.timedelta:
    """How long ago something came in: most of it within the last `hours`, the rest spread over `days`."""
    r = rnd.random()
    if r < 0.5:
        return dt.timedelta(minutes=rnd.randrange(3, int(hours * 60)))
    if r < 0.8:
        return dt.timedelta(minutes=rnd.randrange(int(hours * 60), 48 * 60))
    return dt.timedelta(minutes=rnd.randrange(48 * 60, days * 24 * 60))


def build_demo(store, policy, *, today: dt.date | None = None, customers: int = 200, machines: int = 1000,
               seed: int = 2026) -> dict[str, int]:
    """Fill an empty store with a demo desk, as a working desk looks at the start of a shift; returns the counts."""
    rnd = random.Random(seed)
    now = dt.datetime.now(TOKYO).replace(microsecond=0)
    if today is not None and today != now.date():
        now = dt.datetime.combine(today, dt.time(14, 0), TOKYO)
    variants = sold_terms(policy)
    rows = [_row(rnd, i, i % customers, variants, now.date()) for i in range(machines)]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=[c.name for c in COLUMNS], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    store.registry.import_csv(out.getvalue(), variants=variants, operator="demo")
    overdue = [OVERDUE]
    for _ in range(220):
        _incident(store, policy, rnd, rnd.choice(rows), now, overdue)
    _alarms(store, policy, rnd, [r for r in rows if r["express_start_on"]], now)
    return store.db.counts()


def _incident(store, policy, rnd: random.Random, row: dict, now: dt.datetime, overdue: list[int]) -> None:
    """One incident, taken as far as a desk would have taken it by now: what came in long ago is mostly
    dispatched and closed, what came in within hours mostly waits; only a handful is past its deadline undispatched."""
    at = now - _ago(rnd, hours=8, days=14)
    op = rnd.choice(OPERATORS)
    iid = open_incident(store, policy, label=row["label_number"], at=at, support=rnd.choice(["hw", "hw", "pp"]),
                        cause=rnd.choice(CAUSES), summary=rnd.choice(EVENTS)[2], operator=rnd.choice(OPERATORS))
    inc = store.incidents.get(iid)
    deadline, age = inc["deadline"], now - at
    if deadline is None:  # nothing to send a technician for (not covered, billable, to consult, a PP question)
        if age > dt.timedelta(days=1) and rnd.random() < 0.85 or age > dt.timedelta(hours=4) and rnd.random() < 0.3:
            store.incidents.claim(iid, operator=op)
            store.incidents.close(iid, operator=op, text="answered: the customer was told the terms' reply")
        elif age > dt.timedelta(hours=1) and rnd.random() < 0.5:
            store.incidents.claim(iid, operator=op)
            if inc["verdict"] == "consult":
                store.incidents.mark_consult(iid, "作業が保守の範囲か、お客様と NEC に確認中", operator=op)
        return
    waiting = deadline > now or (overdue[0] > 0 and age < dt.timedelta(hours=6))
    if waiting and (deadline > now or rnd.random() < 0.5):
        if deadline <= now:
            overdue[0] -= 1
        if age > dt.timedelta(minutes=15) and rnd.random() < 0.4:
            store.incidents.claim(iid, operator=op)
        if deadline > now and age > dt.timedelta(minutes=30) and rnd.random() < 0.3:
            _dispatch(store, policy, rnd, iid, op, at, min(deadline, now), now)
        return
    _dispatch(store, policy, rnd, iid, op, at, min(deadline, now), now)
    if age > dt.timedelta(days=1) and rnd.random() < 0.8:
        store.incidents.close(iid, operator=op, text="repaired; the customer confirmed")


def _dispatch(store, policy, rnd, iid: int, op: str, at: dt.datetime, latest: dt.datetime, now: dt.datetime) -> None:
    """A technician sent between the incident's receipt and `latest` (its deadline, or now), on time; the work done
    by now if there was time for it."""
    store.incidents.claim(iid, operator=op)
    span = max(1, int((latest - at).total_seconds() // 60))
    departed = min(latest, at + dt.timedelta(minutes=rnd.randrange(min(10, span), span + 1)))
    done = departed + dt.timedelta(minutes=rnd.randrange(40, 240))
    work = Work(departed, done if done <= now else None)
    inc = store.incidents.get(iid)
    late = "traffic" if inc["deadline"] is not None and departed > inc["deadline"] else None
    consent = Consent("demo", "phone", departed) if quote_dispatch(policy, inc, work).customer_pays else None
    dispatch(store, policy, iid, operator=op, technician=f"tech-{rnd.randrange(1, 30):02d}", work=work,
             late_reason=late, consent=consent)


def _repair(store, policy, rnd, iid: int, op: str, called: dt.datetime, now: dt.datetime) -> None:
    """The incident an alarm's call opened: its technician sent after the call, as the queue would show it by now
    (dispatched when its deadline has passed, else most likely still to send)."""
    deadline = store.incidents.get(iid)["deadline"]
    if deadline is not None and called < deadline and (deadline <= now or rnd.random() < 0.3):
        _dispatch(store, policy, rnd, iid, op, called, min(deadline, now), now)


def _alarms(store, policy, rnd: random.Random, express: list[dict], now: dt.datetime) -> None:
    """Alarm mails over the last three days (most of them recent), each called as a desk would have: the
    customer reached, or a next-day retry; only the latest few still wait for their call."""
    from sptui.intake.ingest import ingest

    overdue = OVERDUE - 1  # (with the incidents past their deadline, a handful in all)
    for k in range(120):
        r = rnd.choice(express)
        occurred = (now - _ago(rnd, hours=6, days=3)).replace(microsecond=0)
        raw = alarm_mail(r["computer_name"], occurred, rnd.choice(EVENTS), seq=k)
        stored = ingest(store, policy, raw, via="smtp:127.0.0.1", received_at=occurred + dt.timedelta(seconds=20))
        if stored.outcome != "stored":
            continue
        due = store.alarms.get(stored.id)["next_contact_at"]
        first = True
        while due is not None and due <= now:
            if due > now - dt.timedelta(minutes=20) and overdue > 0:
                overdue -= 1  # just came in: to call now
                break
            at = min(now, due + dt.timedelta(minutes=rnd.randrange(2, 15)))
            reached = rnd.random() < 0.8 or at > now - dt.timedelta(hours=1)
            repair = reached and first and rnd.random() < 0.4  # (a repair found on a retry would start late)
            first = False
            op = rnd.choice(OPERATORS)
            done = contact(store, policy, stored.id, at=at, reached=reached, operator=op,
                           repair_needed=repair if reached else None,
                           reason=None if repair or not reached else "お客様が再起動で復旧を確認（修理不要）",
                           note="" if reached else "留守番電話")
            due = None if reached else done["contact"].get("next_contact_at")
            if done["opened"]:  # the technician arranged with the call, as 第3章 4 says; sent by the deadline
                _repair(store, policy, rnd, done["incident_id"], op, at, now)
    bad = [b"this is not an alarm mail\n",
           alarm_mail("UNKNOWN-HOST", now, EVENTS[0], seq=9000),
           "Subject: alarm\nContent-Type: text/plain; charset=shift_jis\n\n\x82\xa0 broken".encode("latin-1")]
    for raw in bad:
        ingest(store, policy, raw, via="smtp:127.0.0.1", received_at=now)
