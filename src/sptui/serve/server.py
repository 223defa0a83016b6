"""`sptui serve`: the desk in a browser through textual-serve, each session its own desk process.

Behind an authenticating proxy, `--operator-header X-Remote-User` makes each session's operator (the "who" of
the audit log) the user the proxy authenticated, from that request header; a session without it is refused
before any desk starts. Without the option, every session acts as the server's own user.

Every request must name, in its Host header, an address this server listens on (or one of `--allow-host`):
a page of another site whose name resolves to this machine (DNS rebinding) gets a 403, not a desk. Every
terminal size a browser sends, in the URL or over the websocket, is clamped. What a browser sends is bounded: one
websocket message at most MESSAGE_MAX bytes, one bracketed paste at most PASTE_MAX; at most PENDING_MAX
bytes sent and not yet taken by the desk (which reads its input only as fast as it handles it: sptui.tui.web_driver),
past which the session ends. A session's desk process ends with its client, whatever it is doing
(asked to quit, then SIGTERM, then SIGKILL), and with the server (even one killed: sptui.serve.session).
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import math
import os
import re
import shlex
import sys
from functools import partial
from typing import Awaitable, Callable

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from sptui.serve.compat import session_process

log = logging.getLogger("sptui.serve")

OPERATOR = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
WIDTH, HEIGHT = (10, 500), (5, 200)  # cells: larger than any browser window shows, small enough for any desk
LOOPBACK = ("localhost", "127.0.0.1", "::1")
QUIT_WAIT = 3.0  # seconds a session's desk has to quit once its client is gone, before it is ended
KILL_WAIT = 2.0  # seconds after SIGTERM before SIGKILL
MESSAGE_MAX = 256 * 1024  # bytes of one websocket message from a browser (xterm.js sends a paste as one)
PASTE_MAX = 256 * 1024  # bytes of one bracketed paste (the desk holds an open paste until it ends)
PENDING_MAX = 1024 * 1024  # bytes a browser may have sent that its desk has not taken yet
PONG_WAIT = 5.0  # seconds a pong may wait for the client to read
MESSAGE_COST = 256  # bytes a message counts for at least (what it costs held: at most 4,096 of them wait)


def _size(value: object, bounds: tuple[int, int], default: int) -> int:
    """A terminal size from the browser (any JSON value, or the URL's text), within bounds; else the default."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return default
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return default
    if not math.isfinite(number):
        return default
    return max(bounds[0], min(bounds[1], int(number)))


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}".lower()


_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?")


def _host_port(value: str, default_port: int | None) -> tuple[str, int | None] | None:
    """("name", port) of a Host header or an --allow-host (a DNS name or an IP address, IPv6 in brackets, an
    optional port); None if it is none of these."""
    from urllib.parse import urlsplit

    try:
        u = urlsplit(f"//{value.strip()}")
        host, port = u.hostname, u.port
    except ValueError:  # a port that is no number, or out of range
        return None
    if not host or u.username is not None or u.password is not None or u.path or u.query or u.fragment:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _NAME.fullmatch(host):
            return None
    return host.lower(), default_port if port is None else port


class DeskService(AppService):
    """One session's desk process: every size it is told is clamped; what it draws after its client is gone
    is dropped (so that it never blocks writing, and can quit)."""

    def __init__(self, command: str, websocket: web.WebSocketResponse, **kwargs):
        super().__init__(command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                         close=websocket.close, **kwargs)
        self.websocket = websocket
        self._ending: asyncio.Future | None = None

    async def start(self, width: object, height: object) -> None:
        await super().start(_size(width, WIDTH, 80), _size(height, HEIGHT, 24))

    async def set_terminal_size(self, width: object, height: object) -> None:
        await super().set_terminal_size(_size(width, WIDTH, 80), _size(height, HEIGHT, 24))

    async def on_data(self, payload: bytes) -> None:
        if self.websocket.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await super().on_data(payload)

    async def end(self) -> None:
        """Ask the desk to quit; if it has not within QUIT_WAIT seconds, SIGTERM, then SIGKILL. Returns once
        the process is gone. Safe to call more than once, and from a task being cancelled (the ending goes on)."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)

    async def _end(self) -> None:
        process = session_process(self)
        if process is None:
            return

        deadline = asyncio.get_running_loop().time() + QUIT_WAIT
        try:  # "quit" to the desk; returns when its output ends (or, textual-serve's reader swallowing the
            await asyncio.wait_for(self.stop(), QUIT_WAIT)  # cancellation, when the time is up)
            await asyncio.wait_for(process.wait(), max(0.0, deadline - asyncio.get_running_loop().time()))
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            pass
        if process.returncode is not None:
            return
        for signal_it, wait in ((process.terminate, KILL_WAIT), (process.kill, None)):
            with contextlib.suppress(ProcessLookupError):
                signal_it()
            try:
                await asyncio.wait_for(process.wait(), wait)
                return
            except asyncio.TimeoutError:
                log.warning("a session's desk (pid %s) did not end on SIGTERM; killing it", process.pid)


def _one_line(record: logging.LogRecord) -> bool:
    """A log record of a request aiohttp refused as malformed (HttpProcessingError): its message and why, no
    traceback."""
    from aiohttp.http_exceptions import HttpProcessingError

    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        record.msg, record.args = f"{record.getMessage()}: {error.code} {error.message}", ()
        record.exc_info = record.exc_text = None
    return True


class DeskServer(Server):
    """textual-serve's server, with the session's command (its operator) taken from the request, the Host of
    every request checked, and each session's desk process ended with its client."""

    def __init__(self, args: list[str], *, operator_header: str | None = None, allow_hosts: tuple[str, ...] = (),
                 **kwargs):
        super().__init__(shlex.join(args), **kwargs)
        self.args, self.operator_header = args, operator_header
        self.sessions: set[DeskService] = set()
        self.hosts = {(name, self.port) for name in (*LOOPBACK, self.host.strip("[]").lower())}
        public = _host_port(_origin(self.public_url).split("://", 1)[-1], None)
        # names that resolve to this server by the operator's own DNS (no page of another site can take them),
        # on any port: --public-url's (a proxy may pass it on) and --allow-host NAME's
        self.any_port: set[str] = set()
        if public is not None and public[0] in LOOPBACK:  # a proxy of its own on this machine
            self.hosts.add((public[0], 80 if public[1] is None else public[1]))
        elif public is not None:
            self.any_port.add(public[0])
        for allowed in allow_hosts:
            hp = _host_port(allowed, None)
            if hp is None:
                raise ValueError(f"--allow-host: {allowed!r} is no host name (expected NAME, NAME:PORT or [IPv6]:PORT)")
            if hp[1] is None:
                self.any_port.add(hp[0])
            else:
                self.hosts.add(hp)

    def initialize_logging(self) -> None:
        """Plain log lines. textual-serve's show a traceback with every local variable (a request's headers: a
        proxy's login, a cookie); a request aiohttp cannot read (a header twice, a line too long) is one line."""
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-8s %(message)s"))
        handler.addFilter(_one_line)
        logging.basicConfig(level="DEBUG" if self.debug else "INFO", handlers=[handler], force=True)

    def host_refusal(self, request: web.Request) -> str | None:
        """Why this request's Host is not this server's (None: it is)."""
        values = request.headers.getall("Host", [])
        if len(values) != 1:
            return "the request has no Host header" if not values else "the request has two Host headers"
        hp = _host_port(values[0], 80)  # (this server speaks plain HTTP)
        if hp is not None and (hp in self.hosts or hp[0] in self.any_port):
            return None
        return (f"Host {values[0]!r} is not an address this server listens on "
                "(another name for this machine needs --allow-host NAME)")

    def _refuse(self, request: web.Request) -> None:
        why = self.host_refusal(request)
        if why is not None:
            log.warning("refused %s %r from %s: %s", request.method, request.raw_path, request.remote, why)
            raise web.HTTPForbidden(text=f"sptui: refused: {why}\n")

    async def handle_index(self, request: web.Request):
        self._refuse(request)
        return await super().handle_index(request)

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        self._refuse(request)
        return await super().handle_download(request)

    def _command(self, extra: list[str]) -> str:
        """The shell command of a session: the desk, in place of the shell, bound to die with this server."""
        launcher = [sys.executable, "-m", "sptui.serve.session", str(os.getpid())]
        return "exec " + shlex.join([*launcher, *self.args, *extra])

    def session_command(self, request: web.Request) -> tuple[str | None, str]:
        """(the command for this session, or None if it is refused; why).

        A browser names the page that opens the websocket (Origin): a page of another site, which the
        browser would send the operator's proxy login with, gets no desk."""
        origin = request.headers.get("Origin")
        if origin is not None:  # (a program that is no browser sends none, and has no login of the operator's)
            ours = {_origin(self.public_url), f"{request.scheme}://{request.host}".lower()}
            if origin.strip().lower() not in ours:
                return None, f"the page opening it is not the desk's own (Origin {origin!r})"
        if self.operator_header is None:
            return self._command([]), ""
        values = request.headers.getall(self.operator_header, [])
        if len(values) > 1:
            return None, f"the header {self.operator_header} is given {len(values)} times (the proxy must replace it)"
        who = (values[0] if values else "").strip()
        if not who:
            return None, f"no authenticated user in the request (header {self.operator_header})"
        if not OPERATOR.fullmatch(who):
            return None, f"the user name in {self.operator_header} is not one sptui accepts (letters, digits, ._@+-)"
        return self._command(["--operator", who]), ""

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        self._refuse(request)
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MESSAGE_MAX)
        command, why = self.session_command(request)
        service: DeskService | None = None
        try:
            await websocket.prepare(request)
            if command is None:
                log.warning("session refused: %s", why)
                await websocket.send_bytes(f"\r\nsptui: session refused: {why}\r\n".encode())
                await websocket.close()
                return websocket
            service = DeskService(command, websocket, download_manager=self.download_manager, debug=self.debug)
            self.sessions.add(service)
            await service.start(request.query.get("width"), request.query.get("height"))
            why = await relay(websocket, service)
            if why:
                log.warning("session closed: %s", why)
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await asyncio.wait_for(websocket.send_bytes(f"\r\nsptui: session closed: {why}\r\n".encode()), 1.0)
                await websocket.close()
        except web.HTTPException:  # no websocket handshake (a missing key, a version it is not): 400, one line
            raise
        except asyncio.CancelledError:
            await websocket.close()
        except ConnectionError as e:  # the client went while the server was writing to it: no failure
            log.info("a session's client went: %s", e)
        except Exception:  # one session's failure; the server goes on
            log.exception("a desk session failed")
        finally:
            if service is not None:
                await service.end()
                self.sessions.discard(service)
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        """The server stops: every session's client is closed and its desk ended."""
        sessions = list(self.sessions)
        await asyncio.gather(*(s.websocket.close() for s in sessions), return_exceptions=True)
        await asyncio.gather(*(s.end() for s in sessions), return_exceptions=True)


class PasteWatch:
    """Where the browser's input stream is (in a bracketed paste or not), and how long the open paste is so far."""

    START, END = b"\x1b[200~", b"\x1b[201~"

    def __init__(self) -> None:
        self.open, self.size, self.tail = False, 0, b""

    def feed(self, data: bytes) -> bool:
        """Take the next input; False once an open paste is over PASTE_MAX bytes. (A marker may be split between
        two messages: the last 5 bytes are kept to be searched again, and no 6-byte marker fits in them.)"""
        text, start = self.tail + data, 0
        while (found := text.find(self.END if self.open else self.START, start)) >= 0:
            self.open, self.size, start = not self.open, 0, found + len(self.START)
        if self.open:
            self.size += len(text) - max(start, len(self.tail))
        self.tail = text[-5:]
        return self.size <= PASTE_MAX


class Inbox:
    """The browser's messages on their way to its desk, at most PENDING_MAX bytes of them. The websocket is read on
    while the desk takes them (so a client that goes is seen at once, whatever the desk is doing); a client that
    sends more than the desk has taken by PENDING_MAX is over its bound, and the session ends."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.pending = 0

    def put(self, size: int, send: Callable[[], Awaitable]) -> bool:
        if self.pending + size > PENDING_MAX:
            return False
        self.pending += size
        self.queue.put_nowait((size, send))
        return True

    async def deliver(self) -> None:
        """Runs beside the reading: each message to the desk in turn, waiting while the desk's input is full."""
        while True:
            size, send = await self.queue.get()
            try:
                await send()
            finally:
                self.pending -= size


async def relay(websocket: web.WebSocketResponse, service: DeskService) -> str:
    """The browser's messages to its desk (textual-serve's protocol: JSON arrays ["stdin", text],
    ["resize", {"width", "height"}], ["ping", data], ["blur"], ["focus"]); anything else is ignored. Returns when
    the client is gone ("") or the session must end (why)."""
    paste, inbox = PasteWatch(), Inbox()
    delivering = asyncio.ensure_future(inbox.deliver())
    try:
        async for message in websocket:
            if message.type == WSMsgType.ERROR:  # (a message over MESSAGE_MAX: aiohttp closes with 1009)
                return f"the websocket failed ({message.data})"
            if delivering.done():
                return f"a message between the browser and its desk failed ({delivering.exception()!r})"
            why = _take(message, websocket, service, paste, inbox)
            if why:
                return why
        return ""
    finally:
        delivering.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError, asyncio.TimeoutError):
            await delivering


async def _pong(websocket: web.WebSocketResponse, data: object) -> None:
    await asyncio.wait_for(websocket.send_json(["pong", data]), PONG_WAIT)  # (a client that never reads: it ends)


def _take(message, websocket: web.WebSocketResponse, service: DeskService, paste: PasteWatch, inbox: Inbox) -> str:
    """One message from the browser into the inbox; why the session must end, or ""."""
    if message.type != WSMsgType.TEXT:
        return ""
    try:
        envelope = json.loads(message.data)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        return ""
    kind, data = envelope[0], (envelope[1] if len(envelope) > 1 else None)
    send: Callable[[], Awaitable] | None = None
    if kind == "stdin" and isinstance(data, str):
        raw = data.encode("utf-8", "replace")
        if not paste.feed(raw):
            return f"a paste over {PASTE_MAX // 1024} KiB"
        send = partial(service.send_bytes, raw)
    elif kind == "resize" and isinstance(data, dict):
        send = partial(service.set_terminal_size, data.get("width"), data.get("height"))
    elif kind == "ping":
        send = partial(_pong, websocket, data)
    elif kind == "blur":
        send = service.blur
    elif kind == "focus":
        send = service.focus
    if send is not None and not inbox.put(max(len(message.data), MESSAGE_COST), send):
        return f"the browser sent {PENDING_MAX // 1024} KiB more than its desk has taken"
    return ""
