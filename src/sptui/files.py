"""One reader for every text file sptui opens on a user's behalf: policy files, includes, test files, cases.

Only a regular file is read (a FIFO, a device or a folder is refused without blocking on it: it is opened
non-blocking and checked before a byte is read), never more than a stated size, and as UTF-8 (a byte that is
not is named by its offset). A file that must stay inside a folder (`within`: a policy's files and includes) is
refused when its path, every link resolved, leads out of that folder, before it is opened. Every problem is a
FileProblem whose message names the file (never its content); nothing raises anything else.
"""
from __future__ import annotations

import os
import stat
from typing import BinaryIO

from sptui.errors import FileProblem

MiB = 1024 * 1024
POLICY_FILE_LIMIT = 16 * MiB  # a policy file (a 10,000-rule policy is about 3 MiB)
CASE_INPUT_LIMIT = 256 * MiB  # `sptui eval` input (100,000 cases as JSON lines are about 80 MiB)


def read_text(path: str | os.PathLike, *, limit: int = POLICY_FILE_LIMIT, name: str | None = None,
              within: str | os.PathLike | None = None) -> str:
    """The text of a regular file of at most `limit` bytes, decoded as UTF-8; FileProblem otherwise. With `within`,
    the file must lie inside that folder once every link in its path is resolved (it is then opened by that
    resolved path, its last part not followed again)."""
    shown = name or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    if within is not None:
        path = inside(path, within, shown)
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileProblem(shown, "no such file") from None
    except OSError as e:
        raise FileProblem(shown, f"cannot be opened ({e.strerror or type(e).__name__})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileProblem(shown, f"is not a regular file (it is {_kind(mode)})")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = _bounded(f, limit, shown)
    except OSError as e:
        raise FileProblem(shown, f"cannot be read ({e.strerror or type(e).__name__})") from None
    finally:
        os.close(fd)
    return decode(data, shown)


def inside(path: str | os.PathLike, folder: str | os.PathLike, shown: str | None = None) -> str:
    """`path` with every link resolved, if that lies inside `folder` (also resolved); FileProblem otherwise."""
    shown = shown or str(path)
    if any(ord(c) < 32 for c in os.fspath(path)):
        raise FileProblem(shown, "is no file name (it holds a control character)")
    try:
        real, root = os.path.realpath(path), os.path.realpath(folder)
    except (OSError, ValueError) as e:
        raise FileProblem(shown, f"cannot be opened ({getattr(e, 'strerror', None) or type(e).__name__})") from None
    if os.path.commonpath([real, root]) != root:
        raise FileProblem(shown, "is outside the policy's folder (a link or `..` leads out of it)")
    return real


def read_stream(stream: BinaryIO, name: str, *, limit: int) -> str:
    """A byte stream (standard input) read to its end, at most `limit` bytes, as UTF-8."""
    try:
        data = _bounded(stream, limit, name)
    except OSError as e:
        raise FileProblem(name, f"cannot be read ({e.strerror or type(e).__name__})") from None
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileProblem(name, f"is not UTF-8 text (byte {e.start:,} is {data[e.start]:#04x})") from None


def _bounded(f: BinaryIO, limit: int, name: str) -> bytes:
    data = f.read(limit + 1)
    if data is None:  # a non-blocking stream with nothing to read yet
        data = b""
    if len(data) > limit:
        raise FileProblem(name, f"is larger than {_size(limit)}")
    return data


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB and n % MiB == 0 else f"{n:,} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


__all__ = ["FileProblem", "read_text", "inside", "read_stream", "decode", "POLICY_FILE_LIMIT", "CASE_INPUT_LIMIT"]
