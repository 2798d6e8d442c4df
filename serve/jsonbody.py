"""What a JSON request body must be before FastAPI parses it: a JSON media type, shallow, with sane numbers.

FastAPI turns a body that its ``json.loads`` cannot take into a generic ``400 There was an error parsing the
body`` (deep nesting raises ``RecursionError``; a 5,000-digit integer trips Python's int-string conversion
limit with a ``ValueError``) and validates a ``text/plain`` body as if it were the model, answering a
misleading 422. :class:`~narrascope.serve.middleware.BodyGuardMiddleware` calls :func:`media_type_error` and
:func:`json_body_error` for every route that takes a JSON body, so each of those cases gets one clear answer
in one place: 415 naming the expected type, or a 422 in the validation-error shape saying what is wrong.
Malformed JSON is FastAPI's own 422, worded with its line and column by :mod:`narrascope.serve.errors`.
"""

from __future__ import annotations

import email.message
import re
from typing import Any

import numpy as np

# Deepest nesting a request may have: the API's own bodies reach 3 ({"options": {"thresholds": {...}}}).
# Far below the ~1,000 levels at which the C parser raises RecursionError.
MAX_JSON_DEPTH = 32
# Arrays and objects in one body: a full score request has a few hundred. Each one the parser builds is
# tracked by the garbage collector, so 8 MB of ``[],`` took FastAPI's parse and validation 2 s on the event loop.
MAX_JSON_CONTAINERS = 10_000
# Digits in one JSON number: no field needs more than ~20, and Python refuses int strings over 4,300.
MAX_NUMBER_DIGITS = 100
EXPECTED_MEDIA_TYPE = "application/json"

_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
# Outside strings, only numbers (and the "e" of true/false) use these characters.
_NUMBER_CHARS = b"0123456789.eE+-"
_AS_NUMBER_MARK = bytes(ord("9") if byte in _NUMBER_CHARS else ord(" ") for byte in range(256))
_NOT_DIGITS = bytes(range(256)).translate(None, b"0123456789")
_LONG_NUMBER = re.compile(rb"[0-9.eE+-]{%d,}" % (MAX_NUMBER_DIGITS + 1))


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


def _outside_strings(body: bytes) -> bytes:
    """``body`` without its JSON strings (each becomes a space), with C-speed bytes operations.

    In a string a backslash escapes the next character, so dropping escaped backslashes and then escaped
    quotes leaves only the quotes that open and close strings; every other piece of the split is outside.
    Bytes are safe: no byte of a multi-byte UTF-8 sequence is ASCII. About twice as fast as a string regex
    on a body of millions of tiny strings, the worst case.
    """
    pieces = body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')
    return b" ".join(pieces[0::2])


def _depth(brackets: bytes) -> int:
    if not brackets:
        return 0
    return int(np.cumsum(_STEP[np.frombuffer(brackets, dtype=np.uint8)], dtype=np.int32).max())


def _longest_number(outside: bytes) -> int:
    if b"9" * (MAX_NUMBER_DIGITS + 1) not in outside.translate(_AS_NUMBER_MARK):
        return 0  # the common case: one translate and one substring search, no regex
    digits = max(len(run.translate(None, _NOT_DIGITS)) for run in _LONG_NUMBER.findall(outside))
    return digits if digits > MAX_NUMBER_DIGITS else 0


def nesting_depth(body: bytes) -> int:
    """Deepest bracket nesting outside strings, without recursion and at C/numpy speed (no Python loop
    per byte), so an 8 MB ``[[[[...`` costs milliseconds instead of a stack overflow or seconds."""
    return _depth(_outside_strings(body).translate(None, _NOT_BRACKETS))


def longest_number(body: bytes) -> int:
    """The most digits in one number outside strings, or 0 when no number has more than MAX_NUMBER_DIGITS."""
    return _longest_number(_outside_strings(body))


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset, as ``json.JSONDecodeError`` counts them."""
    return text.count("\n", 0, position) + 1, position - text.rfind("\n", 0, position)


def json_body_error(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any] | None:
    """The validation error (``{"type", "loc", "msg"}``) that makes ``body`` unacceptable, else ``None``.

    Only what FastAPI's own ``json.loads`` cannot report well is checked here, by scanning rather than
    parsing (the body is parsed once, by FastAPI): nesting that would exhaust the parser's recursion, more
    containers than any request needs (each costs the parser and the garbage collector), and numbers over
    Python's int-string limit. Malformed JSON is left to that parse, whose error
    :mod:`narrascope.serve.errors` words with its line and column. Up to the first syntax error the parser
    sees the same strings, brackets and numbers as this scan, so it never recurses deeper or converts a
    longer number than the scan allowed.
    """
    nul = body.find(b"\x00")
    if nul >= 0:  # never valid JSON; a leading one makes json.loads guess UTF-16 (garbage, or a 400)
        line, column = line_and_column(body[:nul].decode("utf-8"), nul)
        return _error("json_invalid", f"invalid JSON at line {line} column {column} (a NUL byte)")
    outside = _outside_strings(body)
    brackets = outside.translate(None, _NOT_BRACKETS)
    depth = _depth(brackets)
    if depth > max_depth:
        return _error("json_too_deep", f"JSON nested deeper than {max_depth} levels (it has {depth})")
    containers = brackets.count(b"[") + brackets.count(b"{")
    if containers > MAX_JSON_CONTAINERS:
        message = f"JSON with more than {MAX_JSON_CONTAINERS} arrays and objects (it has {containers})"
        return _error("json_too_many_containers", message)
    digits = _longest_number(outside)
    if digits > MAX_NUMBER_DIGITS:
        return _error("json_number_too_long", f"number with more than {MAX_NUMBER_DIGITS} digits (one has {digits})")
    return None


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": ["body"], "msg": f"body: {message}"}
