"""Typing the text values of XML parameters with the tool's JSON schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from lynkr_core.translate.tool_text.tools import DeclaredTools

_NON_STRING = frozenset({"integer", "number", "boolean", "object", "array", "null"})


def typed(value: str, tools: DeclaredTools, tool: str, key: str) -> Any:
    """A parameter value given as text, as the JSON type its schema asks for.

    Only when the schema allows no string: then the text is decoded as JSON,
    and kept as it is if that fails or gives a value of another type.
    """
    types = _schema_types(tools.property_schema(tool, key))
    if "string" in types or not types & _NON_STRING:
        return value
    text = value.strip()
    try:
        decoded = msgspec.json.decode(text)
    except msgspec.DecodeError:
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    kind = _json_type(decoded)
    fits = kind in types or (kind == "integer" and "number" in types)
    return decoded if fits else value


def _schema_types(schema: Any) -> set[str]:
    """The JSON types a schema allows (from ``type``, ``anyOf`` and ``oneOf``)."""
    if not isinstance(schema, Mapping):
        return set()
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set()
    if isinstance(declared, list):
        types.update(item for item in declared if isinstance(item, str))
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            for branch in branches:
                types |= _schema_types(branch)
    return types


def _json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
