"""JSON Schema clean-up for providers stricter than Anthropic: drop keywords
they reject, and give tool parameters the object shape OpenAI requires."""

from __future__ import annotations

from typing import Any

#: Keywords whose value maps names (property names, definition names) to schemas.
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
#: Keywords whose value is a list of schemas.
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
#: Keywords whose value is one schema (``items`` may also be a list of schemas, draft 4).
_SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "contentSchema",
    }
)


def clean_schema(schema: dict[str, Any], strip_keys: frozenset[str]) -> dict[str, Any]:
    """A copy of ``schema`` without the keywords in ``strip_keys``, at every level.

    Only keywords are removed: a property *named* like a stripped keyword
    stays, and data values (``default``, ``enum``, ``const``, ``examples``)
    are copied untouched. ``schema`` itself is never modified.
    """
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key in strip_keys:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            cleaned[key] = {name: _clean_sub(sub, strip_keys) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            cleaned[key] = [_clean_sub(sub, strip_keys) for sub in value]
        elif key in _SCHEMA_VALUES:
            cleaned[key] = _clean_sub(value, strip_keys)
        elif key == "dependencies" and isinstance(value, dict):
            # draft 7: each value is a schema or a list of property names
            cleaned[key] = {name: _clean_sub(sub, strip_keys) for name, sub in value.items()}
        else:
            cleaned[key] = _copy(value)
    return cleaned


def tool_parameters(schema: Any, strip_keys: frozenset[str]) -> dict[str, Any]:
    """A tool's ``input_schema`` as OpenAI function ``parameters``: cleaned, with
    ``"type": "object"`` at the top (when it has no type) and ``properties``
    present on an object schema."""
    if not isinstance(schema, dict):
        return {"type": "object", "properties": {}}
    parameters = clean_schema(schema, strip_keys)
    parameters.setdefault("type", "object")
    if parameters["type"] == "object":
        parameters.setdefault("properties", {})
    return parameters


def _clean_sub(value: Any, strip_keys: frozenset[str]) -> Any:
    """A subschema (an object, a boolean, or a list of subschemas) cleaned."""
    if isinstance(value, dict):
        return clean_schema(value, strip_keys)
    if isinstance(value, list):
        return [_clean_sub(item, strip_keys) for item in value]
    return value


def _copy(value: Any) -> Any:
    """A deep copy of plain JSON data."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
