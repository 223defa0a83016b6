"""Other operators' changes as they commit, on PostgreSQL: every write transaction of the store sends
`NOTIFY sptui_changes` (in the transaction, so it is delivered when, and only if, it commits), and a desk
listens on a connection of its own.

    listener = store.listen_for_changes(on_change)   # None on SQLite: the desk's poll is all there is
    listener.start()                                 # a daemon thread; on_change() is called from it
    listener.stop()

A burst of changes (an intake storm) is one call: after a notification the listener waits `settle` seconds
for more before calling. If the connection drops (a restarted server, a killed backend) the listener says
so in the log and connects again, waiting a little longer each time (up to `RETRY_MAX` seconds); once
listening again it calls `on_change()` once, for what it missed. The desk keeps polling meanwhile, so
nothing is lost while it is away.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger("sptui.store")

CHANNEL = "sptui_changes"
NOTIFY = f"NOTIFY {CHANNEL}"
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between attempts to listen again


class ChangeListener:
    """LISTEN sptui_changes on a dedicated psycopg connection, in a thread (see the module docstring)."""

    def __init__(self, conninfo: str, on_change: Callable[[], None], *, settle: float = 0.1, tick: float = 0.5,
                 application_name: str = "sptui desk listener") -> None:
        self.conninfo, self.on_change, self.settle, self.tick = conninfo, on_change, settle, tick
        self.application_name = application_name
        self.connected = threading.Event()  # set while listening
        self.connections = 0  # how many times it connected (a reconnect counts)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = None

    def start(self) -> "ChangeListener":
        self._thread = threading.Thread(target=self._run, name="sptui-listen", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5,
                                     application_name=self.application_name) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connections += 1
                    self.connected.set()
                    if self.connections > 1:
                        log.info("listening for changes again")
                        self._call()  # what changed while it was not listening
                    delay = RETRY_FIRST
                    self._listen(conn)
            except Exception as e:  # noqa: BLE001 - said in the log; the desk's poll goes on, and it tries again
                if self._stop.is_set():
                    break
                log.warning("listening for changes failed (%s: %s); the desk polls meanwhile; again in %.1f s",
                            type(e).__name__, str(e).strip(), delay)
            finally:
                self.connected.clear()
            self._stop.wait(delay)
            delay = min(RETRY_MAX, delay * 2)

    def _listen(self, conn) -> None:
        while not self._stop.is_set():
            heard = False
            for _ in conn.notifies(timeout=self.tick, stop_after=1):
                heard = True
            if not heard:
                continue
            for _ in conn.notifies(timeout=self.settle):  # the rest of a burst: one call for all of it
                pass
            self._call()

    def _call(self) -> None:
        try:
            self.on_change()
        except Exception:  # noqa: BLE001 - the listener outlives a failing callback
            log.exception("a change callback failed")
