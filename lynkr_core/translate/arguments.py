"""Tool-call arguments from an OpenAI-compatible model: a JSON string to a dict.

Models behind OpenAI-compatible servers do not always send clean JSON. Only
repairs that cannot change what the model meant are made: a Markdown code
fence around the JSON, trailing commas, a JSON object encoded twice (a JSON
string holding the object), and a Python literal dict (single quotes,
``True``/``False``/``None``). Truncated or otherwise broken JSON is never
guessed at: it raises ``MalformedArguments``, so the client sees an error
rather than a wrong call.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

import msgspec

_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\n?(?P<body>.*?)\n?[ \t]*```\Z", re.S)
_PREVIEW = 80


class MalformedArguments(ValueError):
    """Tool-call arguments that are not a JSON object and cannot be safely repaired."""


def parse_arguments(text: str) -> dict[str, Any]:
    """The arguments of a tool call as a dict.

    Empty or whitespace-only text gives ``{}``. Raises ``MalformedArguments``
    (a ``ValueError``) with a message naming the problem when the text is not
    a JSON object, even after the safe repairs described in the module
    docstring; a valid JSON value that is not an object (a list, a number...)
    raises too.
    """
    stripped = text.strip()
    if not stripped:
        return {}
    first_error = ""
    for candidate in _candidates(stripped):
        try:
            value = msgspec.json.decode(candidate)
        except msgspec.DecodeError as exc:
            first_error = first_error or str(exc)
            continue
        return _as_object(value, stripped)
    literal = _python_literal(_unfenced(stripped))
    if literal is not None:
        return literal
    raise MalformedArguments(f"arguments are not valid JSON ({first_error}): {_preview(stripped)}")


def _candidates(text: str) -> list[str]:
    """The text, then the repaired versions of it worth trying, in order."""
    unfenced = _unfenced(text)
    candidates = [text]
    if unfenced != text:
        candidates.append(unfenced)
    without_commas = _drop_trailing_commas(unfenced)
    if without_commas != unfenced:
        candidates.append(without_commas)
    return candidates


def _unfenced(text: str) -> str:
    """The text inside a Markdown code fence (```json ... ```), or the text itself."""
    match = _FENCE.match(text)
    return match.group("body").strip() if match else text


def _drop_trailing_commas(text: str) -> str:
    """The text without commas that come right before a ``}`` or ``]`` (outside strings)."""
    out: list[str] = []
    in_string = False
    escaped = False
    pending_comma = -1  # position in ``out`` of a comma not yet known to be trailing
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char in "}]" and pending_comma >= 0:
            del out[pending_comma]
            pending_comma = -1
        elif char == ",":
            pending_comma = len(out)
        elif not char.isspace():
            pending_comma = -1
        if char == '"':
            in_string = True
        out.append(char)
    return "".join(out)


def _as_object(value: Any, text: str) -> dict[str, Any]:
    """A decoded JSON value as the arguments object: a dict, or a string holding one."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            inner = msgspec.json.decode(value)
        except msgspec.DecodeError:
            inner = None
        if isinstance(inner, dict):
            return inner
    raise MalformedArguments(
        f"arguments are a JSON {_json_type(value)}, not an object: {_preview(text)}"
    )


def _python_literal(text: str) -> dict[str, Any] | None:
    """A Python literal dict of JSON-able values, or ``None``."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, dict) and _json_able(value):
        return value
    return None


def _json_able(value: Any) -> bool:
    """Whether ``value`` is plain JSON data (string keys, finite numbers, no tuples or sets)."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_able(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_able(item) for key, item in value.items())
    return False


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null"


def _preview(text: str) -> str:
    """The start of ``text``, for an error message."""
    return repr(text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...")
