"""The `sptui` command: thin — it parses arguments and calls the library. One module per command group:

    authoring   check, fmt, test                 (the policy author's tools)
    clauses     clauses [CLAUSE]                 (the register, and who cites a clause)
    decisions   eval, explain, fee, deadline
    diff        diff OLD NEW (a policy change replayed over cases)
    plugins     plugins, plugin new
    db          db upgrade, db status
    registry    registry import, export, columns, find
    incident    incident open, show, claim, note, take-over, assign, dispatch, close
    alarm       alarm list, alarm contact
    intake      intake smtp, file, source
    desk        the desk (no command), serve, demo
    purge       purge
    report      report, handover, billing, queue   (the lead's views; they read, change nothing)

Every command fails the one way errors.py says (one line, exit 2 for bad input, 1 for a failure). Importing this
package loads no plugin and no policy; each command does what it needs when it runs.
"""
from __future__ import annotations

import os
import sys

import click

from sptui.cli.errors import Commands


@click.group(cls=Commands, invoke_without_command=True)
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
    from sptui.terminal import escape_unconfigured_logs

    escape_unconfigured_logs()
    if ctx.invoked_subcommand is None:
        if not sys.stdout.isatty() and "TEXTUAL_DRIVER" not in os.environ:  # (textual-serve's sessions: a pipe)
            click.echo(ctx.get_help())
            return
        from sptui.cli.desk import open_desk
        from sptui.cli.options import check_text

        check_text(ctx.command, ctx)

        open_desk(db_url, policy_path, lang=lang, operator=operator, read_only=read_only, mouse=not no_mouse, theme=theme)


from sptui.cli import (alarm, authoring, clauses, db, decisions, desk, diff, incident,  # noqa: E402,F401
                       intake, plugins, purge, registry, report)  # (their commands register on `main`)
