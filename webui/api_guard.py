"""Malformed API calls get a 4xx with a message, not an HTTP 500.

Gradio answers an unknown `fn_index` or API name with an unhandled KeyError or a bare 500. This
ASGI middleware turns those, on /gradio_api/ routes only, into a 400 with a JSON message. A
handler's own errors never arrive here: they travel as queue events (and the chat turns them
into a warning).
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from gradio.route_utils import FnIndexInferError

from assistant.wording import reply

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]
CLIENT_ERRORS = (KeyError, IndexError, ValueError, TypeError, LookupError, FnIndexInferError)


class MalformedRequestGuard:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not str(scope.get("path", "")).startswith("/gradio_api/"):
            await self.app(scope, receive, send)
            return
        started, replaced = False, False

        async def guarded_send(message: dict) -> None:
            nonlocal started, replaced
            if message.get("type") == "http.response.start":
                started = True
                if message.get("status") == 500:  # Gradio's answer to an unknown API name
                    replaced = True
                    await _bad_request(send, reply("api_no_function"))
                    return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except CLIENT_ERRORS as err:
            if started:
                raise
            await _bad_request(send, reply("api_bad_arguments", error=type(err).__name__))


async def _bad_request(send: Any, what: str) -> None:
    await send_error(send, 400, reply("api_malformed", what=what))


async def send_error(send: Any, status: int, message: str, close: bool = False) -> None:
    """An ASGI response of `status` with {"error": message}; `close` ends the connection (a body
    left unread)."""
    headers = [(b"content-type", b"application/json")] + ([(b"connection", b"close")] if close else [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps({"error": message}).encode()})
