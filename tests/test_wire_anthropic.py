"""The Messages API wire types: typed views of blocks, and loss-free request round trips.

Block shapes follow Anthropic's Messages API reference (checked against the
``anthropic`` SDK's ``types/*_param.py`` TypedDicts, which are generated from it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lynkr_core.wire import anthropic as A

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"

_json = msgspec.json.decode


def _b(value: Any) -> bytes:
    return json.dumps(value).encode()


# --------------------------------------------------------------------------- #
# Block fixtures: (name, dict, expected Struct class)

CACHE = {"type": "ephemeral"}
CACHE_1H = {"type": "ephemeral", "ttl": "1h"}

CHAR_CITATION = {
    "type": "char_location",
    "cited_text": "The grass is green.",
    "document_index": 0,
    "document_title": "Facts",
    "start_char_index": 0,
    "end_char_index": 19,
}
SEARCH_RESULT_CITATION = {
    "type": "search_result_location",
    "cited_text": "Paris is the capital.",
    "search_result_index": 0,
    "source": "https://example.com/fr",
    "title": None,
    "start_block_index": 0,
    "end_block_index": 1,
}

BLOCKS: list[tuple[str, dict[str, Any], type]] = [
    ("text", {"type": "text", "text": "hello"}, A.TextBlock),
    (
        "text_cache_citations",
        {
            "type": "text",
            "text": "The grass is green.",
            "cache_control": CACHE_1H,
            "citations": [CHAR_CITATION, SEARCH_RESULT_CITATION],
        },
        A.TextBlock,
    ),
    ("text_null_citations", {"type": "text", "text": "x", "citations": None}, A.TextBlock),
    (
        "image_base64",
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
            "cache_control": CACHE,
        },
        A.ImageBlock,
    ),
    (
        "image_url",
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        A.ImageBlock,
    ),
    (
        "image_file",
        {"type": "image", "source": {"type": "file", "file_id": "file_011"}},
        A.ImageBlock,
    ),
    (
        "document_pdf_base64",
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"},
            "title": "Report",
            "context": "Quarterly numbers",
            "citations": {"enabled": True},
            "cache_control": CACHE,
        },
        A.DocumentBlock,
    ),
    (
        "document_text",
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."},
            "title": None,
            "context": None,
            "citations": {"enabled": False},
        },
        A.DocumentBlock,
    ),
    (
        "document_content",
        {
            "type": "document",
            "source": {
                "type": "content",
                "content": [
                    {"type": "text", "text": "First chunk"},
                    {"type": "text", "text": "Second chunk", "cache_control": CACHE},
                ],
            },
            "title": "Chunks",
        },
        A.DocumentBlock,
    ),
    (
        "document_content_string",
        {"type": "document", "source": {"type": "content", "content": "just a string"}},
        A.DocumentBlock,
    ),
    (
        "document_url",
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        A.DocumentBlock,
    ),
    (
        "document_file",
        {"type": "document", "source": {"type": "file", "file_id": "file_022"}},
        A.DocumentBlock,
    ),
    (
        "search_result",
        {
            "type": "search_result",
            "source": "https://example.com/fr",
            "title": "France",
            "content": [{"type": "text", "text": "Paris is the capital."}],
            "citations": {"enabled": True},
            "cache_control": CACHE,
        },
        A.SearchResultBlock,
    ),
    (
        "tool_use",
        {
            "type": "tool_use",
            "id": "toolu_01A",
            "name": "get_weather",
            "input": {"location": "Paris", "units": ["c", "f"], "deep": {"n": 1.5, "ok": None}},
            "cache_control": CACHE,
        },
        A.ToolUseBlock,
    ),
    (
        "tool_result_string",
        {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "15 degrees"},
        A.ToolResultBlock,
    ),
    (
        "tool_result_blocks",
        {
            "type": "tool_result",
            "tool_use_id": "toolu_01A",
            "content": [
                {"type": "text", "text": "see image"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"},
                },
            ],
            "cache_control": CACHE,
        },
        A.ToolResultBlock,
    ),
    (
        "tool_result_error",
        {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "boom", "is_error": True},
        A.ToolResultBlock,
    ),
    (
        "tool_result_no_content",
        {"type": "tool_result", "tool_use_id": "toolu_01C"},
        A.ToolResultBlock,
    ),
    (
        "thinking",
        {
            "type": "thinking",
            "thinking": "Let me think...",
            "signature": "EqQBCgIYAhIM1gbcDa9GJwZA",
        },
        A.ThinkingBlock,
    ),
    (
        "redacted_thinking",
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
        A.RedactedThinkingBlock,
    ),
    (
        "server_tool_use",
        {
            "type": "server_tool_use",
            "id": "srvtoolu_01",
            "name": "web_search",
            "input": {"query": "weather in Paris"},
        },
        A.ServerToolUseBlock,
    ),
    (
        "web_search_tool_result",
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_01",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://example.com/weather",
                    "title": "Weather",
                    "encrypted_content": "EqgfCioIARgBIiQ3",
                    "page_age": "April 30, 2025",
                }
            ],
        },
        A.WebSearchToolResultBlock,
    ),
    (
        "web_search_tool_result_error",
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_02",
            "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"},
        },
        A.WebSearchToolResultBlock,
    ),
]

BY_NAME = {name: block for name, block, _ in BLOCKS}

UNKNOWN_BLOCKS = [
    {"type": "container_upload", "file_id": "f"},
    {"type": "future_block", "x": 1, "nested": {"a": [1, 2, {"b": None}]}, "s": "\u00e9\u2603"},
]


@pytest.mark.parametrize(("name", "block", "cls"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_decode_block_gives_typed_struct(name: str, block: dict[str, Any], cls: type) -> None:
    decoded = A.decode_block(_b(block))
    assert type(decoded) is cls
    assert A.block_type(_b(block)) == block["type"]


@pytest.mark.parametrize(("name", "block", "cls"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_round_trip_keeps_every_field(name: str, block: dict[str, Any], cls: type) -> None:
    decoded = A.decode_block(_b(block))
    assert _json(A.encode(decoded)) == block


@pytest.mark.parametrize(("name", "block", "cls"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_round_trip_from_raw(name: str, block: dict[str, Any], cls: type) -> None:
    """``decode_block`` takes a ``msgspec.Raw`` (what request content holds) too."""
    decoded = A.decode_block(msgspec.Raw(_b(block)))
    assert type(decoded) is cls
    assert _json(A.encode(decoded)) == block


def test_typed_fields_have_the_values() -> None:
    text = A.decode_block(_b(BY_NAME["text_cache_citations"]))
    assert isinstance(text, A.TextBlock)
    assert text.cache_control == A.CacheControl(type="ephemeral", ttl="1h")
    assert [_json(c) for c in text.citations] == [CHAR_CITATION, SEARCH_RESULT_CITATION]

    tool = A.decode_block(_b(BY_NAME["tool_use"]))
    assert isinstance(tool, A.ToolUseBlock)
    assert (tool.id, tool.name) == ("toolu_01A", "get_weather")
    assert tool.input["deep"] == {"n": 1.5, "ok": None}

    image = A.decode_block(_b(BY_NAME["image_base64"]))
    assert isinstance(image.source, A.Base64Source)
    assert image.source.media_type == "image/png"
    assert isinstance(A.decode_block(_b(BY_NAME["image_url"])).source, A.UrlSource)
    assert isinstance(A.decode_block(_b(BY_NAME["image_file"])).source, A.FileSource)

    doc_text = A.decode_block(_b(BY_NAME["document_text"]))
    assert isinstance(doc_text.source, A.TextSource)
    doc_content = A.decode_block(_b(BY_NAME["document_content"]))
    assert isinstance(doc_content.source, A.ContentSource)
    assert len(doc_content.source.content) == 2

    error_result = A.decode_block(_b(BY_NAME["tool_result_error"]))
    assert error_result.is_error is True
    assert error_result.content == "boom"
    absent = A.decode_block(_b(BY_NAME["tool_result_no_content"]))
    assert absent.content is msgspec.UNSET
    assert absent.is_error is msgspec.UNSET

    thinking = A.decode_block(_b(BY_NAME["thinking"]))
    assert thinking.signature == "EqQBCgIYAhIM1gbcDa9GJwZA"


def test_absent_optional_fields_stay_absent() -> None:
    """UNSET defaults are left out on encode: no ``"cache_control": null`` appears."""
    encoded = A.encode(A.decode_block(b'{"type":"text","text":"hi"}'))
    assert _json(encoded) == {"type": "text", "text": "hi"}
    assert b"cache_control" not in encoded and b"citations" not in encoded


def test_explicit_null_is_kept() -> None:
    block = {"type": "text", "text": "hi", "cache_control": None}
    assert _json(A.encode(A.decode_block(_b(block)))) == block


@pytest.mark.parametrize("block", UNKNOWN_BLOCKS, ids=lambda b: b["type"])
def test_unknown_block_type_comes_back_as_dict(block: dict[str, Any]) -> None:
    decoded = A.decode_block(_b(block))
    assert type(decoded) is dict
    assert decoded == block


def test_known_block_with_wrong_shape_raises() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.text"):
        A.decode_block(b'{"type":"text","text":5}')
    with pytest.raises(msgspec.ValidationError, match="tool_use_id"):
        A.decode_block(b'{"type":"tool_result"}')


def test_known_block_types_are_exactly_the_typed_ones() -> None:
    assert {b[1]["type"] for b in BLOCKS} == A.KNOWN_BLOCK_TYPES


def test_message_blocks_string_and_list() -> None:
    msg = A.Message(role="user", content="hi")
    assert msg.blocks() == [A.TextBlock(text="hi")]
    raw_blocks = [msgspec.Raw(_b(BY_NAME["text"])), msgspec.Raw(_b(UNKNOWN_BLOCKS[1]))]
    blocks = A.Message(role="user", content=raw_blocks).blocks()
    assert blocks[0] == A.TextBlock(text="hello")
    assert blocks[1] == UNKNOWN_BLOCKS[1]


# --------------------------------------------------------------------------- #
# Full requests

CUSTOM_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and state"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
    "cache_control": CACHE,
}
WEB_SEARCH_TOOL = {
    "type": "web_search_20250305",
    "name": "web_search",
    "max_uses": 5,
    "allowed_domains": ["example.com"],
    "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
}
BASH_TOOL = {"type": "bash_20250124", "name": "bash"}


def _all_known_blocks() -> list[dict[str, Any]]:
    return [copy.deepcopy(b[1]) for b in BLOCKS]


def full_request(*, unknown: bool) -> dict[str, Any]:
    user_blocks = [
        b
        for b in _all_known_blocks()
        if b["type"]
        not in (
            "thinking",
            "redacted_thinking",
            "tool_use",
            "server_tool_use",
            "web_search_tool_result",
        )
    ]
    assistant_blocks = [
        b
        for b in _all_known_blocks()
        if b["type"]
        in (
            "thinking",
            "redacted_thinking",
            "tool_use",
            "server_tool_use",
            "web_search_tool_result",
            "text",
        )
    ]
    if unknown:
        user_blocks.append(copy.deepcopy(UNKNOWN_BLOCKS[1]))
        assistant_blocks.insert(0, copy.deepcopy(UNKNOWN_BLOCKS[0]))
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "What's the weather?"},
            {"role": "assistant", "content": assistant_blocks},
            {"role": "system", "content": "A mid-conversation system reminder."},
            {"role": "user", "content": user_blocks},
        ],
        "max_tokens": 4096,
        "system": [
            {"type": "text", "text": "You are helpful.", "cache_control": CACHE},
            {"type": "text", "text": "Be brief."},
        ],
        "tools": [CUSTOM_TOOL, WEB_SEARCH_TOOL, BASH_TOOL],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "stop_sequences": ["\n\nHuman:", "STOP"],
        "stream": True,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 40,
        "metadata": {"user_id": "user-123"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "service_tier": "auto",
        "container": "container_011",
        "mcp_servers": [{"type": "url", "url": "https://mcp.example.com/sse", "name": "ex"}],
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
    }
    if unknown:
        request["future_field"] = {"a": [1, 2]}
        request["another"] = 3
        request["inference_geo"] = None
    return request


def test_full_request_covers_every_known_field() -> None:
    assert set(full_request(unknown=False)) == set(A.MessagesRequest.__struct_fields__)


def test_full_request_with_unknown_fields_round_trips() -> None:
    original = full_request(unknown=True)
    request = A.decode_request(_b(original))
    assert _json(A.encode_request(request)) == original


def test_full_request_fast_path_round_trips() -> None:
    original = full_request(unknown=False)
    request = A.decode_request(_b(original))
    assert request.extra_fields == {}
    assert _json(A.encode_request(request)) == original


def test_compact_request_is_byte_identical_when_key_order_matches() -> None:
    """With keys in field order and compact JSON, the bytes come back unchanged."""
    body = b'{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"max_tokens":10}'
    assert A.encode_request(A.decode_request(body)) == body


def test_extra_fields_are_exactly_the_unknown_keys() -> None:
    request = A.decode_request(_b(full_request(unknown=True)))
    assert set(request.extra_fields) == {"future_field", "another", "inference_geo"}
    assert _json(request.extra_fields["future_field"]) == {"a": [1, 2]}
    assert _json(request.extra_fields["another"]) == 3
    assert _json(request.extra_fields["inference_geo"]) is None


def test_replace_keeps_extra_fields() -> None:
    request = A.decode_request(_b(full_request(unknown=True)))
    changed = request.replace(model="y", max_tokens=7)
    assert changed.model == "y"
    assert request.model == "claude-sonnet-4-5"
    assert set(changed.extra_fields) == {"future_field", "another", "inference_geo"}
    encoded = _json(A.encode_request(changed))
    expected = full_request(unknown=True) | {"model": "y", "max_tokens": 7}
    assert encoded == expected


def test_replace_to_unset_drops_field() -> None:
    request = A.decode_request(_b(full_request(unknown=False)))
    encoded = _json(
        A.encode_request(request.replace(stream=msgspec.UNSET, max_tokens=msgspec.UNSET))
    )
    assert "stream" not in encoded and "max_tokens" not in encoded
    assert encoded["model"] == "claude-sonnet-4-5"


def test_typed_request_fields() -> None:
    request = A.decode_request(_b(full_request(unknown=True)))
    assert request.is_streaming is True
    assert request.max_tokens == 4096
    assert request.tool_choice_config() == A.ToolChoiceAuto(disable_parallel_tool_use=True)
    assert request.thinking_config() == A.ThinkingEnabled(budget_tokens=2048)
    assert request.metadata_config() == A.Metadata(user_id="user-123")
    assert request.stop_sequences == ["\n\nHuman:", "STOP"]
    assert [m.role for m in request.messages] == ["user", "assistant", "system", "user"]
    user_blocks = request.messages[3].blocks()
    assert user_blocks[-1] == UNKNOWN_BLOCKS[1]
    assert all(not isinstance(b, dict) for b in user_blocks[:-1])
    assert isinstance(request.messages[1].blocks()[0], dict)


def test_minimal_request() -> None:
    request = A.decode_request(b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    assert request.max_tokens is msgspec.UNSET
    assert request.is_streaming is False
    assert request.system_text() == ""
    assert _json(A.encode_request(request)) == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_stream_false_is_not_streaming() -> None:
    assert A.decode_request(b'{"model":"m","messages":[],"stream":false}').is_streaming is False


def test_system_role_message_in_the_middle() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "system", "content": [{"type": "text", "text": "reminder"}]},
            {"role": "user", "content": "b"},
        ],
    }
    request = A.decode_request(_b(body))
    assert request.messages[1].role == "system"
    assert request.messages[1].blocks() == [A.TextBlock(text="reminder")]
    assert _json(A.encode_request(request)) == body


@pytest.mark.parametrize(
    "tool_choice,cls",
    [
        ({"type": "auto"}, A.ToolChoiceAuto),
        ({"type": "auto", "disable_parallel_tool_use": False}, A.ToolChoiceAuto),
        ({"type": "any", "disable_parallel_tool_use": True}, A.ToolChoiceAny),
        (
            {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
            A.ToolChoiceTool,
        ),
        ({"type": "none"}, A.ToolChoiceNone),
    ],
)
def test_tool_choice_variants(tool_choice: dict[str, Any], cls: type) -> None:
    body = {"model": "m", "messages": [], "tool_choice": tool_choice}
    request = A.decode_request(_b(body))
    assert type(request.tool_choice_config()) is cls
    assert _json(A.encode_request(request)) == body


@pytest.mark.parametrize(
    "thinking,cls",
    [
        ({"type": "enabled", "budget_tokens": 1024}, A.ThinkingEnabled),
        ({"type": "enabled", "budget_tokens": 1024, "display": "summarized"}, A.ThinkingEnabled),
        ({"type": "disabled"}, A.ThinkingDisabled),
        ({"type": "adaptive"}, A.ThinkingAdaptive),
        ({"type": "adaptive", "display": "omitted"}, A.ThinkingAdaptive),
    ],
)
def test_thinking_variants(thinking: dict[str, Any], cls: type) -> None:
    body = {"model": "m", "messages": [], "thinking": thinking}
    request = A.decode_request(_b(body))
    assert type(request.thinking_config()) is cls
    assert _json(A.encode_request(request)) == body


# Regression test (found as a bug): BUG: MessagesRequest.thinking is a closed tagged union (enabled/disabled/adaptive); the thinking type 'between_tools' (anthropic SDK 2.13 ThinkingConf
def test_newer_thinking_type_is_accepted() -> None:
    body = {"model": "m", "messages": [], "thinking": {"type": "between_tools"}}
    assert _json(A.encode_request(A.decode_request(_b(body)))) == body


# Regression test (found as a bug): BUG: unknown keys inside typed top-level objects (metadata, tool_choice, thinking) are silently dropped by decode_request/encode_request; only unknown
def test_unknown_keys_inside_typed_objects_survive() -> None:
    body = {
        "model": "m",
        "messages": [],
        "metadata": {"user_id": "u", "future": 1},
        "tool_choice": {"type": "auto", "future": 2},
    }
    assert _json(A.encode_request(A.decode_request(_b(body)))) == body


# --------------------------------------------------------------------------- #
# Errors


@pytest.mark.parametrize(
    "body,path",
    [
        ({"model": "m", "messages": [], "max_tokens": "100"}, "$.max_tokens"),
        ({"model": "m", "messages": [], "max_tokens": "100", "future": 1}, "$.max_tokens"),
        ({"model": 5, "messages": []}, "$.model"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "$.messages[0].content"),
        ({"model": "m", "messages": [{"content": "x"}]}, "$.messages[0]"),
        ({"model": "m", "messages": [], "stream": "yes"}, "$.stream"),
        ({"model": "m", "messages": [], "tool_choice": {"type": "tool"}}, "$.tool_choice"),
        ({"model": "m", "messages": [], "thinking": {"type": "enabled"}}, "$.thinking"),
        ({"model": "m", "messages": [], "stop_sequences": "STOP"}, "$.stop_sequences"),
    ],
)
def test_wrong_types_raise_validation_error_naming_the_path(
    body: dict[str, Any], path: str
) -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        A.decode_request(_b(body))
    assert path in str(info.value)


def test_missing_required_field() -> None:
    with pytest.raises(msgspec.ValidationError, match="messages"):
        A.decode_request(b'{"model":"m"}')
    with pytest.raises(msgspec.ValidationError, match="model"):
        A.decode_request(b'{"messages":[],"extra":1}')


@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"model":"m",}', b"not json", b'{"model":"m","messages":[]} x']
)
def test_malformed_json_raises_decode_error(body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        A.decode_request(body)


def test_decode_error_is_not_a_validation_error() -> None:
    with pytest.raises(msgspec.DecodeError) as info:
        A.decode_request(b"{")
    assert not isinstance(info.value, msgspec.ValidationError)


def test_non_object_body_raises_validation_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        A.decode_request(b"[1,2]")


# --------------------------------------------------------------------------- #
# The real Claude Code capture


def _capture(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"{path} not captured")
    return path.read_bytes()


@pytest.mark.parametrize("name", ["turn1.json", "turn2.json"])
def test_claude_code_capture_round_trips(name: str) -> None:
    body = _capture(name)
    request = A.decode_request(body)
    assert _json(A.encode_request(request)) == json.loads(body)


@pytest.mark.parametrize("name", ["turn1.json", "turn2.json"])
def test_claude_code_capture_blocks_are_typed(name: str) -> None:
    request = A.decode_request(_capture(name))
    assert request.messages
    count = 0
    for message in request.messages:
        for block in message.blocks():
            assert not isinstance(block, dict), block
            count += 1
    for raw in request.system if isinstance(request.system, list) else []:
        assert not isinstance(A.decode_block(raw), dict)
    assert count >= 2
    assert request.system_text()
    for tool in request.tools or []:
        assert isinstance(A.decode_tool(tool), A.CustomTool | A.ServerTool)


def test_claude_code_turn2_has_tool_round_trip() -> None:
    request = A.decode_request(_capture("turn2.json"))
    kinds = [type(b) for m in request.messages for b in m.blocks()]
    assert A.ToolUseBlock in kinds
    assert A.ToolResultBlock in kinds


# --------------------------------------------------------------------------- #
# Tools


def test_decode_custom_tool() -> None:
    tool = A.decode_tool(_b(CUSTOM_TOOL))
    assert isinstance(tool, A.CustomTool)
    assert tool.name == "get_weather"
    assert tool.description.startswith("Get the current weather")
    assert _json(tool.input_schema) == CUSTOM_TOOL["input_schema"]
    assert tool.cache_control == A.CacheControl()
    assert _json(A.encode(tool)) == CUSTOM_TOOL


def test_decode_custom_tool_with_explicit_type() -> None:
    body = {"type": "custom", "name": "t", "input_schema": {"type": "object"}}
    tool = A.decode_tool(_b(body))
    assert isinstance(tool, A.CustomTool)
    assert _json(A.encode(tool)) == body


@pytest.mark.parametrize("body", [WEB_SEARCH_TOOL, BASH_TOOL], ids=["web_search", "bash"])
def test_decode_server_tool(body: dict[str, Any]) -> None:
    tool = A.decode_tool(_b(body))
    assert isinstance(tool, A.ServerTool)
    assert (tool.type, tool.name) == (body["type"], body["name"])


def test_server_tool_options_survive_in_the_request() -> None:
    """The typed ServerTool drops ``max_uses``, but the request keeps the raw bytes."""
    body = {"model": "m", "messages": [], "tools": [WEB_SEARCH_TOOL]}
    request = A.decode_request(_b(body))
    assert _json(A.encode_request(request))["tools"][0]["max_uses"] == 5


def test_custom_tool_without_schema_raises() -> None:
    with pytest.raises(msgspec.ValidationError, match="input_schema"):
        A.decode_tool(b'{"name":"t"}')


# --------------------------------------------------------------------------- #
# system_text


def test_system_text_from_string() -> None:
    request = A.decode_request(b'{"model":"m","messages":[],"system":"Be nice."}')
    assert request.system_text() == "Be nice."


def test_system_text_from_blocks_skips_non_text() -> None:
    body = {
        "model": "m",
        "messages": [],
        "system": [
            {"type": "text", "text": "One.", "cache_control": CACHE},
            {"type": "future_block", "text": "not text"},
            {"type": "text", "text": "Two."},
        ],
    }
    assert A.decode_request(_b(body)).system_text() == "One.\n\nTwo."


# --------------------------------------------------------------------------- #
# Responses

RESPONSE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "sig=="},
        {"type": "text", "text": "Hello", "citations": [CHAR_CITATION]},
        {"type": "text", "text": ", world"},
        {
            "type": "tool_use",
            "id": "toolu_01",
            "name": "get_weather",
            "input": {"location": "Paris"},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 2095,
        "output_tokens": 503,
        "cache_creation_input_tokens": 2051,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    },
}

#: Object-valued optional response fields, as the real API sends them.
OBJECT_FIELDS = [
    (
        "usage",
        "cache_creation",
        {"ephemeral_5m_input_tokens": 2051, "ephemeral_1h_input_tokens": 0},
    ),
    ("usage", "server_tool_use", {"web_search_requests": 1}),
    (None, "container", {"id": "container_011", "expires_at": "2025-06-01T00:00:00Z"}),
    (None, "context_management", {"applied_edits": []}),
]


def test_response_round_trip() -> None:
    response = A.decode_response(_b(RESPONSE))
    assert response.usage.cache_creation_input_tokens == 2051
    assert response.usage.cache_read_input_tokens == 0
    assert response.stop_reason == "tool_use"
    assert response.text() == "Hello, world"
    assert [type(b) for b in response.blocks()] == [
        A.ThinkingBlock,
        A.TextBlock,
        A.TextBlock,
        A.ToolUseBlock,
    ]
    assert _json(A.encode(response)) == RESPONSE


def _with_field(where: str | None, name: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(RESPONSE)
    (body["usage"] if where == "usage" else body)[name] = value
    return body


@pytest.mark.parametrize(
    ("where", "name", "value"), OBJECT_FIELDS, ids=[f[1] for f in OBJECT_FIELDS]
)
def test_response_object_fields_null(where: str | None, name: str, value: Any) -> None:
    body = _with_field(where, name, None)
    assert _json(A.encode(A.decode_response(_b(body)))) == body


# Regression test for a bug found while writing these tests.
@pytest.mark.parametrize(
    ("where", "name", "value"), OBJECT_FIELDS, ids=[f[1] for f in OBJECT_FIELDS]
)
def test_response_object_fields_round_trip(where: str | None, name: str, value: Any) -> None:
    body = _with_field(where, name, value)
    response = A.decode_response(_b(body))
    assert _json(A.encode(response)) == body


def test_response_without_optional_usage_fields() -> None:
    body = copy.deepcopy(RESPONSE)
    body["usage"] = {"input_tokens": 3, "output_tokens": 4}
    response = A.decode_response(_b(body))
    assert response.usage.cache_read_input_tokens is msgspec.UNSET
    assert _json(A.encode(response)) == body


def test_response_encodes_defaults() -> None:
    response = A.MessageResponse(id="msg_1", model="m", content=[A.raw(A.TextBlock(text="hi"))])
    assert _json(A.encode(response)) == {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def test_response_with_wrong_type_tag_raises() -> None:
    body = copy.deepcopy(RESPONSE)
    body["type"] = "error"
    with pytest.raises(msgspec.ValidationError):
        A.decode_response(_b(body))


# Regression test (found as a bug): BUG: decode_response/encode drops response fields MessageResponse/Usage do not declare (e.g. stop_details, usage.inference_geo, usage.output_tokens_de
def test_response_unknown_fields_survive() -> None:
    body = copy.deepcopy(RESPONSE)
    body["stop_details"] = None
    body["usage"]["inference_geo"] = "us"
    body["usage"]["output_tokens_details"] = {"reasoning_tokens": 10}
    assert _json(A.encode(A.decode_response(_b(body)))) == body


# --------------------------------------------------------------------------- #
# Property: requests with random blocks and random unknown top-level keys

_text = st.text(max_size=20)
_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | _text
    | st.floats(allow_nan=False, allow_infinity=False)
)
_json_value = st.recursive(
    _json_leaf,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=8,
)
_cache = st.none() | st.just(CACHE) | st.just(CACHE_1H)


def _maybe(base: dict[str, Any], **optional: st.SearchStrategy) -> st.SearchStrategy:
    """``base`` with each optional key present or absent."""
    return st.fixed_dictionaries(base, optional=optional)


_text_block = _maybe({"type": st.just("text"), "text": _text}, cache_control=_cache)
_tool_use_block = _maybe(
    {
        "type": st.just("tool_use"),
        "id": _text,
        "name": _text,
        "input": st.dictionaries(_text, _json_value, max_size=3),
    },
    cache_control=_cache,
)
_image_block = _maybe(
    {
        "type": st.just("image"),
        "source": st.one_of(
            st.fixed_dictionaries(
                {"type": st.just("base64"), "media_type": st.just("image/png"), "data": _text}
            ),
            st.fixed_dictionaries({"type": st.just("url"), "url": _text}),
            st.fixed_dictionaries({"type": st.just("file"), "file_id": _text}),
        ),
    },
    cache_control=_cache,
)
_tool_result_block = _maybe(
    {"type": st.just("tool_result"), "tool_use_id": _text},
    content=_text | st.lists(_text_block | _image_block, max_size=3),
    is_error=st.booleans(),
    cache_control=_cache,
)
_unknown_block = st.builds(
    lambda t, extra: {**extra, "type": t},
    st.text(min_size=1, max_size=12).filter(lambda t: t not in A.KNOWN_BLOCK_TYPES),
    st.dictionaries(_text, _json_value, max_size=3),
)
_block = _text_block | _tool_use_block | _image_block | _tool_result_block | _unknown_block
_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant", "system"]),
        "content": _text | st.lists(_block, max_size=4),
    }
)
_extra_key = _text.filter(lambda k: k not in A.MessagesRequest.__struct_fields__)


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": draw(_text),
        "messages": draw(st.lists(_message, max_size=4)),
    }
    optional = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_tokens": st.integers(1, 100_000),
                "system": _text | st.lists(_text_block, max_size=2),
                "stream": st.booleans(),
                "stop_sequences": st.lists(_text, max_size=2),
                "temperature": st.floats(0, 1),
                "metadata": st.fixed_dictionaries({"user_id": _text}),
                "tool_choice": st.sampled_from(
                    [{"type": "auto"}, {"type": "any"}, {"type": "none"}]
                ),
            },
        )
    )
    request.update(optional)
    extras = draw(st.dictionaries(_extra_key, _json_value, max_size=4))
    request.update(extras)
    # shuffle key order: the round trip compares parsed values, not order
    keys = draw(st.permutations(list(request)))
    return {k: request[k] for k in keys}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests())
def test_property_request_round_trip(request: dict[str, Any]) -> None:
    decoded = A.decode_request(_b(request))
    assert _json(A.encode_request(decoded)) == request
    unknown = set(request) - set(A.MessagesRequest.__struct_fields__)
    assert set(decoded.extra_fields) == unknown
    for message in decoded.messages:
        for block, raw_block in zip(
            message.blocks(),
            message.content if isinstance(message.content, list) else [],
            strict=False,
        ):
            original = _json(raw_block)
            if original["type"] in A.KNOWN_BLOCK_TYPES:
                assert not isinstance(block, dict)
                assert _json(A.encode(block)) == original
            else:
                assert block == original


def test_a_messages_texts_skip_other_and_unreadable_blocks():
    request = A.decode_request(json.dumps({
        "model": "m", "max_tokens": 1, "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "first"}, 5, {"type": "text", "text": 7},
                {"type": "tool_result", "tool_use_id": "t", "content": "not text"},
                {"type": "text", "text": "second"}]},
            {"role": "user", "content": "plain"}]}).encode())
    assert [message.texts() for message in request.messages] == [["first", "second"], ["plain"]]
