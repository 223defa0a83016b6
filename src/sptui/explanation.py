"""`sptui explain`: the decision as a readable trace, and what would change its outcome.

Counterfactuals are found by deciding again: the case is changed along the axes the terms care
about (when the call came, when the technician left, the cause, the site, the registration, the
number of technicians, the configuration info, the pack's term and variant) and every change that alters
the verdict, the fee, the deadline or the recovery action is reported. The values tried come from the
policy where it has them: the terms a variant is sold for, its service hours, the hours the onsite clock
counts. Nothing is guessed: each line is a real decision.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from sptui.clock.dates import add_months
from sptui.errors import NeverOpen
from sptui.model.case import VERDICT_JA, Case
from sptui.model.decision import Decision
from sptui.policy.decide import case_values, decide
from sptui.policy.expr import format_value
from sptui.tz import TOKYO, iso

MARK = {"pass": "✓", "fail": "✗", "warn": "!", "info": "·", "skip": "-", "error": "E"}


def _at(d: dt.date, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, hh, mm, tzinfo=TOKYO)


def _variants(policy, case: Case) -> Iterator[tuple[str, str, Case]]:
    """(english, japanese, changed case) for each change worth trying."""
    changed = case.changed
    at = case["at"]
    reg, dev, pack = case["registration"], case["device"], case["pack"]
    try:
        end = add_months(dev["purchased_on"], 12 * pack["years"], policy.date_rounding)
    except (ValueError, OverflowError):  # a period that ends past year 9999: there is no last day to try
        end = None
    if end is not None:
        last = end - dt.timedelta(days=1)
        t = _at(last, at.hour, at.minute)
        yield (f"if the call had come on {last} (the last day of the period)", f"受付が {last}（期間の最終日）であれば",
               changed(at=t))
    if reg["completed_on"]:
        t = _at(reg["completed_on"], at.hour, at.minute)
        yield (f"if the call had come on {reg['completed_on']} (registration completed)",
               f"受付が登録完了日 {reg['completed_on']} であれば", changed(at=t))
    if reg["status"] != "accepted" or not reg["completed_on"]:
        day = reg["completed_on"] or at.date()
        yield ("if NEC had completed the registration before the call", "受付前に登録が完了していれば",
               changed(registration__status="accepted", registration__completed_on=min(day, at.date())))
    if reg["agreed_end_on"]:
        yield ("without the agreed end date", "合意した終了日がなければ", changed(registration__agreed_end_on=None))
    longer = [y for y in policy.variants[pack["variant"]].years if y > pack["years"]]
    if longer:  # the longest term the policy sells this variant for
        yield (f"with a {max(longer)}-year pack", f"{max(longer)}年のパックであれば", changed(pack__years=max(longer)))
    if dev["country"] != "JP":
        yield ("if the machine were installed in Japan", "日本国内に設置されていれば", changed(device__country="JP"))
    if case["cause"]:
        yield ("if the cause were not an exclusion", "原因が除外作業でなければ", changed(cause=None))
    comp = case["component"]
    if comp and comp.get("kind") == "option":
        yield ("if it were the appliance body, not an option", "オプションではなく本体であれば",
               changed(component={"kind": "body", "category": None, "connection": None}))
    try:
        yield from _in_hours(policy, case)
    except NeverOpen:  # hours that never open (the decision says so): no opening to try
        pass
    work = case.get("work")
    if work:
        if work["technicians"] > 1:
            yield ("with one technician", "技術者1名であれば", changed(work__technicians=1))
    if case.get("failure") is not None and not dev["config_info"]:
        yield ("with the configuration information collected in advance (table 4)", "構成情報（表4）を事前採取していれば",
               changed(device__config_info=True))
    for name, v in policy.variants.items():
        if name != pack["variant"]:
            yield (f"on a {name} pack", f"{v.title_ja} のパックであれば", changed(pack__variant=name))


def _in_hours(policy, case: Case) -> Iterator[tuple[str, str, Case]]:
    """The call at the next opening of the hours of its support (hw or pp); the work's departure at the next
    opening of the hours the onsite clock counts (the policy's `onsite` block: hw unless it says otherwise)."""
    hours = policy.variants[case["pack"]["variant"]].hours
    at = case["at"]
    call = hours.get(case["support"])
    if call is not None and not call.contains(at):
        nxt = call.next_open(at)
        yield (f"if the call had come at {format_value(nxt)} (the next opening)", f"受付が {format_value(nxt)}（次の開始）であれば",
               case.changed(at=nxt))
    work = case.get("work")
    onsite = policy.blocks.get("onsite", {}).get("onsite")
    kind = getattr(onsite, "hours", "hw")
    site = hours.get(kind)
    if work and site is not None and not site.contains(work["departed_at"]):
        nxt = site.next_open(work["departed_at"])
        yield (f"if dispatched at {format_value(nxt)} (inside the {kind.upper()} hours)",
               f"{format_value(nxt)}（{kind.upper()}サービス時間内）に出発していれば",
               case.changed(work__departed_at=nxt, work__completed_at=nxt + (work["completed_at"] - work["departed_at"])))


def _outcome(d: Decision) -> dict:
    return {"verdict": d.verdict, "fee": d.fee.total_jpy if d.fee else None, "deadline": d.dispatch_deadline,
            "recovery": d.setting_recovery["action"] if d.setting_recovery else None}


def counterfactuals(policy, case: Case, decision: Decision, lang: str = "en") -> list[str]:
    """What would change the decision on `case` (read: a Case), each line a real decision on a changed case."""
    base = _outcome(decision)
    out: list[str] = []
    for en, ja, other in _variants(policy, case):
        moved_call = other["at"] != case["at"]  # a later call trivially moves the deadline: only the verdict counts
        try:
            alt = _outcome(decide(policy, other))
        except Exception:  # a change the case cannot take (e.g. a completion before departure)
            continue
        diffs = []
        if alt["verdict"] != base["verdict"]:
            diffs.append(f"判定は {VERDICT_JA.get(alt['verdict'], alt['verdict'])}" if lang == "ja"
                         else f"verdict {alt['verdict']}")
        if moved_call:
            alt = dict(base, verdict=alt["verdict"])
        if alt["fee"] != base["fee"]:
            diffs.append(("料金 " + (f"{alt['fee']:,}円" if alt["fee"] is not None else "なし")) if lang == "ja" else
                         ("fee " + (f"{alt['fee']:,} JPY" if alt["fee"] is not None else "none")))
        if alt["deadline"] != base["deadline"] and alt["verdict"] == base["verdict"]:
            diffs.append(("期限 " if lang == "ja" else "deadline ") + (format_value(alt["deadline"]) if alt["deadline"] else "—"))
        if alt["recovery"] != base["recovery"] and alt["verdict"] == base["verdict"]:
            diffs.append(("復旧 " if lang == "ja" else "recovery ") + str(alt["recovery"]))
        if diffs:
            out.append(f"{ja}: {'、'.join(diffs)}" if lang == "ja" else f"{', '.join(diffs)} {en}")
    return out


OUTCOME_JA = {"pass": "適合", "fail": "不適合", "warn": "注意", "info": "情報", "error": "エラー"}
LINE_JA = {"base": "基本", "add": "加算", "day": "日中", "evening": "夜間", "night": "深夜"}  # a fee line's kind, band
WORDS = {  # (ja, en)
    "verdict": ("判定", "verdict"), "policy": ("ポリシー", "policy"), "skip": ("対象外", "does not apply"),
    "note": ("注記", "note"), "in_service_hours": ("サービス時間内", "in service hours"),
    "deadline": ("オンサイト期限", "dispatch deadline"), "fee": ("料金", "fee"),
    "quote": ("見積が必要", "needs a quote"), "recovery": ("設定復旧", "setting recovery"),
    "contact": ("次の連絡", "next contact"), "arrange": ("技術者の手配", "arrange technician"),
    "what_if": ("何が変われば結果が変わるか:", "what would change the outcome:"),
}


def _w(key: str, ja: bool) -> str:
    return WORDS[key][0 if ja else 1]


def _yes(v: bool, ja: bool) -> str:
    return ("はい" if v else "いいえ") if ja else str(v)


def _trace_lines(policy, d: Decision, lang: str) -> list[str]:
    """Each rule: mark, name, outcome, message, clauses; its note below (in Japanese where the block gives one)."""
    ja = lang == "ja"
    notes_ja = policy.rt.notes_ja if ja else {}
    lines = []
    for r in d.trace:
        cite = ", ".join(r.cite)
        if r.outcome == "skip":
            lines.append(f"  {MARK['skip']} {r.rule:<24} {_w('skip', ja):<14}  [{cite}]")
            continue
        outcome = OUTCOME_JA.get(r.outcome, r.outcome) if ja else r.outcome
        lines.append(f"  {MARK.get(r.outcome, '?')} {r.rule:<24} {outcome:<5} {r.message(lang)}  [{cite}]")
        if r.note:
            lines.append(f"      {_w('note', ja)}: {notes_ja.get(r.note, r.note)}")
    return lines


def _field_lines(d: Decision, ja: bool) -> list[str]:
    """The computed fields: in service hours, the deadline, the fee and its lines, the recovery, the contact."""
    lines = [f"{_w('in_service_hours', ja)}: {_yes(d.in_service_hours, ja)}",
             f"{_w('deadline', ja)}: {iso(d.dispatch_deadline) or '—'}"]
    if d.fee:
        money = f"{d.fee.total_jpy:,}円" if ja else f"{d.fee.total_jpy:,} JPY"
        lines.append(f"{_w('fee', ja)}: {money} ({d.fee.per_technician_jpy:,} × {d.fee.technicians})"
                     + (f" — {_w('quote', ja)}" if d.fee.needs_quote else ""))
        for ln in d.fee.lines:
            kind, band = (LINE_JA.get(ln.kind, ln.kind), LINE_JA.get(ln.band, ln.band)) if ja else (ln.kind, ln.band)
            lines.append(f"  {kind:<4} {band:<8} {format_value(ln.starts_at)}  {ln.amount_jpy:>7,}")
    if d.setting_recovery:
        lines.append(f"{_w('recovery', ja)}: {d.setting_recovery['action']}")
    if d.contact:
        lines.append(f"{_w('contact', ja)}: {iso(d.contact['next_contact_at']) or '—'}; {_w('arrange', ja)}: "
                     f"{_yes(d.contact['arrange_technician'], ja)}")
    return lines


def explain(policy, case, *, lang: str = "en") -> str:
    """The decision on `case` (a JSON-like dict or a Case) as a readable trace, then what would change it; CaseError
    if the case is bad. (Public as sptui.explain: this module is not named so, which would hide that function.)
    In Japanese (`lang="ja"`) every word is Japanese, the notes too where the policy gives them (`note-ja`)."""
    case = case_values(policy, case)
    d = decide(policy, case)
    ja = lang == "ja"
    verdict = f"{VERDICT_JA.get(d.verdict, d.verdict)}（{d.verdict}）" if ja else d.verdict
    lines = [f"{_w('verdict', ja)}: {verdict}    {_w('policy', ja)} {d.policy_name} {d.policy_version} "
             f"({d.policy_digest[:19]}…)", ""]
    lines += _trace_lines(policy, d, lang)
    lines.append("")
    lines += _field_lines(d, ja)
    cf = counterfactuals(policy, case, d, lang)
    if cf:
        lines.append("")
        lines.append(_w("what_if", ja))
        lines.extend(f"  → {c}" for c in cf)
    return "\n".join(lines)
