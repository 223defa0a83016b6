"""Test helpers for plugin authors: a pytest plugin (`pytest -p sptui.testing`, or in conftest.py
`pytest_plugins = ["sptui.testing"]`) and plain builders.

Fixtures:
- `sptui_policy_with(*plugins, policy=None)`: the shipped policy (or `policy`, a folder or files) loaded
  with these plugin modules beside the built-ins, and no installed plugin. A plugin that fails to
  load fails the test with its error.
- `sptui_case(**fields)`: a valid case for `policy.decide` (a machine covered today on a 5-year
  weekday-9h pack), with fields replaced by dotted name: `sptui_case(at="2026-05-06T10:00:00+09:00",
  **{"pack.variant": "sat-sun-8h", "pack.years": 3})`.
- `sptui_store`: an empty desk store in a SQLite file under the test's tmp_path.

Builders (importable without pytest): `make_case`, `registry_row`, `registry_csv`, `alarm_mail`, `tokyo`.
"""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from sptui.tz import TOKYO, parse_instant

BASE_CASE: dict[str, Any] = {
    "at": "2026-11-27T17:00:00+09:00", "support": "hw", "repair_needed": True,
    "pack": {"variant": "weekday-9h", "years": 5, "purchased_on": "2024-04-02"},
    "registration": {"status": "accepted", "submitted_on": "2024-04-10", "completed_on": "2024-04-20",
                     "agreed_end_on": None},
    "device": {"purchased_on": "2024-04-01", "manufacture_ended_on": None, "country": "JP", "config_info": True},
    "component": {"kind": "body", "category": None, "connection": None},
    "cause": None, "failure": None, "work": None, "alarm": None,
}


def tokyo(text: str) -> dt.datetime:
    """`tokyo("2026-05-06 10:00")`: an aware datetime in Asia/Tokyo (a string with an offset keeps its instant), read
    as the desk reads a time an operator types (sptui.tz.parse_instant); CaseError if it is none."""
    return parse_instant(text, "tokyo()", local=True)


def _json_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            raise ValueError(f"a naive datetime {v!r}: give it a zone (sptui.testing.tokyo)")
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def make_case(fields: dict[str, Any] | None = None, /, **kw: Any) -> dict:
    """A valid case as `sptui eval` reads it, with fields replaced by dotted name (`"pack.years": 6`).
    Records missing on the way are created (`"work.departed_at": …` makes `work`); dates and aware
    datetimes may be given as Python objects."""
    case = copy.deepcopy(BASE_CASE)
    for path, value in {**(fields or {}), **kw}.items():
        *parents, key = path.split(".")
        node = case
        for p in parents:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[key] = _json_value(value)
    work = case.get("work")
    if isinstance(work, dict) and "technicians" not in work:
        work["technicians"] = 1
    return case


REGISTRY_FIELDS = ("label_number,support_id,customer_organisation,customer_name,customer_address,customer_phone,"
                   "customer_email,pack_serial,variant,years,pack_purchased_on,model_code,serial_number,purchased_on,"
                   "site_organisation,site_address,site_name,site_phone,registration_status,submitted_on,completed_on,"
                   "agreed_end_on,manufacture_ended_on,country,config_info,computer_name,express_start_on,os_name,"
                   "report_method,seller,options").split(",")


def registry_row(i: int = 1, **over: Any) -> dict:
    """One valid registry row (machine `SV0001` for i=1, bought 2024-04-02, a 5-year weekday-9h pack)."""
    row = {
        "label_number": f"1234-{i // 1000:03d}-{i % 1000:03d}", "support_id": f"SP{i:08d}",
        "customer_organisation": f"顧客{i % 7}株式会社", "customer_name": f"担当 {i % 7}", "customer_address": "東京都港区芝5-7-1",
        "customer_phone": f"03-1234-{i % 7:04d}", "customer_email": f"desk{i % 7}@example.jp",
        "pack_serial": f"PK{i:06d}", "variant": "weekday-9h", "years": "5", "pack_purchased_on": "2024-04-02",
        "model_code": "N8100-2541Y", "serial_number": f"SN{i:07d}", "purchased_on": "2024-04-02",
        "site_organisation": f"設置先{i}", "site_address": "神奈川県川崎市中原区下沼部1753", "site_name": "現場 担当",
        "site_phone": f"044-000-{i % 10000:04d}", "registration_status": "accepted", "submitted_on": "2024-04-10",
        "completed_on": "2024-04-20", "agreed_end_on": "", "manufacture_ended_on": "", "country": "JP",
        "config_info": "yes", "computer_name": f"SV{i:04d}", "express_start_on": "2024-05-01",
        "os_name": "Windows Server 2022", "report_method": "mail", "seller": "販売店A", "options": "",
    }
    unknown = set(over) - set(row)
    if unknown:
        raise KeyError(f"not registry fields: {', '.join(sorted(unknown))}")
    row.update({k: str(v) for k, v in over.items()})
    return row


def registry_csv(rows: list[dict]) -> str:
    """Rows as the CSV `sptui registry import` and `store.registry.import_csv` read, each value written as `sptui
    registry export` writes it (`sptui.csvcell`: `=1+1` or `'t Hooft` imports as given)."""
    import csv
    import io

    from sptui.csvcell import to_cell

    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=REGISTRY_FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows({k: to_cell(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)
    return out.getvalue()


def alarm_mail(computer: str = "SV0001", occurred: dt.datetime | None = None, *, event_id: str = "0x8000070B",
               message_id: str | None = None, detail: str = "論理ドライブが縮退しました。",
               charset: str = "iso-2022-jp", sender: str = "esmpro@example.jp") -> bytes:
    """An ESMPRO/ServerAgent "Internet mail" alarm as a mail agent sends it (CRLF line ends)."""
    import email.policy
    from email.message import EmailMessage
    from email.utils import format_datetime

    occurred = occurred or dt.datetime.now(TOKYO).replace(microsecond=0)
    if occurred.tzinfo is None:
        raise ValueError("occurred must be an aware datetime (sptui.testing.tokyo)")
    occurred = occurred.astimezone(TOKYO)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "alarm@desk.example.jp"
    msg["Subject"] = f"ESMPRO Alert {computer}"
    msg["Date"] = format_datetime(occurred)
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    body = (f"コンピュータ名：{computer}\n製品名：Express5800/R120h-1M\n発生日付：{occurred:%Y/%m/%d}\n"
            f"発生時間：{occurred:%H:%M:%S}\n[トラップ名]\nディスク障害\n[ソース名]\nESMDiskArray\n[イベントID]\n{event_id}\n"
            f"[詳細メッセージ]\n{detail}\n[対処方法]\n保守員に連絡してください。\n[アラートタイプ]\nESMPRO/AC\n")
    msg.set_content(body, charset=charset)
    return msg.as_bytes(policy=email.policy.SMTP)


def shipped_policy() -> str:
    """sptui's own policy: $SPTUI_POLICY if set, else the policy sptui ships (package data), whatever the
    current folder holds (a plugin's project may have a policies/ folder of its own)."""
    import os

    import sptui

    return os.environ.get("SPTUI_POLICY") or sptui.shipped_policy_dir()


def load_policy_with(*plugins: Any, policy: str | Path | None = None, entry_points: bool = False):
    """The policy loaded with these plugin modules (and the built-ins); raises AssertionError naming each
    plugin that failed to load or register, and PolicyError (every diagnostic, with its file:line:col) if
    the policy with the plugins' files has errors."""
    from sptui.errors import PolicyError
    from sptui.plugins.manager import PluginManager
    from sptui.policy.compile import check

    pm = PluginManager(entry_points=entry_points, extra=tuple(plugins))
    pm.check_names()  # every hook runs now, so its failures show here
    if pm.failures:
        raise AssertionError("plugin failures:\n" + "\n".join(f"  {f.plugin} [{f.stage}]: {f.error}" for f in pm.failures))
    # strict, unlike load_policy: an error in the plugin's own policy files fails the test, with its position
    loaded, diags, sources = check([policy or shipped_policy()], plugins=pm)
    if loaded is None:
        raise PolicyError(diags, sources)
    return loaded


# ---- the pytest plugin ------------------------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # pragma: no cover - the builders work without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    @pytest.fixture
    def sptui_policy_with():
        """`sptui_policy_with(*plugins, policy=None)` → a Policy with these plugins (see load_policy_with)."""
        return load_policy_with

    @pytest.fixture
    def sptui_case():
        """`sptui_case(**dotted_fields)` → a valid case dict (see make_case)."""
        return make_case

    @pytest.fixture
    def sptui_store(tmp_path):
        """An empty desk store in a SQLite file under tmp_path (closed after the test)."""
        from sptui.store import Store

        s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
        yield s
        s.close()
