"""Alarm mails from files: .eml files, folders of them, and maildirs (new/ and cur/).

Only regular files are read, of at most MAX_MAIL bytes, and never through a symbolic link (sptui.files.read_data):
a link (to a file outside the folder, to a device, in a cycle), a FIFO, a device or a folder is a MailFile with the
reason it was skipped, and the reading goes on. Folders are entered only as themselves (a link to a folder is not).
"""
from __future__ import annotations

import datetime as dt
import email.utils
import os
import stat
from pathlib import Path
from typing import Any, Callable, Iterator

import attrs

from sptui.files import FileProblem, read_data
from sptui.plugins.sources import IncomingMail
from sptui.tz import TOKYO

MAX_MAIL = 32 * 1024 * 1024  # bytes: the largest mail taken from a file, as over SMTP (--max-size's default)
# A receipt time further from the intake's own clock than this is a wrong clock (or a hostile header), not a
# time to route by: a Date header of year 100 would close the alarm without a call.
RECEIPT_BEFORE = dt.timedelta(days=366)
RECEIPT_AFTER = dt.timedelta(days=1)

@attrs.frozen
class MailFile:
    """One file that may hold a mail: its bytes and modification time, or why it was not read (`skipped`)."""

    path: Path
    raw: bytes | None = None
    mtime: float | None = None
    skipped: str | None = None


def mail_files(paths, *, max_size: int = MAX_MAIL) -> Iterator[MailFile]:
    """Every mail file under the paths: a file itself; in a maildir, new/ and cur/ (tmp/ is a delivery in
    progress); in another folder, every *.eml below it."""
    for p in map(Path, paths):
        if not _folder(p):
            yield read_mail(p, max_size)
        elif _folder(p / "new") or _folder(p / "cur"):
            for sub in ("new", "cur"):
                if _folder(p / sub):
                    yield from _walk(p / sub, max_size, maildir=True)
                elif os.path.islink(p / sub):
                    yield MailFile(p / sub, skipped="a symbolic link, not entered")
        else:
            yield from _walk(p, max_size)


def _folder(p: Path) -> bool:
    """A folder itself (not a symbolic link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False


def _walk(folder: Path, max_size: int, *, maildir: bool = False) -> Iterator[MailFile]:
    """The *.eml files below a folder in name order, depth first (folders reached through a symlink are not
    entered; however deep the folders go: a stack, no recursion); of a maildir's new/ or cur/, every entry but dot
    files. Each file is read only when its turn comes (one mail in memory at a time)."""
    stack: list[tuple[str, Path | MailFile]] = [("walk", folder)]
    while stack:
        what, item = stack.pop()
        if what == "said":
            yield item
            continue
        if what == "read":
            yield read_mail(item, max_size)
            continue
        try:
            with os.scandir(item) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield MailFile(item, skipped=f"the folder cannot be read: {e.strerror or e}")
            continue
        here: list[tuple[str, Path | MailFile]] = []  # in name order; pushed reversed, so popped in order
        for entry in entries:
            path = Path(entry.path)
            if maildir:
                if not entry.name.startswith("."):
                    here.append(("read", path))
                continue
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if is_folder:
                if entry.name.endswith(".eml"):
                    here.append(("said", MailFile(path, skipped="a folder, not a mail file (the .eml files in it "
                                                               "are read)")))
                here.append(("walk", path))
            elif entry.name.endswith(".eml"):
                here.append(("read", path))
        stack.extend(reversed(here))


def read_mail(path: Path, max_size: int = MAX_MAIL) -> MailFile:
    """The file's bytes if it is a regular file (no symbolic link) of at most max_size bytes; else why not. Never
    blocks on a FIFO or a device, never raises."""
    try:
        raw, st = read_data(path, limit=max_size)
    except FileProblem as e:
        if e.reason.startswith("larger than"):
            return MailFile(path, skipped=f"over {max_size:,} bytes, the largest mail taken")
        if e.reason.startswith(("cannot be read", "no such file")):
            return MailFile(path, skipped=e.reason.replace("cannot be read (", "cannot be read: ").rstrip(")"))
        return MailFile(path, skipped=f"{e.reason}, not a mail file")
    return MailFile(path, raw=raw, mtime=st.st_mtime)


def _date_header(raw: bytes) -> dt.datetime | None:
    """The Date header's time, if it has a zone."""
    head = raw[:16384].decode("ascii", "replace")
    for line in head.splitlines():
        if not line.strip():
            break
        if line.lower().startswith("date:"):
            try:
                t = email.utils.parsedate_to_datetime(line[5:].strip())
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            return t if t.tzinfo is not None else None
    return None


def _claims(mail: MailFile, date_header: bool) -> Iterator[tuple[str, dt.datetime | None, str | None]]:
    """(what, its time or None, why it is no time) of each time a mail file tells, best first."""
    if date_header:
        yield "its Date header", _date_header(mail.raw or b""), None
    if mail.mtime is not None:
        try:
            yield "the file's modification time", dt.datetime.fromtimestamp(mail.mtime, TOKYO), None
        except (OverflowError, OSError, ValueError):
            yield "the file's modification time", None, f"the file's modification time ({mail.mtime}) is out of range"


def plausible(t: dt.datetime, now: dt.datetime) -> bool:
    """Whether `t` may be a mail's receipt time by the intake's clock `now`: no more than RECEIPT_BEFORE before
    it nor RECEIPT_AFTER after it (compared as instants: no conversion, so no overflow at year 1 or 9999)."""
    return now - RECEIPT_BEFORE <= t <= now + RECEIPT_AFTER


def received_at(mail: MailFile, now: dt.datetime, *, date_header: bool = True) -> tuple[dt.datetime, str | None]:
    """When the mail arrived: its Date header (if it has a zone; unless date_header is False), else the file's
    modification time, else `now`: the first no more than RECEIPT_BEFORE before now nor RECEIPT_AFTER after it.
    The note says which times were passed over and why (None if none was)."""
    passed: list[str] = []
    for what, t, why in _claims(mail, date_header):
        if t is not None and plausible(t, now):
            return t.astimezone(TOKYO), (f"received at {what}: " + "; ".join(passed)) if passed else None
        if t is not None:
            why = (f"{what} {t.isoformat()} is more than {RECEIPT_BEFORE.days} days before the intake's clock"
                   if t < now else f"{what} {t.isoformat()} is more than {RECEIPT_AFTER.days} day after the "
                   "intake's clock")
        if why:
            passed.append(why)
    return now, ("received now: " + "; ".join(passed)) if passed else None


def incoming(paths, clock: Callable[[], dt.datetime], *, skipped: Callable[[MailFile], Any],
             max_size: int = MAX_MAIL) -> Iterator[IncomingMail]:
    """The mail files under the paths (`mail_files`) as a source's mails, for `run_source`: each received at the
    time `received_at` chooses by the intake's `clock` (with its note), from `file:PATH`. A file that is not
    read is handed to `skipped` instead."""
    for f in mail_files(paths, max_size=max_size):
        if f.raw is None:
            skipped(f)
            continue
        when, note = received_at(f, clock())
        yield IncomingMail(f.raw, when, f"file:{f.path}", note=note)
