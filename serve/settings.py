"""Service settings: one typed object read from ``NARRASCOPE_*`` environment variables.

Every knob lives here (not as module constants) so that an operator can change it without a code change,
tests can build an app with exactly the limits they want, and ``narrascope serve`` can hand the same values
to several uvicorn worker processes through the environment.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

from fastapi import Request
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from narrascope.model.runtime import RUNTIMES, requested_runtime
from narrascope.paths import default_feedback_url, default_model_dir, default_models_root
from narrascope.serve.batcher import COALESCE_TOKENS

ENV_PREFIX = "NARRASCOPE_"

# Hard ceilings documented in the OpenAPI schema; settings may only tighten them (see ``schemas``).
MAX_DOCUMENTS_CEILING = 256
MAX_DOCUMENT_CHARS_CEILING = 1_000_000
# Settings renamed when the coalescing budget and the forward budget got separate names: refused, not ignored.
RENAMED = {"MAX_BATCH_TOKENS": "MAX_COALESCE_TOKENS", "FORWARD_BATCH_TOKENS": "FORWARD_TOKENS"}


class UnsafeSettingsError(ValueError):
    """The settings would expose an unauthenticated service beyond this machine."""


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            resolved = {info[4][0] for info in socket.getaddrinfo(host, None)}
        except OSError:
            return False
        return bool(resolved) and all(ipaddress.ip_address(str(addr)).is_loopback for addr in resolved)


class Settings(BaseSettings):
    """Everything the running service can be told; see the field descriptions for the env names."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", protected_namespaces=(), validate_default=True
    )

    model_dir: Path = Field(default_factory=default_model_dir, description="model folder to serve")
    host: str = Field(default="127.0.0.1", description="bind address; non-loopback needs API keys or an override")
    port: int = Field(default=8000, ge=0, le=65535)
    device: str | None = Field(default=None, description="torch device; default cuda when available, else cpu")
    workers: int = Field(default=1, ge=1, description="worker processes, each with its own model (narrascope serve)")
    num_threads: int | None = Field(default=None, ge=1, description="torch intra-op threads; default cores/workers")

    api_keys: SecretStr | None = Field(
        default=None, description='bearer keys with scopes, e.g. "key1:score,feedback;key2:admin"'
    )
    api_keys_file: Path | None = Field(default=None, description="file with one 'key:scope,scope' per line")
    allow_unauthenticated: bool = Field(
        default=False, description="serve without API keys on a non-loopback address (explicit opt-in)"
    )

    max_documents: int = Field(default=64, ge=1, le=MAX_DOCUMENTS_CEILING)
    max_document_chars: int = Field(default=100_000, ge=1, le=MAX_DOCUMENT_CHARS_CEILING)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    runtime: str | None = Field(
        default=None,
        description=f"forward-pass runtime, one of {', '.join(RUNTIMES)}; default auto: the model folder's "
        "exported default (narrascope export), torch forces eager PyTorch",
    )
    max_coalesce_tokens: int = Field(
        default=COALESCE_TOKENS, ge=64, description="tokens of all the requests one coalesced batch may hold"
    )
    forward_tokens: int | None = Field(
        default=None,
        ge=16,
        description="tokens per forward pass inside a batch (length-sorted sub-batches); default: the budget "
        "measured for the model's runtime and saved in its folder (config.json, narrascope.runtime)",
    )
    max_wait_ms: float = Field(default=5.0, ge=0.0, le=1000.0, description="how long a batch waits to fill up")
    max_batch_requests: int = Field(default=64, ge=1, description="requests per coalesced batch (1 = no coalescing)")
    max_queue_requests: int = Field(default=1024, ge=1, description="queued requests before answering 503")

    models_root: Path = Field(
        default_factory=default_models_root,
        description="POST /v1/admin/reload loads only folders under this directory (symlinks resolved)",
    )

    feedback_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under NARRASCOPE_HOME")

    log_json: bool = Field(default=False, description="configure JSON logs in create_app (narrascope serve sets it)")
    log_level: str = Field(default="INFO")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}")
        return upper

    @field_validator("runtime")
    @classmethod
    def _known_runtime(cls, value: str | None) -> str | None:
        return None if value is None else requested_runtime(value)

    @model_validator(mode="before")
    @classmethod
    def _no_renamed_variables(cls, data: Any) -> Any:
        import os

        for old, new in RENAMED.items():
            if ENV_PREFIX + old in os.environ:
                raise ValueError(f"{ENV_PREFIX}{old} was renamed: set {ENV_PREFIX}{new} instead")
        return data

    @model_validator(mode="after")
    def _keys_file_exists(self) -> Settings:
        if self.api_keys_file is not None and not self.api_keys_file.is_file():
            raise ValueError(f"api_keys_file {str(self.api_keys_file)!r} does not exist")
        return self

    @property
    def resolved_feedback_url(self) -> str:
        """The store URL: the setting, else the default shared with ``narrascope data feedback``."""
        return self.feedback_url or default_feedback_url()

    def check_bind_safety(self, authenticated: bool) -> None:
        """Refuse an open service on a reachable address unless the operator opted in explicitly.

        ``authenticated`` is whether *parsed* keys exist (``serve.auth.load_api_keys``), never whether a key
        setting is non-blank: a spec such as ``';'`` must not pass this check while the auth layer sees no key.
        """
        if authenticated or is_loopback(self.host) or self.allow_unauthenticated:
            return
        raise UnsafeSettingsError(
            f"refusing to bind {self.host!r} without API keys: set {ENV_PREFIX}API_KEYS or "
            f"{ENV_PREFIX}API_KEYS_FILE, bind 127.0.0.1, or pass --force / {ENV_PREFIX}ALLOW_UNAUTHENTICATED=1"
        )

    def overridden(self, **changes: Any) -> Settings:
        """A validated copy with some fields replaced (``model_copy`` would skip validation)."""
        data = self.model_dump()
        data.update(changes)
        return Settings(**data)


def get_settings(request: Request) -> Settings:
    """Dependency: the settings the running app was created with (tests pass their own to ``create_app``)."""
    settings: Settings = request.app.state.settings
    return settings
