"""The one private name of textual-serve that `sptui serve` uses, here and nowhere else.

textual-serve's AppService starts a session's desk process and keeps it as ``AppService._process``; it offers
no public way to end a process that does not quit when asked (a desk blocked writing to a client that is
gone). sptui was tested with textual-serve 1.1.x (pinned in pyproject.toml); tests/test_serve.py fails with
the message below if a textual-serve release drops the name.
"""
from __future__ import annotations

import asyncio

from textual_serve.app_service import AppService

CHANGED = ("textual-serve changed: AppService has no `_process` any more (sptui was tested with textual-serve "
           "1.1.x); sptui.serve.compat must learn where the session's process is kept")


def session_process(service: AppService) -> asyncio.subprocess.Process | None:
    """The desk process of a session that was started (None before `start`)."""
    if "_process" not in vars(service):
        raise RuntimeError(CHANGED)
    process = vars(service)["_process"]
    if process is not None and not isinstance(process, asyncio.subprocess.Process):
        raise RuntimeError(CHANGED)
    return process
