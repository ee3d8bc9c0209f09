"""Decoding the JSON a model printed, repairing its common slips."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments

#: What ``decode_json`` gives for text that is not JSON.
INVALID = object()

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_CONTROL = re.compile(r"[\x00-\x1f]")


def decode_json(text: str) -> Any:
    """``text`` as JSON; raw control characters in strings and (for an object)
    trailing commas are repaired; ``INVALID`` if it is not JSON."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        pass
    escaped = _JSON_STRING.sub(_escape_controls, text)
    if escaped != text:
        try:
            return msgspec.json.decode(escaped)
        except msgspec.DecodeError:
            pass
    if text.startswith("{"):
        try:
            return parse_arguments(text)
        except MalformedArguments:
            pass
    return INVALID


def _escape_controls(string: re.Match[str]) -> str:
    """A JSON string literal with raw control characters (newlines...) escaped."""
    return _CONTROL.sub(lambda char: f"\\u{ord(char.group()):04x}", string.group())
