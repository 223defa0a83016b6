"""Helpers for the intake tests and bench: a real `sptui intake smtp` process, and ESMPRO alarm mails."""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import email.policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JST = dt.timezone(dt.timedelta(hours=9))


def alarm(computer: str, occurred: dt.datetime, *, event_id: str = "0x8000070B", message_id: str | None = None,
          detail: str = "論理ドライブが縮退しました。", charset: str = "iso-2022-jp", sender: str = "esmpro@example.jp"
          ) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "alarm@desk.example.jp"
    msg["Subject"] = f"ESMPRO Alert {computer}"
    msg["Date"] = format_datetime(occurred)
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    body = (f"コンピュータ名：{computer}\n製品名：Express5800/R120h-1M\n発生日付：{occurred:%Y/%m/%d}\n"
            f"発生時間：{occurred:%H:%M:%S}\n[トラップ名]\nディスク障害\n[ソース名]\nESMDiskArray\n[イベントID]\n{event_id}\n"
            f"[詳細メッセージ]\n{detail}\n[対処方法]\n保守員に連絡してください。\n[アラートタイプ]\nESMPRO/AC\n")
    msg.set_content(body, charset=charset)
    return msg.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as a mail agent sends them


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
