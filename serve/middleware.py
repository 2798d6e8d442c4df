"""ASGI middleware: request ids, access logs, latency metrics, last-resort 500s, and body guards.

They are plain ASGI callables (not ``BaseHTTPMiddleware``) so they add no task per request, can stop an
oversized upload while it streams, and see exceptions before Starlette's debug-oriented error middleware.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException, params
from fastapi.routing import APIRoute

from narrascope.serve.jsonbody import MAX_JSON_DEPTH, json_body_error, media_type_error
from narrascope.serve.logs import request_id_var
from narrascope.serve.metrics import ServiceMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("narrascope.access")
logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Bodies above this are checked in a worker thread: parsing megabytes must not stall the event loop.
_THREAD_CHECK_BYTES = 64 * 1024
# The moderator page loads only its own files; API docs (/docs) keep FastAPI's defaults.
_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


async def send_json(
    send: Send, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def header_value(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def takes_json_body(scope: Scope) -> bool:
    """Whether the route that this request was routed to (``scope["route"]``) parses its body as JSON.

    Asked when the endpoint reads the body, so routing has run: unmatched paths keep their 404/405, and
    every JSON endpoint, present or future, gets the checks without a list of paths kept here.
    """
    route = scope.get("route")
    body_field = getattr(route, "body_field", None) if isinstance(route, APIRoute) else None
    return body_field is not None and not isinstance(body_field.field_info, params.Form)


class RequestContextMiddleware:
    """Assigns the request id, times the request, logs one access line, and turns crashes into 500s."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header_value(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        path = str(scope.get("path", ""))
        status = 500
        started = False
        began = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                if path == "/" or path.startswith("/static/"):
                    headers.append((b"content-security-policy", _PAGE_CSP.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            logger.exception("unhandled error", extra={"path": path})
            if started:
                raise
            status = 500
            # Exception text can quote internals or input; the client gets only the id to report.
            await send_json(
                send,
                500,
                {"detail": "internal server error", "request_id": request_id},
                [(b"x-request-id", request_id.encode())],
            )
        finally:
            elapsed = time.perf_counter() - began
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.request_latency.labels(method=method, route=template, status=str(status)).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


class BodyGuardMiddleware:
    """Refuses bodies over ``max_bytes`` (declared or streamed) with 413 and non-UTF-8 bodies with 400; on
    routes that take JSON, a body that is not declared JSON with 415 and one that is not sane JSON with 422
    (see :mod:`narrascope.serve.jsonbody`).

    The body is buffered (it is bounded, and the JSON parser needs all of it anyway) and replayed to the
    app, so the size is enforced while reading instead of after an unbounded upload.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, metrics: ServiceMetrics, max_json_depth: int = MAX_JSON_DEPTH
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.max_json_depth = max_json_depth

    async def _refuse(self, send: Send, status: int, reason: str, detail: str) -> None:
        self.metrics.rejected.labels(reason=reason).inc()
        await send_json(send, status, {"detail": detail})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        too_large = f"request body exceeds {self.max_bytes} bytes"
        declared = header_value(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await self._refuse(send, 400, "bad_length", "invalid Content-Length header")
                return
            if int(declared) > self.max_bytes:
                await self._refuse(send, 413, "body_too_large", too_large)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413, "body_too_large", too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            await self._refuse(
                send, 400, "not_utf8", f"request body is not valid UTF-8 (invalid byte at offset {exc.start})"
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                await self._check_json(scope, body)
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _check_json(self, scope: Scope, body: bytes) -> None:
        """Refuse a body that a JSON route is about to parse if it is not declared JSON (415) or is not sane
        JSON (422). Raised from ``receive``: FastAPI passes an ``HTTPException`` from reading the body through
        to its handler, which answers ``{"detail": ...}`` (for a 422, the validation-error list)."""
        if not body or not takes_json_body(scope):  # an empty body means "no body" (reload takes none)
            return
        if wrong_type := media_type_error(header_value(scope, b"content-type")):
            self.metrics.rejected.labels(reason="media_type").inc()
            raise HTTPException(status_code=415, detail=wrong_type)
        if len(body) > _THREAD_CHECK_BYTES:
            error = await asyncio.to_thread(json_body_error, body, self.max_json_depth)
        else:
            error = json_body_error(body, self.max_json_depth)
        if error is not None:
            self.metrics.rejected.labels(reason=error["type"]).inc()
            raise HTTPException(status_code=422, detail=[error])
