"""What a JSON request body must be before FastAPI parses it: a JSON media type, well-formed, shallow, sane numbers.

FastAPI turns a body that its ``json.loads`` cannot take into a generic ``400 There was an error parsing the
body`` (deep nesting raises ``RecursionError``; a 5,000-digit integer trips Python's int-string conversion
limit with a ``ValueError``) and validates a ``text/plain`` body as if it were the model, answering a
misleading 422. :class:`~narrascope.serve.middleware.BodyGuardMiddleware` calls :func:`media_type_error` and
:func:`json_body_error` for every route that takes a JSON body, so each of those cases gets one clear answer
in one place: 415 naming the expected type, or a 422 in the validation-error shape saying what is wrong.
"""

from __future__ import annotations

import email.message
import json
import re
from typing import Any

import numpy as np

# Deepest nesting a request may have: the API's own bodies reach 3 ({"options": {"thresholds": {...}}}).
# Far below the ~1,000 levels at which the C parser raises RecursionError.
MAX_JSON_DEPTH = 32
# Digits in one JSON number: no field needs more than ~20, and Python refuses int strings over 4,300.
MAX_NUMBER_DIGITS = 100
EXPECTED_MEDIA_TYPE = "application/json"

# A JSON string, unrolled so the regex engine does not backtrack per character; bytes are safe because no
# byte of a multi-byte UTF-8 sequence is ASCII (a quote or a backslash).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEP = np.zeros(256, dtype=np.int32)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


class _NumberTooLongError(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(f"number with more than {MAX_NUMBER_DIGITS} digits (one has {digits})")


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/*+json``, any case, with any parameters (``charset=...``)."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def media_type_error(content_type: str | None) -> str | None:
    """The 415 message for a body whose declared type is not JSON (or is missing), else ``None``."""
    if content_type is not None and is_json_media_type(content_type):
        return None
    problem = f"Content-Type {content_type!r} is not supported" if content_type else "Content-Type is missing"
    return f"{problem}: send {EXPECTED_MEDIA_TYPE} (or application/*+json)"


def nesting_depth(body: bytes) -> int:
    """Deepest bracket nesting outside strings, without recursion and at C/numpy speed (no Python loop
    per byte), so an 8 MB ``[[[[...`` costs milliseconds instead of a stack overflow or seconds."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    if not brackets:
        return 0
    levels = np.cumsum(_STEP[np.frombuffer(brackets, dtype=np.uint8)])
    return int(levels.max())


def _checked_number(convert: type[int] | type[float]) -> Any:
    def parse(token: str) -> int | float:
        # Everything in a JSON number but a sign, a point and an exponent marker is a digit (C-speed count).
        digits = len(token) - sum(token.count(mark) for mark in "-+.eE")
        if digits > MAX_NUMBER_DIGITS:
            raise _NumberTooLongError(digits)
        return convert(token)

    return parse


def _error(kind: str, message: str, loc: list[str | int] | None = None) -> dict[str, Any]:
    return {"type": kind, "loc": loc or ["body"], "msg": f"body: {message}"}


def json_body_error(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any] | None:
    """The validation error (``{"type", "loc", "msg"}``) that makes ``body`` unacceptable JSON, else ``None``.

    The depth is measured before parsing, so the parser never sees a body deep enough to recurse far. The
    body is parsed here and again by FastAPI: ``json.loads`` is C code (about 10 ms per MB), and a check that
    only scanned would have to reimplement the grammar to report the position of a syntax error.
    """
    depth = nesting_depth(body)
    if depth > max_depth:
        return _error("json_too_deep", f"JSON nested deeper than {max_depth} levels (it has {depth})")
    try:
        json.loads(body, parse_int=_checked_number(int), parse_float=_checked_number(float))
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        return _error("json_invalid", f"invalid JSON at {where} ({exc.msg})", ["body", exc.pos])
    except _NumberTooLongError as exc:
        return _error("json_number_too_long", str(exc))
    except RecursionError:  # defensive: the depth above bounds the parser's recursion up to its first error
        return _error("json_too_deep", f"JSON nested deeper than {max_depth} levels")
    return None
