"""Request bodies are bounded while they arrive, not after: an ASGI middleware in front of every route.

Contract:
- A request whose Content-Length is over the limit (the upload limit plus room for the multipart envelope) is
  answered 413 problem+json at once, before a byte of its body is read, and the connection is closed.
- A body without Content-Length (chunked) is counted as the app reads it; past the limit the read stops and the
  answer is 413, whatever the app would have made of the failed read (FastAPI calls it a 400).
- A client that sends nothing for ``idle_timeout`` seconds in the middle of its body gets 408: a slow or silent
  upload no longer holds a worker thread and a spooled file for ever. (The reverse proxy bounds headers and whole
  requests; see README "Documents and storage".)
- Once the body is complete, ``receive`` is passed through untouched: streaming responses wait on it for the
  client's disconnect, for as long as the download takes.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import get_settings
from service.errors import PROBLEM_JSON, AppError, PayloadTooLarge

# Multipart boundaries, part headers and the small form fields beside the file.
ENVELOPE_BYTES = 64 * 1024
BODY_IDLE_TIMEOUT = 30.0


class RequestTimeout(AppError):
    """The client stopped sending its body."""

    status_code = 408
    code = "request-timeout"
    title = "Begäran kom inte fram i tid / Request timeout"


class _Refused(Exception):
    """Raised into the app by receive() when the body is refused; the middleware answers instead."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # h11 refuses such a request before it gets here
    return None


def too_large(limit: int) -> PayloadTooLarge:
    """The 413 for a body over ``limit`` bytes."""
    mb = max(1, (limit - ENVELOPE_BYTES) // (1024 * 1024))
    return PayloadTooLarge(f"Begäran är större än {mb} MB / request body exceeds {limit} bytes", limit_bytes=limit)


class BodyLimit:
    """Refuse request bodies over the limit before or while reading them, and bodies that stop arriving."""

    def __init__(self, app: ASGIApp, *, limit: int | None = None, idle_timeout: float = BODY_IDLE_TIMEOUT) -> None:
        self.app = app
        self._limit = limit
        self.idle_timeout = idle_timeout

    @property
    def limit(self) -> int:
        """Largest body accepted: the configured upload limit plus the multipart envelope."""
        return self._limit if self._limit is not None else get_settings().upload_limit_bytes + ENVELOPE_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count and time the body as the app reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._answer(scope, send, too_large(limit))
            return
        state: dict[str, Any] = {"received": 0, "done": False, "refusal": None, "answered": False, "started": False}

        async def limited_receive() -> Message:
            if state["done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_timeout)
            except TimeoutError:
                state["refusal"] = RequestTimeout(f"Inga data på {self.idle_timeout:.0f} s / no body data for {self.idle_timeout:.0f} s")
                raise _Refused from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["refusal"] = too_large(limit)
                    raise _Refused
                state["done"] = not message.get("more_body", False)
            else:
                state["done"] = True  # http.disconnect
            return message

        async def guarded_send(message: Message) -> None:
            if state["refusal"] is not None and not state["started"]:
                # Whatever the app made of the failed read (a 400 from FastAPI's form parser, a 500): ours instead.
                if not state["answered"]:
                    await self._answer(scope, send, state["refusal"])
                    state["answered"] = True
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if state["refusal"] is None or state["started"]:
                raise
        if state["refusal"] is not None and not state["answered"] and not state["started"]:
            await self._answer(scope, send, state["refusal"])

    @staticmethod
    async def _answer(scope: Scope, send: Send, error: AppError) -> None:
        path = scope.get("root_path", "") + scope.get("path", "")
        headers = {**error.headers, "Connection": "close"}  # the rest of the body is not read
        response: Response
        if not path.startswith("/api/") and "text/html" in _header(scope, b"accept"):
            # A browser's form post (the pages' uploads): a page a person can read, not JSON.
            response = HTMLResponse(_PAGE.format(title=html.escape(_HEADINGS[error.status_code]),
                                                 detail=html.escape(error.detail.split(" / ")[0]), back=html.escape(_back(scope))),
                                    status_code=error.status_code, headers=headers)
        else:
            response = JSONResponse(error.to_problem(instance=path), status_code=error.status_code, media_type=PROBLEM_JSON,
                                    headers=headers)
        await response(scope, _no_receive, send)


_HEADINGS = {413: "Filen är för stor", 408: "Överföringen avbröts"}
_PAGE = ('<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>{title}</title></head>'
         '<body><h1>{title}</h1><p>{detail}</p><p><a href="{back}">Tillbaka</a></p></body></html>')


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _back(scope: Scope) -> str:
    """The page the form was on, when it is one of ours (a path), else the start page."""
    referer = urlsplit(_header(scope, b"referer"))
    host = _header(scope, b"host")
    return referer.path if referer.path.startswith("/") and referer.netloc in ("", host) else "/"


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
