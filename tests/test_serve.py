"""`sptui serve` on a real loopback port: what a browser (or a hostile page) can make it do. The whole desk
session is tested in test_desk_terminal.py."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sptui.serve.server import HEIGHT, WIDTH, _size

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads processes from /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A server process on a free loopback port; its children are the sessions' desks."""

    def __init__(self, command: list[str], port: int):
        self.port = port
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                    return
            except OSError:
                assert self.proc.poll() is None, self.proc.stdout.read()
                time.sleep(0.3)
        raise AssertionError("the server did not answer")

    def desks(self) -> list[int]:
        """The live processes the server started (each session's desk)."""
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
        return [p for p in pids if _alive(p)]

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stdout.read()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after `seconds` (waiting no longer than needed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def desk_server(tmp_path, run, sptui_bin):
    db = tmp_path / "desk.db"
    assert run("db", "upgrade", "--db", db).returncode == 0
    port = _free_port()
    served = Served([sptui_bin, "serve", "--port", str(port), "--db", str(db), "--lang", "en"], port)
    yield served
    served.stop()


async def _open_desk(port: int, http: aiohttp.ClientSession, query: str = "width=80&height=24"):
    """A websocket whose desk has drawn its queue."""
    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws?{query}")
    seen, deadline = b"", time.monotonic() + 60
    while b"shown" not in seen:
        assert time.monotonic() < deadline, f"the desk never drew its queue; last bytes: {seen[-400:]!r}"
        msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        seen += msg.data
    return ws


async def _drain(ws, seconds: float) -> int:
    """Read what the desk sends for a while; the number of bytes."""
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=max(0.05, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.BINARY:
            n += len(msg.data)
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            break
    return n


# ---- sizes ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, size", [("120", 120), ("120.7", 120), (None, 80), ("", 80), ("wide", 80),
                                         ("inf", 80), ("nan", 80), ("1e400", 80), ("5", 10), ("99999", WIDTH[1]),
                                         (5000, WIDTH[1]), (-3, 10), (True, 80), ([500], 80), ({"w": 1}, 80),
                                         (10 ** 400, 80), (float("inf"), 80)])
def test_a_sessions_terminal_width_from_the_browser_is_a_sane_number(value, size):
    """The browser's width arrives in the URL or in a websocket message: whatever it says, the session gets a
    size within bounds, never an error."""
    assert _size(value, WIDTH, 80) == size


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8))
def test_any_json_value_as_a_size_is_within_the_bounds(value):
    for bounds in (WIDTH, HEIGHT):
        got = _size(value, bounds, 24)
        assert isinstance(got, int) and bounds[0] <= got <= bounds[1]


def test_a_huge_resize_then_the_client_dropping_leaves_no_desk_process(desk_server):
    """A 5000×5000 resize over the websocket is clamped (the desk's memory stays bounded), and once the client
    drops, its desk process is gone within seconds."""
    async def session() -> tuple[list[int], float]:
        async with aiohttp.ClientSession() as http:
            ws = await _open_desk(desk_server.port, http)
            [desk] = desk_server.desks()
            for width, height in ((5000, 5000), ("5000", "5000"), (5000.5, 4999)):
                await ws.send_str(json.dumps(["resize", {"width": width, "height": height}]))
            await ws.send_str('["resize", 7]')  # malformed messages are ignored, not fatal
            await ws.send_str("{not json")
            assert await _drain(ws, 4.0) > 0  # the desk redraws at the clamped size, and is still answering
            rss = _rss_mb(desk)
            await ws.close()
            return [desk], rss

    desks, rss = asyncio.run(session())
    assert rss < 200, f"the desk grew to {rss:.0f} MB after a huge resize"
    assert _gone_within(desks, 10) == [], "the desk process outlived its client"


def test_a_desk_that_ignores_quit_and_sigterm_is_ended_when_its_client_goes(tmp_path):
    """Whatever holds a session's desk up (a screen it is still drawing, a write the gone client never reads),
    the server ends it: asked to quit, then SIGTERM, then SIGKILL."""
    stubborn = tmp_path / "stubborn.py"
    stubborn.write_text("import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                        "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\ntime.sleep(600)\n")
    port = _free_port()
    code = ("import sys; from sptui.serve.server import DeskServer; "
            f"DeskServer([sys.executable, {str(stubborn)!r}], host='127.0.0.1', port={port}).serve()")
    served = Served([sys.executable, "-c", code], port)

    async def session() -> list[int]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws")
            deadline = time.monotonic() + 30
            while not served.desks():
                assert time.monotonic() < deadline, "no desk process started"
                await asyncio.sleep(0.1)
            desks = served.desks()
            await ws.close()
            return desks

    try:
        desks = asyncio.run(session())
        assert _gone_within(desks, 15) == [], "a desk that ignores quit and SIGTERM outlived its client"
    finally:
        served.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_every_desk_ends_with_the_server(desk_server, sig):
    """The server stopped (SIGTERM) or killed (SIGKILL: no clean-up of its own runs): its sessions' desks go too."""
    async def session() -> list[int]:
        async with aiohttp.ClientSession() as http:
            ws = await _open_desk(desk_server.port, http)
            desks = desk_server.desks()
            os.kill(desk_server.proc.pid, sig)
            await _drain(ws, 1.0)
            return desks

    desks = asyncio.run(session())
    assert len(desks) == 1
    assert _gone_within(desks, 15) == [], f"a desk outlived its server ({signal.Signals(sig).name})"


# ---- Host and Origin -------------------------------------------------------------------------------------------
def _status(port: int, path: str, headers: dict) -> tuple[int, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


WS_UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def test_a_page_of_another_name_for_this_machine_gets_no_desk(tmp_path, run, sptui_bin):
    """DNS rebinding: a page at http://rebind.example:PORT whose name resolves to 127.0.0.1 sends its own
    name as Host (and as Origin). Only the addresses the server listens on, loopback names on its port, and
    --allow-host names are answered; the rest get 403 and a log line."""
    db = tmp_path / "desk.db"
    assert run("db", "upgrade", "--db", db).returncode == 0
    port = _free_port()
    served = Served([sptui_bin, "serve", "--port", str(port), "--db", str(db), "--allow-host", "desk.lan"], port)
    try:
        for host in (f"rebind.example:{port}", "rebind.example", f"127.0.0.1:{port + 1}", f"localhost:{port}.evil",
                     f"127.0.0.1:{port}@rebind.example", f"desk.lan.rebind.example:{port}"):
            page = f"http://{host}"
            assert _status(port, "/", {"Host": host})[0] == 403, host
            code, text = _status(port, "/ws", {"Host": host, "Origin": page, **WS_UPGRADE})
            assert code == 403 and "refused" in text, host
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}", "desk.lan",
                     f"desk.lan:{port}"):
            assert _status(port, "/", {"Host": host})[0] == 200, host
    finally:
        log = served.stop()
    assert "refused GET '/ws'" in log and "rebind.example" in log


def test_a_host_to_allow_that_is_no_host_name_is_refused_at_the_command_line(run):
    for bad in ("a b", "desk.lan/x", "user@desk.lan", "desk.lan:99999", "::1"):
        r = run("serve", "--allow-host", bad, "--port", str(_free_port()))
        assert r.returncode == 2 and "is no host name" in r.stderr and "Traceback" not in r.stderr, (bad, r.stderr)


def test_a_sessions_launcher_starts_without_loading_the_web_server():
    """`python -m sptui.serve.session` runs before every session's desk: it loads neither aiohttp nor
    textual-serve nor Textual (the sptui.serve package keeps nothing in its __init__), and says how to call it."""
    code = ("import runpy, sys; sys.argv = ['session']\n"
            "try:\n    runpy.run_module('sptui.serve.session', run_name='__main__')\n"
            "except SystemExit as e:\n"
            "    loaded = [m for m in ('aiohttp', 'textual_serve', 'textual') if m in sys.modules]\n"
            "    print(e.code, loaded)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "2 []", p.stdout + p.stderr
    assert "usage: python -m sptui.serve.session SERVER_PID PROGRAM" in p.stderr


# ---- textual-serve's private name --------------------------------------------------------------------------------
def test_the_textual_serve_name_sptui_relies_on_is_still_there():
    """sptui.serve.compat reads a session's process from textual-serve's AppService (no public way exists). A
    textual-serve release that moves it fails here, with serve.compat's message."""
    from textual_serve.app_service import AppService
    from textual_serve.download_manager import DownloadManager

    from sptui.serve.compat import session_process

    async def check() -> None:
        async def ignore(*_):
            return None

        service = AppService("exec sleep 60", write_bytes=ignore, write_str=ignore, close=ignore,
                             download_manager=DownloadManager())
        assert session_process(service) is None
        await service.start(80, 24)
        process = session_process(service)
        assert process is not None and _alive(process.pid)
        process.kill()
        assert await process.wait() == -signal.SIGKILL  # the session's own process, ended through it
        await service.stop()

    asyncio.run(check())


# ---- what a client sends: bounded, and its desk ends with it ------------------------------------------------------
async def _flood(ws, message: str, seconds: float, pause: float = 0.0) -> int:
    """Send `message` again and again for `seconds` (a send the server holds back counts as time spent), `pause`
    seconds apart; the number of messages the server took."""
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline and not ws.closed:
        try:
            await asyncio.wait_for(ws.send_str(message), max(0.05, deadline - time.monotonic()))
        except (asyncio.TimeoutError, ConnectionError, aiohttp.ClientError):
            break
        sent += 1
        if pause:
            await asyncio.sleep(pause)
    return sent


def test_a_client_flooding_its_desk_with_keys_grows_neither_the_desk_nor_the_server(desk_server):
    """A browser that sends keys faster than the desk handles them is held back (the desk reads its input only as
    fast as it handles it; the server reads the websocket only as fast as the desk takes it): the desk's and the
    server's memory stay bounded, and the desk ends within seconds once the client drops, mid-flood."""
    async def session() -> tuple[list[int], float, float, int]:
        async with aiohttp.ClientSession() as http:
            ws = await _open_desk(desk_server.port, http)
            [desk] = desk_server.desks()
            before = _rss_mb(desk)
            # keys at about the pace the desk's input thread reads them, far faster than the desk handles them
            sent = await _flood(ws, json.dumps(["stdin", "j" * 16000]), 6.0, pause=0.1)
            grown = _rss_mb(desk) - before
            server = _rss_mb(desk_server.proc.pid)
            await ws.close()
            return [desk], grown, server, sent

    desks, grown, server, sent = asyncio.run(session())
    assert sent > 0
    assert grown < 30, f"the desk grew by {grown:.0f} MB under a key flood"
    assert server < 150, f"the server grew to {server:.0f} MB under a key flood"
    assert _gone_within(desks, 8) == [], "the desk process outlived its flooding client"


@pytest.mark.parametrize("what", ["message", "paste"])
def test_a_message_or_paste_over_the_bound_closes_the_session_and_ends_its_desk(desk_server, what):
    """One websocket message over MESSAGE_MAX, or a bracketed paste left open past PASTE_MAX (sent in messages
    each under the bound), closes the session (the browser's terminal says why for a paste) and ends the desk."""
    from sptui.serve.server import MESSAGE_MAX, PASTE_MAX

    async def session() -> tuple[list[int], str, bool]:
        async with aiohttp.ClientSession() as http:
            ws = await _open_desk(desk_server.port, http)
            desks = desk_server.desks()
            if what == "message":
                await ws.send_str(json.dumps(["stdin", "x" * (MESSAGE_MAX + 1)]))
            else:
                await ws.send_str(json.dumps(["stdin", "\x1b[200~"]))
                await _flood(ws, json.dumps(["stdin", "y" * (PASTE_MAX // 8)]), 5.0)
            said, closed, deadline = b"", False, time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    msg = await ws.receive(timeout=max(0.05, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if msg.type == aiohttp.WSMsgType.BINARY:
                    said += msg.data
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    closed = True
                    break
            return desks, said.decode(errors="replace"), closed

    desks, said, closed = asyncio.run(session())
    assert closed, "the session stayed open"
    if what == "paste":
        assert "paste over" in said
    assert _gone_within(desks, 8) == [], "the desk outlived its closed session"
    assert "Traceback" not in desk_server.stop()


def test_a_client_that_fills_a_stuck_desks_input_then_goes_leaves_no_desk(tmp_path):
    """A desk that never reads its input (stuck): the server's write to it waits, and the client goes meanwhile.
    The server notices the client going all the same, and the desk is ended (quit, SIGTERM, SIGKILL)."""
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                     "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\ntime.sleep(600)\n")
    port = _free_port()
    code = ("import sys; from sptui.serve.server import DeskServer; "
            f"DeskServer([sys.executable, {str(stuck)!r}], host='127.0.0.1', port={port}).serve()")
    served = Served([sys.executable, "-c", code], port)

    async def session() -> list[int]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws")
            deadline = time.monotonic() + 30
            while not served.desks():
                assert time.monotonic() < deadline, "no desk process started"
                await asyncio.sleep(0.1)
            desks = served.desks()
            await _flood(ws, json.dumps(["stdin", "z" * 60000]), 2.0)  # far more than a pipe holds
            await ws.close()
            return desks

    try:
        desks = asyncio.run(session())
        assert _gone_within(desks, 12) == [], "a stuck desk outlived the client that filled its input"
    finally:
        served.stop()


@given(st.lists(st.sampled_from([b"\x1b[200~", b"\x1b[201~", b"abc", b"\x1b", b"[20", b"0~", b"1~", b"x" * 40]),
                max_size=30), st.data())
def test_an_open_paste_is_measured_the_same_however_the_stream_is_cut(parts, data):
    """The browser's input may cut a paste's markers between two messages: the paste's state and length are those
    of the whole stream."""
    from sptui.serve.server import PasteWatch

    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    whole, pieces = PasteWatch(), PasteWatch()
    whole.feed(stream)
    for a, b in zip([0, *cuts], [*cuts, len(stream)]):
        pieces.feed(stream[a:b])
    assert (pieces.open, pieces.size) == (whole.open, whole.size)
    last = max(stream.rfind(b"\x1b[200~"), stream.rfind(b"\x1b[201~"))
    assert whole.open == (last >= 0 and stream[last:last + 6] == b"\x1b[200~")


def test_malformed_requests_get_a_400_and_one_log_line_never_a_traceback(desk_server):
    """A websocket request without a handshake (no key, an unknown version), a Host header twice, a request line or
    header over aiohttp's limits: each a 400 (the connection answered, not dropped) and at most one log line; the
    log never shows a traceback (textual-serve's would print every local variable, a request's headers too)."""
    port = desk_server.port

    def answer(request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(request)
            out = b""
            while b"\r\n" not in out:
                chunk = c.recv(65536)
                if not chunk:
                    break
                out += chunk
            return out.split(b"\r\n", 1)[0]

    host = f"Host: 127.0.0.1:{port}\r\n"
    upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    for request in (f"GET /ws HTTP/1.1\r\n{host}{upgrade}\r\n",
                    f"GET /ws HTTP/1.1\r\n{host}{upgrade}Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x\r\n\r\n",
                    f"GET / HTTP/1.1\r\n{host}{host}\r\n",
                    f"GET /?{'a' * 20000} HTTP/1.1\r\n{host}\r\n",
                    f"GET / HTTP/1.1\r\n{host}X-A: {'b' * 20000}\r\n\r\n"):
        assert answer(request.encode()).split(b" ")[1] == b"400", request[:60]
    assert desk_server.desks() == []
    log = desk_server.stop()
    assert "Traceback" not in log and "│" not in log and "a desk session failed" not in log, log
    assert "Duplicate 'Host' header" in log


def test_a_compressed_message_that_inflates_past_the_bound_closes_the_session(desk_server):
    """permessage-deflate: 50 MB of text sent as a few KB. The bound is on the inflated message: the session is
    closed (1009) and its desk ends."""
    async def session() -> tuple[list[int], object]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"ws://127.0.0.1:{desk_server.port}/ws?width=80&height=24", compress=15)
            deadline = time.monotonic() + 60
            while not desk_server.desks():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            desks = desk_server.desks()
            await ws.send_str(json.dumps(["stdin", "a" * (50 * 1024 * 1024)]), compress=15)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    msg = await ws.receive(timeout=1)
                except asyncio.TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.BINARY:
                    return desks, msg.data
            return desks, None

    desks, code = asyncio.run(session())
    assert code == 1009
    assert _gone_within(desks, 8) == []


def test_a_client_that_pings_without_reading_then_resets_ends_its_desk_without_a_traceback(desk_server):
    """Websocket pings sent as fast as the socket takes them, by a client that reads nothing (aiohttp answers each
    with a pong the client never takes), then a reset: the server's memory stays put, the desk ends, and the log
    says the client went, with no traceback."""
    import struct

    port = desk_server.port
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.sendall(f"GET /ws?width=80&height=24 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
              + "".join(f"{k}: {v}\r\n" for k, v in WS_UPGRADE.items()).encode() + b"\r\n")
    deadline = time.monotonic() + 60
    while not desk_server.desks():
        assert time.monotonic() < deadline, "no desk started"
        time.sleep(0.1)
    desks, before = desk_server.desks(), _rss_mb(desk_server.proc.pid)
    ping = bytes([0x89, 0x80 | 125]) + b"\0\0\0\0" + b"p" * 125  # (masked with a zero key)
    c.settimeout(1)
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            c.sendall(ping * 100)
    except (TimeoutError, OSError):
        pass  # the server stopped reading: held back
    grown = _rss_mb(desk_server.proc.pid) - before
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, not a goodbye
    c.close()
    assert grown < 50, f"the server grew by {grown:.0f} MB"
    assert _gone_within(desks, 10) == []
    log = desk_server.stop()
    assert "Traceback" not in log and "a desk session failed" not in log, log

