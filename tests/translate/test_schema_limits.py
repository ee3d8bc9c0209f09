"""Schema clean-up and output token limits."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr_core.translate.limits import clamp_max_tokens, output_limit
from lynkr_core.translate.options import TargetOptions
from lynkr_core.translate.schema import clean_schema, tool_parameters

STRIP = frozenset({"$schema"})
FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude_code"


# --------------------------------------------------------------------------- #
# clean_schema


def nested_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "$schema": {"type": "string", "$schema": "x"},  # a property named like the keyword
            "items": {"type": "array", "items": {"$schema": "x", "type": "string"}},
            "pick": {"anyOf": [{"$schema": "x", "type": "null"}, {"$ref": "#/$defs/Thing"}]},
            "opts": {
                "type": "object",
                "additionalProperties": {"$schema": "x", "type": "integer"},
                "default": {"$schema": "kept: data, not a schema"},
            },
            "kind": {"enum": [{"$schema": "kept"}], "const": {"$schema": "kept"}},
        },
        "$defs": {"Thing": {"$schema": "x", "type": "object", "properties": {}}},
        "required": ["$schema"],
    }


def test_clean_schema_strips_keywords_at_every_level() -> None:
    cleaned = clean_schema(nested_schema(), STRIP)
    assert cleaned == {
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "items": {"type": "array", "items": {"type": "string"}},
            "pick": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Thing"}]},
            "opts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "default": {"$schema": "kept: data, not a schema"},
            },
            "kind": {"enum": [{"$schema": "kept"}], "const": {"$schema": "kept"}},
        },
        "$defs": {"Thing": {"type": "object", "properties": {}}},
        "required": ["$schema"],
    }


def test_clean_schema_does_not_mutate_its_input() -> None:
    schema = nested_schema()
    before = copy.deepcopy(schema)
    cleaned = clean_schema(schema, STRIP)
    assert schema == before
    cleaned["properties"]["opts"]["default"]["new"] = 1
    cleaned["required"].append("x")
    assert schema == before  # no structure is shared with the input


def test_clean_schema_several_keys_and_draft7_forms() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"t": {"type": "array", "items": [{"format": "date", "type": "string"}]}},
        "dependencies": {"a": ["b"], "c": {"format": "x", "type": "object"}},
        "definitions": {"D": {"format": "uri", "type": "string"}},
    }
    cleaned = clean_schema(schema, frozenset({"format", "additionalProperties"}))
    assert cleaned == {
        "type": "object",
        "properties": {"t": {"type": "array", "items": [{"type": "string"}]}},
        "dependencies": {"a": ["b"], "c": {"type": "object"}},
        "definitions": {"D": {"type": "string"}},
    }


def test_clean_schema_keeps_boolean_subschemas() -> None:
    schema = {"type": "object", "additionalProperties": True, "properties": {"x": False}}
    assert clean_schema(schema, STRIP) == schema


def test_claude_code_tool_schemas_lose_only_their_schema_keyword() -> None:
    tools = json.loads((FIXTURES / "turn1.json").read_bytes())["tools"]
    for tool in tools:
        schema = tool["input_schema"]
        cleaned = clean_schema(schema, STRIP)
        assert "$schema" in schema and "$schema" not in json.dumps(cleaned)
        assert cleaned == {k: v for k, v in schema.items() if k != "$schema"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["$schema", "type", "x", "format"]), inner, max_size=3)
    ),
    max_leaves=10,
)
schemas = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer"])}, optional={"$schema": st.text(max_size=3)}
    ),
    lambda inner: st.fixed_dictionaries(
        {"type": st.just("object")},
        optional={
            "$schema": st.text(max_size=3),
            "properties": st.dictionaries(
                st.sampled_from(["$schema", "a", "b"]), inner, max_size=3
            ),
            "items": inner,
            "anyOf": st.lists(inner, max_size=2),
            "default": json_values,
        },
    ),
    max_leaves=12,
)


def schema_keywords(schema: Any) -> list[str]:
    """Every keyword used in a schema built by ``schemas`` (not property names, not data)."""
    if not isinstance(schema, dict):
        return []
    found = list(schema)
    for sub in schema.get("properties", {}).values():
        found += schema_keywords(sub)
    for sub in [schema.get("items"), *schema.get("anyOf", [])]:
        found += schema_keywords(sub)
    return found


@settings(max_examples=200, derandomize=True, deadline=None)
@given(schemas)
def test_clean_schema_property(schema: dict[str, Any]) -> None:
    before = copy.deepcopy(schema)
    cleaned = clean_schema(schema, STRIP)
    assert schema == before
    assert "$schema" not in schema_keywords(cleaned)
    assert clean_schema(cleaned, STRIP) == cleaned
    if "properties" in schema:
        assert set(cleaned["properties"]) == set(schema["properties"])
    if "default" in schema:
        assert cleaned["default"] == schema["default"]


# --------------------------------------------------------------------------- #
# tool_parameters


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (None, {"type": "object", "properties": {}}),
        ([], {"type": "object", "properties": {}}),
        ({}, {"type": "object", "properties": {}}),
        ({"$schema": "x", "required": []}, {"type": "object", "properties": {}, "required": []}),
        ({"type": "object", "properties": {"a": {}}}, {"type": "object", "properties": {"a": {}}}),
        ({"type": "string"}, {"type": "string"}),
    ],
)
def test_tool_parameters(schema: Any, expected: dict[str, Any]) -> None:
    assert tool_parameters(schema, STRIP) == expected


# --------------------------------------------------------------------------- #
# output_limit and clamp_max_tokens


@pytest.mark.parametrize(
    ("model", "limit"),
    [
        ("gpt-4o", 16384),
        ("GPT-4o-2024-08-06", 16384),
        ("gpt-4o-2024-05-13", 4096),
        ("gpt-4o-mini", 16384),
        ("openai/gpt-4o-mini", 16384),
        ("chatgpt-4o-latest", 16384),
        ("gpt-4.1", 32768),
        ("gpt-4.1-nano-2025-04-14", 32768),
        ("gpt-4-turbo-2024-04-09", 4096),
        ("gpt-4-1106-preview", 4096),
        ("gpt-3.5-turbo", 4096),
        ("o1", 100000),
        ("o1-mini", 65536),
        ("o1-preview", 32768),
        ("o3-mini", 100000),
        ("o3", 100000),
        ("o4-mini-2025-04-16", 100000),
        ("gpt-5", 128000),
        ("gpt-5-mini", 128000),
        ("gpt-5.1-codex", 128000),
        ("gpt-5-chat-latest", 16384),
        ("gpt-5.1-chat-latest", 16384),
        ("databricks-gpt-5", 128000),
        ("gpt-oss-120b", 32768),
        ("databricks-gpt-oss-20b", 32768),
        ("openai/gpt-oss-120b", 32768),
        ("claude-opus-4-20250514", 32000),
        ("claude-opus-4-1-20250805", 32000),
        ("anthropic/claude-opus-4.1", 32000),
        ("databricks-claude-opus-4-1", 32000),
        ("claude-sonnet-4-20250514", 64000),
        ("databricks-claude-sonnet-4", 64000),
        ("claude-sonnet-4-5", 64000),
        ("databricks-claude-sonnet-4-5", 64000),
        ("claude-opus-4-5-20251101", 64000),
        ("claude-haiku-4-5", 64000),
        ("claude-opus-4-6", 128000),
        ("claude-opus-4-8", 128000),
        ("anthropic.claude-sonnet-4-6", 128000),
        ("claude-3-7-sonnet-20250219", 64000),
        ("databricks-claude-3-7-sonnet", 64000),
        ("claude-3-5-haiku-20241022", 8192),
        ("claude-3-5-sonnet-latest", 8192),
        ("claude-3-opus-20240229", 4096),
        ("gemini-2.5-pro", 65536),
        ("google/gemini-2.5-flash", 65536),
        ("gemini-2.0-flash", 8192),
        ("deepseek-chat", 8192),
        ("deepseek-reasoner", 65536),
    ],
)
def test_output_limit_known(model: str, limit: int) -> None:
    assert output_limit(model) == limit


@pytest.mark.parametrize(
    "model",
    [
        "llama3.1:8b",
        "qwen2.5-coder:7b",
        "qwen2.5-coder-32b-instruct",
        "my-databricks-model",
        "mistral-large-latest",
        "claude-opus-4-9",
        "claude-opus-5",
        "deepseek-chat-v3.1",
        "gpt-4",
        "",
    ],
)
def test_output_limit_unknown(model: str) -> None:
    assert output_limit(model) is None


@pytest.mark.parametrize(
    ("requested", "target", "expected"),
    [
        (64000, TargetOptions(model="gpt-4o"), 16384),
        (1000, TargetOptions(model="gpt-4o"), 1000),
        (32000, TargetOptions(model="my-local-model"), 32000),
        (32000, TargetOptions(model="my-local-model", max_output_tokens=8192), 8192),
        (64000, TargetOptions(model="gpt-4o", max_output_tokens=20000), 20000),  # config wins
        (None, TargetOptions(model="gpt-4o"), None),
        (None, TargetOptions(model="x", max_output_tokens=100), None),
    ],
)
def test_clamp_max_tokens(
    requested: int | None, target: TargetOptions, expected: int | None
) -> None:
    assert clamp_max_tokens(requested, target) == expected
