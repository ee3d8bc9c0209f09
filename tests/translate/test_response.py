"""from_openai: a complete Chat Completions answer as an Anthropic message."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest

from lynkr_core.errors import UpstreamError
from lynkr_core.translate.pieces import Piece, TextPiece, ToolCallPiece
from lynkr_core.translate.response import from_openai
from lynkr_core.wire import anthropic, openai

WRITE_ARGS = {"file_path": "/WORKDIR/hello.txt", "content": "hi from lynkr"}
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZAaBcD"


def completion(
    message: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = "stop",
    usage: dict[str, Any] | None = None,
    **choice: Any,
) -> openai.ChatCompletion:
    """A completion decoded from JSON, as a provider's body would be."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **(message or {})},
                "finish_reason": finish_reason,
                **choice,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return openai.decode_completion(json.dumps(body))


def tool_call(call_id: str | None, name: str, arguments: str) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        call["id"] = call_id
    return call


def blocks(message: anthropic.MessageResponse) -> list[dict[str, Any]]:
    return [msgspec.json.decode(raw) for raw in message.content]


def translate(c: openai.ChatCompletion, **kwargs: Any) -> anthropic.MessageResponse:
    return from_openai(c, model="claude-opus-4-8", **kwargs)


class LineCalls:
    """A fake text tool-call extractor: a line ``CALL name {json}`` is a tool call."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[Piece]:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        return [self._piece(line + "\n") for line in lines]

    def finish(self) -> list[Piece]:
        rest, self._buffer = self._buffer, ""
        return [self._piece(rest)] if rest else []

    @staticmethod
    def _piece(line: str) -> Piece:
        match = re.fullmatch(r"CALL (\w+) (\{.*\})\n?", line)
        if match:
            return ToolCallPiece(match[1], json.loads(match[2]))
        return TextPiece(line)


# --------------------------------------------------------------------------- #
# Content


def test_text() -> None:
    message = translate(completion({"content": "Hello there."}), message_id="msg_fixed")
    assert blocks(message) == [{"type": "text", "text": "Hello there."}]
    assert message.id == "msg_fixed"
    assert message.model == "claude-opus-4-8"
    assert message.role == "assistant"
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None


def test_generated_message_id() -> None:
    first = translate(completion({"content": "a"}))
    second = translate(completion({"content": "a"}))
    assert re.fullmatch(r"msg_[0-9a-f]{24}", first.id)
    assert first.id != second.id


def test_encodes_as_an_anthropic_message() -> None:
    message = translate(completion({"content": "Hi"}), message_id="msg_1")
    body = msgspec.json.decode(anthropic.encode(message))
    assert body == {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "model": "claude-opus-4-8",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


@pytest.mark.parametrize("content", ["", None])
def test_empty_content_gives_no_block(content: str | None) -> None:
    assert blocks(translate(completion({"content": content}))) == []


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_comes_first_as_thinking(field: str) -> None:
    message = translate(completion({"content": "The answer is 4.", field: "2+2 is 4."}))
    assert blocks(message) == [
        {"type": "thinking", "thinking": "2+2 is 4.", "signature": ""},
        {"type": "text", "text": "The answer is 4."},
    ]


def test_databricks_list_content_with_reasoning_and_signature() -> None:
    content = [
        {
            "type": "reasoning",
            "summary": [
                {"type": "summary_text", "text": "First thought.", "signature": SIGNATURE},
                {"type": "summary_text", "text": "Second thought.", "signature": "sig2"},
            ],
        },
        {"type": "text", "text": "Done"},
        {"type": "image", "url": "ignored"},
        {"type": "text", "text": " thinking."},
    ]
    message = translate(completion({"content": content}))
    assert blocks(message) == [
        {"type": "thinking", "thinking": "First thought.", "signature": SIGNATURE},
        {"type": "thinking", "thinking": "Second thought.", "signature": "sig2"},
        {"type": "text", "text": "Done thinking."},
    ]


def test_tool_calls_in_order_after_text() -> None:
    message = translate(
        completion(
            {
                "content": "I'll write the file and list the directory.",
                "tool_calls": [
                    tool_call("call_abc", "Write", json.dumps(WRITE_ARGS)),
                    tool_call("call_def", "Bash", '{"command": "ls", "description": "List"}'),
                    tool_call("call_ghi", "TaskList", ""),
                ],
            },
            finish_reason="tool_calls",
        )
    )
    assert blocks(message) == [
        {"type": "text", "text": "I'll write the file and list the directory."},
        {"type": "tool_use", "id": "call_abc", "name": "Write", "input": WRITE_ARGS},
        {
            "type": "tool_use",
            "id": "call_def",
            "name": "Bash",
            "input": {"command": "ls", "description": "List"},
        },
        {"type": "tool_use", "id": "call_ghi", "name": "TaskList", "input": {}},
    ]
    assert message.stop_reason == "tool_use"


def test_tool_call_without_id_gets_one() -> None:
    message = translate(
        completion({"tool_calls": [tool_call(None, "Read", '{"file_path": "/a"}')]})
    )
    (block,) = blocks(message)
    assert re.fullmatch(r"toolu_[0-9a-f]+", block["id"])
    assert block["input"] == {"file_path": "/a"}


def test_repaired_arguments() -> None:
    message = translate(
        completion(
            {
                "tool_calls": [
                    tool_call("c1", "Write", '```json\n{"file_path": "/a", "content": "x",}\n```'),
                    tool_call("c2", "Bash", "{'command': 'ls', 'run_in_background': False}"),
                    tool_call("c3", "Read", json.dumps(json.dumps({"file_path": "/b"}))),
                ]
            },
            finish_reason="tool_calls",
        )
    )
    assert [block["input"] for block in blocks(message)] == [
        {"file_path": "/a", "content": "x"},
        {"command": "ls", "run_in_background": False},
        {"file_path": "/b"},
    ]


@pytest.mark.parametrize("arguments", ['{"file_path": "/a", "content": "trunc', "[1, 2]"])
def test_malformed_arguments_raise(arguments: str) -> None:
    c = completion(
        {"tool_calls": [tool_call("c1", "Write", arguments)]}, finish_reason="tool_calls"
    )
    with pytest.raises(UpstreamError) as info:
        translate(c)
    assert info.value.status == 502
    assert info.value.message.startswith(
        "upstream model returned malformed arguments for tool Write: "
    )
    assert info.value.retryable


def test_tool_call_without_name_raises() -> None:
    c = completion({"tool_calls": [{"id": "c1", "function": {"arguments": "{}"}}]})
    with pytest.raises(UpstreamError, match="without a name"):
        translate(c)


def test_refusal() -> None:
    message = translate(completion({"content": None, "refusal": "I can't help with that."}))
    assert blocks(message) == [{"type": "text", "text": "I can't help with that."}]
    assert message.stop_reason == "refusal"


# --------------------------------------------------------------------------- #
# Stop reason


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "end_turn"),  # without a tool call there is nothing to answer
        ("function_call", "end_turn"),
        ("content_filter", "refusal"),
        (None, "end_turn"),
        ("eos", "end_turn"),
    ],
)
def test_finish_reasons(finish_reason: str | None, stop_reason: str) -> None:
    message = translate(completion({"content": "x"}, finish_reason=finish_reason))
    assert message.stop_reason == stop_reason
    assert message.stop_sequence is None


@pytest.mark.parametrize("finish_reason", ["stop", None, "eos"])
def test_tool_calls_with_another_finish_reason_are_tool_use(finish_reason: str | None) -> None:
    c = completion(
        {"tool_calls": [tool_call("c1", "Bash", '{"command": "ls"}')]}, finish_reason=finish_reason
    )
    assert translate(c).stop_reason == "tool_use"


def test_length_with_a_complete_tool_call_is_max_tokens() -> None:
    c = completion(
        {"tool_calls": [tool_call("c1", "Bash", '{"command": "ls"}')]}, finish_reason="length"
    )
    assert translate(c).stop_reason == "max_tokens"


def test_matched_stop_sequence_reported_by_vllm() -> None:
    c = completion({"content": "Counting: 1, 2"}, stop_reason="END")
    message = translate(c, stop_sequences=["END", "STOP"])
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "END")


@pytest.mark.parametrize(
    ("matched", "sequences"),
    [("END", []), ("OTHER", ["END"]), (128001, ["END"]), (None, ["END"])],
)
def test_stop_without_a_known_matched_sequence_is_end_turn(
    matched: Any, sequences: list[str]
) -> None:
    message = translate(completion({"content": "x"}, stop_reason=matched), stop_sequences=sequences)
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)


# --------------------------------------------------------------------------- #
# Usage


def test_usage_with_cached_tokens() -> None:
    usage = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920},
        "completion_tokens_details": {"reasoning_tokens": 128},
    }
    message = translate(completion({"content": "x"}, usage=usage))
    assert message.usage == anthropic.Usage(
        input_tokens=86, output_tokens=300, cache_read_input_tokens=1920
    )


def test_usage_without_cached_tokens_has_no_cache_field() -> None:
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    message = translate(completion({"content": "x"}, usage=usage))
    encoded = msgspec.json.decode(anthropic.encode(message.usage))
    assert encoded == {"input_tokens": 12, "output_tokens": 3}


def test_missing_usage_is_zeros() -> None:
    message = translate(completion({"content": "x"}))
    assert (message.usage.input_tokens, message.usage.output_tokens) == (0, 0)


# --------------------------------------------------------------------------- #
# Errors


@pytest.mark.parametrize(
    ("code", "status"), [(429, 429), (503, 503), (200, 502), ("busy", 502), (None, 502)]
)
def test_error_in_a_200_body(code: Any, status: int) -> None:
    body = {"error": {"code": code, "message": "Provider returned error", "metadata": {"raw": "x"}}}
    c = openai.decode_completion(json.dumps(body))
    with pytest.raises(UpstreamError) as info:
        translate(c)
    assert info.value.status == status
    assert info.value.message == "Provider returned error"


def test_no_choices() -> None:
    c = openai.decode_completion(b'{"id": "x", "choices": []}')
    with pytest.raises(UpstreamError) as info:
        translate(c)
    assert (info.value.status, info.value.message) == (502, "upstream returned no choices")


# --------------------------------------------------------------------------- #
# Tool calls printed as text


def test_text_tool_calls() -> None:
    text = 'Let me look.\nCALL Read {"file_path": "/a"}\nCALL Bash {"command": "ls"}\nDone'
    message = translate(completion({"content": text}), tool_text=LineCalls)
    got = blocks(message)
    assert [b["type"] for b in got] == ["text", "tool_use", "tool_use", "text"]
    assert got[0] == {"type": "text", "text": "Let me look.\n"}
    assert (got[1]["name"], got[1]["input"]) == ("Read", {"file_path": "/a"})
    assert (got[2]["name"], got[2]["input"]) == ("Bash", {"command": "ls"})
    assert re.fullmatch(r"toolu_[0-9a-f]+", got[1]["id"]) and got[1]["id"] != got[2]["id"]
    assert got[3] == {"type": "text", "text": "Done"}
    assert message.stop_reason == "tool_use"


def test_text_tool_calls_extractor_is_fresh_and_flushed() -> None:
    made: list[LineCalls] = []

    def factory() -> LineCalls:
        made.append(LineCalls())
        return made[-1]

    one = translate(completion({"content": "no calls here"}), tool_text=factory)
    two = translate(completion({"content": "CALL Read {}"}), tool_text=factory)
    assert len(made) == 2
    assert blocks(one) == [{"type": "text", "text": "no calls here"}]
    assert one.stop_reason == "end_turn"
    assert [(b["type"], b["input"]) for b in blocks(two)] == [("tool_use", {})]
    assert two.stop_reason == "tool_use"
