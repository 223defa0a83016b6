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


def day_or_instant(value: str, name: str, *, end: bool = False):
    """An option's instant (`2026-11-27T08:00+09:00`, or Japan time `2026-11-27 08:00`) or Japan day (`2026-11-27`:
    its start; for an `end`, the start of the next day, so the day is included); full-width digits read; BadInput
    naming the option otherwise."""
    import datetime as dt
    import re
    import unicodedata

    from sptui.errors import CaseError
    from sptui.tz import TOKYO, parse_day, parse_instant

    text = unicodedata.normalize("NFKC", value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = parse_day(text, name)
            return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), TOKYO)
        return parse_instant(value, name, local=True)
    except CaseError as e:
        raise BadInput(f"--{e.field}: {e.message}") from None


def database_url(db_url):
    """The database --db (or $SPTUI_DB, else the user's desk.db) names, as a URL; BadInput for a value that names
    none: not a URL, another kind of database, a port that is no number, a folder, a `~user` that is nobody."""
    from sqlalchemy.exc import ArgumentError

    from sptui.store.db import normalise_url

    if db_url is not None and not str(db_url).strip():
        raise BadInput("--db: empty; give a SQLite path or postgresql://user@host/db")
    try:
        u = normalise_url(db_url)
        u.port  # noqa: B018  (read: a port that is no number fails here, not deep in the driver)
    except (ArgumentError, ValueError, RuntimeError) as e:  # (RuntimeError: `~nobody/desk.db`)
        raise BadInput(f"--db: not a database: {e}; give a SQLite path or postgresql://user@host/db") from None
    if u.get_backend_name() not in ("sqlite", "postgresql"):
        raise BadInput(f"--db: {u.get_backend_name()} is no database sptui uses; give a SQLite path or "
                       "postgresql://user@host/db")
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and Path(u.database).is_dir():
        raise BadInput(f"--db: {u.database} is a folder, not a database file")
    return u


def missing_database(db_url) -> str | None:
    """The path of the SQLite file `db_url` names when no such file is there, else None (PostgreSQL, in memory)."""
    u = database_url(db_url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and not Path(u.database).exists():
        return u.database
    return None


def open_store(db_url, *, check_schema: bool = True, create: bool = False):
    """The desk's store, or why it cannot be used: bad input for a --db that names no database (database_url) and
    for a SQLite file that is not there (a mistyped --db would otherwise leave an empty desk behind, and an alarm
    filed into it would be quarantined as an unknown machine) unless the command is one that creates the desk
    (`create`: db upgrade, demo, registry import) or for a file that is no database; a Failure for a database
    that fails."""
    import shlex

    from sqlalchemy.exc import DBAPIError

    from sptui.store import Store

    u = database_url(db_url)
    missing = None if create else missing_database(db_url)
    if missing is not None:
        q = shlex.quote(missing)
        raise BadInput(f"no database at {missing}; create one with `sptui db upgrade --db {q}` or `sptui demo "
                       f"--db {q}` (or name the desk's database with --db, or $SPTUI_DB)")
    try:
        return Store.open(db_url, check_schema=check_schema)
    except DBAPIError as e:
        if getattr(e.orig, "sqlite_errorcode", None) == 26:  # SQLITE_NOTADB: the file is something else
            raise BadInput(f"--db: {u.database} is not a SQLite database file") from None
        raise Failure(f"cannot use the database: {e.orig or e}".strip()) from None
