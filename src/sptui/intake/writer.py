"""The intake's writer: the store's side of alarm intake, in a process of its own.

The SMTP server hands each mail's bytes to the writer, which parses it, routes it by the policy and stores it
(sptui.desk.alarms.file_mails) and commits, then answers; only then does the server say 250. Two processes,
because one Python process runs one thread at a time: the server talking SMTP and the writer routing and storing took turns on one core
(and waited on each other for the turn); as two processes they run on two cores. The parse is the writer's
too: the server's event loop serves every sender's SMTP commands, so time spent there delays them all
(bench/intake: the SQLite rate went from about 1,200 to about 1,350 alarms/s when the parse moved here).

The writer takes every mail waiting when it is free and stores them in one transaction (group commit:
one durable commit for several mails). A transient fault of the store answers the whole batch "try
again" (451); any other failure is retried mail by mail, so that one mail the store refuses is
quarantined (`store-error`) and holds back no other.

Protocol (stdin → writer → stdout): frames of a 4-byte length and a pickle. The first frame to the writer
is (db_url, policy_path); the writer answers ("ready", store_url) or ("fatal", message). Then each frame
is (seq, raw, via, received_at), answered by (seq, Stored) or (seq, error, message) with error "transient"
or "failed". End of input: the writer stores what it has and exits, so a server killed with SIGKILL loses
nothing it answered 250 for.
"""
from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import sys

from sptui.desk.alarms import file_mails
from sptui.intake.ingest import LOCK_WAIT, TRANSIENT, parse, store_one
from sptui.terminal import log_to_stderr

log = logging.getLogger("sptui.intake")

HEADER = struct.Struct("!I")
BATCH = 64


def frame(obj) -> bytes:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


class Writer:
    """Stores batches of parsed mails: one transaction per batch, each mail's result in order.

    A result is a `Stored`, or ("transient", message) — nothing was stored, the sender should retry — or
    ("failed", message) — not even the quarantine could take it (the sender should retry too)."""

    def __init__(self, store, policy):
        self.store, self.policy = store, policy

    def take(self, mails: list[tuple]) -> list:
        """mails: (raw, via, received_at) as the server sends them; each is parsed here (a mail that cannot be
        parsed is quarantined with why), then the batch is stored (store_batch)."""
        return self.store_batch([(raw, parse(raw), via, received) for raw, via, received in mails])

    def store_batch(self, items: list[tuple]) -> list:
        """items: (raw, mail or AlarmParseError, via, received_at)."""
        try:
            return file_mails(self.store, self.policy, items)
        except TRANSIENT as e:  # locked, gone, timed out: nothing was committed, every sender retries
            log.warning("the store could not take %d mail(s) just now: %s: %s", len(items), type(e).__name__, e)
            return [("transient", f"{type(e).__name__}: {e}")] * len(items)
        except Exception:  # nothing of this batch was committed: each mail again, on its own
            return [self.store_one(item) for item in items]

    def store_one(self, item: tuple):
        raw, mail, via, received = item
        try:
            return store_one(self.store, self.policy, raw, mail, via, received)
        except TRANSIENT as e:
            return ("transient", f"{type(e).__name__}: {e}")
        except Exception as e:
            log.exception("a mail could be neither stored nor quarantined")
            return ("failed", f"{type(e).__name__}: {e}")


class _Frames:
    """Reads frames from a file descriptor: blocking for the first of a batch, then what is already there."""

    def __init__(self, fd: int):
        self.fd, self.buf = fd, bytearray()

    def _fill(self, block: bool) -> bool:
        if not block and not select.select([self.fd], [], [], 0)[0]:
            return False
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk
        return True

    def _pop(self):
        if len(self.buf) < HEADER.size:
            return None
        (n,) = HEADER.unpack_from(self.buf)
        if len(self.buf) < HEADER.size + n:
            return None
        obj = pickle.loads(self.buf[HEADER.size:HEADER.size + n])
        del self.buf[:HEADER.size + n]
        return obj

    def one(self):
        while (obj := self._pop()) is None:
            self._fill(block=True)
        return obj

    def batch(self, limit: int) -> list:
        """At least one frame (blocking), and every whole frame already sent, up to `limit`."""
        out = [self.one()]
        while len(out) < limit:
            obj = self._pop()
            if obj is None:
                try:
                    if not self._fill(block=False):
                        break
                except EOFError:
                    break  # store what came; the next call meets the end
                continue
            out.append(obj)
        return out


def main() -> int:
    """`python -m sptui.intake.writer`, started by the SMTP intake with pipes on stdin and stdout."""
    # Ctrl-C or a service manager's SIGTERM reach the whole process group: the server stops us by closing our
    # input once it has answered what it sent us (SIGKILL still ends us, and loses nothing answered)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # a stray print must not break the protocol
    log_to_stderr(logging.WARNING)  # (each line with the mail's data in it escaped)
    frames = _Frames(0)

    def send(*objs) -> None:
        out.write(b"".join(frame(o) for o in objs))

    try:
        db_url, policy_path = frames.one()
    except EOFError:
        return 0
    try:
        from sptui import load_policy
        from sptui.store import Store

        policy = load_policy(policy_path)
        store = Store.open(db_url)
    except Exception as e:  # the server reports it and does not listen
        send(("fatal", f"{type(e).__name__}: {e}"))
        return 1
    store.db.hold_connection()
    store.db.limit_waits(LOCK_WAIT)
    send(("ready", store.db.url))
    writer = Writer(store, policy)
    try:
        while True:
            try:
                batch = frames.batch(BATCH)
            except EOFError:
                return 0
            results = writer.take([item[1:] for item in batch])
            try:
                send(*[(item[0], r) if not isinstance(r, tuple) else (item[0], *r) for item, r in zip(batch, results)])
            except BrokenPipeError:  # the server is gone; what was stored stays stored
                return 0
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
