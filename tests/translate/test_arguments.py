"""parse_arguments: tool-call arguments as a dict, with only safe repairs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments

WRITE = {"file_path": "/work/hello.txt", "content": "hi from lynkr"}


def test_plain_json_object() -> None:
    assert parse_arguments(json.dumps(WRITE)) == WRITE


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_is_no_arguments(text: str) -> None:
    assert parse_arguments(text) == {}


def test_surrounding_whitespace() -> None:
    assert parse_arguments('\n  {"command": "ls"}  \n') == {"command": "ls"}


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"command": "ls -la"}\n```',
        '```\n{"command": "ls -la"}\n```',
        '```JSON {"command": "ls -la"}```',
    ],
)
def test_code_fence_is_stripped(text: str) -> None:
    assert parse_arguments(text) == {"command": "ls -la"}


def test_trailing_commas_are_removed() -> None:
    text = '{"todos": [{"id": 1, "done": false,}, {"id": 2,},], "note": "a",\n}'
    assert parse_arguments(text) == {
        "todos": [{"id": 1, "done": False}, {"id": 2}],
        "note": "a",
    }


def test_commas_inside_strings_are_kept() -> None:
    # the only trailing comma is the last one; ",}" and ",]" inside strings stay
    text = '{"old_string": "f(a,)\\", ]", "new_string": "x,}",}'
    assert parse_arguments(text) == {"old_string": 'f(a,)", ]', "new_string": "x,}"}


def test_fence_and_trailing_comma_together() -> None:
    assert parse_arguments('```json\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}


def test_double_encoded_object() -> None:
    assert parse_arguments(json.dumps(json.dumps(WRITE))) == WRITE


def test_double_encoded_non_object_raises() -> None:
    with pytest.raises(MalformedArguments, match="string"):
        parse_arguments(json.dumps("just words"))


def test_python_literal_dict() -> None:
    text = "{'command': 'ls', 'run_in_background': False, 'timeout': None, 'n': [1, 2.5]}"
    assert parse_arguments(text) == {
        "command": "ls",
        "run_in_background": False,
        "timeout": None,
        "n": [1, 2.5],
    }


@pytest.mark.parametrize(
    "text",
    [
        "{'a': (1, 2)}",  # tuple
        "{'a': {1, 2}}",  # set
        "{'a': b'x'}",  # bytes
        "{1: 'a'}",  # non-string key
        "{'a': float('nan')}",  # not a literal at all
        "{'a': 1e999}",  # infinity
    ],
)
def test_python_literal_that_is_not_json_raises(text: str) -> None:
    with pytest.raises(MalformedArguments):
        parse_arguments(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[1, 2]", "array"), ("42", "number"), ("true", "boolean"), ("null", "null")],
)
def test_valid_json_that_is_not_an_object_raises(text: str, kind: str) -> None:
    with pytest.raises(MalformedArguments, match=f"JSON {kind}, not an object"):
        parse_arguments(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"file_path": "/work/hello.txt", "content": "hi',  # truncated in a string
        '{"file_path": "/work/hello.txt"',  # missing brace
        '{"a": 1}}',  # trailing garbage
        "{file_path: x}",  # unquoted
        '{"a": NaN}',  # not JSON
        "not json at all",
    ],
)
def test_broken_json_raises_naming_the_problem(text: str) -> None:
    with pytest.raises(MalformedArguments, match="not valid JSON") as info:
        parse_arguments(text)
    assert isinstance(info.value, ValueError)
    assert text[:20] in str(info.value)


def test_long_input_is_shortened_in_the_message() -> None:
    text = '{"content": "' + "x" * 5000
    with pytest.raises(MalformedArguments) as info:
        parse_arguments(text)
    assert len(str(info.value)) < 300


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_any_json_object_round_trips(value: dict) -> None:
    assert parse_arguments(json.dumps(value)) == value
    assert parse_arguments(json.dumps(value, indent=2)) == value
