"""`sptui explain`: the decision as a readable trace, and what would change its outcome."""
from __future__ import annotations

from sptui.engine import decide
from sptui.model.decision import iso

MARK = {"pass": "✓", "fail": "✗", "warn": "!", "info": "·", "skip": "-", "error": "E"}


def explain(policy, case: dict, *, lang: str = "en") -> str:
    d = decide(policy, case)
    lines = [f"verdict: {d.verdict}    policy {d.policy_name} {d.policy_version} ({d.policy_digest[:19]}…)", ""]
    for r in d.trace:
        cite = ", ".join(r.cite)
        if r.outcome == "skip":
            lines.append(f"  {MARK['skip']} {r.rule:<24} does not apply                [{cite}]")
            continue
        lines.append(f"  {MARK.get(r.outcome, '?')} {r.rule:<24} {r.outcome:<5} {r.message(lang)}  [{cite}]")
        if r.note:
            lines.append(f"      note: {r.note}")
    lines.append("")
    lines.append(f"in service hours: {d.in_service_hours}")
    lines.append(f"dispatch deadline: {iso(d.dispatch_deadline) or '—'}")
    if d.fee:
        lines.append(f"fee: {d.fee.total_jpy:,} JPY ({d.fee.per_technician_jpy:,} × {d.fee.technicians})"
                     + (" — needs a quote" if d.fee.needs_quote else ""))
    if d.setting_recovery:
        lines.append(f"setting recovery: {d.setting_recovery['action']}")
    if d.contact:
        lines.append(f"next contact: {iso(d.contact['next_contact_at']) or '—'}; arrange technician: "
                     f"{d.contact['arrange_technician']}")
    return "\n".join(lines)
