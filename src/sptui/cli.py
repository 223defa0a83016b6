"""The `sptui` command: thin — it parses arguments and calls the library.

Importing this module loads no plugin and no policy; each command does what it needs when it runs.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

EXIT_BAD_INPUT = 2


def default_policy() -> str:
    """`$SPTUI_POLICY`, else ./policies, else the policy sptui ships (package data)."""
    env = os.environ.get("SPTUI_POLICY")
    if env:
        return env
    if Path("policies").is_dir():
        return "policies"
    from sptui import shipped_policy_dir

    return shipped_policy_dir()


def _print_diags(diags, sources, fmt: str, *, stream=None) -> None:
    from sptui.policy.diagnostics import render

    if fmt == "json":
        return
    for d in diags:
        click.echo(render(d, sources), file=stream or sys.stdout)
        click.echo("", file=stream or sys.stdout)


def _load(policy_path: str):
    """Load the policy or exit 1 with its diagnostics on stderr."""
    from sptui import PolicyError, load_policy

    try:
        policy = load_policy(policy_path)
    except PolicyError as e:
        _print_diags(e.diagnostics, e.sources, "text", stream=sys.stderr)
        click.echo(f"error: the policy at {policy_path} has errors; run `sptui check {policy_path}`", err=True)
        sys.exit(1)
    from sptui.plugins.manager import default_manager

    for f in default_manager().failures:  # the command goes on without what failed
        click.echo(f"warning: plugin {f.plugin} [{f.stage}]: {f.error} (sptui plugins -v)", err=True)
    return policy


@click.group(invoke_without_command=True)
@click.version_option(package_name="sptui")
@click.option("--db", "db_url", default=None, help="the desk's database (SQLite path or postgresql://…)")
@click.option("--policy", "policy_path", default=None, help="the policy (default: the shipped one)")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None, help="the desk's language (default: locale)")
@click.option("--operator", default=None, help="who you are in the audit log (default: $USER)")
@click.option("--read-only", is_flag=True, help="look, change nothing (supervisors)")
@click.option("--no-mouse", is_flag=True, help="keyboard only")
@click.option("--theme", default=None, help="the desk's theme (textual-dark, nord, gruvbox, …; default: the config file's)")
@click.pass_context
def main(ctx: click.Context, db_url, policy_path, lang, operator, read_only, no_mouse, theme) -> None:
    """sptui: NEC SupportPack terms as checked policy, and a dispatch desk that decides by them.

    With no command, opens the desk on the database (--db, $SPTUI_DB, else the one in your data folder)."""
    if ctx.invoked_subcommand is None:
        if not sys.stdout.isatty() and "TEXTUAL_DRIVER" not in os.environ:  # (textual-serve's sessions: a pipe)
            click.echo(ctx.get_help())
            return
        from sptui.cli_desk import open_desk

        open_desk(db_url, policy_path, lang=lang, operator=operator, read_only=read_only, mouse=not no_mouse, theme=theme)


# ---- policy author's tools ------------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--strict", is_flag=True, help="exit 1 on warnings too (an uncited clause, a plugin that failed to load…)")
def check(paths, fmt, strict):
    """Check policy files: every syntax and semantic error, with place, caret and hint; and the installed plugins."""
    from sptui.plugins.manager import default_manager, failure_diagnostics
    from sptui.policy.compile import check as run_check
    from sptui.policy.compile import test_files
    from sptui.policy.diagnostics import sort_key, summary
    from sptui.policy.testrun import load_tests

    paths = list(paths) or [default_policy()]
    policy, diags, sources = run_check(paths, plugins=default_manager())
    _, tdiags, tsources = load_tests(test_files(paths))
    diags = sorted(diags + tdiags + failure_diagnostics(default_manager()), key=sort_key)
    sources = {**sources, **tsources}
    errors, warnings = summary(diags)
    if fmt == "json":
        click.echo(json.dumps({"errors": errors, "warnings": warnings, "diagnostics": [d.as_dict() for d in diags],
                               "digest": policy.digest if policy else None}, ensure_ascii=False, indent=2))
    else:
        _print_diags(diags, sources, fmt)
        what = f"{len(sources)} file(s)"
        if policy is not None:
            what += f", {len(policy.blocks.get('rule', {}))} rules, {len(policy.clauses)} clauses, {policy.digest[:19]}…"
        click.echo(f"{errors} error(s), {warnings} warning(s) — {what}")
    sys.exit(1 if errors or (strict and warnings) else 0)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", "check_only", is_flag=True, help="exit 1 and show the difference when a file is not formatted")
def fmt(paths, check_only):
    """Format policy files canonically (comments kept; idempotent)."""
    import difflib

    from sptui.policy.compile import EXT
    from sptui.policy.diagnostics import render
    from sptui.policy.fmt import format_text

    from sptui.files import FileProblem, read_text

    files: list[Path] = []
    for p in map(Path, paths or [default_policy()]):
        files.extend(sorted(p.rglob(f"*{EXT}")) if p.is_dir() else [p])
    changed = broken = unreadable = 0
    for f in files:
        try:
            text = read_text(f)
        except FileProblem as e:
            click.echo(f"error: {e}", err=True)
            unreadable += 1
            continue
        out, diags = format_text(text, str(f))
        if diags:
            broken += 1
            for d in diags:
                click.echo(render(d, {str(f): text}), err=True)
            continue
        if out != text:
            changed += 1
            if check_only:
                click.echo("".join(difflib.unified_diff(text.splitlines(True), out.splitlines(True),
                                                        f"{f} (as is)", f"{f} (formatted)")))
            else:
                try:
                    f.write_text(out, encoding="utf-8")
                except OSError as e:
                    click.echo(f"error: {f}: cannot be written ({e.strerror or type(e).__name__})", err=True)
                    unreadable += 1
                    continue
                click.echo(f"formatted {f}")
    if check_only:
        click.echo(f"{changed} of {len(files)} file(s) would be reformatted" if changed else
                   f"{len(files)} file(s) already formatted")
    sys.exit(EXIT_BAD_INPUT if unreadable else 1 if broken or (check_only and changed) else 0)


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-k", "keyword", help="run only tests whose name contains this")
@click.option("--coverage", "show_coverage", is_flag=True, help="report the clauses and rules the tests exercised")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def test_cmd(paths, keyword, show_coverage, fmt, lang):
    """Run policy tests (*_test.sptp): cases with expected decision fields."""
    from sptui.policy.compile import test_files
    from sptui.policy.testrun import coverage, load_tests, run_test

    paths = list(paths) or [default_policy()]
    policy = _load(paths[0]) if len(paths) == 1 else _load(paths)  # type: ignore[arg-type]
    tests, diags, sources = load_tests(test_files(paths))
    if any(d.is_error for d in diags):
        _print_diags(diags, sources, "text", stream=sys.stderr)
        sys.exit(1)
    if keyword:
        tests = [t for t in tests if keyword in t.name]
    results = [run_test(policy, t) for t in tests]
    passed = sum(r.ok for r in results)
    cov = coverage(policy, results) if show_coverage else None
    if fmt == "json":
        click.echo(json.dumps({
            "passed": passed, "failed": len(results) - passed,
            "results": [{"test": r.test.name, "file": r.test.file, "line": r.test.span.line, "ok": r.ok, "error": r.error,
                         "failures": [{"field": f.field, "expected": f.expected, "got": f.got,
                                       "reasons": [x.to_json(lang) for x in f.reasons]} for f in r.failures]}
                        for r in results],
            "coverage": cov}, ensure_ascii=False, indent=2, default=str))
    else:
        for r in results:
            if r.ok:
                continue
            click.echo(f"FAIL {r.test.name} ({r.test.file}:{r.test.span.line})")
            if r.error:
                click.echo(f"  {r.error}")
            for f in r.failures:
                click.echo(f"  {f.field}:")
                click.echo(f"    - expected: {json.dumps(f.expected, ensure_ascii=False, default=str)}")
                click.echo(f"    + got:      {json.dumps(f.got, ensure_ascii=False, default=str)}")
                for x in f.reasons:
                    click.echo(f"      {x.rule} [{x.outcome}] {', '.join(x.cite)}: {x.message(lang)}")
                    if x.note:
                        click.echo(f"        note: {x.note}")
        if cov is not None:
            click.echo("clause coverage:")
            for c, hit in cov["clauses"].items():
                click.echo(f"  {'✓' if hit else '✗'} {c}")
            missed = [r for r, hit in cov["rules"].items() if not hit]
            click.echo(f"clauses: {cov['clause_percent']:.0f}% of computable clauses; rules: {cov['rule_percent']:.0f}%"
                       + (f" (not exercised: {', '.join(missed)})" if missed else ""))
        click.echo(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


@main.command()
@click.option("--policy", "policy_path", default=None, help="the policy folder (default: the shipped policies/)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def clauses(policy_path, fmt):
    """The clause register, and for each clause the blocks that cite it."""
    policy = _load(policy_path or default_policy())
    rows = []
    for cid, cl in policy.clauses.items():
        cited = sorted({f"{k} {n}" for k, n in policy.citations.get(cid, [])})
        rows.append({"clause": cid, "title": cl.title, "not_computable": cl.not_computable, "cited_by": cited})
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['clause']}  {r['title']}")
        if r["not_computable"]:
            click.echo(f"    not computable: {r['not_computable']}")
        for c in r["cited_by"]:
            click.echo(f"    ← {c}")


# ---- decisions ----------------------------------------------------------------------------------------------
def _read_json(source: str, jsonl: bool):
    """The cases of `eval`/`explain`: a file (read as files.read_text reads, at most CASE_INPUT_LIMIT) or standard
    input; ClickException naming the source (and the line, for JSON lines) when it is not JSON."""
    from sptui.files import CASE_INPUT_LIMIT, FileProblem, read_stream, read_text

    try:
        text = (read_stream(sys.stdin.buffer, "standard input", limit=CASE_INPUT_LIMIT) if source == "-" else
                read_text(source, limit=CASE_INPUT_LIMIT))
    except FileProblem as e:
        raise click.ClickException(str(e)) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark an editor left
    if jsonl:  # lines end at \n only: JSON text may hold U+2028 and the other line breaks str.splitlines knows
        return [_json(line, f"line {n}") for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    return _json(text, source)


def _json(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise click.ClickException(f"{where}: not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise click.ClickException(f"{where}: not read: the JSON is nested too deeply") from None
    except ValueError:  # a number of more digits than Python converts (sys.get_int_max_str_digits)
        raise click.ClickException(f"{where}: not read: a number has more than {sys.get_int_max_str_digits():,} "
                                   "digits") from None


@main.command("eval")
@click.argument("source", type=str)
@click.option("--policy", "policy_path", default=None)
@click.option("--jsonl", is_flag=True, help="read and write one case per line")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def eval_cmd(source, policy_path, jsonl, lang):
    """Decide a case (JSON; `-` reads standard input), as ../shared/contract/eval.md specifies."""
    from sptui.policy.decide import case_values, decide
    from sptui.errors import CaseError

    policy = _load(policy_path or default_policy())
    try:
        data = _read_json(source, jsonl)
    except click.ClickException as e:
        click.echo(f"error: {e.message}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    cases = data if (jsonl or isinstance(data, list)) else [data]
    # validate every case before printing anything: never a half answer
    parsed = []
    for i, c in enumerate(cases):
        try:
            parsed.append(case_values(policy, c))
        except CaseError as e:
            where = f"case {i + 1}: " if len(cases) > 1 else ""
            click.echo(f"error: {where}{e.field}: {e.message}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    # every answer is made before the first is printed (a message that fails to render leaves no half answer)
    decisions = []
    for i, c in enumerate(parsed):
        try:
            decisions.append(decide(policy, c).to_json(lang))
        except Exception as e:  # a message the policy cannot render for this case (a date past year 9999)
            where = f"case {i + 1}: " if len(cases) > 1 else ""
            click.echo(f"error: {where}the decision could not be written: {type(e).__name__}: {e}", err=True)
            sys.exit(1)
    if jsonl:
        sys.stdout.write("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in decisions))
    elif isinstance(data, list):
        click.echo(json.dumps(decisions, ensure_ascii=False, indent=2))
    else:
        click.echo(json.dumps(decisions[0], ensure_ascii=False, indent=2))


@main.command()
@click.argument("source", type=str)
@click.option("--policy", "policy_path", default=None)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def explain(source, policy_path, lang):
    """Explain a case's decision: each rule, outcome, clause, note, and what would change it."""
    from sptui.policy.decide import case_values
    from sptui.explanation import explain as run_explain
    from sptui.errors import CaseError

    policy = _load(policy_path or default_policy())
    try:
        data = _read_json(source, False)
        case = case_values(policy, data)
    except click.ClickException as e:
        click.echo(f"error: {e.message}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except CaseError as e:
        click.echo(f"error: {e.field}: {e.message}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(run_explain(policy, case, lang=lang))


def _instant(value: str, name: str):
    from sptui.errors import CaseError
    from sptui.tz import parse_instant

    try:
        return parse_instant(value, name)
    except CaseError as e:
        click.echo(f"error: --{e.field}: {e.message}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.option("--depart", required=True, help="departure from the maintenance centre, e.g. 2026-11-27T20:30+09:00")
@click.option("--complete", required=True, help="end of the work")
@click.option("--technicians", default=1, show_default=True, type=int)
@click.option("--variant", default=None, help="the pack variant, where a variant has its own fee table")
@click.option("--policy", "policy_path", default=None)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def fee(depart, complete, technicians, variant, policy_path, lang, fmt):
    """Quote the 別表-1 fee for off-hours or excluded work."""
    from sptui.evaluators.fees import FeeError, fee_quote
    from sptui.policy.expr import format_value

    departed, completed = _instant(depart, "depart"), _instant(complete, "complete")
    policy = _load(policy_path or default_policy())
    if variant is not None and variant not in policy.rt.variants:
        click.echo(f"error: unknown variant {variant!r}; this policy has {', '.join(sorted(policy.rt.variants))}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        q = fee_quote(policy, departed, completed, technicians, lang, variant)
    except FeeError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if fmt == "json":
        click.echo(json.dumps(q.to_json(), ensure_ascii=False, indent=2))
        return
    for ln in q.lines:
        click.echo(f"  {ln.kind:<4} {ln.band:<8} {format_value(ln.starts_at)}  {ln.amount_jpy:>7,}円")
    click.echo(f"  per technician {q.per_technician_jpy:,}円 × {q.technicians} = {q.total_jpy:,}円  ({q.minutes} min, {q.cite})")
    if q.needs_quote:
        click.echo("  needs a separate quote and the customer's approval (two or more technicians)")
    if q.customer_pays:
        click.echo(f"  the customer also pays: {'; '.join(q.customer_pays)}")


@main.command()
@click.option("--at", "at", required=True, help="when the failure notice was received")
@click.option("--variant", required=True)
@click.option("--policy", "policy_path", default=None)
def deadline(at, variant, policy_path):
    """The onsite deadline: 2 service hours after a notice, across closings, weekends and holidays."""
    from sptui.evaluators.hours import service_deadline
    from sptui.tz import iso

    when = _instant(at, "at")
    policy = _load(policy_path or default_policy())
    if variant not in policy.variants:
        click.echo(f"error: --variant: unknown variant {variant!r}; this policy has {', '.join(sorted(policy.variants))}",
                   err=True)
        sys.exit(EXIT_BAD_INPUT)
    if "onsite" not in policy.blocks:
        click.echo("error: this policy has no onsite block: it sets no deadline", err=True)
        sys.exit(EXIT_BAD_INPUT)
    due = service_deadline(policy, variant, when)
    if due is None:
        click.echo(f"error: --at: the {variant} hours open too little in the 800 days after {at} to set a deadline",
                   err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(iso(due))


from sptui import cli_desk, cli_plugins  # noqa: E402,F401  (their commands register on `main`)

if __name__ == "__main__":  # pragma: no cover
    from sptui.cli import main as _main  # the imported module, on which cli_desk registered its commands

    _main()
