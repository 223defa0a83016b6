"""A policy change replayed: every case decided under the old and the new policy, and each decision that changed —
which fields (verdict, in service hours, deadline, fee, setting recovery, contact), old → new, and which rules and
clauses changed their outcome. The cases come from a JSON-lines file (the CLI reads it) or from the store: the
case recorded with each incident and alarm, as decided then, replayed as of its own `at` (a decision depends on
its case alone, so replaying it today gives what the policy would have said then).

    report = replay(old_policy, new_policy, store_cases(store))     # or ((ref, case) pairs)
    report.changed, report.summary(), report.to_json(), report.lines("ja")
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Iterator

import attrs

from sptui.desk.cases import alarm_case
from sptui.errors import CaseError
from sptui.model.decision import Decision
from sptui.tz import iso

FIELDS = ("verdict", "in_service_hours", "dispatch_deadline", "fee", "setting_recovery", "contact")


@attrs.frozen
class FieldChange:
    field: str  # verdict, in_service_hours, dispatch_deadline, fee.total_jpy, fee.lines, …, or case (decidable)
    old: Any  # as eval.md's JSON writes it
    new: Any


@attrs.frozen
class RuleChange:
    rule: str
    old: str | None  # the outcome (pass, fail, warn, info, skip, error); None: the rule is not in that policy
    new: str | None
    cite: tuple[str, ...]
    message_only: bool = False  # same outcome, another message (a deadline moved, a fee changed)


@attrs.frozen
class Change:
    """One case whose decision changed: where it came from (`ref`: its line, or incident/alarm id and label),
    each field that changed, each rule whose outcome changed, and the clauses those rules cite."""
    ref: dict
    fields: tuple[FieldChange, ...]
    rules: tuple[RuleChange, ...]

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for r in self.rules for c in r.cite))

    def to_json(self) -> dict:
        return {"case": self.ref,
                "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in self.fields],
                "rules": [{"rule": r.rule, "old": r.old, "new": r.new, "cite": ", ".join(r.cite),
                           "message_only": r.message_only} for r in self.rules],
                "clauses": list(self.clauses)}


@attrs.define
class Report:
    """What a replay found: how many cases, each changed decision, each case neither policy could read."""
    cases: int = 0
    changed: list[Change] = attrs.field(factory=list)
    errors: list[tuple[dict, str]] = attrs.field(factory=list)  # (ref, why)

    def summary(self) -> dict:
        by_field: Counter = Counter(f.field.split(".")[0] for c in self.changed for f in c.fields)
        by_clause: Counter = Counter(cl for c in self.changed for cl in c.clauses)
        return {"cases": self.cases, "changed": len(self.changed), "errors": len(self.errors),
                "by_field": dict(sorted(by_field.items(), key=lambda kv: FIELDS.index(kv[0]) if kv[0] in FIELDS else 99)),
                "by_clause": dict(by_clause.most_common())}

    def to_json(self) -> dict:
        return {"summary": self.summary(), "changes": [c.to_json() for c in self.changed],
                "errors": [{"case": ref, "error": why} for ref, why in self.errors]}


# ---- comparing two decisions -------------------------------------------------------------------------------
def _value(field: str, v: Any) -> Any:
    if field == "dispatch_deadline":
        return iso(v)
    if field == "contact" and v is not None:
        return {**v, "next_contact_at": iso(v.get("next_contact_at"))}
    return v


def _fee_changes(old, new) -> list[FieldChange]:
    if old is None or new is None:
        return [FieldChange("fee", old.to_json() if old else None, new.to_json() if new else None)]
    a, b = old.to_json(), new.to_json()
    return [FieldChange(f"fee.{k}", a.get(k), b.get(k)) for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]


def field_changes(old: Decision, new: Decision) -> list[FieldChange]:
    """Each field of eval.md's decision that differs, old → new (the fee by its parts: total, lines…)."""
    out = []
    for f in FIELDS:
        a, b = getattr(old, f), getattr(new, f)
        if a == b:
            continue
        if f == "fee":
            out.extend(_fee_changes(a, b))
        else:
            out.append(FieldChange(f, _value(f, a), _value(f, b)))
    return out


def _outcome(r) -> str:
    """A rule's outcome as a replay compares it: a failing rule with the verdict it sets (`fail (not-covered)`)."""
    return f"{r.outcome} ({r.effect})" if r.outcome == "fail" and r.effect else r.outcome


def _outcomes(d: Decision) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {}
    for r in d.recorded:
        out.setdefault(r.rule, (_outcome(r), r))
    return out


def rule_changes(old: Decision, new: Decision, *, messages: bool) -> list[RuleChange]:
    """The rules whose outcome (or the verdict a failure sets) differs (a rule only one policy has: None on the
    other side); with `messages`, also those whose outcome is the same but whose message is not (the rule that
    states a moved deadline)."""
    if not messages and ([(r.rule, r.outcome, r.effect) for r in old.recorded]
                         == [(r.rule, r.outcome, r.effect) for r in new.recorded]):
        return []
    a, b = _outcomes(old), _outcomes(new)
    trace_a, trace_b = {r.rule: r for r in old.trace}, {r.rule: r for r in new.trace}
    out = []
    for rule in dict.fromkeys([*a, *b]):
        oa, ob = a.get(rule, (None, None))[0], b.get(rule, (None, None))[0]
        cite = (b.get(rule) or a.get(rule))[1].cite
        if oa != ob:
            out.append(RuleChange(rule, oa, ob, cite))
        elif messages and oa != "skip" and trace_a[rule].message_en != trace_b[rule].message_en:
            out.append(RuleChange(rule, oa, ob, cite, message_only=True))
    return out


def compare(ref: dict, old: Decision, new: Decision) -> Change | None:
    """The change between two decisions of one case, or None if every field and every rule's outcome is the same."""
    fields = field_changes(old, new)
    rules = rule_changes(old, new, messages=bool(fields))
    return Change(ref, tuple(fields), tuple(rules)) if fields or rules else None


# ---- replaying ---------------------------------------------------------------------------------------------
def _decide(policy, case) -> Decision | str:
    try:
        return policy.decide(case)
    except CaseError as e:
        return f"{e.field}: {e.message}"


def _domain(policy) -> tuple:
    """What reading a case depends on under a policy: its variants and the values its tables allow."""
    rt = policy.rt
    return (frozenset(rt.variant_names), {k: (d.values, d.source) for k, d in rt.domains.items()})


class Replayer:
    """Decides cases under two policies. When both read a case alike (the same variants and domains), the case is
    read once and the Case given to both (each still runs its own checks on it: years sold, its blocks' checks)."""

    def __init__(self, old_policy, new_policy):
        self.old, self.new = old_policy, new_policy
        self.read_once = _domain(old_policy) == _domain(new_policy)

    def one(self, ref: dict, case: Any) -> Change | str | None:
        """One case under both policies: its Change, None if it did not change, or why neither can decide it."""
        from sptui.policy.decide import case_values

        if self.read_once:
            try:
                case = case_values(self.old, case)
            except CaseError:
                pass  # (then each policy reads it, and says why)
        old, new = _decide(self.old, case), _decide(self.new, case)
        if isinstance(old, str) and isinstance(new, str):
            return old if old == new else f"{old} (old policy); {new} (new policy)"
        if isinstance(old, str) or isinstance(new, str):  # one policy cannot read the case: that is the change
            return Change(ref, (FieldChange("case", old if isinstance(old, str) else old.verdict,
                                            new if isinstance(new, str) else new.verdict),), ())
        return compare(ref, old, new)


def replay(old_policy, new_policy, cases: Iterable[tuple[dict, Any]]) -> Report:
    """Every case (ref, case: an eval.md case, or an error string for one that could not be read) under both."""
    report, replayer = Report(), Replayer(old_policy, new_policy)
    for ref, case in cases:
        report.cases += 1
        if isinstance(case, str):
            report.errors.append((ref, case))
            continue
        out = replayer.one(ref, case)
        if isinstance(out, str):
            report.errors.append((ref, out))
        elif out is not None:
            report.changed.append(out)
    return report


def store_cases(store, since=None) -> Iterator[tuple[dict, Any]]:
    """The cases recorded in the store (store.recorded), each with its ref: {"incident": id, "label": …} or
    {"alarm": …}. An alarm filed before its case was kept (schema 0009) has its case rebuilt as the desk decided
    it: the machine as registered now, the alarm's receipt and the calls made since."""
    from sptui.store.recorded import recorded_cases

    for r in recorded_cases(store.db, since):
        ref = {r.kind: r.id, "label": r.label, "at": iso(r.at)}
        case = r.case
        if case is None and r.kind == "alarm":
            try:
                machine = store.registry.machine_by_id(r.machine_id)
                case = alarm_case(machine, r.at, store.alarms.contact_attempts(r.id))
            except Exception as e:  # a machine whose pack cannot be read: reported, the rest go on
                case = f"the alarm's case could not be rebuilt: {type(e).__name__}: {e}"
        yield ref, case


# ---- in words (the CLI says them escaped, the desk through tui/text.py) ---------------------------------------
WORDS = {
    "en": {"verdict": "verdict", "in_service_hours": "in service hours", "dispatch_deadline": "dispatch deadline",
           "fee": "fee", "setting_recovery": "setting recovery", "contact": "contact", "case": "case",
           "incident": "incident", "alarm": "alarm", "line": "line", "rule": "rule", "none": "none",
           "yes": "yes", "no": "no", "absent": "(not in this policy)", "message": "(message changed)",
           "undecided": "could not be decided", "by clause": "by clause", "by field": "by field"},
    "ja": {"verdict": "判定", "in_service_hours": "サービス時間内", "dispatch_deadline": "オンサイト期限",
           "fee": "料金", "setting_recovery": "設定復旧", "contact": "連絡", "case": "ケース",
           "incident": "インシデント", "alarm": "アラーム", "line": "行", "rule": "規則", "none": "なし",
           "yes": "はい", "no": "いいえ", "absent": "（このポリシーにない）", "message": "（メッセージが変わる）",
           "undecided": "判定できません", "by clause": "条項別", "by field": "項目別"},
}


def _word(lang: str, key: str) -> str:
    return WORDS["ja" if lang == "ja" else "en"].get(key, key)


def _fee_lines_text(lines: list, lang: str) -> str:
    yen = "円" if lang == "ja" else " JPY"
    return "; ".join(f"{ln.get('kind')} {ln.get('band')} {str(ln.get('starts_at', ''))[11:16]} {ln.get('amount_jpy', 0):,}{yen}"
                     for ln in lines if isinstance(ln, dict))


def _shown(v: Any, lang: str) -> str:
    """A field's value in words: none/yes/no, 16,000, a fee as its total and lines, else compact JSON."""
    import json

    if isinstance(v, dict) and "total_jpy" in v and isinstance(v.get("lines"), list):
        yen = "円" if lang == "ja" else " JPY"
        return f"{v['total_jpy']:,}{yen} ({_fee_lines_text(v['lines'], lang)})"
    if isinstance(v, list) and v and all(isinstance(x, dict) and "amount_jpy" in x for x in v):
        return _fee_lines_text(v, lang)
    if v is None:
        return _word(lang, "none")
    if isinstance(v, bool):
        return _word(lang, "yes" if v else "no")
    if isinstance(v, int):
        return f"{v:,}"
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _field_name(field: str, lang: str) -> str:
    head, _, rest = field.partition(".")
    return _word(lang, head) + (f".{rest}" if rest else "")


def ref_text(ref: dict, lang: str = "en") -> str:
    """Where a case came from: `incident 12 · 1234-567-890 · 2026-…` or `line 3`."""
    for kind in ("incident", "alarm", "line"):
        if kind in ref:
            parts = [f"{_word(lang, kind)} {ref[kind]}"] + [str(ref[k]) for k in ("label", "at") if ref.get(k)]
            return " · ".join(parts)
    return str(ref)


def change_lines(c: Change, lang: str = "en") -> list[str]:
    """One changed decision in words: where from, then each field old → new, then each rule that changed."""
    out = [ref_text(c.ref, lang)]
    out += [f"  {_field_name(f.field, lang)}: {_shown(f.old, lang)} → {_shown(f.new, lang)}" for f in c.fields]
    for r in c.rules:
        cite = f" ({', '.join(r.cite)})" if r.cite else ""
        what = (f"{r.old} {_word(lang, 'message')}" if r.message_only else
                f"{r.old or _word(lang, 'absent')} → {r.new or _word(lang, 'absent')}")
        out.append(f"  {_word(lang, 'rule')} {r.rule}: {what}{cite}")
    return out


def summary_line(report: Report, lang: str = "en") -> str:
    """`this change alters 14 of 2,310 decisions (1 could not be decided): verdict 9, …; by clause: 第1章 4 9, …`"""
    s = report.summary()
    fields = ", ".join(f"{_word(lang, k)} {n:,}" for k, n in s["by_field"].items())
    clauses = ", ".join(f"{k} {n:,}" for k, n in s["by_clause"].items())
    if lang == "ja":
        head = f"この変更で {s['cases']:,} 件中 {s['changed']:,} 件の判定が変わります"
        head += f"（{s['errors']:,} 件は判定できません）" if s["errors"] else ""
    else:
        head = f"this change alters {s['changed']:,} of {s['cases']:,} decisions"
        head += f" ({s['errors']:,} could not be decided)" if s["errors"] else ""
    tail = "".join(f"; {_word(lang, k)}: {v}" for k, v in (("by field", fields), ("by clause", clauses)) if v)
    return head + tail


def report_lines(report: Report, lang: str = "en") -> list[str]:
    """The whole report in words: each change, each case that could not be decided, the summary last."""
    out: list[str] = []
    for c in report.changed:
        out += change_lines(c, lang)
    for ref, why in report.errors:
        out.append(f"{ref_text(ref, lang)}: {_word(lang, 'undecided')}: {why}")
    out.append(summary_line(report, lang))
    return out
