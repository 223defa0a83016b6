"""sptui-maildir: an alarm source that watches a maildir (new/, cur/, tmp/) for ESMPRO alarm mails.

Where a mail server already delivers the alarm mailbox into a maildir (Postfix, Dovecot, fetchmail),
the desk can take alarms from it instead of running its own SMTP server:

    sptui intake source maildir ~/Maildir/.alarms --follow

Each mail in new/ is stored as an alarm (or quarantined, with the reason), and only then moved to cur/
and flagged seen (`:2,S`), as a mail reader would. A mail that could not be stored stays in new/ and is
tried again on the next scan. A mail's receipt time is when it was delivered into new/ (the file's
modification time; the intake's clock, said in the log, if that time is implausible: sptui.plugins.mailfiles).
With --follow the folder is scanned every second (`$SPTUI_MAILDIR_POLL` seconds). Only regular files are
read, never through a symbolic link: a sub-folder, a FIFO, a device or a symbolic link (to a file outside the
maildir, or in a cycle) in new/ is reported once (a log line) and left where it is.
"""
from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path
from typing import Iterator

from sptui.plugins.api import AlarmSource, IncomingMail, hookimpl, now, read_mail, received_at

log = logging.getLogger("sptui.intake")

__version__ = "0.1.0"


def seen_name(name: str) -> str:
    """The name a mail takes in cur/ once seen: its info `:2,FLAGS` with the flag S added (flags sorted)."""
    base, sep, flags = name.partition(":2,")
    return f"{base}:2,{''.join(sorted(set(flags) | {'S'}))}"


def _seen(path: Path, dest: Path) -> None:
    """new/NAME → cur/NAME:2,…S (the maildir flag 'seen')."""
    os.replace(path, dest)


def _waiting(root: Path) -> list[Path]:
    out = []
    for f in (root / "new").iterdir():
        if f.name.startswith("."):
            continue
        try:
            out.append((f.lstat().st_mtime_ns, f.name, f))  # (a link's own time: a link is skipped, not followed)
        except OSError:  # taken by another reader meanwhile
            continue
    return [f for _, _, f in sorted(out)]


def _mode(p: Path) -> int:
    try:
        return os.lstat(p).st_mode
    except OSError:
        return 0


def open_maildir(location: str, follow: bool = False, poll: float | None = None) -> Iterator[IncomingMail]:
    """The mails in the maildir's new/, oldest delivery first; with `follow`, then every new delivery."""
    try:
        root = Path(location).expanduser().resolve()
    except (OSError, RuntimeError) as e:  # a loop of symbolic links (RuntimeError before Python 3.13)
        raise FileNotFoundError(f"{location} is not a maildir ({e})") from None
    if not stat.S_ISDIR(_mode(root / "new")):  # (a link named new/ is not followed out of the maildir)
        raise FileNotFoundError(f"{root} is not a maildir (it has no new/ folder)")
    (root / "cur").mkdir(exist_ok=True)
    if poll is None:
        poll = float(os.environ.get("SPTUI_MAILDIR_POLL", "1"))
    reported: set[tuple[str, str]] = set()  # (name, why) of what was skipped: said once, not every scan
    while True:
        for f in _waiting(root):
            mail = read_mail(f)
            if mail.raw is None:
                if not os.path.lexists(f):  # taken by another reader meanwhile
                    continue
                if (f.name, mail.skipped) not in reported:
                    reported.add((f.name, mail.skipped))
                    log.warning("maildir: %s: skipped: %s", f, mail.skipped)
                continue
            delivered, note = received_at(mail, now(), date_header=False)
            if note:
                log.warning("maildir: %s: %s", f, note)
            dest = root / "cur" / seen_name(f.name)  # where it will be once stored: the alarm names it
            yield IncomingMail(mail.raw, delivered, f"maildir:{dest}", done=lambda f=f, dest=dest: _seen(f, dest))
        if not follow:
            return
        time.sleep(poll)


@hookimpl
def sptui_alarm_sources(register):
    register(AlarmSource("maildir", open_maildir, doc="a maildir's new/ mails; stored ones move to cur/ (seen)"))
