"""Bounds on a request before any work: its body's size, and the files in one upload.

Gradio parses a whole body before the app cuts a message to MAX_MESSAGE_CHARS, so 8 concurrent
50 MB messages took the server from 361 MB to 1.9 GB. This ASGI middleware refuses a body over its
limit from its Content-Length, or while it streams in, before Gradio reads it: at most
MAX_REQUEST_BYTES, and CLIP_MAX_BYTES more on the upload route, where one request may carry at
most MAX_FILES_PER_UPLOAD files (one carried 1,000).
"""
from __future__ import annotations

import re
from typing import Any

from assistant import limits
from assistant.wording import reply
from webui.api_guard import ASGIApp, Scope, send_error

UPLOAD = re.compile(r"^(?:/gradio_api)?/upload/?$")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class RequestLimits:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        upload = bool(UPLOAD.match(str(scope.get("path", ""))))
        limit = limits.MAX_REQUEST_BYTES + (limits.CLIP_MAX_BYTES * limits.MAX_FILES_PER_UPLOAD if upload else 0)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        started = False
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            await send_error(send, 413, reply("request_too_big", limit=limit), close=True)
            return
        boundary = _boundary(headers.get("content-type", "")) if upload else None
        seen, parts, tail = 0, 0, b""

        async def counted() -> dict:
            nonlocal seen, parts, tail
            message = await receive()
            if message.get("type") == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit:
                    raise Refused(413, reply("request_too_big", limit=limit))
                if boundary:  # each part opens with the boundary; a split one is found across chunks
                    window = tail + chunk
                    parts += window.count(boundary) - tail.count(boundary)
                    tail = window[-len(boundary):]
                    if parts - 1 > limits.MAX_FILES_PER_UPLOAD:  # the closing boundary is not a file
                        raise Refused(413, reply("upload_too_many", limit=limits.MAX_FILES_PER_UPLOAD))
            return message

        async def watched(message: dict) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Refused as refused:
            if started:
                raise
            await send_error(send, refused.status, refused.message, close=True)


def _boundary(content_type: str) -> bytes | None:
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    return b"--" + found.group(1).encode("latin-1") if found else None

