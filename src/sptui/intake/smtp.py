"""Alarm e-mail over SMTP (aiosmtpd): each mail is committed to the store before the server answers 250.

    250  stored as an alarm, a duplicate of one already stored, or quarantined (never dropped)
    451  the store could not take it just now (locked, down, full): the sender keeps it and retries
    550  a sender not on the allowlist (when one is given)
    552  larger than --max-size (aiosmtpd's SIZE limit, announced in EHLO)

This process talks SMTP; the writer process (sptui.intake.writer) parses, routes, stores and commits.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import pickle
import signal
import sys

from aiosmtpd.smtp import SMTP

from sptui.intake.writer import HEADER, frame
from sptui.errors import IntakeError
from sptui.tz import TOKYO

log = logging.getLogger("sptui.intake")

DEFAULT_MAX_SIZE = 32 * 1024 * 1024
START_TIMEOUT = 120  # seconds for the writer to load the policy and open the store
CLOSE_TIMEOUT = 120  # seconds for the writer to store what it was sent, when the intake stops
# seconds a sender waits for its 250 at most: past that (a writer stuck beyond its lock and statement limits) it gets
# 451 and retries; if the writer stores the mail after all, the retry is its duplicate (stored once)
ANSWER_WAIT = 60


class WriterError(IntakeError):
    """The writer did not store a mail: the sender should retry (451)."""


class _Child:
    def __init__(self, proc):
        self.proc, self.pending = proc, {}  # sequence number → the future of a mail in flight


async def _read_frame(stream: asyncio.StreamReader):
    (n,) = HEADER.unpack(await stream.readexactly(HEADER.size))
    return pickle.loads(await stream.readexactly(n))


class WriterProcess:
    """This side of the writer: starts it, sends it the mails, and settles each mail's future with the
    writer's answer. If the writer dies, the mails in flight fail (451: their senders retry) and the next
    mail starts a new writer."""

    def __init__(self, db_url: str, policy_path: str):
        self.db_url, self.policy_path = db_url, policy_path
        self.url: str | None = None
        self._child: _Child | None = None
        self._lock = asyncio.Lock()
        self._seq = itertools.count()
        self._tasks: set = set()
        self.closing = False

    async def start(self) -> str:
        await self._ensure()
        return self.url

    async def _ensure(self) -> _Child:
        async with self._lock:
            if self._child is None:
                if self.closing:
                    raise WriterError("the intake is stopping")
                self._child = await self._spawn()
            return self._child

    async def _spawn(self) -> _Child:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "sptui.intake.writer",
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        try:
            proc.stdin.write(frame((self.db_url, self.policy_path)))
            kind, payload = await asyncio.wait_for(_read_frame(proc.stdout), START_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError) as e:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise IntakeError(f"the intake writer did not start (exit {await proc.wait()}): {type(e).__name__}") from e
        if kind != "ready":
            await proc.wait()
            raise IntakeError(f"the intake writer could not start: {payload}")
        self.url = payload
        child = _Child(proc)
        task = asyncio.create_task(self._answers(child))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return child

    async def submit(self, item: tuple):
        """(raw, via, received_at) → Stored, once the writer has parsed the mail and committed it."""
        child = await self._ensure()
        seq = next(self._seq)
        data = frame((seq, *item))
        fut = asyncio.get_running_loop().create_future()
        child.pending[seq] = fut
        try:
            child.proc.stdin.write(data)
            await child.proc.stdin.drain()
        except (ConnectionError, RuntimeError) as e:
            child.pending.pop(seq, None)
            raise WriterError(f"the writer is gone: {type(e).__name__}") from e
        return await fut

    async def _answers(self, child: _Child) -> None:
        try:
            while True:
                seq, *answer = await _read_frame(child.proc.stdout)
                fut = child.pending.pop(seq, None)
                if fut is None or fut.done():
                    continue
                if len(answer) == 1:
                    fut.set_result(answer[0])
                else:
                    fut.set_exception(WriterError(f"{answer[0]}: {answer[1]}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:  # a frame this side cannot read: this writer cannot be trusted to answer; a new one
            log.exception("the intake writer's answer could not be read; stopping it")
            with contextlib.suppress(ProcessLookupError):
                child.proc.kill()
        code = await child.proc.wait()
        if self._child is child:
            self._child = None
        if child.pending or not self.closing:
            log.error("the intake writer stopped (exit %s); %d mail(s) in flight are answered 451", code,
                      len(child.pending))
        for fut in child.pending.values():
            if not fut.done():
                fut.set_exception(WriterError(f"the writer stopped (exit {code})"))
        child.pending.clear()

    async def close(self) -> None:
        """The writer stores what it was sent, answers, and exits."""
        self.closing = True
        async with self._lock:
            child = self._child
        if child is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                child.proc.stdin.close()
            try:
                await asyncio.wait_for(child.proc.wait(), CLOSE_TIMEOUT)
            except asyncio.TimeoutError:  # stuck (a lock that never frees): its unanswered mails get 451
                log.error("the intake writer did not stop within %d s; killing it", CLOSE_TIMEOUT)
                with contextlib.suppress(ProcessLookupError):
                    child.proc.kill()
                await child.proc.wait()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class _SMTP(SMTP):
    def __init__(self, handler, *, data_size_limit: int, **kwargs):
        # RFC 5321 limits a line to 1,000 bytes, but a mail that breaks it is still a mail to keep (quarantined
        # if it cannot be read), not one to refuse with 500: any line of a mail under the size limit (its CRLF
        # too) is under the line limit; a longer mail is refused for its size (552)
        self.line_length_limit = data_size_limit + 2
        super().__init__(handler, data_size_limit=data_size_limit, **kwargs)


class AlarmHandler:
    """aiosmtpd handler: DATA → the writer (which parses and stores) → 250 once committed, 451 when it was not."""

    def __init__(self, writer, *, allow: tuple[str, ...] = ()):
        self.writer = writer  # anything with `async submit(item) -> Stored` (WriterProcess)
        self.allow = tuple(a.lower() for a in allow)
        self.counts = {"stored": 0, "duplicate": 0, "quarantined": 0, "deferred": 0}

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
        received = dt.datetime.now(TOKYO)
        try:
            result = await asyncio.wait_for(self.writer.submit((raw, f"smtp:{peer}", received)), ANSWER_WAIT)
        except Exception as e:  # the mail was not stored: the sender must keep it and retry
            self.counts["deferred"] += 1
            log.warning("deferred a mail from %s: %s: %s", peer, type(e).__name__, e)
            return "451 4.3.0 the desk could not store this alarm just now; try again later"
        self.counts[result.kind] += 1
        if result.kind == "quarantined":
            return f"250 2.0.0 quarantined as Q{result.id} ({result.reason})"
        if result.kind == "duplicate":
            return f"250 2.0.0 already stored as alarm {result.id}"
        return f"250 2.0.0 stored as alarm {result.id}"


def serve(db_url: str, policy_path: str, *, host: str = "127.0.0.1", port: int = 2525,
          max_size: int = DEFAULT_MAX_SIZE, allow: tuple[str, ...] = (), ready=None) -> AlarmHandler:
    """Run the SMTP intake until SIGINT or SIGTERM; `ready(port, store_url)` is called once it listens.
    Raises IntakeError if the writer cannot start, OSError if the address cannot be bound."""
    out: list[AlarmHandler] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        writer = WriterProcess(db_url, policy_path)
        try:
            url = await writer.start()
            handler = AlarmHandler(writer, allow=allow)
            out.append(handler)
            server = await loop.create_server(
                lambda: _SMTP(handler, data_size_limit=max_size, ident="sptui alarm intake", hostname="sptui"),
                host=host, port=port)
            bound = server.sockets[0].getsockname()[1]
            stop = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if ready is not None:
                ready(bound, url)
            async with server:
                await stop.wait()
                server.close()  # no new sessions; the mails in flight are still answered
        finally:
            await writer.close()  # the mails sent to the writer are committed and answered first
            await asyncio.sleep(0.05)  # and their 250s leave before the sessions close

    asyncio.run(main())
    return out[0]
