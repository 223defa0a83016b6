"""`sptui intake`: alarm mails into the desk — `smtp` (a server), `file` (.eml files, maildirs) and `source` (an
alarm-source plugin). `file` and `source` take one path (sptui.intake.source.run_source), one line per mail."""
from __future__ import annotations

import logging
import sys

import click

from sptui.cli import main
from sptui.cli.common import db_option, load, open_store, policy_option
from sptui.cli.errors import BadInput, Commands, Failure, say
from sptui.config import default_policy


def _log_to_stderr() -> None:
    from sptui.terminal import log_to_stderr

    log_to_stderr(logging.WARNING)  # (each line with the mails' data in it escaped)


@main.group(cls=Commands)
def intake():
    """Alarm mail intake: `sptui intake smtp` (a server), `sptui intake file` (.eml files, maildirs) and
    `sptui intake source` (an alarm-source plugin)."""


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        raise BadInput(f"--listen: expected HOST:PORT like 127.0.0.1:2525 (a port from 0 to 65535), got {value!r}")
    return host.strip("[]"), int(port)


@intake.command("smtp")
@click.option("--listen", default="127.0.0.1:2525", show_default=True,
              help="address to listen on; loopback unless you name another")
@click.option("--max-size", default=32 * 1024 * 1024, show_default=True, type=click.IntRange(1000, 1 << 30),
              help="largest mail accepted, in bytes (SIZE; larger ones get 552)")
@click.option("--allow", multiple=True, help="sender allowed (an address, or @domain); repeat; default: any")
@db_option
@policy_option
def intake_smtp(listen, max_size, allow, db_url, policy_path):
    """Receive ESMPRO alarm mails over SMTP; each is stored (or quarantined) before the 250."""
    from sptui.intake.smtp import IntakeError, serve

    host, port = _listen(listen)
    policy_path = str(policy_path or default_policy())
    load(policy_path)  # its diagnostics here, before the writer loads it for itself
    store = open_store(db_url)  # checked here; the writer opens the same database
    url = store.db.engine.url.render_as_string(hide_password=False)
    store.close()
    # our own lines at INFO; aiosmtpd's per-command INFO lines ("mail.log") would cost more than storing a mail
    _log_to_stderr()
    logging.getLogger("sptui").setLevel(logging.INFO)

    def ready(bound, store_url):
        say(f"listening on {host}:{bound}, storing into {store_url}", err=True)

    try:
        handler = serve(url, policy_path, host=host, port=port, max_size=max_size, allow=tuple(allow), ready=ready)
    except OSError as e:
        raise Failure(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    except IntakeError as e:
        raise Failure(str(e)) from None
    say(" ".join(f"{k} {v}" for k, v in handler.counts.items()), err=True)


def _say_delivery(d) -> None:
    """One line per mail: stored, a duplicate or quarantined on stdout; not stored on stderr."""
    say(d.words(), err=d.stored is None)


@intake.command("file")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
@policy_option
def intake_file(paths, db_url, policy_path):
    """Take alarm mails from .eml files, folders of them, and maildirs; one line per mail. Only regular files are
    read; anything else (a FIFO, a device, a folder named *.eml, a file over 32 MB) is one line and skipped."""
    from sptui.plugins.mailfiles import incoming
    from sptui.intake.ingest import LOCK_WAIT
    from sptui.intake.source import run_source
    from sptui.store import now

    policy = load(policy_path)
    store = open_store(db_url)
    store.db.limit_waits(LOCK_WAIT)  # a lock held elsewhere: the mail is not stored, left for the next run
    skipped: list = []

    def skip(f) -> None:
        skipped.append(f)
        say(f"{f.path}: skipped: {f.skipped}", err=True)

    counts = run_source(incoming(paths, now, skipped=skip), store, policy, _say_delivery)
    failed = counts.pop("not-stored")
    say(" ".join(f"{k} {v}" for k, v in counts.items()) + (f" not-stored {failed}" if failed else "")
        + (f" skipped {len(skipped)}" if skipped else ""), err=True)
    sys.exit(1 if failed or skipped else 0)


@intake.command("source")
@click.argument("name", required=False)
@click.argument("location", required=False)
@click.option("--follow", "-f", is_flag=True, help="keep watching for new alarms until interrupted (Ctrl+C)")
@db_option
@policy_option
def intake_source(name, location, follow, db_url, policy_path):
    """Take alarms from a plugin's alarm source (NAME) at LOCATION; with no NAME, list the sources."""
    from sptui.intake.ingest import LOCK_WAIT
    from sptui.intake.source import run_source
    from sptui.plugins.manager import default_manager

    pm = default_manager()
    sources = {k: obj for k, (_, obj) in pm.unique("sptui_alarm_sources", lambda o: o.name).items()}
    if name is None:
        for n, src in sorted(sources.items()):
            say(f"{n}  {src.doc}")
        if not sources:
            say("no alarm source is installed (an alarm-source plugin adds one; see docs/plugins.md)", err=True)
        return
    if name not in sources:
        raise BadInput(f"no alarm source named {name!r} (sources: {', '.join(sorted(sources)) or 'none installed'})")
    if location is None:
        raise BadInput(f"give the location for {name!r}: sptui intake source {name} LOCATION")
    _log_to_stderr()
    policy = load(policy_path)
    store = open_store(db_url)
    store.db.limit_waits(LOCK_WAIT)
    try:
        mails = sources[name].open(location, follow=follow)
    except Exception as e:  # the plugin's own error (a missing folder, a bad URL): one line
        raise Failure(f"alarm source {name!r} cannot open {location!r}: {type(e).__name__}: {e}") from None
    try:
        counts = run_source(mails, store, policy, _say_delivery, backoff=follow)
    except KeyboardInterrupt:
        getattr(mails, "close", lambda: None)()
        say("stopped", err=True)
        return
    except Exception as e:  # a source that breaks mid-way: what was stored stays stored
        raise Failure(f"alarm source {name!r} failed: {type(e).__name__}: {e}") from None
    say(" ".join(f"{k} {v}" for k, v in counts.items()), err=True)
    sys.exit(1 if counts["not-stored"] else 0)
