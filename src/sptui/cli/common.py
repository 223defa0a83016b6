"""What several command groups share: the policy loaded for a command, times read from options, the store
opened, and the options of the desk's data commands.

The data commands take `--db URL` (a SQLite path or postgresql://…; default `$SPTUI_DB`, else the user's SQLite
file) and, where they change something, `--operator` (default `$USER`), which the audit log records.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from sptui.cli.errors import BadInput, Failure, say, say_lines
from sptui.config import default_policy

db_option = click.option("--db", "db_url", default=None, envvar="SPTUI_DB",
                         help="SQLite path or postgresql://… (default: $SPTUI_DB, else the user's desk.db)")
operator_option = click.option("--operator", default=None, help="who is acting (default: $USER); kept in the audit log")
policy_option = click.option("--policy", "policy_path", default=None, help="the policy folder (default: policies/)")


def print_diagnostics(diags, sources, *, stream=None) -> None:
    """Diagnostics as `sptui check` shows them: place, caret and hint, a blank line after each."""
    from sptui.policy.diagnostics import render

    for d in diags:
        say_lines(render(d, sources), err=stream is sys.stderr)
        say("", err=stream is sys.stderr)


def load(policy_path=None):
    """The policy (`policy_path`, else the default), or its diagnostics on stderr and a Failure; a plugin that
    failed to load is a warning, and the command goes on without it."""
    from sptui import PolicyError, load_policy

    path = policy_path or default_policy()
    try:
        policy = load_policy(path)
    except PolicyError as e:
        print_diagnostics(e.diagnostics, e.sources, stream=sys.stderr)
        raise Failure(f"the policy at {path} has errors; run `sptui check {path}`") from None
    from sptui.plugins.manager import default_manager

    for f in default_manager().failures:
        say(f"warning: plugin {f.plugin} [{f.stage}]: {f.error} (sptui plugins -v)", err=True)
    return policy


def instant(value: str, name: str):
    """An option's date-time (aware, 1900–2999), or BadInput naming the option."""
    from sptui.errors import CaseError
    from sptui.tz import parse_instant

    try:
        return parse_instant(value, name)
    except CaseError as e:
        raise BadInput(f"--{e.field}: {e.message}") from None


def missing_database(db_url) -> str | None:
    """The path of the SQLite file `db_url` names when no such file is there, else None (PostgreSQL, in memory)."""
    from sptui.store.db import normalise_url

    u = normalise_url(db_url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and not Path(u.database).exists():
        return u.database
    return None


def open_store(db_url, *, check_schema: bool = True, create: bool = False):
    """The desk's store, or a Failure saying why it cannot be used. A SQLite file that is not there is bad input
    (a mistyped --db would otherwise leave an empty desk behind, and an alarm filed into it would be quarantined
    as an unknown machine), unless the command is one that creates the desk (`create`: db upgrade, demo, registry
    import)."""
    from sqlalchemy.exc import DBAPIError

    from sptui.store import Store

    missing = None if create else missing_database(db_url)
    if missing is not None:
        raise BadInput(f"no database at {missing}; create one with `sptui db upgrade --db {missing}` or `sptui demo "
                       f"--db {missing}` (or name the desk's database with --db, or $SPTUI_DB)")
    try:
        return Store.open(db_url, check_schema=check_schema)
    except DBAPIError as e:
        raise Failure(f"cannot use the database: {e.orig or e}".strip()) from None
