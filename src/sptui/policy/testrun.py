"""Policy tests (`sptui test`): named cases and tests with expected decision fields, as `opa test` does.

A test file (`*_test.sptp`) holds `case NAME { … }` templates and `test NAME { given …  case { … }
expect { … } }` blocks. A case body uses the field names of `sptui eval`; a test's `case` is merged
over its `given`. Coverage reports which rules and which clauses the tests exercised.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path as FsPath
from typing import Any

import attrs

from sptui.errors import CaseError
from sptui.files import FileProblem, read_text
from sptui.model.case import FIELDS
from sptui.model.decision import Decision
from sptui.policy.ast import ClauseRef, Let, Literal, Path, Span
from sptui.policy.decide import decide
from sptui.policy.diagnostics import Diagnostic, did_you_mean
from sptui.policy.parse import parse_text
from sptui.policy.sources import display_name

EXPECT_FIELDS = {
    "verdict": "symbol", "in_service_hours": "bool", "dispatch_deadline": "datetime",
    "fee": {"total_jpy": "int", "per_technician_jpy": "int", "needs_quote": "bool", "technicians": "int"},
    "setting_recovery": {"action": "symbol"},
    "contact": {"next_contact_at": "datetime", "arrange_technician": "bool"},
    "outcome": "rule-outcome",
}


@attrs.frozen
class PolicyTest:
    name: str
    file: str
    span: Span
    case: dict
    expect: dict  # field -> expected (None means null); "outcome" -> [(rule, outcome)]
    cites: tuple[str, ...]
    places: dict = attrs.field(factory=dict, eq=False)  # "fee", "fee.total_jpy", "outcome.RULE" -> its Span (--update)


@attrs.frozen
class Failure:
    field: str
    expected: Any
    got: Any
    reasons: tuple  # the reasons behind the field


@attrs.frozen
class TestResult:
    test: PolicyTest
    failures: tuple[Failure, ...]
    error: str | None
    decision: Decision | None

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None


def _value(node) -> Any:
    if isinstance(node, Literal):
        v = node.value
        if node.kind == "datetime":
            return v.isoformat()
        if node.kind == "date":
            return v.isoformat()
        if node.kind == "money":
            return v.yen
        return v
    if isinstance(node, Path) and len(node.parts) == 1:
        return node.parts[0]
    if isinstance(node, ClauseRef):
        return str(node)
    return None


def _body_to_dict(entries, prefix: str, diags: list[Diagnostic]) -> dict:
    out: dict[str, Any] = {}
    for e in entries:
        if isinstance(e, Let):
            diags.append(Diagnostic("E080", "a case holds fields, not lets", e.key_span, ""))
            continue
        if prefix == "alarm." and e.key == "attempt":
            at = _value(e.args[0]) if e.args else None
            reached = _value(e.args[1]) if len(e.args) > 1 else None
            out.setdefault("contact_attempts", []).append({"at": at, "reached": reached})
            continue
        path = prefix + e.key
        if path not in FIELDS:
            cands = [k[len(prefix):] for k in FIELDS if k.startswith(prefix) and "." not in k[len(prefix):]]
            diags.append(Diagnostic("E080", f"the case has no field `{path}`", e.key_span, did_you_mean(e.key, cands)))
            continue
        if e.body is not None:
            out[e.key] = _body_to_dict(e.body, path + ".", diags)
        elif len(e.args) == 1:
            out[e.key] = _value(e.args[0])
        else:
            diags.append(Diagnostic("E080", f"`{e.key}` takes one value", e.key_span, ""))
    return out


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _expect(entries, diags: list[Diagnostic], places: dict | None = None) -> dict:
    out: dict[str, Any] = {}
    places = {} if places is None else places
    for e in entries:
        if isinstance(e, Let) or e.key not in EXPECT_FIELDS:
            span = e.key_span
            diags.append(Diagnostic("E080", f"a test cannot expect `{getattr(e, 'key', 'let')}`", span,
                                    did_you_mean(getattr(e, "key", ""), EXPECT_FIELDS)))
            continue
        spec = EXPECT_FIELDS[e.key]
        places[e.key] = e.span
        if e.key == "outcome":
            if len(e.args) != 2:
                diags.append(Diagnostic("E080", "outcome takes a rule and an outcome", e.key_span, "outcome service-period, pass"))
                continue
            out.setdefault("outcome", []).append((_value(e.args[0]), _value(e.args[1])))
            places[f"outcome.{_value(e.args[0])}"] = e.span
        elif isinstance(spec, dict):
            if e.body is None:
                v = _value(e.args[0]) if len(e.args) == 1 else "?"
                if v is not None:
                    diags.append(Diagnostic("E080", f"`{e.key}` is null or a block of fields", e.key_span,
                                            f"{e.key} {{ {next(iter(spec))} … }}"))
                out[e.key] = None
            else:
                sub = {}
                for s in e.body:
                    if isinstance(s, Let) or s.key not in spec:
                        diags.append(Diagnostic("E080", f"`{e.key}` has no field `{getattr(s, 'key', 'let')}`", s.key_span,
                                                did_you_mean(getattr(s, "key", ""), spec)))
                        continue
                    sub[s.key] = _value(s.args[0]) if s.args else None
                    places[f"{e.key}.{s.key}"] = s.span
                out[e.key] = sub
        else:
            out[e.key] = _value(e.args[0]) if e.args else None
    return out


def _duplicate(what: str, item, first: Span) -> Diagnostic:
    return Diagnostic("E036", f"a second {what} named `{item.name}`", item.key_span,
                      f"the first is at {first.file}:{first.line}; give this one another name")


def _read_test(item, file: str, templates: dict[str, dict], diags: list[Diagnostic]) -> PolicyTest:
    """A `test NAME { given … case { … } expect { … } cite … }` block."""
    case: dict = {}
    expect: dict = {}
    places: dict = {}
    cites: list[str] = []
    for e in item.body:
        if isinstance(e, Let):
            diags.append(Diagnostic("E080", "a test takes given, case, expect and cite", e.key_span, ""))
        elif e.key == "given":
            tname = _value(e.args[0]) if e.args else None
            if tname not in templates:
                diags.append(Diagnostic("E081", f"no case template named `{tname}` above this test", e.args[0].span
                                        if e.args else e.key_span, did_you_mean(str(tname), templates)))
            else:
                case = _merge(templates[tname], case)
        elif e.key == "case" and e.body is not None:
            case = _merge(case, _body_to_dict(e.body, "", diags))
        elif e.key == "expect" and e.body is not None:
            expect = _expect(e.body, diags, places)
        elif e.key == "cite":
            cites.extend(str(a) for a in e.args)
        else:
            diags.append(Diagnostic("E080", f"a test takes given, case, expect and cite, not `{e.key}`", e.key_span,
                                    did_you_mean(e.key, ["given", "case", "expect", "cite"])))
    if not expect:
        diags.append(Diagnostic("E080", f"test `{item.name}` expects nothing", item.key_span, "add expect { verdict … }"))
    return PolicyTest(item.name, file, item.key_span, case, expect, tuple(cites), places)


def load_tests(files: list[FsPath]) -> tuple[list[PolicyTest], list[Diagnostic], dict[str, str]]:
    tests: list[PolicyTest] = []
    diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    seen_tests: dict[str, Span] = {}  # a test's name is its handle (-k, --update, the report): one test per name
    for f in files:
        name = display_name(f)
        try:
            text = read_text(f, name=name, within=f.parent)
        except FileProblem as e:
            diags.append(Diagnostic("E010", f"`{name}` {e.reason}", Span(name, 1, 1, 1, 1),
                                    "a test file is a UTF-8 text file named *_test.sptp"))
            continue
        sources[name] = text
        module, ds = parse_text(text, name)
        diags.extend(ds)
        templates: dict[str, dict] = {}
        template_at: dict[str, Span] = {}
        for item in module.items:
            if isinstance(item, Let) or item.key not in ("case", "test"):
                diags.append(Diagnostic("E030", f"a test file holds case and test blocks, not `{getattr(item, 'key', 'let')}`",
                                        item.key_span, "policy blocks go in a file not named *_test.sptp; "
                                        "a test file holds case NAME { … } and test NAME { … }"))
                continue
            if item.key == "case":
                if item.name is None or item.body is None:
                    diags.append(Diagnostic("E037", "a case template needs a name and a body", item.key_span, "case base { … }"))
                    continue
                if item.name in template_at:
                    diags.append(_duplicate("case template", item, template_at[item.name]))
                    continue
                template_at[item.name] = item.key_span
                templates[item.name] = _body_to_dict(item.body, "", diags)
                continue
            if item.name is None or item.body is None:
                diags.append(Diagnostic("E037", "a test needs a name and a body", item.key_span, "test friday-evening { … }"))
                continue
            if item.name in seen_tests:
                diags.append(_duplicate("test", item, seen_tests[item.name]))
                continue
            seen_tests[item.name] = item.key_span
            tests.append(_read_test(item, name, templates, diags))
    return tests, diags, sources


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, str) and isinstance(got, str) and "T" in expected and "T" in got:
        try:
            return dt.datetime.fromisoformat(expected) == dt.datetime.fromisoformat(got)
        except ValueError:
            pass
    return expected == got


_FIELD_RULES = {"verdict": None, "in_service_hours": ("service-hours",), "dispatch_deadline": ("onsite-deadline",),
                "fee": ("fee",), "setting_recovery": ("setting-recovery",), "contact": ("express-contact",)}


def run_test(policy, test: PolicyTest) -> TestResult:
    try:
        decision = decide(policy, test.case)
    except CaseError as e:
        return TestResult(test, (), f"bad case: {e}", None)
    got = decision.to_json()
    failures: list[Failure] = []
    for field, want in test.expect.items():
        if field == "outcome":
            by_rule = {r.rule: r.outcome for r in decision.trace}
            for rule, outcome in want:
                if by_rule.get(rule) != outcome:
                    reasons = tuple(r for r in decision.trace if r.rule == rule)
                    failures.append(Failure(f"outcome of {rule}", outcome, by_rule.get(rule, "(not run)"), reasons))
            continue
        have = got[field]
        if isinstance(want, dict) and isinstance(have, dict):
            bad = {k: (v, have.get(k)) for k, v in want.items() if not _same(v, have.get(k))}
            ok = not bad
        else:
            ok = _same(want, have)
        if not ok:
            if isinstance(want, dict) and isinstance(have, dict):  # only the fields the test expected
                have = {k: have.get(k) for k in want}
            names = _FIELD_RULES.get(field)
            if names is None:
                reasons = tuple(r for r in decision.reasons if r.outcome == "fail") or decision.reasons[:3]
            else:
                reasons = tuple(r for r in decision.trace if r.rule in names)
            failures.append(Failure(field, want, have, reasons))
    return TestResult(test, tuple(failures), None, decision)


def coverage(policy, results: list[TestResult]) -> dict:
    """Which rules and clauses the tests exercised (a reason that ran, not skipped)."""
    rules_run: set[str] = set()
    clauses_hit: set[str] = set()
    for r in results:
        if r.decision is None:
            continue
        for reason in r.decision.trace:
            if reason.outcome == "skip":
                continue
            rules_run.add(reason.rule)
            for c in reason.cite:
                clauses_hit.add(re.sub(r" \([^)]*\)$", "", c))
    computable = [c for c, cl in policy.clauses.items() if cl.not_computable is None]
    rules = list(policy.blocks.get("rule", {}))
    return {
        "clauses": {c: c in clauses_hit for c in computable},
        "rules": {r: r in rules_run for r in rules},
        "clause_percent": 100.0 * sum(c in clauses_hit for c in computable) / max(len(computable), 1),
        "rule_percent": 100.0 * sum(r in rules_run for r in rules) / max(len(rules), 1),
    }
