"""`python -m sptui.serve.session SERVER_PID PROGRAM ARGS…`: how `sptui serve` starts a session's desk.

The desk must end with the server, even one killed with SIGKILL (which runs no clean-up): the kernel is
asked to kill this process when its parent (the server) dies (Linux's PR_SET_PDEATHSIG, kept across exec),
then the desk's program replaces this one. Kept small: it runs before every session's desk.
"""
from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGKILL when the parent dies; where the kernel offers no such thing, the server's own ending must do."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m sptui.serve.session SERVER_PID PROGRAM ARGS…", file=sys.stderr)
        return 2
    die_with_parent()
    if os.getppid() != int(argv[0]):  # the server died before the request above was made
        return 1
    os.execv(argv[1], argv[1:])
    return 1  # (not reached)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
