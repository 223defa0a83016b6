"""The policy author's tools: `sptui check`, `fmt` and `test` (check → format → test, as OPA's); `clauses` is in
clauses.py, `diff` in diff.py."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sptui.cli import main
from sptui.cli.common import load, print_diagnostics
from sptui.cli.errors import EXIT_BAD_INPUT, say, say_json, say_lines
from sptui.config import default_policy


@main.command(reads_only=True)
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
        say_json({"errors": errors, "warnings": warnings, "diagnostics": [d.as_dict() for d in diags],
                  "digest": policy.digest if policy else None})
    else:
        print_diagnostics(diags, sources)
        what = f"{len(sources)} file(s)"
        if policy is not None:
            what += f", {len(policy.blocks.get('rule', {}))} rules, {len(policy.clauses)} clauses, {policy.digest[:19]}…"
        say(f"{errors} error(s), {warnings} warning(s) — {what}")
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

    from sptui.files import FileProblem, read_text, write_file

    files: list[Path] = []
    for p in map(Path, paths or [default_policy()]):
        files.extend(sorted(p.rglob(f"*{EXT}")) if p.is_dir() else [p])
    changed = broken = unreadable = 0
    for f in files:
        try:
            text = read_text(f, within=f.parent)
        except FileProblem as e:
            say(f"error: {e}", err=True)
            unreadable += 1
            continue
        out, diags = format_text(text, str(f))
        if diags:
            broken += 1
            for d in diags:
                say_lines(render(d, {str(f): text}), err=True)
            continue
        if out != text:
            changed += 1
            if check_only:
                say_lines("".join(difflib.unified_diff(text.splitlines(True), out.splitlines(True),
                                                        f"{f} (as is)", f"{f} (formatted)")))
            else:
                try:
                    write_file(f, out)
                except FileProblem as e:
                    say(f"error: {e}", err=True)
                    unreadable += 1
                    continue
                say(f"formatted {f}")
    if check_only:
        say(f"{changed} of {len(files)} file(s) would be reformatted" if changed else
                   f"{len(files)} file(s) already formatted")
    sys.exit(EXIT_BAD_INPUT if unreadable else 1 if broken or (check_only and changed) else 0)


@main.command("test", reads_only=True)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-k", "keyword", help="run only tests whose name contains this")
@click.option("--coverage", "show_coverage", is_flag=True,
              help="report each rule outcome, table row, clause item and clause the tests reached, and what they did not")
@click.option("--threshold", type=click.FloatRange(0, 100), default=None,
              help="with coverage: exit 1 when it is below this percentage")
@click.option("--update", is_flag=True, help="write the values failing tests got into their test files as expected")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def test_cmd(paths, keyword, show_coverage, threshold, update, fmt, lang):
    """Run policy tests (*_test.sptp): cases with expected decision fields."""
    from sptui.cli.policytest import below_threshold, say_coverage
    from sptui.policy import trace
    from sptui.policy.compile import test_files
    from sptui.policy.coverage import outcome_coverage
    from sptui.policy.testrun import coverage, load_tests, run_test

    show_coverage = show_coverage or threshold is not None
    paths = list(paths) or [default_policy()]
    policy = load(paths[0] if len(paths) == 1 else paths)
    tests, diags, sources = load_tests(test_files(paths))
    if any(d.is_error for d in diags):
        print_diagnostics(diags, sources, stream=sys.stderr)
        sys.exit(1)
    if keyword:
        tests = [t for t in tests if keyword in t.name]
    with trace.recording_rows() as rows:
        results = [run_test(policy, t) for t in tests]
    if update:
        from sptui.cli.policytest import write_updates

        results = write_updates(policy, results, sources)
    passed = sum(r.ok for r in results)
    cov = None
    if show_coverage:
        cov = coverage(policy, results)
        cov.update({k: v for k, v in outcome_coverage(policy, results, rows).items() if k != "targets"})
    short = below_threshold(cov, threshold) if cov is not None else None
    if fmt == "json":
        say_json({
            "passed": passed, "failed": len(results) - passed,
            "results": [{"test": r.test.name, "file": r.test.file, "line": r.test.span.line, "ok": r.ok, "error": r.error,
                         "failures": [{"field": f.field, "expected": f.expected, "got": f.got,
                                       "reasons": [x.to_json(lang) for x in f.reasons]} for f in r.failures]}
                        for r in results],
            "coverage": cov, "below_threshold": short}, default=str)
    else:
        _print_failures(results, lang)
        if cov is not None:
            say_coverage(cov)
        say(f"{passed} passed, {len(results) - passed} failed")
        if short:
            say(short)
    sys.exit(0 if passed == len(results) and not short else 1)


def _print_failures(results, lang: str) -> None:
    for r in results:
        if r.ok:
            continue
        say(f"FAIL {r.test.name} ({r.test.file}:{r.test.span.line})")
        if r.error:
            say(f"  {r.error}")
        for f in r.failures:
            say(f"  {f.field}:")
            say(f"    - expected: {json.dumps(f.expected, ensure_ascii=False, default=str)}")
            say(f"    + got:      {json.dumps(f.got, ensure_ascii=False, default=str)}")
            for x in f.reasons:
                say(f"      {x.rule} [{x.outcome}] {', '.join(x.cite)}: {x.message(lang)}")
                if x.note:
                    say(f"        note: {x.note}")
