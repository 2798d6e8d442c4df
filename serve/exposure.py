"""Keyless service = loopback-only service, enforced per request rather than trusted from the settings.

``check_bind_safety`` refuses a keyless non-loopback ``--host`` when *we* start the server, but the app can be
started by ``uvicorn --factory --host 0.0.0.0``, gunicorn or a container, which bind wherever they are told.
So without API keys every request must have arrived on a loopback address (ASGI ``scope["server"]``, the
local end of the connection) and name a loopback host: a web page whose DNS name an attacker rebinds to
127.0.0.1 reaches the socket, but its requests still carry ``Host: attacker.example`` and are refused here.
Names are never resolved: resolving the Host is exactly what a rebinding attack controls.
"""

from __future__ import annotations

import ipaddress

from narrascope.serve.middleware import ASGIApp, Receive, Scope, Send, header_value, send_json

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def is_loopback_literal(host: str) -> bool:
    """``localhost`` (and ``*.localhost``, RFC 6761) or a loopback IP literal; no DNS lookup."""
    name = host.strip().lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name part of a Host header: ``[::1]:8000`` -> ``::1``, ``localhost:80`` -> ``localhost``."""
    value = header.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LoopbackOnlyMiddleware:
    """403 for connections that arrived on a non-loopback address; 421 for a non-loopback Host header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        local = str(server[0]) if server else None
        if local is None or not is_loopback_literal(local):
            where = f"on {local}" if local else "on a socket without an address (unix socket?)"
            await send_json(
                send,
                403,
                {
                    "detail": f"this service has no API keys and answers only on loopback; the request arrived "
                    f"{where}. Configure NARRASCOPE_API_KEYS, or set NARRASCOPE_ALLOW_UNAUTHENTICATED=1 "
                    "to serve without authentication on purpose"
                },
            )
            return
        host = header_value(scope, b"host")
        if host is None or not is_loopback_literal(host_name(host)):
            await send_json(
                send,
                421,
                {
                    "detail": f"Host {host!r} is not a loopback name; without API keys this service answers only "
                    "requests addressed to localhost, 127.0.0.1 or [::1] (DNS rebinding protection)"
                },
            )
            return
        await self.app(scope, receive, send)
