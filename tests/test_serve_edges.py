"""API edges (issue 10, point 7): repeated ids, malformed or hostile JSON, media types, configured limits
in messages, and texts with nothing to score. The app runs with its default limits (64 documents,
100,000 characters) so the messages are checked against what an operator actually configures."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from narrascope.serve.app import create_app
from narrascope.serve.jsonbody import (
    MAX_JSON_CONTAINERS,
    MAX_JSON_DEPTH,
    MAX_NUMBER_DIGITS,
    json_body_error,
    longest_number,
    nesting_depth,
)
from narrascope.serve.schemas import has_letter_or_digit
from narrascope.serve.settings import MAX_DOCUMENT_CHARS_CEILING, MAX_DOCUMENTS_CEILING
from narrascope.serve.testing import isolated_settings

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = isolated_settings(tiny_model_dir, tmp_path_factory.mktemp("store"))  # the default limits
    assert (settings.max_documents, settings.max_document_chars) == (64, 100_000)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def messages(response: Any) -> list[str]:
    return [item["msg"] for item in response.json()["detail"]]


def post(client: TestClient, path: str, body: bytes | str, content_type: str | None = "application/json") -> Any:
    headers = {"content-type": content_type} if content_type is not None else {}
    return client.post(path, content=body.encode() if isinstance(body, str) else body, headers=headers)


# --- repeated ids ---------------------------------------------------------------------------------------


def test_repeated_id_names_both_indices(client: TestClient) -> None:
    docs = [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}, {"id": "c", "text": "three"}]
    docs.append({"id": "a", "text": "four"})
    docs.append({"id": "b", "text": "five"})
    response = client.post("/v1/score", json={"documents": docs})
    assert response.status_code == 422
    assert messages(response) == [
        "documents[3].id: 'a' repeats documents[0].id",
        "documents[4].id: 'b' repeats documents[1].id",
    ]
    assert [item["loc"] for item in response.json()["detail"]] == [["body", "documents", 3, "id"]] + [
        ["body", "documents", 4, "id"]
    ]


def test_given_id_may_not_repeat_a_default_one(client: TestClient) -> None:
    """Ids default to the position, so an explicit "1" and an id-less second document would collide."""
    response = client.post("/v1/score", json={"documents": [{"id": "1", "text": "one"}, {"text": "two"}]})
    assert response.status_code == 422
    assert messages(response) == ["documents[1].id: the default id '1' (its position) repeats documents[0].id"]
    response = client.post("/v1/score", json={"documents": [{"text": "one"}, {"id": "0", "text": "two"}]})
    assert messages(response) == ["documents[1].id: '0' repeats the default id of documents[0] (its position)"]


def test_documents_without_ids_never_collide(client: TestClient) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "same text"}] * 12})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["results"]] == [str(i) for i in range(12)]


# --- malformed and hostile JSON -------------------------------------------------------------------------

ENDPOINTS = ["/v1/score", "/v1/feedback", "/v1/admin/reload"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_invalid_json_names_line_and_column(client: TestClient, path: str) -> None:
    response = post(client, path, '{\n  "documents": [\n    {"text": "a"},,\n  ]\n}')
    assert response.status_code == 422
    assert messages(response) == ["body: invalid JSON at line 3 column 19 (Expecting value)"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_over_deep_json_is_422_on_every_endpoint(client: TestClient, path: str) -> None:
    depth = 5000  # far past the C parser's recursion limit: a generic 400 before
    response = post(client, path, '{"documents": ' + "[" * depth + "]" * depth + "}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_too_deep"
    assert messages(response) == [f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels (it has {depth + 1})"]


def test_depth_limit_is_exact_and_ignores_brackets_in_strings(client: TestClient) -> None:
    def nested(levels: int) -> str:  # the outer object is level 1
        return '{"documents": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"

    at_limit = post(client, "/v1/score", nested(MAX_JSON_DEPTH))
    assert at_limit.status_code == 422 and at_limit.json()["detail"][0]["type"] != "json_too_deep"
    over = post(client, "/v1/score", nested(MAX_JSON_DEPTH + 1))
    assert over.json()["detail"][0]["type"] == "json_too_deep"
    text = 'quoted "[[[" ' + "[{" * 200 + " \\ end"
    response = client.post("/v1/score", json={"documents": [{"text": text}]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, '{"a": ' + "[" * 40 + "1" + "]" * 40 + "}", "[" * 200_000 + "]" * 200_000],
    ids=["unbalanced", "small", "large-body-checked-in-a-thread"],
)
def test_depth_is_measured_without_recursion(body: str) -> None:
    error = json_body_error(body.encode())
    assert error is not None and error["type"] == "json_too_deep"


def test_nesting_depth_skips_strings_and_escapes() -> None:
    assert nesting_depth(b"") == 0
    assert nesting_depth(b'{"a": [1, {"b": []}]}') == 4
    assert nesting_depth(b'["[[[[", "\\"]]]]\\\\", [["\xd0\x96["]]]') == 3
    assert nesting_depth(b"]]]") <= 0


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _digits(value: Any) -> int:
    if isinstance(value, dict):
        return max(map(_digits, value.values()), default=0)
    if isinstance(value, list):
        return max(map(_digits, value), default=0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return sum(char.isdigit() for char in json.dumps(value))


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**150), 10**150) | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=_JSON_VALUES, ascii_only=st.booleans())
def test_the_scan_agrees_with_the_parsed_value(value: Any, ascii_only: bool) -> None:
    """Strings full of quotes, backslashes, brackets and digits never fool the depth or number scan."""
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting_depth(body) == _depth(value)
    longest = _digits(value)
    assert longest_number(body) == (longest if longest > MAX_NUMBER_DIGITS else 0)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("number", "digits"),
    [("1" * 5000, 5000), ("-" + "9" * 5000, 5000), ("1." + "5" * 5000, 5001), ("1" * 4999 + "E+3", 5000)],
)
def test_huge_numbers_are_422_on_every_endpoint(client: TestClient, path: str, number: str, digits: int) -> None:
    response = post(client, path, '{"documents": [{"text": "a"}], "options": {"evidence_per_label": ' + number + "}}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_number_too_long"
    assert messages(response) == [f"body: number with more than {MAX_NUMBER_DIGITS} digits (one has {digits})"]


def test_number_digit_limit_is_exact(client: TestClient) -> None:
    body = '{"documents": [{"text": "a"}], "options": {"evidence_per_label": %s}}'
    ok = post(client, "/v1/score", body % ("1" * MAX_NUMBER_DIGITS))  # a sane number, refused by the schema
    assert ok.status_code == 422 and messages(ok)[0].startswith("options.evidence_per_label:")
    over = post(client, "/v1/score", body % ("1" * (MAX_NUMBER_DIGITS + 1)))
    assert over.json()["detail"][0]["type"] == "json_number_too_long"


def test_too_many_arrays_and_objects_is_422(client: TestClient) -> None:
    flat = "[" + "[]," * MAX_JSON_CONTAINERS + "{}]"
    response = post(client, "/v1/score", flat)
    assert response.status_code == 422
    limit, count = MAX_JSON_CONTAINERS, MAX_JSON_CONTAINERS + 2
    assert messages(response) == [f"body: JSON with more than {limit} arrays and objects (it has {count})"]
    within = post(client, "/v1/score", "[" + "[]," * (MAX_JSON_CONTAINERS - 2) + "[]]")
    assert within.status_code == 422 and messages(within)[0].startswith("body: Input should be")
    a_full_request = {"documents": [{"id": str(i), "text": "a b"} for i in range(64)], "options": {"labels": ["x"]}}
    assert json_body_error(json.dumps(a_full_request).encode()) is None


def test_long_digit_runs_inside_strings_are_text(client: TestClient) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "1" * 5000}]})
    assert response.status_code == 200, response.text
    assert longest_number(b'{"a": "' + b"7" * 500 + b'", "b": 1.5e10, "c": true}') == 0
    assert longest_number(b"[" + b"-" + b"9" * 150 + b".5e+3]") == 152
    assert longest_number(b"[" + b"1e+" * 40 + b"]") == 0  # 120 characters, 40 digits: garbage for the parser


@pytest.mark.parametrize(
    ("body", "where"),
    [(b'\x00{"documents": [] }', "line 1 column 1"), (b'{"documents":\n [\x00]}', "line 2 column 3")],
)
def test_nul_bytes_are_invalid_json_not_a_parse_400(client: TestClient, body: bytes, where: str) -> None:
    """A leading NUL makes json.loads guess UTF-16: garbage positions, or (odd length) a generic 400."""
    response = post(client, "/v1/score", body)
    assert response.status_code == 422
    assert messages(response) == [f"body: invalid JSON at {where} (a NUL byte)"]


def test_hostile_json_is_counted_in_metrics(client: TestClient) -> None:
    post(client, "/v1/score", "[" * 50)
    metrics = client.get("/metrics").text
    assert 'narrascope_rejected_requests_total{reason="json_too_deep"}' in metrics


# --- media types ----------------------------------------------------------------------------------------

BODIES = {
    "/v1/score": json.dumps({"documents": [{"text": "The law creates territorial defence units."}]}),
    "/v1/feedback": json.dumps({"text": "The law creates territorial defence units.", "labels": []}),
    "/v1/admin/reload": "{}",
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json", None])
def test_non_json_content_type_is_415(client: TestClient, path: str, content_type: str | None) -> None:
    response = post(client, path, BODIES[path], content_type)
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert "application/json" in detail
    assert (repr(content_type) if content_type else "missing") in detail


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", "application/x+json"],
)
def test_json_content_types_are_accepted(client: TestClient, content_type: str) -> None:
    assert post(client, "/v1/score", BODIES["/v1/score"], content_type).status_code == 200


def test_no_body_needs_no_content_type_and_other_routes_keep_their_status(client: TestClient) -> None:
    assert client.post("/v1/admin/reload").status_code == 200  # reload takes an optional body
    assert post(client, "/v1/admin/reload", b"", "application/x-www-form-urlencoded").status_code == 200  # curl -d ''
    assert post(client, "/v1/nowhere", "hello", "text/plain").status_code == 404
    assert post(client, "/healthz", "hello", "text/plain").status_code == 405


# --- limits quote the configured values -----------------------------------------------------------------


@pytest.mark.parametrize("count", [65, MAX_DOCUMENTS_CEILING + 44])
def test_too_many_documents_quotes_the_configured_limit(client: TestClient, count: int) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "x"}] * count})
    assert response.status_code == 422
    assert messages(response) == [f"documents: List should have at most 64 items after validation, not {count}"]


@pytest.mark.parametrize("length", [100_001, MAX_DOCUMENT_CHARS_CEILING + 1])
def test_too_long_text_quotes_the_configured_limit(client: TestClient, length: int) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "ok"}, {"text": "x" * length}]})
    assert response.status_code == 422
    assert messages(response) == [f"documents[1].text: String should have at most 100000 characters, not {length}"]
    response = client.post("/v1/feedback", json={"text": "x" * length, "labels": []})
    assert messages(response) == [f"text: String should have at most 100000 characters, not {length}"]


def test_openapi_still_documents_the_ceilings(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ScoreRequest"]["properties"]["documents"]["maxItems"] == MAX_DOCUMENTS_CEILING
    assert schemas["DocumentIn"]["properties"]["text"]["maxLength"] == MAX_DOCUMENT_CHARS_CEILING
    assert schemas["FeedbackIn"]["properties"]["text"]["maxLength"] == MAX_DOCUMENT_CHARS_CEILING


# --- texts with nothing to score ------------------------------------------------------------------------

NOTHING_TO_SCORE = ["\x00\x00\x00", "\u200b\u200c\u200d\ufeff", "...!?", "\x01\x02 \t\x7f", "«—» ~ _", "\u0301\u0301"]


@pytest.mark.parametrize("text", NOTHING_TO_SCORE)
def test_text_without_letters_or_digits_is_rejected_with_its_index(client: TestClient, text: str) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "fine"}, {"text": text}]})
    assert response.status_code == 422
    assert messages(response) == ["documents[1].text: text has no letters or digits"]
    response = client.post("/v1/feedback", json={"text": text, "labels": []})
    assert response.status_code == 422
    assert messages(response) == ["text: text has no letters or digits"]


@pytest.mark.parametrize("text", ["ж", "中", "٣", "Ⅻ", "\u200b1\u200b", "?!a"])
def test_one_letter_or_digit_in_any_script_is_enough(client: TestClient, text: str) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": text}]})
    assert response.status_code == 200, response.text


def test_letter_or_digit_means_unicode_categories_l_and_n() -> None:
    """The regex behind ``has_letter_or_digit`` agrees with ``unicodedata`` on every code point."""
    disagree = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if has_letter_or_digit(chr(code)) != (unicodedata.category(chr(code))[0] in "LN")
    ]
    assert disagree == []
