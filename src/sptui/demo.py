"""A realistic demo desk, built through the same code paths as real work (registry import, incidents
decided by the policy, alarm mails through intake, dispatches): about 200 customers and 1,000 machines over
every variant and term, incidents in every verdict, alarms (some quarantined) and dispatches in flight.

The data is made up (random with a fixed seed, so two demo desks are alike) and relative to `today`.
"""
from __future__ import annotations

import csv
import email.policy
import datetime as dt
import io
import random
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sptui.store.registry import COLUMNS, policy_variants
from sptui.store.schema import TOKYO

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


def _row(rnd: random.Random, i: int, customer: int, variants: dict[str, tuple[int, ...] | None], today: dt.date) -> dict:
    variant = sorted(variants)[i % len(variants)]
    years = (variants[variant] or (1, 3, 5, 7))[(i // len(variants)) % len(variants[variant] or (1, 3, 5, 7))]
    bought = today - dt.timedelta(days=rnd.randrange(30, 365 * years + 200))
    status = rnd.choices(["accepted", "pending", "rejected"], [92, 6, 2])[0]
    org = ORGS[customer % len(ORGS)] + (f" {customer // len(ORGS)}" if customer >= len(ORGS) else "")
    row = {
        "label_number": f"{2000 + customer:04d}-{i // 1000:03d}-{i % 1000:03d}",
        "support_id": f"SP{26000000 + i}",
        "customer_organisation": org, "customer_name": PEOPLE[customer % len(PEOPLE)],
        "customer_address": PLACES[customer % len(PLACES)], "customer_phone": f"03-5555-{customer:04d}",
        "customer_email": f"desk{customer}@example.jp", "pack_serial": f"PK{700000 + i}", "variant": variant,
        "years": str(years), "pack_purchased_on": (bought + dt.timedelta(days=rnd.randrange(0, 25))).isoformat(),
        "model_code": rnd.choice(MODELS), "serial_number": f"{rnd.randrange(10**6, 10**7)}{i:04d}",
        "purchased_on": bought.isoformat(), "site_organisation": org + " 監視センター",
        "site_address": rnd.choice(PLACES), "site_name": rnd.choice(PEOPLE), "site_phone": f"045-000-{i:04d}",
        "registration_status": status,
        "submitted_on": (bought + dt.timedelta(days=rnd.randrange(1, 45))).isoformat(),
        "completed_on": (bought + dt.timedelta(days=rnd.randrange(45, 60))).isoformat() if status == "accepted" else "",
        "agreed_end_on": (today + dt.timedelta(days=rnd.randrange(-200, 400))).isoformat()
        if rnd.random() < 0.04 else "",
        "manufacture_ended_on": (bought - dt.timedelta(days=rnd.randrange(300, 2500))).isoformat()
        if rnd.random() < 0.15 else "",
        "country": "JP" if rnd.random() < 0.98 else "SG", "config_info": "yes" if rnd.random() < 0.8 else "no",
        "computer_name": f"VA{i:05d}", "express_start_on": "", "os_name": "", "report_method": "", "seller": "",
        "options": ";".join(f"{m}:1:{c}:{k}" for m, c, k in rnd.sample(OPTIONS, rnd.randrange(0, 3))),
    }
    if rnd.random() < 0.7:
        row.update(express_start_on=(bought + dt.timedelta(days=rnd.randrange(30, 90))).isoformat(),
                   os_name="Windows Server 2022", report_method="mail", seller="NEC フィールディング")
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


def build_demo(store, policy, *, today: dt.date | None = None, customers: int = 200, machines: int = 1000,
               seed: int = 2026) -> dict[str, int]:
    """Fill an empty store with a demo desk; returns the counts."""
    from sptui.desk import Consent, Work, dispatch, quote_dispatch
    from sptui.intake.ingest import ingest

    rnd = random.Random(seed)
    now = dt.datetime.now(TOKYO)
    today = today or now.date()
    variants = policy_variants(policy)
    rows = [_row(rnd, i, i % customers, variants, today) for i in range(machines)]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=[c.name for c in COLUMNS], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    store.import_registry(out.getvalue(), variants=variants, operator="demo")

    operators = ["sato", "suzuki", "takahashi"]
    causes = [None] * 8 + ["ex-01", "ex-04", "ex-07", "ex-12"]
    opened: dict[str, list[int]] = {}
    for k in range(260):
        r = rows[rnd.randrange(machines)]
        at = now - dt.timedelta(minutes=rnd.randrange(5, 60 * 24 * 6))
        iid = store.open_incident(policy, label=r["label_number"], at=at, support=rnd.choice(["hw", "hw", "pp"]),
                                  cause=rnd.choice(causes), summary=rnd.choice(EVENTS)[2], operator=rnd.choice(operators))
        opened.setdefault(store.incident(iid)["verdict"], []).append(iid)
    for verdict, ids in opened.items():
        for iid in ids[: max(1, len(ids) // 4)]:
            op = rnd.choice(operators)
            store.claim(iid, operator=op)
            inc = store.incident(iid)
            if inc["verdict"] == "covered" and rnd.random() < 0.6:
                dep = inc["received_at"] + dt.timedelta(minutes=rnd.randrange(20, 90))
                late = "traffic" if inc["deadline"] is not None and dep > inc["deadline"] else None
                work = Work(dep, dep + dt.timedelta(minutes=rnd.randrange(40, 240)) if rnd.random() < 0.5 else None)
                consent = Consent("demo", "phone", dep) if quote_dispatch(policy, inc, work).customer_pays else None
                dispatch(store, policy, iid, operator=op, technician=f"tech-{rnd.randrange(1, 30):02d}", work=work,
                         late_reason=late, consent=consent)
    express = [r for r in rows if r["express_start_on"]]
    for k in range(120):
        r = rnd.choice(express)
        occurred = now - dt.timedelta(minutes=rnd.randrange(1, 60 * 24 * 3))
        raw = alarm_mail(r["computer_name"], occurred.replace(microsecond=0), rnd.choice(EVENTS), seq=k)
        ingest(store, policy, raw, via="smtp:127.0.0.1", received_at=occurred + dt.timedelta(seconds=20))
    bad = [b"this is not an alarm mail\n",
           alarm_mail("UNKNOWN-HOST", now.replace(microsecond=0), EVENTS[0], seq=9000),
           "Subject: alarm\nContent-Type: text/plain; charset=shift_jis\n\n\x82\xa0 broken".encode("latin-1")]
    for raw in bad:
        ingest(store, policy, raw, via="smtp:127.0.0.1", received_at=now)
    return store.counts()
