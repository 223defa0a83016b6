"""The month's billing: every dispatch of the month the customer pays for — off-hours work and billable
exclusions charged by 別表-1, and uncovered work to be quoted — with its 別表-1 lines, technicians, the customer's
consent, the customer and the contract; totals per customer. The fees are the ones the desk stored with each
dispatch (decided once, by the desk's quote path): nothing is decided again here.

    b = billing(store, "2026-11")       # b.json(), b.csv_rows() (cells through sptui.csvcell by the writer)

A month is the Japan-time calendar month; a dispatch belongs to the month of its departure. A dispatch whose
completion is not recorded yet has no fee yet (`fee_total_jpy` empty, `pending`): it is listed, and its customer's
total counts it as pending.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import attrs

from sptui.desk.report import off_hours
from sptui.store import BadRequest
from sptui.tz import TOKYO, iso

MONTH = re.compile(r"(\d{4})-(\d{2})")
COLUMNS = ("record", "dispatch", "incident", "customer", "customer_id", "label_number", "pack_serial", "variant", "years", "verdict",
           "kind", "billing", "technician", "technicians", "departed_at", "completed_at", "fee_total_jpy",
           "per_technician_jpy", "needs_quote", "line", "line_kind", "band", "starts_at", "amount_jpy", "consent_by", "consent_via",
           "consent_at", "confirmed_by", "operator", "dispatches", "pending")


def month_span(text: str) -> tuple[dt.datetime, dt.datetime]:
    """`2026-11` → [1 Nov 00:00, 1 Dec 00:00) in Japan time; BadRequest for anything else."""
    m = MONTH.fullmatch(unicodedata.normalize("NFKC", text).strip()) if isinstance(text, str) else None
    if m is None or not 1 <= int(m[2]) <= 12 or not 1900 <= int(m[1]) <= 2999:
        raise BadRequest(f"--month: expected a month like 2026-11, got {text!r}")
    year, month = int(m[1]), int(m[2])
    start = dt.datetime(year, month, 1, tzinfo=TOKYO)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TOKYO)
    return start, end


def _kind(d: dict) -> str:
    """Why the customer pays: off-hours work, a billable exclusion, or work the pack does not cover."""
    if off_hours(d):
        return "off-hours"
    return "billable" if d["verdict"] == "billable" else "uncovered" if d["billing"] == "quote-needed" else d["verdict"]


@attrs.frozen
class Billing:
    month: str
    since: dt.datetime
    until: dt.datetime
    dispatches: list[dict]  # each with its kind, fee (or None) and lines

    def totals(self) -> list[dict[str, Any]]:
        """Per customer (two customers of one name apart), by name: how many dispatches, the sum of their stored
        fees, how many have no fee yet."""
        acc: dict[int, dict[str, Any]] = {}
        for d in self.dispatches:
            t = acc.setdefault(d["customer_id"], {"customer": d["customer"], "customer_id": d["customer_id"],
                                                  "dispatches": 0, "total_jpy": 0, "pending": 0})
            t["dispatches"] += 1
            if d["fee"] is None:
                t["pending"] += 1
            else:
                t["total_jpy"] += d["fee"]["total_jpy"]
        return sorted(acc.values(), key=lambda t: (t["customer"], t["customer_id"]))

    @property
    def total_jpy(self) -> int:
        return sum(t["total_jpy"] for t in self.totals())

    def json(self) -> dict:
        return {"schema": 1, "month": self.month, "since": iso(self.since), "until": iso(self.until),
                "dispatches": [_dispatch_json(d) for d in self.dispatches], "totals": self.totals(),
                "total_jpy": self.total_jpy}

    def csv_rows(self) -> list[dict[str, Any]]:
        """Rows under COLUMNS: each dispatch (`record` dispatch), each of its 別表-1 lines (`line`), then each
        customer's total (`total`) and the month's (`month`)."""
        out: list[dict[str, Any]] = []
        for d in self.dispatches:
            j = _dispatch_json(d)
            fee = j.pop("fee") or {}
            j.update(record="dispatch", fee_total_jpy=fee.get("total_jpy"), per_technician_jpy=fee.get("per_technician_jpy"),
                     needs_quote=fee.get("needs_quote"))
            out.append(j)
            for n, line in enumerate(fee.get("lines") or [], 1):
                out.append({"record": "line", "dispatch": d["id"], "incident": d["incident_id"], "customer": d["customer"],
                            "line": n, "line_kind": line.get("kind"), "band": line.get("band"),
                            "starts_at": line.get("starts_at"), "amount_jpy": line.get("amount_jpy")})
        for t in self.totals():
            out.append({"record": "total", "customer": t["customer"], "customer_id": t["customer_id"],
                        "dispatches": t["dispatches"],
                        "fee_total_jpy": t["total_jpy"], "pending": t["pending"]})
        out.append({"record": "month", "customer": "", "dispatches": len(self.dispatches), "fee_total_jpy": self.total_jpy,
                    "pending": sum(t["pending"] for t in self.totals())})
        return out


def _dispatch_json(d: dict) -> dict[str, Any]:
    return {"dispatch": d["id"], "incident": d["incident_id"], "customer": d["customer"], "customer_id": d["customer_id"],
            "label_number": d["label_number"],
            "pack_serial": d["pack_serial"], "variant": d["variant"], "years": d["years"], "verdict": d["verdict"],
            "kind": _kind(d), "billing": d["billing"], "technician": d["technician"], "technicians": d["technicians"],
            "departed_at": iso(d["departed_at"]), "completed_at": iso(d["completed_at"]), "fee": d["fee"],
            "consent_by": d["consent_by"], "consent_via": d["consent_via"], "consent_at": iso(d["consent_at"]),
            "confirmed_by": d["confirmed_by"], "operator": d["operator"]}


def billing(store, month: str) -> Billing:
    """The month's billable and off-hours dispatches, as the store kept them (see the module docstring)."""
    since, until = month_span(month)
    return Billing(f"{since:%Y-%m}", since, until, store.reports.dispatches(since, until, billable_only=True))
