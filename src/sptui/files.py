"""One reader for every file sptui opens on a user's behalf: policy files, includes, test files, cases (`read_text`);
data files taken in (alarm mail files, maildirs, a registry CSV: `read_data`).

Only a regular file is read (a FIFO, a device or a folder is refused without blocking on it: it is opened
non-blocking and checked before a byte is read), never more than a stated size, and text as UTF-8 (a byte that is
not is named by its offset). A file that must stay inside a folder (`within`: a policy's files and includes) is
refused when its path, every link resolved, leads out of that folder, before it is opened. A data file is never
read through a symbolic link (O_NOFOLLOW; a link to a file outside the folder, or a cycle of links, is reported as a
link, not followed): what sptui takes from a mail drop or an upload folder is what is in it, not /etc/… that someone
linked there. And the one writer of a file sptui is told to write (`write_file`: atomic, never through a symbolic
link). Every problem is a FileProblem whose message names the file (never its content); nothing raises anything
else.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
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
def read_data(path: str | os.PathLike, *, limit: int, name: str | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes and status of a regular file of at most `limit` bytes that is no symbolic link; FileProblem
    otherwise (its reason: `a symbolic link`, `a FIFO`, `a folder`…, `larger than …`, `cannot be read (…)`)."""
    shown = name or str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        kind = data_kind(os.lstat(path))  # (a FIFO is refused before it is opened)
        if kind is not None:
            raise FileProblem(shown, kind)
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileProblem(shown, "no such file") from None
    except OSError as e:
        raise FileProblem(shown, "a symbolic link" if e.errno == errno.ELOOP else
                          f"cannot be read ({e.strerror or type(e).__name__})") from None
    try:
        st = os.fstat(fd)
        kind = data_kind(st)  # the path was replaced between the look and the opening
        if kind is not None:
            raise FileProblem(shown, kind)
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(MiB, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise FileProblem(shown, f"cannot be read ({e.strerror or type(e).__name__})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise FileProblem(shown, f"larger than {_size(limit)}")
    return b"".join(chunks), st


def write_file(path: str | os.PathLike, data: str | bytes, *, replace: bool = True, private: bool = False,
               name: str | None = None) -> None:
    """Write a file sptui was told to write (an export, a reject file, a policy file, a screenshot) all at once: a
    temporary file in the same folder, flushed to disk, then renamed onto the name (a reader sees the old file or
    the new one, never half). UTF-8 for text.

    The name itself must not be a symbolic link (dangling or not): it is refused, never written through. Whoever can
    write in a folder could otherwise point the name sptui writes (a reject file beside an upload, a draft beside a
    policy file) at any file the operator may write; and replacing the link by a file would quietly break what the
    operator linked on purpose. A refusal says which, and loses nothing. `replace=False`: an existing name is not
    replaced either (FileProblem `exists already`). A replaced file keeps its permissions; a new one gets the
    umask's, or owner-only with `private` (personal data). Every problem is a FileProblem naming the file."""
    shown = name or str(path)
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    existing = _existing(target, shown, replace)
    body = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    except OSError as e:
        raise FileProblem(shown, f"cannot be written ({e.strerror or type(e).__name__})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, existing.st_mode & 0o7777 if existing is not None else 0o600 if private else 0o666 & ~_umask())
        if replace:
            os.replace(tmp, target)  # (a link put there meanwhile is replaced, not followed)
        else:
            os.link(tmp, target)  # fails if anything has the name by now, a dangling link too
            os.unlink(tmp)
    except FileExistsError:
        _discard(tmp)
        raise FileProblem(shown, "exists already") from None
    except OSError as e:
        _discard(tmp)
        raise FileProblem(shown, f"cannot be written ({e.strerror or e or type(e).__name__})") from None
    except BaseException:
        _discard(tmp)
        raise


def _existing(target: str, shown: str, replace: bool) -> os.stat_result | None:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FileProblem(shown, f"cannot be written ({e.strerror or type(e).__name__})") from None
    if stat.S_ISLNK(st.st_mode):
        raise FileProblem(shown, "is a symbolic link: not written through (name the file itself)")
    if not replace:
        raise FileProblem(shown, "exists already")
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(shown, f"is not a regular file (it is {data_kind(st)}): not replaced")
    return st


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _umask() -> int:
    """This process's umask, read without changing it (Linux); else the usual 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def data_kind(st: os.stat_result) -> str | None:
    """None for a regular file; else what it is (`a symbolic link`, `a folder`, `a FIFO`…), for a data file."""
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    return "a FIFO" if stat.S_ISFIFO(st.st_mode) else _kind(st.st_mode)


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
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


__all__ = ["FileProblem", "read_text", "inside", "read_data", "data_kind", "write_file", "read_stream", "decode",
           "POLICY_FILE_LIMIT", "CASE_INPUT_LIMIT"]
