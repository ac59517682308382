"""The bounded JSON parser: everything Python's json would take but we could not handle
afterwards is refused as an InvalidPayload naming where it is."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from correspondence import bounded_json
from correspondence.bounded_json import MAX_DEPTH, MAX_NUMBER_CHARS, MAX_STRING, loads
from correspondence.errors import InvalidPayload


def refused(data: bytes | str) -> tuple[str, str, str]:
    with pytest.raises(InvalidPayload) as caught:
        loads(data)
    (problem,) = caught.value.problems
    return problem.field, problem.error, problem.message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 10_000, 100_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    for opening, inner, closing in (("[", "", "]"), ('{"a":', "1", "}")):
        _, error, message = refused(opening * depth + inner + closing * depth)
        assert error == "too_deep" and f"deeper than {MAX_DEPTH} levels" in message


def test_nesting_at_the_limit_is_accepted() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_deep_nesting_inside_a_block_names_the_block() -> None:
    body = {"reissue": True, "deliver": {"email": {"to": []}}}
    inner: object = 1
    for _ in range(MAX_DEPTH):
        inner = [inner]
    body["deliver"]["email"]["cc"] = inner  # type: ignore[index]
    field, error, _ = refused(json.dumps(body))
    assert error == "too_deep" and field.startswith("deliver.email.cc.0.0")


@pytest.mark.parametrize(
    "number", ["1" * 5_000, "-" + "9" * 41, "1" + "0" * MAX_NUMBER_CHARS, "1.5E+" + "9" * 40]
)
def test_long_numbers_are_refused(number: str) -> None:
    _, error, message = refused(f'{{"amount": {number}}}')
    assert error == "number_too_long" and f"at most {MAX_NUMBER_CHARS}" in message


@pytest.mark.parametrize("number", ["1E+400", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_numbers_out_of_range_and_non_json_constants_are_refused(number: str) -> None:
    _, error, _ = refused(f"[{number}]")
    assert error in ("number_range", "invalid_json")


def test_a_long_string_is_refused_with_its_path() -> None:
    field, error, message = refused(json.dumps({"a": [{"b": "x" * (MAX_STRING + 1)}]}))
    assert (field, error) == ("a.0.b", "too_long") and str(MAX_STRING + 1) in message


@pytest.mark.parametrize("where", ["key", "value"])
def test_a_lone_surrogate_is_refused_without_echoing_it(where: str) -> None:
    text = '{"deliver": {"email": {"\\ud800x": 1}}}' if where == "key" else '["a\\udfff"]'
    field, error, message = refused(text)
    assert error == "surrogate"
    message.encode("utf-8")  # the answer can be encoded: the surrogate is not in it
    assert field == ("deliver.email" if where == "key" else "0")


def test_a_surrogate_pair_is_one_character_and_accepted() -> None:
    assert loads('["\\ud83d\\ude80"]') == ["🚀"]


@pytest.mark.parametrize("data", [b"\xff\xfe{}", b'{"a": "\xc3"}', b'["\xed\xa0\x80"]'])
def test_bytes_that_are_not_utf8_are_refused(data: bytes) -> None:
    _, error, message = refused(data)
    assert error == "encoding" and message.startswith("the body is not UTF-8")


def test_syntax_errors_say_where() -> None:
    _, error, message = refused('{"document":')
    assert error == "invalid_json" and "(line 1, column 13)" in message


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(_JSON)
def test_ordinary_json_reads_back_as_json_does(value: object) -> None:
    text = json.dumps(value)
    try:
        assert loads(text) == json.loads(text)
    except InvalidPayload as error:  # only a lone surrogate from st.text can be refused
        assert error.problems[0].error == "surrogate"


def test_the_module_documents_its_bounds() -> None:
    doc = bounded_json.__doc__ or ""
    assert "MAX_DEPTH" in doc and "MAX_STRING" in doc and "MAX_NUMBER_CHARS" in doc
