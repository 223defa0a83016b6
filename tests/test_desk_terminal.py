"""The whole desk in a real terminal: tmux runs `sptui` on the demo database; send-keys filters, opens an
incident, claims and dispatches it, opens an alarm and records a contact; capture-pane reads the screen."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from sptui.store import Store
from sptui.store import schema as S

# scripts/test installs tmux and sets SPTUI_REQUIRE_TMUX, so there a missing tmux fails instead of skipping
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("SPTUI_REQUIRE_TMUX"),
                                reason="tmux is not installed (scripts/ensure-tmux installs it)")


class Tmux:
    """A desk in a tmux session of its own, on this test run's own tmux server (a private socket, no config file):
    another tmux server on the machine, and the environment it was started with (COLUMNS, LINES), change nothing."""

    SOCKET = f"sptui-tests-{os.getpid()}"

    def __init__(self, command: list[str], *, width: int = 160, height: int = 48):
        self.name = f"sptui-{uuid.uuid4().hex[:8]}"
        self.run("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                 "env", "-u", "COLUMNS", "-u", "LINES", "TERM=xterm-256color", "LANG=C.UTF-8", *command)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.SOCKET, "-f", "/dev/null", *args], capture_output=True, text=True,
                              check=check)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)
        time.sleep(0.3)

    def screen(self, *, escapes: bool = False) -> str:
        return self.run("capture-pane", *(["-e"] if escapes else []), "-p", "-t", self.name).stdout

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear on the screen:\n{self.screen()}")

    def alive(self) -> bool:
        return self.run("has-session", "-t", self.name, check=False).returncode == 0

    def kill(self) -> None:
        self.run("kill-session", "-t", self.name, check=False)


def _demo(tmp_path, run):
    """The demo database; an open covered incident nobody owns and an alarm still to be called, on other
    machines."""
    db = tmp_path / "demo.db"
    r = run("demo", "--db", db, "--no-open")
    assert r.returncode == 0, r.stderr
    store = Store.open(str(db))
    i, a = S.incidents, S.alarms
    with store.db.read() as conn:
        inc = conn.execute(sa.select(i.c.id, S.machines.c.label_number).join(S.machines)
                           .where(i.c.status == "open", i.c.verdict == "covered",
                                  ~i.c.machine_id.in_(sa.select(a.c.machine_id)))
                           .order_by(i.c.id)).first()
        al = conn.execute(sa.select(a.c.id, S.machines.c.label_number).join(S.machines)
                          .where(a.c.status == "new", ~a.c.machine_id.in_(sa.select(i.c.machine_id)))
                          .order_by(a.c.id)).first()
    return db, store, inc, al


def _desk_flow(t: Tmux, store, inc, al, operator: str) -> None:
    """As an operator would: filter, open the incident, claim and dispatch it; open the alarm and record that
    the customer was reached; quit. Then the store holds each change, by this operator."""
    t.wait_for("shown")
    t.keys("/")
    t.keys(inc.label_number, literal=True)
    t.wait_for("\n 1 of ")
    t.keys("Enter")  # leave the filter for the list
    t.keys("Enter")  # open the incident
    t.wait_for(f"incident #{inc.id}")
    t.keys("c")
    t.wait_for(f"claimed by {operator}")
    t.keys("d")
    t.wait_for("technician")
    t.keys("yamada", literal=True)
    t.keys("Tab", "Tab", "Tab", "Tab")  # departure (now), completion, technicians, late reason
    t.keys("traffic", literal=True)
    t.keys("Tab")  # the customer's consent (needed when the departure, now, is outside the service hours)
    t.keys("yamada-san", literal=True)
    t.keys("Tab")
    t.keys("phone", literal=True)
    t.keys("Enter")  # Enter in a field dispatches
    t.wait_for("yamada departs")
    t.keys("Escape")
    t.wait_for("shown")
    t.keys("/")
    t.keys("C-u")
    t.keys(al.label_number, literal=True)
    t.wait_for("\n 1 of ")
    t.keys("Enter")
    t.keys("Enter")
    t.wait_for(f"alarm #{al.id}")
    t.keys("y")  # the customer was reached: a repair needed?
    t.wait_for("Does the machine need")
    t.keys("n")  # no: the alarm is closed, with what the customer said
    t.keys("rebooted, fine", literal=True)
    t.keys("Enter")
    shown = t.wait_for(f"{operator}  reached")  # the call, in the alarm's timeline
    assert "Traceback" not in shown
    t.keys("Escape")
    t.wait_for("shown")
    t.keys("q")
    deadline = time.monotonic() + 15
    while t.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not t.alive()  # q quits the desk (and so the session)
    after = store.incidents.get(inc.id)
    assert after["status"] == "dispatched" and after["owner"] == operator
    assert (store.alarms.get(al.id)["status"], store.alarms.get(al.id)["closed_reason"]) == ("closed", "rebooted, fine")
    assert [(a["operator"], a["action"]) for a in store.audit.rows("alarm", al.id)][-1] == (operator, "contact")


def test_the_desk_in_tmux_filters_opens_claims_dispatches_and_records_a_contact(tmp_path, run, sptui_bin):
    db, store, inc, al = _demo(tmp_path, run)
    t = Tmux([sptui_bin, "--db", str(db), "--operator", "tmux", "--lang", "en"])
    try:
        _desk_flow(t, store, inc, al, "tmux")
    finally:
        t.kill()
        store.close()


def test_in_a_real_terminal_only_the_cursor_row_is_drawn_as_the_cursor(tmp_path, run, sptui_bin):
    """A cursor move redraws only the row it leaves and the row it reaches: the terminal (not a fresh render of
    the widgets) must show exactly one cursor row, where the cursor is."""
    import re

    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-open").returncode == 0
    t = Tmux([sptui_bin, "--db", str(db), "--operator", "tmux", "--lang", "en"])
    try:
        t.wait_for("shown")
        time.sleep(1.0)
        # at once, and read soon after: the countdowns redraw every row each second, which would hide a row the
        # move left drawn as the cursor
        t.run("send-keys", "-t", t.name, "Down", "Down", "Down", "Up")
        time.sleep(0.15)
        shown = t.screen(escapes=True)
    finally:
        t.kill()
    # whether reverse video (SGR 7) is in force where each row's label number starts: the cursor row. tmux writes
    # only changes of attributes, so the state carries over from the line before (whose last cell, the
    # scrollbar, may be reversed itself)
    reverse, rows = False, []
    for line in shown.splitlines():
        label = re.search(r"\d{4}-\d{3}-\d{3}", line)
        for m in re.finditer(r"\x1b\[([0-9;]*)m", line):
            if label and m.start() >= label.start():
                rows.append(reverse)
                label = None
            params = (m.group(1) or "0").split(";")
            while params:
                p = params.pop(0)
                if p in ("38", "48", "58"):  # a colour: 5;N or 2;R;G;B follow, not attributes
                    del params[:2 if params[:1] == ["5"] else 4]
                reverse = True if p == "7" else False if p in ("0", "", "27") else reverse
        if label:
            rows.append(reverse)

    assert len(rows) > 5
    assert [n for n, rev in enumerate(rows) if rev] == [2]


def test_the_desk_opens_with_broken_plugins_installed_and_says_which(tmp_path, run, sptui_bin):
    """Three broken plugins (one raises on import, one has a misspelt hook, one registers a built-in's name):
    the desk still opens, decides and dispatches, and says which plugins were skipped."""
    from test_plugins import HOOKIMPL, make_dist

    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "raises-on-import", "raise ImportError('missing dependency frobnicate')\n")
    make_dist(site, "misspelt", HOOKIMPL + "@hookimpl\ndef sptui_block_kind(register):\n    pass\n")
    make_dist(site, "twice", HOOKIMPL + "from sptui.evaluators.variant import VARIANT\n@hookimpl\n"
                                        "def sptui_block_kinds(register):\n    register(VARIANT)\n")
    db, store, inc, al = _demo(tmp_path, run)
    t = Tmux(["env", f"PYTHONPATH={site}", sptui_bin, "--db", str(db), "--operator", "tmux", "--lang", "en"])
    try:
        shown = " ".join(t.wait_for("plugin(s) failed").split())  # the notice, its lines joined
        assert "misspelt" in shown and "raises-on-import" in shown and "twice" in shown, shown
        _desk_flow(t, store, inc, al, "tmux")
    finally:
        t.kill()
        store.close()


SSHD = Path("/usr/sbin/sshd")


@pytest.fixture
def sshd(tmp_path):
    """A private sshd on a free loopback port, with its own host key and the test's client key."""
    if not SSHD.exists() or shutil.which("ssh") is None:
        if os.environ.get("SPTUI_REQUIRE_SSHD"):
            pytest.fail("sshd or ssh is missing (scripts/ensure-tools installs them)")
        pytest.skip("no sshd (scripts/ensure-tools installs openssh-server)")
    import socket

    d = tmp_path / "ssh"
    d.mkdir(mode=0o700)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        f"PidFile {d / 'sshd.pid'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        "AcceptEnv LANG\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation directory
    proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            pytest.fail(f"sshd did not start: {proc.stderr.read()}")
        time.sleep(0.1)
    yield ["ssh", "-tt", "-p", str(port), "-i", str(d / "client"), "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "127.0.0.1"]
    proc.terminate()
    proc.wait(timeout=10)


def test_the_desk_through_a_real_ssh_session(tmp_path, run, sptui_bin, sshd):
    """The same as an operator's SSH session: ssh -tt to a private sshd on loopback runs sptui remotely."""
    db, store, inc, al = _demo(tmp_path, run)
    remote = f"TERM=xterm-256color LANG=C.UTF-8 {sptui_bin} --db {db} --operator ssh --lang en"
    t = Tmux([*sshd, remote])
    try:
        _desk_flow(t, store, inc, al, "ssh")
    finally:
        t.kill()
        store.close()


def test_sptui_serve_offers_the_desk_to_a_browser_on_loopback(tmp_path, run, sptui_bin):
    """`sptui serve`: textual-serve's page on loopback, with the session's websocket on the same address."""
    import socket
    import urllib.request

    db = tmp_path / "desk.db"
    assert run("db", "upgrade", "--db", db).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sptui_bin, "serve", "--port", str(port), "--db", str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.3)
        assert page is not None, "sptui serve did not answer"
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_browser_session_through_sptui_serve_claims_an_incident_as_the_proxys_user(tmp_path, run, sptui_bin):
    """A whole session as the browser's terminal holds it: textual-serve's websocket carries keys in and the
    screen out. Behind a proxy, --operator-header makes the authenticated user the audit log's operator; a
    request without that header gets no desk."""
    import asyncio
    import json
    import socket

    import aiohttp

    db, store, inc, _ = _demo(tmp_path, run)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sptui_bin, "serve", "--port", str(port), "--db", str(db), "--lang", "en",
                             "--operator-header", "X-Remote-User"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)

    async def session(headers: dict, keys: list[tuple[str, str]]) -> str:
        """Connect, then for each (keys to type, text to wait for) type and wait; returns all the screen bytes."""
        url = f"ws://127.0.0.1:{port}/ws?width=160&height=48"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # the server may still be starting
                try:
                    ws = await http.ws_connect(url, headers=headers)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.3)
            else:
                raise AssertionError("sptui serve did not answer")
            seen = b""
            try:
                for typed, wanted in [("", "shown"), *keys]:
                    if typed:
                        await ws.send_str(json.dumps(["stdin", typed]))
                    if not wanted:  # a screen updated in place (the count) is sent as the changed cells only
                        await asyncio.sleep(1.5)
                        continue
                    deadline = time.monotonic() + 30
                    mark = len(seen)
                    while wanted.encode() not in seen[mark:]:
                        left = deadline - time.monotonic()
                        assert left > 0, f"{wanted!r} never came; last bytes: {seen[-400:]!r}"
                        try:
                            msg = await ws.receive(timeout=left)
                        except asyncio.TimeoutError:
                            raise AssertionError(f"{wanted!r} never came; last bytes: {seen[-400:]!r}") from None
                        if msg.type == aiohttp.WSMsgType.BINARY:
                            seen += msg.data
                        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                            return seen.decode(errors="replace")
            finally:
                await ws.close()
            return seen.decode(errors="replace")

    try:
        shown = asyncio.run(session({"X-Remote-User": "tanaka"}, [
            ("/", ""), (inc.label_number, ""), ("\r", ""), ("\r", f"incident #{inc.id}"), ("c", "claimed by tanaka"),
        ]))
        assert "Traceback" not in shown
        assert store.incidents.get(inc.id)["owner"] == "tanaka"
        assert store.audit.rows("incident", inc.id)[-1]["operator"] == "tanaka"
        async def bare() -> str:
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(f"ws://127.0.0.1:{port}/ws") as ws:
                    got = b""
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.BINARY:
                            got += msg.data
                    return got.decode()
        refused = asyncio.run(bare())
        assert "session refused: no authenticated user in the request (header X-Remote-User)" in refused

        async def from_page(headers: list[tuple[str, str]]) -> str:
            from multidict import CIMultiDict

            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(f"ws://127.0.0.1:{port}/ws", headers=CIMultiDict(headers)) as ws:
                    got = b""
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.BINARY:
                            got += msg.data
                        if b"refused" in got or b"shown" in got:
                            break
                    # while the session's desk runs: its command line (seen by every user in `ps`) has no database URL
                    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
                    sessions.extend(p for p in procs if "sptui.cli" in p)
                    return got.decode(errors="replace")

        sessions: list[str] = []
        ours = ("Origin", f"http://127.0.0.1:{port}")
        # a page of another site, which a browser sends the operator's proxy login with, gets no desk
        assert "the page opening it is not the desk's own" in asyncio.run(
            from_page([("Origin", "https://evil.example"), ("X-Remote-User", "tanaka")]))
        # the header given twice (a proxy that adds rather than replaces it) is refused
        assert "is given 2 times" in asyncio.run(
            from_page([ours, ("X-Remote-User", "tanaka"), ("X-Remote-User", "mallory")]))
        # the desk's own page gets its desk
        sessions.clear()
        assert "shown" in asyncio.run(from_page([ours, ("X-Remote-User", "tanaka")]))
        assert sessions and not [p for p in sessions if "--db" in p or str(db) in p], sessions
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        store.close()
