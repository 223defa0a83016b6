"""Alarm e-mail over SMTP (aiosmtpd): each mail is committed to the store before the server answers 250.

    250  stored as an alarm, a duplicate of one already stored, or quarantined (never dropped)
    451  the store could not take it just now (locked, down, full): the sender keeps it and retries
    550  a sender not on the allowlist (when one is given)
    552  larger than --max-size (aiosmtpd's SIZE limit, announced in EHLO)

The store's work runs in one writer thread, which commits the mails waiting together (group commit).
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import queue
import signal
import threading

from aiosmtpd.smtp import SMTP

from sptui.intake.ingest import TRANSIENT, parse, store_one
from sptui.store.schema import TOKYO

log = logging.getLogger("sptui.intake")

DEFAULT_MAX_SIZE = 32 * 1024 * 1024


class _SMTP(SMTP):
    # RFC 5321 limits a line to 1,000 bytes, but a mail that breaks it is still a mail to keep (quarantined
    # if it cannot be read), not one to refuse with 500
    line_length_limit = 1_000_000


class AlarmHandler:
    """aiosmtpd handler: DATA → the writer thread → 250 once committed, 451 on a store fault.

    One writer thread takes every mail waiting at that moment and stores them in one transaction (group
    commit: one durable commit for several mails). A transient fault answers 451 to the whole batch; any
    other failure is retried mail by mail (`store_one`)."""

    BATCH = 64

    def __init__(self, store, policy, *, allow: tuple[str, ...] = ()):
        self.store, self.policy = store, policy
        self.allow = tuple(a.lower() for a in allow)
        self.queue: queue.Queue = queue.Queue()
        self.counts = {"stored": 0, "duplicate": 0, "quarantined": 0, "deferred": 0}
        self.writer = threading.Thread(target=self._write_loop, name="intake-writer", daemon=True)
        self.writer.start()

    def allowed(self, address: str) -> bool:
        if not self.allow:
            return True
        a = address.lower()
        return any(a == x or (x.startswith("@") and a.endswith(x)) for x in self.allow)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not self.allowed(address):
            return f"550 5.7.1 sender {address} is not on this desk's allowlist"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        received = dt.datetime.now(TOKYO)
        # parsed here, on the event loop: while the writer waits for its commit (without the GIL), this runs
        self.queue.put((raw, parse(raw), f"smtp:{peer}", received, loop, done))
        try:
            result = await done
        except Exception as e:  # a fault of the store, not of the mail: the sender must keep it and retry
            self.counts["deferred"] += 1
            log.warning("deferred a mail from %s: %s: %s", peer, type(e).__name__, e)
            return "451 4.3.0 the desk could not store this alarm just now; try again later"
        if result.reason:
            self.counts["quarantined"] += 1
            return f"250 2.0.0 quarantined as Q{result.id} ({result.reason})"
        self.counts[result.outcome] += 1
        if result.outcome == "duplicate":
            return f"250 2.0.0 already stored as alarm {result.id}"
        return f"250 2.0.0 stored as alarm {result.id}"

    def _write_loop(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.BATCH:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)  # stop after this batch
                    break
                batch.append(nxt)
            try:
                self.store_batch(batch)
            except Exception:  # the writer must live on: a mail it cannot answer is one the sender retries
                log.exception("the intake writer failed on a batch")
                for *_, loop, fut in batch:
                    with contextlib.suppress(RuntimeError):  # the loop may be closing
                        loop.call_soon_threadsafe(_settle, fut, None, RuntimeError("the intake writer failed"))

    def store_batch(self, batch: list[tuple]) -> None:
        """Store the batch in one transaction and settle each mail's future (writer thread)."""
        try:
            results = self.store.ingest_batch(self.policy, [item[:4] for item in batch])
        except TRANSIENT as e:  # locked, gone, timed out: nothing was committed, every sender retries
            for *_, loop, fut in batch:
                loop.call_soon_threadsafe(_settle, fut, None, e)
            return
        except Exception:  # nothing of this batch was committed: each mail again, on its own
            for item in batch:
                self._one(item)
            return
        for (*_, loop, fut), result in zip(batch, results):
            loop.call_soon_threadsafe(_settle, fut, result, None)

    def _one(self, item) -> None:
        """One mail in its own transaction, so that one mail the store refuses cannot hold back the others."""
        raw, mail, via, received, loop, fut = item
        try:
            result = store_one(self.store, self.policy, raw, mail, via, received)
        except Exception as e:
            loop.call_soon_threadsafe(_settle, fut, None, e)
            return
        loop.call_soon_threadsafe(_settle, fut, result, None)

    def close(self) -> None:
        """Store what is queued, then stop the writer."""
        self.queue.put(None)
        self.writer.join()


def _settle(fut, result, error) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


def serve(store, policy, *, host: str = "127.0.0.1", port: int = 2525, max_size: int = DEFAULT_MAX_SIZE,
          allow: tuple[str, ...] = (), ready=None) -> AlarmHandler:
    """Run the SMTP intake until SIGINT or SIGTERM; `ready(port)` is called once it listens."""
    import sys

    # the event loop and the writer share the GIL; a shorter switch interval than the default 5 ms keeps
    # a mail's answer from waiting behind the writer's turn
    sys.setswitchinterval(0.0005)
    handler = AlarmHandler(store, policy, allow=allow)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _SMTP(handler, data_size_limit=max_size, ident="sptui alarm intake", hostname="sptui"),
            host=host, port=port)
        bound = server.sockets[0].getsockname()[1]
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready(bound)
        async with server:
            await stop.wait()
        handler.close()  # the mails being stored are committed first

    asyncio.run(main())
    return handler
