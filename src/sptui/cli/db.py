"""`sptui db upgrade` / `sptui db status`: the database's schema (alembic migrations) and what it holds."""
from __future__ import annotations


from sptui.cli import main
from sptui.cli.common import db_option, open_store
from sptui.cli.errors import Commands, say


@main.group(cls=Commands)
def db():
    """The database's schema: `sptui db upgrade`, `sptui db status`."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url):
    """Bring the database's schema to this sptui's revision (alembic migrations)."""
    from sptui.store.db import upgrade

    store = open_store(db_url, check_schema=False, create=True)
    before, after = upgrade(store.db.engine)
    say(f"{store.db.url}: schema {before or '(empty)'} → {after}" if before != after
               else f"{store.db.url}: schema already at {after}")


@db.command("status", reads_only=True)
@db_option
def db_status(db_url):
    """The database's URL, schema revision and record counts."""
    from sptui.store.db import current_revision, head_revision

    store = open_store(db_url, check_schema=False)
    rev, head = current_revision(store.db.engine), head_revision()
    say(store.db.url)
    say(f"schema: {rev or '(empty)'} (this sptui: {head})")
    if rev == head:
        for name, n in store.db.counts().items():
            say(f"  {name:<12} {n:>8,}")
