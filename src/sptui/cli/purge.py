"""`sptui purge`: 第3章 1.8, the personal data of customers whose contracts all ended, erased (sptui.desk.purge)."""
from __future__ import annotations

import datetime as dt

import click

from sptui.cli import main
from sptui.cli.common import db_option, open_store, operator_option
from sptui.cli.errors import BadInput, say


@main.command()
@click.option("--ended-before", required=True, help="erase contracts that ended before this date (YYYY-MM-DD)")
@click.option("--yes", is_flag=True, help="really erase (without it: a dry run that lists what would be erased)")
@db_option
@operator_option
def purge(ended_before, yes, db_url, operator):
    """第3章 1.8: erase the personal fields of customers whose contracts all ended; history stays, anonymised."""
    from sptui.desk.purge import check_cutoff
    from sptui.desk.purge import purge as run_purge
    from sptui.store import operator_name

    try:
        before = dt.date.fromisoformat(ended_before)
    except ValueError:
        raise BadInput(f"--ended-before: expected a date like 2026-04-01, got {ended_before!r}") from None
    check_cutoff(before)  # (before the database is opened: a BadRequest is bad input)
    # a StoreError after erasing: the files keep old bytes, and the message says what to do
    due = run_purge(open_store(db_url), before, operator=operator_name(operator), dry_run=not yes)
    for d in due:
        say(f"{'erased' if yes else 'would erase'} customer {d['customer_id']} "
            f"({len(d['labels'])} machine(s), last contract ended {d['ended_on']})")
    say(f"{len(due)} customer(s) {'erased' if yes else 'to erase; run again with --yes to erase them'}")
