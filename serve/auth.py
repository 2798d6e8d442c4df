"""Bearer API keys with scopes.

Scopes are independent (``admin`` does not imply ``score``) so a reload key held by a deploy job cannot be
used to read texts' scores, and a moderator key cannot swap the model. Keys are kept only as SHA-256
digests in memory and identified in the feedback store by a short digest prefix, never by the key itself.
Authentication is off only when no key is configured, which the settings allow on loopback only (or when the
operator forces it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from narrascope.serve.settings import Settings

SCOPES = ("score", "feedback", "admin")
MIN_KEY_LENGTH = 16

logger = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="API key with the scopes the endpoint names")


class ApiKeyConfigError(ValueError):
    """The key specification is malformed; the message quotes the offending entry (never the key)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``key_id`` is a digest prefix safe to store and log."""

    key_id: str
    scopes: frozenset[str]


ANONYMOUS = Principal("anonymous", frozenset(SCOPES))


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def parse_api_keys(spec: str, source: str = "NARRASCOPE_API_KEYS") -> dict[bytes, Principal]:
    """Parse ``key:scope,scope`` entries separated by ``;`` or newlines; ``#`` starts a comment line."""
    keys: dict[bytes, Principal] = {}
    entries = [part.strip() for line in spec.splitlines() for part in line.split(";")]
    for number, entry in enumerate((e for e in entries if e and not e.startswith("#")), 1):
        key, sep, scope_text = entry.rpartition(":")
        if not sep or not key:
            raise ApiKeyConfigError(f"{source}: entry {number} must look like 'key:scope,scope'")
        if len(key) < MIN_KEY_LENGTH:
            raise ApiKeyConfigError(f"{source}: entry {number}: keys need at least {MIN_KEY_LENGTH} characters")
        scopes = frozenset(s.strip() for s in scope_text.split(",") if s.strip())
        unknown = sorted(scopes - set(SCOPES))
        if unknown or not scopes:
            raise ApiKeyConfigError(
                f"{source}: entry {number}: unknown or missing scope(s) {unknown}; use {', '.join(SCOPES)}"
            )
        digest = _digest(key)
        if digest in keys:
            raise ApiKeyConfigError(f"{source}: entry {number} repeats an earlier key")
        keys[digest] = Principal(digest.hex()[:12], scopes)
    return keys


def load_api_keys(settings: Settings) -> dict[bytes, Principal]:
    """Keys from the environment and the keys file together; an empty dict means authentication is off.

    Fail closed: a key setting that is present but yields no key (``';'``, only comments, an empty file) is a
    configuration error, not "no authentication", since the operator evidently meant to require keys. Only
    an unset (or blank) ``NARRASCOPE_API_KEYS`` and no keys file mean auth is off, and then the settings keep
    the service on loopback.
    """
    keys: dict[bytes, Principal] = {}
    spec = settings.api_keys.get_secret_value() if settings.api_keys is not None else ""
    if spec.strip():
        keys.update(parse_api_keys(spec))
        _require_some(keys, "NARRASCOPE_API_KEYS")
    if settings.api_keys_file is not None:
        path = Path(settings.api_keys_file)
        if path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
            logger.warning("API keys file is readable by other users", extra={"path": str(path)})
        from_file = parse_api_keys(path.read_text(encoding="utf-8"), str(path))
        _require_some(from_file, f"{path} (NARRASCOPE_API_KEYS_FILE)")
        for digest, principal in from_file.items():
            if digest in keys:
                raise ApiKeyConfigError(f"{path}: repeats a key already given in NARRASCOPE_API_KEYS")
            keys[digest] = principal
    return keys


def _require_some(keys: dict[bytes, Principal], source: str) -> None:
    if not keys:
        raise ApiKeyConfigError(
            f"{source} is set but holds no key (only separators, blanks or comments); add 'key:scope,scope' "
            "entries, or unset it to run without authentication on loopback"
        )


def startup_authenticator(settings: Settings) -> Authenticator:
    """Parse the keys once and check the bind against them: the guard and the auth layer see the same keys."""
    keys = load_api_keys(settings)
    settings.check_bind_safety(authenticated=bool(keys))
    return Authenticator(keys)


class Authenticator:
    """Resolves a bearer token to a :class:`Principal`; ``enabled`` is false when no key is configured."""

    def __init__(self, keys: dict[bytes, Principal]) -> None:
        self._keys = keys

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, token: str | None) -> Principal | None:
        if not self.enabled:
            return ANONYMOUS
        if not token:
            return None
        digest = _digest(token)
        found = None
        for known, principal in self._keys.items():  # compare every key: no early exit to time
            if hmac.compare_digest(known, digest):
                found = principal
        return found


def require_scope(scope: str | None) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: any valid key when ``scope`` is None, else a key holding ``scope``."""
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Principal:
        authenticator: Authenticator = request.app.state.authenticator
        principal = authenticator.authenticate(credentials.credentials if credentials else None)
        if principal is None:
            raise HTTPException(
                status_code=401,
                detail="missing or invalid API key (send 'Authorization: Bearer <key>')",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if scope is not None and scope not in principal.scopes:
            raise HTTPException(status_code=403, detail=f"this API key lacks the {scope!r} scope")
        request.state.principal = principal
        return principal

    return dependency
