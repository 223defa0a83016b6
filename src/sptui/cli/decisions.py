"""Decisions: `sptui eval` (eval.md's JSON), `explain` (a readable trace and what would change it), `fee` (the
別表-1 fee) and `deadline` (the onsite deadline)."""
from __future__ import annotations

import json

import click

from sptui.cli import main
from sptui.cli.common import instant, load
from sptui.cli.errors import BadInput, Failure, say, say_json, say_json_lines, say_lines


def _read_json(source: str, jsonl: bool):
    """The cases of `eval`/`explain`: a file (at most CASE_INPUT_LIMIT) or standard input; BadInput naming the
    source when it is not JSON. JSON lines: each line's value or error (cli/cases.py)."""
    from sptui.cli.cases import json_lines, json_value, read_source

    text = read_source(source)
    return json_lines(text) if jsonl else json_value(text, source)


@main.command("eval", reads_only=True)
@click.argument("source", type=str)
@click.option("--policy", "policy_path", default=None)
@click.option("--jsonl", is_flag=True, help="read and write one case per line")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def eval_cmd(source, policy_path, jsonl, lang):
    """Decide a case (JSON; `-` reads standard input), as ../shared/contract/eval.md specifies."""
    from sptui.policy.decide import case_values, decide
    from sptui.errors import CaseError

    policy = load(policy_path)
    data = _read_json(source, jsonl)
    if jsonl:
        return _eval_lines(policy, data, lang)
    cases = data if isinstance(data, list) else [data]
    # validate every case before printing anything: never a half answer
    parsed = []
    for i, c in enumerate(cases):
        try:
            parsed.append(case_values(policy, c))
        except CaseError as e:
            where = f"case {i + 1}: " if len(cases) > 1 else ""
            raise BadInput(f"{where}{e.field}: {e.message}") from None
    # every answer is made before the first is printed (a message that fails to render leaves no half answer)
    decisions = []
    for i, c in enumerate(parsed):
        try:
            decisions.append(decide(policy, c).to_json(lang))
        except Exception as e:  # a message the policy cannot render for this case (a date past year 9999)
            where = f"case {i + 1}: " if len(cases) > 1 else ""
            raise Failure(f"{where}the decision could not be written: {type(e).__name__}: {e}") from None
    if isinstance(data, list):
        say_json(decisions)
    else:
        say_json(decisions[0])


def _eval_lines(policy, lines, lang: str) -> None:
    """`eval --jsonl`: a decision for each line, or an error row for a line that cannot be read, checked or
    written (its line number and message); the rest go on, and the command ends in BadInput when some failed.
    Each row is JSON with its control characters escaped (json_escaped), as say_json writes."""
    from sptui.cli.cases import CaseLine, checked, errors_summary
    from sptui.policy.decide import decide
    rows, bad = [], []
    for c in checked(policy, lines):
        if c.error is None:
            try:
                rows.append(json.dumps(decide(policy, c.data).to_json(lang), ensure_ascii=False))
                continue
            except Exception as e:  # a message the policy cannot render for this case (a date past year 9999)
                c = CaseLine(c.line, error=f"the decision could not be written: {type(e).__name__}: {e}", failed=True)
        bad.append(c)
        rows.append(json.dumps(c.error_row(), ensure_ascii=False))
    say_json_lines(rows)
    if bad:
        raise errors_summary(bad, len(lines))


@main.command(reads_only=True)
@click.argument("source", type=str)
@click.option("--policy", "policy_path", default=None)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def explain(source, policy_path, lang):
    """Explain a case's decision: each rule, outcome, clause, note, and what would change it."""
    from sptui.policy.decide import case_values
    from sptui.explanation import explain as run_explain

    policy = load(policy_path)
    case = case_values(policy, _read_json(source, False))  # (a CaseError is bad input: errors.py)
    say_lines(run_explain(policy, case, lang=lang))


@main.command(reads_only=True)
@click.option("--depart", required=True, help="departure from the maintenance centre, e.g. 2026-11-27T20:30+09:00")
@click.option("--complete", required=True, help="end of the work")
@click.option("--technicians", default=1, show_default=True, type=int)
@click.option("--variant", default=None, help="the machine's pack variant (its service hours; its own fee table where "
              "a plugin gives one); default weekday-9h")
@click.option("--cause", default=None, help="an exclusion of 第3章 2.2 (ex-01 …): a billable one is charged at any hour")
@click.option("--policy", "policy_path", default=None)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def fee(depart, complete, technicians, variant, cause, policy_path, lang, fmt):
    """The 別表-1 fee of a work on a machine its pack covers, as the desk quotes a dispatch: none inside the
    variant's service hours (unless --cause is billable). JSON: the fee as eval.md's decision has it (null: none)."""
    from sptui.desk import BadRequest, Work, quote_work
    from sptui.errors import CaseError
    from sptui.policy.expr import format_value

    departed, completed = instant(depart, "depart"), instant(complete, "complete")
    policy = load(policy_path)
    variant = _fee_variant(policy, variant)
    try:
        quote = quote_work(policy, variant, Work(departed, completed, technicians), cause=cause)
    except BadRequest as e:
        raise BadInput(str(e)) from None
    except CaseError as e:  # (the case's field, as the option that gave it)
        option = _FEE_OPTIONS.get(e.field, _FEE_OPTIONS.get(e.field.partition(".")[0], e.field))
        raise BadInput(f"{option}: {e.message}") from None
    q = quote.fee
    if fmt == "json":
        say_json(q.to_json() if q is not None else None)
        return
    if q is None:
        say(f"  {quote.describe(lang)}")
        return
    for ln in q.lines:
        say(f"  {ln.kind:<4} {ln.band:<8} {format_value(ln.starts_at)}  {ln.amount_jpy:>7,}円")
    say(f"  per technician {q.per_technician_jpy:,}円 × {q.technicians} = {q.total_jpy:,}円  ({q.minutes} min, {q.cite})")
    if q.needs_quote:
        say("  needs a separate quote and the customer's approval (two or more technicians)")
    expenses = policy.blocks.get("expenses", {}).get("expenses")
    if expenses and expenses.items:
        say(f"  the customer also pays: {'; '.join(ja if lang == 'ja' else en for ja, en in expenses.items)}")


# the case fields `sptui fee` fills from its options
_FEE_OPTIONS = {"cause": "--cause", "work.technicians": "--technicians", "work.departed_at": "--depart",
                "work.completed_at": "--complete", "work": "--depart/--complete", "at": "--depart"}


def _fee_variant(policy, variant: str | None) -> str:
    """--variant, or weekday-9h (the standard pack) where the policy has it; BadInput naming the policy's."""
    names = sorted(policy.variants)
    if variant is None and "weekday-9h" in policy.variants:
        return "weekday-9h"
    if variant is None or variant not in policy.variants:
        raise BadInput(f"--variant: {'give one' if variant is None else f'unknown variant {variant!r}'}; this policy "
                       f"has {', '.join(names)}")
    return variant


@main.command(reads_only=True)
@click.option("--at", "at", required=True, help="when the failure notice was received")
@click.option("--variant", required=True)
@click.option("--policy", "policy_path", default=None)
def deadline(at, variant, policy_path):
    """The onsite deadline: 2 service hours after a notice, across closings, weekends and holidays."""
    from sptui.errors import NeverOpen
    from sptui.evaluators.hours import service_deadline
    from sptui.tz import iso

    when = instant(at, "at")
    policy = load(policy_path)
    if variant not in policy.variants:
        raise BadInput(f"--variant: unknown variant {variant!r}; this policy has {', '.join(sorted(policy.variants))}")
    if "onsite" not in policy.blocks:
        raise BadInput("this policy has no onsite block: it sets no deadline")
    try:
        due = service_deadline(policy, variant, when)
    except NeverOpen as e:
        raise BadInput(f"--at: {e}") from None
    say(iso(due))
