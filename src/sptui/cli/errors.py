"""The one way a command fails: a line on stderr, `error: …`, with every control character in it shown escaped
(sptui.terminal), and an exit code — 2 for bad input (a value out of range, a file that cannot be read, a
request that is incomplete or wrong), 1 for a failure (a refusal, a conflict, a database that fails). Never a
traceback: an error nobody foresaw is one line too (with SPTUI_DEBUG=1 in the environment it propagates, with
its traceback, for whoever debugs sptui).

Commands raise `BadInput` or `Failure` (or let the library's errors through: `BadRequest` and `CaseError` are bad
input, any other `StoreError` and a database's error a failure); `Commands`, the class of every command group,
reports them. Human-readable output that carries data goes out through `say`.
"""
from __future__ import annotations

import os
import sys

import click

from sptui.cli.options import Command, one_line

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class Reported(Exception):
    """An error a command reports: its message, and `details` (lines said after it, such as every row error)."""

    def __init__(self, message: str, details: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        self.details = tuple(details)


class BadInput(Reported):
    """What the user gave cannot be used: exit 2, with this message."""


class Failure(Reported):
    """The command could not do what was asked: exit 1, with this message."""


def say(line: str, *, err: bool = False) -> None:
    """One line of human-readable output, with every control character in it shown escaped. Every line a command
    prints goes out through `say`, `say_lines` or `say_json` (tests/test_cli_input.py checks it)."""
    from sptui.terminal import shown

    click.echo(shown(line), err=err)


def say_lines(text: str, *, err: bool = False) -> None:
    """Human-readable output of several lines (a diagnostic with its caret, a diff, a trace): its own line breaks
    kept, every other control character shown escaped."""
    from sptui.terminal import shown_lines

    click.echo(shown_lines(text), err=err)


def say_json(value, *, indent: int | None = 2, **kw) -> None:
    """JSON output: the same data, with every control character (which json.dumps leaves raw when it is not
    ASCII: C1, bidi controls, U+2028…) written as its \\u escape, so it neither acts on a terminal nor breaks a
    JSON-lines reader."""
    import json

    from sptui.terminal import json_escaped

    click.echo(json_escaped(json.dumps(value, ensure_ascii=False, indent=indent, **kw)))


def say_json_lines(texts: list[str]) -> None:
    """JSON lines (`eval --jsonl`): each JSON text (json.dumps's, on one line) with its control characters escaped
    as say_json writes them, one a line, written at once."""
    from sptui.terminal import json_escaped

    sys.stdout.write("".join(json_escaped(t) + "\n" for t in texts))
    sys.stdout.flush()


def say_data(text: str) -> None:
    """Data a command was asked for (a CSV, a JSON export) on standard output: to a pipe or a file the data itself;
    on a terminal, where a person reads it, every control character but the line ends shown escaped."""
    if sys.stdout.isatty():
        from sptui.terminal import shown_lines

        click.echo(shown_lines(text), nl=False)
    else:  # (color=True: click would strip what looks like a colour code from the data)
        click.echo(text, nl=False, color=True)


# the longest error line said (an error quoting what was typed, or a stored value, quotes at most this much of it)
ERROR_MAX = 1000


def bounded(message: str) -> str:
    """An error's message cut to ERROR_MAX characters, saying how much was left out."""
    message = str(message)
    if len(message) <= ERROR_MAX:
        return message
    return f"{message[:ERROR_MAX]}… ({len(message) - ERROR_MAX:,} more characters)"


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    return text[0] if text else type(e).__name__


def exit_code_and_message(e: Exception) -> tuple[int, str]:
    """How an error is reported: its exit code and its one line (before escaping)."""
    if isinstance(e, BadInput):
        return EXIT_BAD_INPUT, str(e)
    if isinstance(e, Failure):
        return EXIT_FAILURE, str(e)
    from sqlalchemy.exc import DBAPIError  # (an error has happened: what it costs to import no longer matters)

    from sptui.errors import CaseError
    from sptui.store.db import BadRequest, StoreError

    if isinstance(e, (BadRequest, CaseError)):
        return EXIT_BAD_INPUT, str(e)
    if isinstance(e, StoreError):
        return EXIT_FAILURE, str(e)
    if isinstance(e, DBAPIError) and getattr(e.orig, "sqlite_errorcode", None) == 26:  # SQLITE_NOTADB
        return EXIT_BAD_INPUT, "--db: the file is not a SQLite database file"
    if isinstance(e, DBAPIError):
        return EXIT_FAILURE, f"the database failed: {_first_line(e)}"
    return EXIT_FAILURE, f"{type(e).__name__}: {e}"


def _usage(e: click.ClickException) -> click.ClickException:
    """click's own error (a usage error: exit 2) as one line too, unless it is help shown for a bare group."""
    if isinstance(e, getattr(click.exceptions, "NoArgsIsHelpError", ())):
        return e
    return one_line(e)


class Commands(click.Group):
    """A command group whose commands report every error as `exit_code_and_message` says: one line, no
    traceback; its subcommands take the root's options given before them (sptui.cli.options)."""

    command_class = Command

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.ClickException as e:
            raise _usage(e) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException as e:
            raise _usage(e) from None  # click's own: a usage error (exit 2)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise  # --help, Ctrl+C
        except Exception as e:
            if os.environ.get("SPTUI_DEBUG"):
                raise
            code, message = exit_code_and_message(e)
            say(f"error: {bounded(message)}", err=True)
            for line in getattr(e, "details", ()):
                say(bounded(line), err=True)
            sys.exit(code)
