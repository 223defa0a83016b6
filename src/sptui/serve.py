"""`sptui serve`: the desk in a browser through textual-serve, each session its own desk process.

Behind an authenticating proxy, `--operator-header X-Remote-User` makes each session's operator (the "who" of
the audit log) the user the proxy authenticated, from that request header; a session without it is refused
before any desk starts. Without the option, every session acts as the server's own user.
"""
from __future__ import annotations

import asyncio
import logging
import re
import shlex

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("sptui.serve")

OPERATOR = re.compile(r"[A-Za-z0-9._@+-]{1,64}")


def _size(value: str | None, default: int) -> int:
    try:
        return max(10, min(1000, int(float(value or default))))
    except (ValueError, OverflowError):
        return default


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}".lower()


class DeskServer(Server):
    """textual-serve's server, with the session's command (its operator) taken from the request."""

    def __init__(self, args: list[str], *, operator_header: str | None = None, **kwargs):
        super().__init__(shlex.join(args), **kwargs)
        self.args, self.operator_header = args, operator_header

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
            return shlex.join(self.args), ""
        values = request.headers.getall(self.operator_header, [])
        if len(values) > 1:
            return None, f"the header {self.operator_header} is given {len(values)} times (the proxy must replace it)"
        who = (values[0] if values else "").strip()
        if not who:
            return None, f"no authenticated user in the request (header {self.operator_header})"
        if not OPERATOR.fullmatch(who):
            return None, f"the user name in {self.operator_header} is not one sptui accepts (letters, digits, ._@+-)"
        return shlex.join([*self.args, "--operator", who]), ""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        command, why = self.session_command(request)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            if command is None:
                log.warning("session refused: %s", why)
                await websocket.send_bytes(f"\r\nsptui: session refused: {why}\r\n".encode())
                await websocket.close()
                return websocket
            app_service = AppService(command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                                     close=websocket.close, download_manager=self.download_manager, debug=self.debug)
            await app_service.start(_size(request.query.get("width"), 80), _size(request.query.get("height"), 24))
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # one session's failure; the server goes on
            log.exception("a desk session failed")
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket
