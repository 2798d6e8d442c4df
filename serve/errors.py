"""Map domain exceptions to JSON errors that name what was wrong, never how the server failed.

Validation errors keep FastAPI's ``{"detail": [{"type", "loc", "msg"}]}`` shape, with each message
prefixed by a readable path such as ``documents[3].text`` so a client sending 50 documents knows which one
to fix. Submitted input is not echoed back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from narrascope.dataset.feedback_store import FeedbackStoreUnavailable
from narrascope.model.documents import ScoringOptionsError
from narrascope.serve.batcher import BatcherClosedError, OverloadedError
from narrascope.serve.jsonbody import line_and_column
from narrascope.serve.registry import ModelNotReadyError

logger = logging.getLogger(__name__)
# A locked SQLite file frees up within seconds; a restarting database server takes a few more.
STORE_RETRY_AFTER_S = 5


class ErrorMessage(BaseModel):
    """A refusal that is not about one field: ``{"detail": "what was wrong"}``."""

    detail: str


# What BodyGuardMiddleware answers on any route that takes a body, for each route's ``responses=`` (the
# schema-driven fuzz test holds every answered status code to the OpenAPI).
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorMessage, "description": "the body is not UTF-8, or Content-Length is not a number"},
    413: {"model": ErrorMessage, "description": "the body is larger than NARRASCOPE_MAX_BODY_BYTES"},
    415: {"model": ErrorMessage, "description": "the body is not application/json (or application/*+json)"},
}


def readable_location(loc: Sequence[Any]) -> str:
    """``("body", "documents", 3, "text")`` -> ``documents[3].text``."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _describe(error: dict[str, Any], document: Any = None) -> dict[str, Any]:
    loc = tuple(error.get("loc") or ())
    if error.get("type") == "json_invalid":  # FastAPI's parse of the body failed; ``document`` is its text
        position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        where = f"position {position}"
        if isinstance(document, str) and position is not None:
            line, column = line_and_column(document, position)
            where = f"line {line} column {column}"
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return {"type": "json_invalid", "loc": list(loc), "msg": f"body: invalid JSON at {where} ({reason})"}
    message = str(error.get("msg", "invalid value"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return {"type": error.get("type", "value_error"), "loc": list(loc), "msg": f"{readable_location(loc)}: {message}"}


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": [_describe(dict(e), exc.body) for e in exc.errors()]})


async def options_error(_request: Request, exc: Exception) -> JSONResponse:
    detail = [{"type": "value_error", "loc": ["body", "options"], "msg": f"options: {exc}"}]
    return JSONResponse(status_code=422, content={"detail": detail})


async def not_ready(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": "no model is loaded yet"}, headers={"Retry-After": "5"})


async def overloaded(request: Request, _exc: Exception) -> JSONResponse:
    request.app.state.metrics.rejected.labels(reason="overloaded").inc()
    return JSONResponse(
        status_code=503, content={"detail": "the service is overloaded; retry shortly"}, headers={"Retry-After": "1"}
    )


async def shutting_down(_request: Request, _exc: Exception) -> JSONResponse:
    detail = {"detail": "the service is shutting down"}
    return JSONResponse(status_code=503, content=detail, headers={"Retry-After": "5"})


async def store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """503, not 500: the request was fine and a retry can succeed. The store's message is safe to log (it
    names the database error, never the statement's parameters, which hold the text)."""
    logger.warning("feedback store unavailable", extra={"reason": str(exc)})
    detail = "the feedback database is unavailable (locked or unreachable); the correction was not stored, retry later"
    return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": str(STORE_RETRY_AFTER_S)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ScoringOptionsError, options_error)
    app.add_exception_handler(ModelNotReadyError, not_ready)
    app.add_exception_handler(OverloadedError, overloaded)
    app.add_exception_handler(BatcherClosedError, shutting_down)
    app.add_exception_handler(FeedbackStoreUnavailable, store_unavailable)
