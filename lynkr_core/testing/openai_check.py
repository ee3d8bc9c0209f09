"""Check a translated request body against the official openai SDK's types.

pydantic validates values but ignores keys a TypedDict does not declare, and
validates ``Iterable`` fields (``messages``, ``tools``, content parts) lazily;
so the body is validated, every lazy iterable consumed, and every key checked
against the TypedDict it belongs to, recursively.

Needs the ``openai`` package, a test dependency of lynkr (not a runtime one):
provider plugin tests use ``assert_valid_chat_request`` on what their fake
upstream received.
"""

from __future__ import annotations

import collections.abc
import functools
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from openai.types.chat import completion_create_params as params
from pydantic import TypeAdapter
from typing_extensions import is_typeddict  # the SDK's TypedDicts come from typing_extensions

_ADAPTER = TypeAdapter(
    params.CompletionCreateParamsStreaming | params.CompletionCreateParamsNonStreaming
)
_MAPPINGS = (dict, collections.abc.Mapping, typing.Mapping, typing.Dict)  # noqa: UP006


def assert_valid_chat_request(body: dict[str, Any]) -> None:
    """Fail unless ``body`` is a Chat Completions request the openai SDK accepts,
    with no key its TypedDicts do not declare (at the top, in messages, parts, tools...)."""
    _consume(_ADAPTER.validate_python(body))
    schema = (
        params.CompletionCreateParamsStreaming
        if body.get("stream") is True
        else params.CompletionCreateParamsNonStreaming
    )
    stray = _stray_keys(body, schema, "$")
    assert not stray, f"keys the openai SDK does not declare: {stray}"
    for message in body["messages"]:
        assert message.get("role") in {"system", "user", "assistant", "tool"}, message


def _consume(value: Any) -> None:
    """Iterate every lazily validated iterable, so its items are validated too."""
    if isinstance(value, dict):
        for item in value.values():
            _consume(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _consume(item)
    elif not isinstance(value, str | bytes) and isinstance(value, collections.abc.Iterator):
        for item in value:
            _consume(item)


@functools.cache
def _hints(tp: Any) -> dict[str, Any]:
    return typing.get_type_hints(tp)


def _stray_keys(value: Any, tp: Any, path: str) -> list[str]:
    """Paths of the keys in ``value`` that ``tp`` (and the types inside it) do not declare."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        members = [m for m in get_args(tp) if m is not type(None) and _matches(value, m)]
        results = [_stray_keys(value, member, path) for member in members]
        return min(results, key=len) if results else []
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return []
        hints = _hints(tp)
        stray = [f"{path}.{key}" for key in value if key not in hints]
        for key, item in value.items():
            if key in hints:
                stray += _stray_keys(item, hints[key], f"{path}.{key}")
        return stray
    if isinstance(value, list) and origin not in _MAPPINGS and get_args(tp):
        item_type = get_args(tp)[0]
        return [
            key
            for index, item in enumerate(value)
            for key in _stray_keys(item, item_type, f"{path}[{index}]")
        ]
    return []


def _matches(value: Any, tp: Any) -> bool:
    """Whether ``value`` could be of union member ``tp`` (TypedDicts told apart by
    their ``role`` / ``type`` literal)."""
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return False
        hints = _hints(tp)
        for tag in ("role", "type"):
            if tag in hints and get_origin(hints[tag]) is Literal:
                if value.get(tag) not in get_args(hints[tag]):
                    return False
        return True
    origin = get_origin(tp) or tp
    if isinstance(value, dict):
        return origin in _MAPPINGS
    if isinstance(value, list):
        return origin not in (*_MAPPINGS, Literal, str)
    return True
