"""Helpers for the intake tests and bench: a real `sptui intake smtp` process, and ESMPRO alarm mails."""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sptui.testing import alarm_mail

ROOT = Path(__file__).resolve().parents[1]
JST = dt.timezone(dt.timedelta(hours=9))


alarm = alarm_mail  # (the name the intake tests and bench use)


class IntakeServer:
    """`sptui intake smtp` in its own process, on a free loopback port."""

    def __init__(self, db_url: str, *extra: str, env: dict | None = None):
        self.db_url, self.extra, self.env = db_url, extra, env or {}
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self, port: int = 0) -> "IntakeServer":
        exe = Path(sys.executable).parent / "sptui"
        e = dict(os.environ, **self.env)
        self.proc = subprocess.Popen([str(exe), "intake", "smtp", "--listen", f"127.0.0.1:{port}", "--db", self.db_url,
                                      "--policy", str(ROOT / "policies"), *self.extra],
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=e)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"intake exited with {self.proc.wait()}")
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                import threading

                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("intake did not start listening")

    def _drain(self) -> None:
        for _ in self.proc.stderr:
            pass

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=60)
        return self.proc.returncode if self.proc else 0
