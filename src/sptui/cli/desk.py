"""The desk itself: `sptui` with no command (the TUI), `sptui serve` (the desk in a browser) and `sptui demo`."""
from __future__ import annotations

import sys

import click

from sptui.cli import main
from sptui.cli.common import database_url, load, open_store, policy_option
from sptui.cli.errors import BadInput, Failure, say
from sptui.config import default_policy


def open_desk(db_url, policy_path, *, lang=None, operator=None, read_only=False, mouse=True, theme=None) -> None:
    """The desk's TUI on a database and a policy (loaded after the first paint; errors shown on screen)."""
    from sptui.store import operator_name
    from sptui.tui.app import DeskApp
    from sptui.tui.i18n import default_lang

    path = str(policy_path or default_policy())

    def load_later():
        from sptui import PolicyError, load_policy

        try:
            return load_policy(path)
        except PolicyError as e:
            d = next((d for d in e.diagnostics if d.severity == "error"), None)
            where = f"{d.span.file}:{d.span.line}:{d.span.col}: {d.message}; " if d else ""
            raise ValueError(f"the policy has errors ({where}run `sptui check {path}`)") from e

    store = open_store(db_url)
    try:
        DeskApp(store, policy_loader=load_later, policy_path=path, lang=lang or default_lang(),
                operator=operator_name(operator), read_only=read_only, theme=theme).run(mouse=mouse)
    finally:
        store.close()


def _demo_database(db: str | None, fresh: bool) -> tuple[str, str]:
    """Where the demo is built: (the URL to open, how to name it to the user). A SQLite path (default: demo.db in
    the user's data folder; --fresh deletes it first) or a postgresql:// URL, used as it is (--fresh is refused
    there: sptui drops no one's database; a demo is built into an empty one)."""
    from pathlib import Path

    from platformdirs import user_data_dir

    if db is None:
        db = str(Path(user_data_dir("sptui")) / "demo.db")
    u = database_url(db)
    if u.get_backend_name() != "sqlite":
        if fresh:
            raise BadInput("--fresh deletes a SQLite file; sptui drops no PostgreSQL database: drop and create it "
                           "yourself (the demo is built into an empty database)")
        return db, u.render_as_string(hide_password=True)
    path = u.database
    if fresh and path and path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return db, str(path)


@main.command()
@click.option("--db", "db_url", default=None,
              help="where to build it: a SQLite path or postgresql://… (default: demo.db in the user's data folder)")
@click.option("--fresh", is_flag=True, help="delete an existing demo database first (a SQLite file)")
@click.option("--no-open", is_flag=True, help="build it, do not open the desk")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None, help="the desk's language (default: locale)")
@click.option("--operator", default=None, help="who you are at the desk (default: $USER)")
@click.option("--no-mouse", is_flag=True, help="keyboard only")
@click.option("--theme", default=None, help="the desk's theme")
@policy_option
def demo(db_url, fresh, no_open, lang, operator, no_mouse, theme, policy_path):
    """Build a realistic demo desk (about 200 customers, 1,000 machines, incidents, alarms, dispatches)."""
    from sptui.demo import build_demo

    policy = load(policy_path)
    db, name = _demo_database(db_url, fresh)
    store = open_store(db, create=True)
    if store.db.counts()["machines"] == 0:
        say(f"building the demo desk in {name} …", err=True)
        counts = build_demo(store, policy)
    else:
        counts = store.db.counts()
    say(f"demo desk: {name}")
    for name_, n in counts.items():
        say(f"  {name_:<12} {n:>6,}")
    if no_open:
        return
    if not sys.stdout.isatty():  # no terminal to draw the desk in: the first of its queue as text
        for inc in store.incidents.rows(limit=10):
            say(f"  #{inc['id']:<5} {inc['verdict']:<12} {inc['status']:<10} {inc['summary']}")
        return
    store.close()
    open_desk(db, policy_path, lang=lang, operator=operator, mouse=not no_mouse, theme=theme)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (loopback: put an "
              "authenticating proxy in front, see docs/desk-data.md)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--public-url", default=None, help="the URL the browser sees, when behind a proxy")
@click.option("--db", "db_url", default=None, help="the desk's database (SQLite path or postgresql://…)")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None)
@click.option("--read-only", is_flag=True)
@click.option("--operator-header", default=None, metavar="HEADER",
              help="take each session's operator from this request header, set by the authenticating proxy "
                   "(e.g. X-Remote-User); a session without it is refused")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME[:PORT]",
              help="another name this server may be reached by (the Host header); repeat; by default only the "
                   "listening address, loopback names and --public-url's host are answered")
@click.option("--no-mouse", is_flag=True, help="keyboard only, in every session")
@click.option("--theme", default=None, help="every session's theme")
@policy_option
def serve(host, port, public_url, db_url, lang, read_only, operator_header, allow_hosts, no_mouse, theme, policy_path):
    """The desk in a browser (textual-serve): each browser session runs its own `sptui` desk process.

    It has no login of its own: keep it on loopback behind a proxy that authenticates (docs/desk-data.md)."""
    import os

    from sptui.serve.server import DeskServer

    args = [sys.executable, "-m", "sptui.cli"]
    if lang:
        args += ["--lang", lang]
    if read_only:
        args.append("--read-only")
    if no_mouse:
        args.append("--no-mouse")
    if theme:
        args += ["--theme", theme]
    if policy_path:
        args += ["--policy", policy_path]
    try:  # the options first (bad input: exit 2), then the database
        server = DeskServer(args, operator_header=operator_header, allow_hosts=allow_hosts, host=host, port=port,
                            public_url=public_url, title="sptui")
    except ValueError as e:
        raise BadInput(str(e)) from None
    open_store(db_url).close()  # the database opens (or says why not) before anyone connects
    if db_url:  # to each session through the environment: a password in it stays out of `ps` and the log
        os.environ["SPTUI_DB"] = db_url
    try:
        server.serve()
    except OSError as e:  # an address it cannot listen on (no such host, in use, not allowed)
        raise Failure(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
