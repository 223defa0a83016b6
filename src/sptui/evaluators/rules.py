"""Rules of the terms: the `rule` block kind, its message templates, and the evaluator that runs every rule."""
from __future__ import annotations

import re
from typing import Any, Iterable

import attrs

from sptui.evaluators.common import CITE, NOTE
from sptui.model.case import VERDICTS
from sptui.model.decision import Reason
from sptui.policy.ast import Path, Span
from sptui.policy.decide import RANK, DecisionContext
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.expr import format_value
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec

# ---- rules -----------------------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")


@attrs.frozen
class Template:
    text: str
    parts: tuple  # str | Compiled

    def render(self, ctx) -> str:
        return "".join(p if isinstance(p, str) else _placeholder(p, ctx) for p in self.parts)

    @property
    def constant(self) -> str | None:
        """The text, when it names no field."""
        return "".join(self.parts) if all(isinstance(p, str) for p in self.parts) else None


def _placeholder(part, ctx) -> str:
    """A placeholder's value as text; `?` where it cannot be computed (a date past year 9999), so the message
    still shows. A rule whose decision needed that value has an `error` reason of its own."""
    try:
        return format_value(part.fn(ctx))
    except Exception:
        return "?"


def compile_template(text: str | None, span: Span, scope, ctx) -> Template | None:
    if text is None:
        return None
    if "{" not in text:
        return Template(text, (text,) if text else ())
    parts: list[Any] = []
    pos = 0
    reported = ctx.diagnostics  # where the expression compiler reports (Context._report)
    for m in _PLACEHOLDER.finditer(text):
        parts.append(text[pos:m.start()])
        name = m.group(1)
        before = len(reported)
        compiled = ctx.exprs.compile(Path(tuple(name.split(".")), span), scope)
        failed = len(reported) > before  # what compiling the name reported is replaced by E056 below
        del reported[before:]
        if failed or (compiled.const and compiled.type == "symbol"):
            at = Span(span.file, span.line, span.col + 1 + m.start(), span.line, span.col + 1 + m.end()) \
                if span.line == span.end_line else span
            ctx.error("E056", f"the placeholder {{{name}}} names nothing", at,
                      did_you_mean(name, scope.names()) or "placeholders name a case field or a let")
            parts.append(m.group(0))
        else:
            parts.append(compiled)
        pos = m.end()
    parts.append(text[pos:])
    return Template(text, tuple(p for p in parts if p != ""))


@attrs.frozen
class Rule:
    id: str
    cites: tuple[str, ...]
    note: str | None
    when: Any  # Compiled condition, or None
    require: Any  # Compiled condition
    on_fail: Any  # Compiled: a verdict, warn or info
    cite_from: Any  # Compiled, or None
    messages: dict
    span: Span
    skipped: Any = attrs.field(default=None, eq=False)  # the (constant) reason when it does not apply

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "skipped", Reason(self.id, "skip", self.cites, "", "", self.note, "rules"))


OUTCOMES_ON_FAIL = (*VERDICTS, "warn", "info")


def compile_rule(b, ctx):
    scope = b.scope(decision_fields=False)
    when = b.first("when")
    require = b.first("require")
    exprs = ctx.exprs
    when_c = exprs.cond(when.args[0], scope) if when and when.args else None
    req_c = exprs.cond(require.args[0], scope) if require and require.args else exprs.constant(True, "bool")
    on_fail_e = b.first("on-fail")
    on_fail = exprs.constant("not-covered", "symbol")
    if on_fail_e and on_fail_e.args:
        node = on_fail_e.args[0]
        on_fail = exprs.compile(node, scope)
        if on_fail.const and on_fail.value is not None and on_fail.value not in OUTCOMES_ON_FAIL:
            ctx.error("E055", f"on-fail takes a verdict, warn or info; `{on_fail.value}` is neither", node.span,
                      did_you_mean(str(on_fail.value), OUTCOMES_ON_FAIL) or ", ".join(OUTCOMES_ON_FAIL))
    cite_from = None
    cf = b.first("cite-from")
    if cf and cf.args:
        cite_from = exprs.compile(cf.args[0], scope)
    messages = {}
    for key in ("pass-ja", "pass-en", "fail-ja", "fail-en"):
        e = b.first(key)
        text = b.value(key)
        if e is not None:
            messages[key] = compile_template(text, e.args[0].span if e.args else e.key_span, scope, ctx)
    return Rule(b.name, b.cites(), b.note(), when_c, req_c, on_fail, cite_from, messages, b.entry.key_span)


RULE = BlockKind(
    "rule",
    BlockSchema((CITE, NOTE,
                 EntrySpec("when", ("expr",), doc="when EXPR: the rule applies only when this holds"),
                 EntrySpec("require", ("expr",), required=True, doc="require EXPR: what must hold for the rule to pass"),
                 EntrySpec("on-fail", ("expr",), doc="on-fail not-covered: the verdict (or warn, info) when require fails"),
                 EntrySpec("cite-from", ("expr",), doc="cite-from EXPR: a clause computed from the case (a table item)"),
                 EntrySpec("pass-ja", ("string",)), EntrySpec("pass-en", ("string",)),
                 EntrySpec("fail-ja", ("string",), required=True, doc='fail-ja "…": the message when it fails, in Japanese'),
                 EntrySpec("fail-en", ("string",), required=True, doc='fail-en "…": the message when it fails, in English')),
                lets=True),
    compile_rule, cited=True, phase=50,
    doc="A rule of the terms: when it applies, what it requires, and the verdict if that fails. Messages may "
        "name case fields and lets in {braces}.",
    example='rule installed-in-japan {\n  cite 第1章 1, 第3章 2.8\n  require device.country == "JP"\n  on-fail not-covered\n'
            '  fail-ja "設置場所が日本国外です（{device.country}）"\n  fail-en "installed outside Japan ({device.country})"\n}',
)


# ---- the rules runner -------------------------------------------------------------------------------------------
def _text(template: Template | None, default: str) -> Any:
    """A message as Reason takes it: the text when it names no field, else the template."""
    if template is None:
        return default
    return template.constant if template.constant is not None else template


class _Outcomes:
    """What a rule records, worked out once: its reasons when it passes, does not apply, and fails with a constant
    verdict (None when its on-fail is computed: the reason is made when it fails)."""

    __slots__ = ("passed", "skipped", "failed", "pass_ja", "pass_en")

    def __init__(self, rule: Rule):
        m = rule.messages
        self.pass_ja, self.pass_en = _text(m.get("pass-ja"), "条件を満たしています"), _text(m.get("pass-en"), "holds")
        fail_ja, fail_en = _text(m.get("fail-ja"), ""), _text(m.get("fail-en"), "")
        self.passed = Reason(rule.id, "pass", rule.cites, self.pass_ja, self.pass_en, rule.note, "rules")
        self.skipped = rule.skipped
        self.failed = None
        effect = rule.on_fail.value if rule.on_fail.const else None
        if effect in VERDICTS:
            self.failed = Reason(rule.id, "fail", rule.cites, fail_ja, fail_en, rule.note, "rules", effect)
        elif effect in ("warn", "info"):
            self.failed = Reason(rule.id, effect, rule.cites, fail_ja, fail_en, rule.note, "rules")


def _outcomes(policy) -> list[tuple[Rule, _Outcomes]]:
    """The policy's rules in order, each with its outcomes (worked out on first use, then kept)."""
    found = policy.rt.derived.get("rules")
    if found is None:
        found = policy.rt.derived["rules"] = [(r, _Outcomes(r)) for r in policy.blocks.get("rule", {}).values()]
    return found


def _run_rule(ctx: DecisionContext, rule: Rule, out: _Outcomes, rt) -> Reason:
    """One rule's reason (the verdict lowered as a failing rule says). An error in it (a division by zero, a date
    past year 9999, a plugin's function that raises) is its own `error` reason; the rules after it still run."""
    try:
        if rule.when is not None and not rule.when.fn(ctx):
            return out.skipped
        if rule.cite_from is not None:  # the cites depend on the case: the reason is made now
            x = rule.cite_from.fn(ctx)
            cites = (*rule.cites, str(x)) if x else rule.cites
            if rule.require.fn(ctx):
                return Reason(rule.id, "pass", cites, out.pass_ja, out.pass_en, rule.note, "rules", None, ctx.view)
            return _dynamic_fail(ctx, rule, cites, rule.on_fail.fn(ctx), ctx.view)
        if rule.require.fn(ctx):
            return out.passed
        failed = out.failed
        if failed is None:
            return _dynamic_fail(ctx, rule, rule.cites, rule.on_fail.fn(ctx), ctx.view)
        if failed.effect is not None and RANK[failed.effect] < RANK[ctx.verdict]:
            ctx.verdict = failed.effect
        return failed
    except Exception as e:
        return _rule_error(ctx, rule, e, ctx.view, rt)


def _dynamic_fail(ctx, rule: Rule, cites: tuple, effect, view) -> Reason:
    """A rule whose on-fail is computed (a table's treatment): its outcome is known only now. The Reason
    (the verdict updated as DecisionContext.add does)."""
    outcome = "fail" if effect in VERDICTS else (effect if effect in ("warn", "info") else "fail")
    m = rule.messages
    reason = Reason(rule.id, outcome, cites, _text(m.get("fail-ja"), ""), _text(m.get("fail-en"), ""), rule.note,
                    "rules", effect if outcome == "fail" else None, view)
    if outcome == "fail" and effect in RANK and RANK[effect] < RANK[ctx.verdict]:
        ctx.verdict = effect
    return reason


def _rule_error(ctx, rule: Rule, error: Exception, view, rt) -> Reason:
    """The `error` reason of a rule that raised: it names the rule, its place, the error and the DSL function (and
    its plugin) it came from; the verdict becomes `consult` at best (a person decides)."""
    where = f"{rule.span.file}:{rule.span.line}"
    what = f"{type(error).__name__}: {str(error)[:200]}"
    fn = _raising_function(error, rt.function_code)
    if fn is not None:
        what += f" (in the function `{fn[0]}` of the plugin {fn[1]})"
    if RANK["consult"] < RANK[ctx.verdict]:
        ctx.verdict = "consult"
    return Reason(rule.id, "error", rule.cites, f"ルール {rule.id}（{where}）を判定できませんでした: {what}（要確認）",
                  f"rule {rule.id} ({where}) could not be decided: {what}; a person must decide", rule.note, "rules",
                  None, view)


def _raising_function(error: Exception, owners: dict) -> tuple[str, str] | None:
    """The DSL function (name, plugin) whose code the error passed through first, from the traceback."""
    tb = error.__traceback__
    while tb is not None:
        found = owners.get(tb.tb_frame.f_code)
        if found is not None:
            return found
        tb = tb.tb_next
    return None


def run_rules(policy, ctx: DecisionContext, only: Iterable[str] | None = None) -> None:
    """Every rule block in order, or with `only` those rules alone (a part of the decision, such as coverage);
    a name that is no rule of the policy is a KeyError, not a rule silently left out."""
    rules = _outcomes(policy)
    if only is not None:
        only = only if isinstance(only, (set, frozenset)) else frozenset(only)
        unknown = only - policy.blocks.get("rule", {}).keys()
        if unknown:
            raise KeyError(f"no rule named {', '.join(sorted(unknown))} in this policy")
        rules = [(r, o) for r, o in rules if r.id in only]
    rt, trace = policy.rt, ctx.trace
    for rule, out in rules:
        trace.append(_run_rule(ctx, rule, out, rt))
