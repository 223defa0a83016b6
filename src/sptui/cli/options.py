"""What every command shares about its options: the root's options (`sptui --db X incident show 1`) reach the
subcommand, an id is one type, and click's own usage errors are one line like every other error.

- The root group's options (`--db`, `--policy`, `--lang`, `--operator`, `--read-only`, `--no-mouse`, `--theme`)
  given before a subcommand are that subcommand's same options (matched by their option string: demo's `--db`
  is `--db` too); the subcommand's own, given after it, wins. A root option that the subcommand has no use for is
  a usage error (exit 2) naming it, never silently dropped. `--read-only` is honoured by the commands that change
  nothing (`reads_only=True`) and refused by the ones that would.
- `RecordId`: an incident's, alarm's or quarantined mail's id, a whole number the store can hold (1 … 2**63-1,
  SQLite's and PostgreSQL's bigint), else a usage error.
- `OneLineUsage`: a click usage error shown as `error: …` on one line, every control character of what was typed
  escaped (sptui.terminal), with `(see `sptui … --help`)`.
"""
from __future__ import annotations

import re

import click
from click.core import ParameterSource

# the longest usage message shown (click quotes a bad value whole)
MESSAGE_MAX = 600
# the largest id the store can hold: SQLite's INTEGER and PostgreSQL's bigint are signed 64-bit
ID_MAX = 2 ** 63 - 1


def _say_usage(message: str, ctx: click.Context | None) -> str:
    from sptui.terminal import shown

    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"error: {shown(message)}{shown(where)}"


class OneLineUsage(click.UsageError):
    """A usage error reported as every sptui error is: one line, `error: …`, exit 2, control characters escaped."""

    def __init__(self, error: click.ClickException):
        super().__init__(error.format_message(), getattr(error, "ctx", None))
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        message = self.format_message()
        if len(message) > MESSAGE_MAX:  # (click quotes a bad value whole: an argument may be 128 KiB)
            message = message[:MESSAGE_MAX] + "…"
        click.echo(_say_usage(message, self.ctx), err=True)


def one_line(error: click.ClickException) -> click.ClickException:
    """click's error as sptui shows errors (already so: itself)."""
    return error if isinstance(error, OneLineUsage) else OneLineUsage(error)


class RecordId(click.ParamType):
    """An id of a stored record (or a version of one): a whole number from `least` to ID_MAX (what the store can
    hold), else a usage error."""

    name = "id"

    def __init__(self, least: int = 1, what: str = "an id"):
        self.least, self.what = least, what

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            text = str(value).strip()
            n = int(text) if text.isascii() and text.isdigit() and len(text) <= 25 else None
        if n is None or not self.least <= n <= ID_MAX:
            from sptui.terminal import shown

            text = str(value)
            self.fail(f"{shown(text if len(text) <= 40 else text[:40] + '…')} is not {self.what}: "
                      f"{self.what} is a whole number from {self.least} to {ID_MAX}", param, ctx)
        return n


ID = RecordId()
VERSION = RecordId(0, "a version")


def _long_opts(param: click.Parameter) -> set[str]:
    return {o for o in param.opts + param.secondary_opts if o.startswith("--")}


def given_root_options(ctx: click.Context) -> list[tuple[click.Option, object]]:
    """The root's options given on the command line before the subcommand, with their values."""
    root = ctx.find_root()
    if root is ctx:
        return []
    return [(p, root.params.get(p.name)) for p in root.command.params
            if isinstance(p, click.Option) and p.name and root.get_parameter_source(p.name) is ParameterSource.COMMANDLINE]


def check_text(command: click.Command, ctx: click.Context) -> None:
    """A value typed as bytes that are not UTF-8 (Python keeps each as a lone surrogate, which no database or
    terminal takes) is a usage error naming the option; a path may be any bytes (the file system's)."""
    for p in command.params:
        if isinstance(p.type, click.Path):
            continue
        value = ctx.params.get(p.name)
        for v in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(v, str) and NOT_UTF8.search(v):
                from sptui.terminal import shown

                raise click.BadParameter(f"{shown(v[:40])} is not UTF-8 text (the bytes typed cannot be read as "
                                         "characters)", ctx, p)


class Command(click.Command):
    """A subcommand of `sptui`: the root's options given before it are its own (see the module's doc)."""

    def __init__(self, *args, reads_only: bool = False, **kw):
        super().__init__(*args, **kw)
        self.reads_only = reads_only

    def inherit_root_options(self, ctx: click.Context) -> None:
        for root_param, value in given_root_options(ctx):
            opts = _long_opts(root_param)
            own = next((p for p in self.params if isinstance(p, click.Option) and _long_opts(p) & opts), None)
            if own is not None:
                if ctx.get_parameter_source(own.name) is not ParameterSource.COMMANDLINE:  # (its own wins)
                    ctx.params[own.name] = value
                continue
            name = root_param.opts[0]
            if root_param.name == "read_only" and self.reads_only:
                continue  # (it changes nothing anyway)
            if root_param.name == "read_only":
                raise click.UsageError(f"--read-only: `{ctx.command_path}` changes the desk's data; "
                                       "leave out --read-only to change it", ctx)
            theirs = sorted(o for p in self.params if isinstance(p, click.Option) for o in _long_opts(p)
                            if o in ROOT_OPTION_STRINGS)
            raise click.UsageError(f"{name} does not apply to `{ctx.command_path}`"
                                   + (f" (of sptui's options it takes {', '.join(theirs)})" if theirs else
                                      " (it takes none of sptui's options before the command)"), ctx)

    def invoke(self, ctx: click.Context):
        self.inherit_root_options(ctx)
        check_text(self, ctx)
        return super().invoke(ctx)


# what Python makes of bytes that are not UTF-8 in an argument (surrogateescape): lone surrogates
NOT_UTF8 = re.compile("[\ud800-\udfff]")
# the root's options a subcommand may take (set by sptui.cli.main's definition; checked by a test)
ROOT_OPTION_STRINGS = ("--db", "--policy", "--lang", "--operator", "--read-only", "--no-mouse", "--theme")
