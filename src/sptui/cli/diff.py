"""`sptui diff OLD NEW`: a policy change replayed over cases — a JSON-lines file (`--cases`), or the cases the desk
recorded with its incidents and alarms (`--db`, `--since`) — and each decision it changes (sptui.desk.replay).
Exit 0 when nothing changed, 1 when something did, 2 on bad input (a case neither policy can read is reported,
and the others go on)."""
from __future__ import annotations

import sys

import click

from sptui.cli import main
from sptui.cli.common import day_or_instant, load, open_store
from sptui.cli.errors import EXIT_BAD_INPUT, BadInput, say, say_json


def file_cases(source: str):
    """A JSON-lines file's cases, each with its ref ({"line": n}); a line that is not JSON: its error."""
    from sptui.cli.cases import json_lines, read_source

    for c in json_lines(read_source(source)):
        yield {"line": c.line}, (c.data if c.error is None else c.error)


def _policy(path: str):
    """A policy to compare: one with errors is bad input (exit 2: exit 1 would say that decisions changed)."""
    from sptui.cli.errors import Failure

    try:
        return load(path)
    except Failure as e:
        raise BadInput(str(e)) from None


@main.command()
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option("--cases", "cases_file", default=None, help="a JSON-lines file of cases (`-`: standard input)")
@click.option("--db", "db_url", default=None, help="replay the cases recorded in this desk's database")
@click.option("--since", default=None, help="with --db: only cases received on or after this date (YYYY-MM-DD) or time")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
def diff(old, new, cases_file, db_url, since, fmt, lang):
    """Replay a policy change: decide every case under OLD and NEW and report each decision that changed."""
    from sptui.desk.replay import replay, report_lines, store_cases

    if (cases_file is None) == (db_url is None):
        raise BadInput("give the cases to replay: --cases FILE.jsonl or --db URL (one of them)")
    if since is not None and db_url is None:
        raise BadInput("--since selects recorded cases: use it with --db")
    since_at = day_or_instant(since, "since") if since is not None else None
    store = open_store(db_url) if db_url is not None else None  # (a mistyped --db: said before the policies load)
    old_policy, new_policy = _policy(old), _policy(new)
    if store is None:
        report = replay(old_policy, new_policy, file_cases(cases_file))
    else:
        try:
            report = replay(old_policy, new_policy, store_cases(store, since_at))
        finally:
            store.close()
    if fmt == "json":
        say_json(report.to_json())
    else:
        for line in report_lines(report, lang):
            say(line)
    sys.exit(EXIT_BAD_INPUT if report.errors else 1 if report.changed else 0)
