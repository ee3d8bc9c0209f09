"""Anthropic Messages request -> OpenAI Chat Completions request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lynkr_core.errors import InvalidRequest
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.translate.options import TargetOptions
from lynkr_core.translate.request import (
    IMAGE_OMITTED,
    NO_RESULT,
    Translated,
    to_openai,
    translate_request,
)
from lynkr_core.wire import anthropic, openai

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude_code"
GPT4O = TargetOptions(model="gpt-4o")
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


@dataclass
class Result:
    """A translation as plain data: the body (validated with the openai SDK),
    the provider-specific extra keys, and the warnings."""

    body: dict[str, Any]
    extra: dict[str, Any]
    warnings: list[str]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body["messages"]

    def roles(self) -> list[str]:
        return [m["role"] for m in self.messages]


def decode(**fields: Any) -> anthropic.MessagesRequest:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    return anthropic.decode_request(msgspec.json.encode(body))


def run_request(
    request: anthropic.MessagesRequest,
    target: TargetOptions = GPT4O,
    stream: bool | None = None,
) -> Result:
    warnings: list[str] = []
    translated = translate_request(request, target, warnings.append, stream=stream)
    body = openai.to_builtins(translated.request)
    assert_valid_chat_request(body)
    return Result(body, translated.extra, warnings)


def run(target: TargetOptions = GPT4O, stream: bool | None = None, **fields: Any) -> Result:
    return run_request(decode(**fields), target, stream)


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def tool_use(id_: str, name: str = "Read", input_: Any = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id_, "name": name, "input": input_ or {"file_path": "/a"}}


def tool_result(id_: str, content: Any = "ok", **extra: Any) -> dict[str, Any]:
    block = {"type": "tool_result", "tool_use_id": id_, **extra}
    if content is not None:
        block["content"] = content
    return block


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def tool_loop(*result_blocks: Any, calls: tuple[str, ...] = ("t1",)) -> list[dict[str, Any]]:
    """A user prompt, an assistant message calling ``calls``, and a user reply."""
    return [
        user(text("go")),
        assistant(text("Reading."), *(tool_use(c) for c in calls)),
        user(*result_blocks),
    ]


# --------------------------------------------------------------------------- #
# System


def test_system_string_becomes_the_leading_system_message() -> None:
    result = run(system="Be brief.")
    assert result.messages[0] == {"role": "system", "content": "Be brief."}
    assert result.roles() == ["system", "user"]


def test_system_text_blocks_are_joined_and_cache_control_ignored() -> None:
    system = [text("one"), text("two", cache_control={"type": "ephemeral"})]
    result = run(system=system)
    assert result.messages[0] == {"role": "system", "content": "one\n\ntwo"}
    assert "cache_control" not in json.dumps(result.body)


def test_mid_conversation_system_messages_are_folded_into_the_system_prompt() -> None:
    messages = [
        user(text("a")),
        {"role": "system", "content": "agents: x"},
        {"role": "assistant", "content": "b"},
        {"role": "system", "content": [text("skills: y")]},
        {"role": "user", "content": "c"},
    ]
    result = run(system="prompt", messages=messages)
    assert result.messages[0] == {"role": "system", "content": "prompt\n\nagents: x\n\nskills: y"}
    assert result.roles() == ["system", "user", "assistant", "user"]


def test_system_message_without_system_prompt_still_leads() -> None:
    messages = [user(text("a")), {"role": "system", "content": "late"}]
    result = run(messages=messages)
    assert result.messages == [
        {"role": "system", "content": "late"},
        {"role": "user", "content": "a"},
    ]


def test_no_system_no_system_message() -> None:
    assert run().roles() == ["user"]


# --------------------------------------------------------------------------- #
# User content


def test_single_text_block_is_plain_string_content() -> None:
    result = run(messages=[user(text("hello", cache_control={"type": "ephemeral"}))])
    assert result.messages == [{"role": "user", "content": "hello"}]


def test_several_text_blocks_are_content_parts() -> None:
    result = run(messages=[user(text("a"), text("b"))])
    assert result.messages[0]["content"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]


def test_base64_and_url_images_become_image_parts() -> None:
    url_image = {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
    result = run(messages=[user({"type": "image", "source": PNG}, url_image)])
    assert result.messages[0]["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
    ]
    assert result.warnings == []


def test_single_image_is_still_a_parts_list() -> None:
    result = run(messages=[user({"type": "image", "source": PNG})])
    assert isinstance(result.messages[0]["content"], list)


def test_file_image_is_dropped_with_warning() -> None:
    file_image = {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
    result = run(messages=[user(text("look"), file_image)])
    assert result.messages == [{"role": "user", "content": "look"}]
    assert any("file_id" in w for w in result.warnings)


def test_images_off_become_text_markers_with_warning() -> None:
    target = TargetOptions(model="deepseek-chat", images=False)
    result = run(target, messages=[user(text("see"), {"type": "image", "source": PNG})])
    assert result.messages[0]["content"] == [
        {"type": "text", "text": "see"},
        {"type": "text", "text": "[image omitted: image/png]"},
    ]
    assert any("image" in w for w in result.warnings)


def test_text_document_becomes_a_text_part_with_title() -> None:
    doc = {
        "type": "document",
        "title": "Notes",
        "source": {"type": "text", "media_type": "text/plain", "data": "line"},
    }
    result = run(messages=[user(doc, text("summarise"))])
    assert result.messages[0]["content"] == [
        {"type": "text", "text": "Notes\n\nline"},
        {"type": "text", "text": "summarise"},
    ]
    assert result.warnings == []


def test_content_document_becomes_text() -> None:
    doc = {"type": "document", "source": {"type": "content", "content": [text("x"), text("y")]}}
    assert run(messages=[user(doc)]).messages[0]["content"] == "x\ny"


@pytest.mark.parametrize(
    "source",
    [
        {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        {"type": "url", "url": "https://x/doc.pdf"},
        {"type": "file", "file_id": "file_9"},
    ],
)
def test_other_documents_are_dropped_with_warning(source: dict[str, Any]) -> None:
    result = run(messages=[user(text("read it"), {"type": "document", "source": source})])
    assert result.messages == [{"role": "user", "content": "read it"}]
    assert len(result.warnings) == 1 and "document" in result.warnings[0]


def test_unknown_user_block_is_dropped_with_warning() -> None:
    result = run(messages=[user(text("x"), {"type": "mystery_block", "data": 1})])
    assert result.messages == [{"role": "user", "content": "x"}]
    assert any("mystery_block" in w for w in result.warnings)


def test_search_result_block_becomes_text() -> None:
    block = {
        "type": "search_result",
        "source": "https://x",
        "title": "X",
        "content": [text("found")],
    }
    assert run(messages=[user(block)]).messages[0]["content"] == "X\nhttps://x\n\nfound"


def test_tool_references_of_a_tool_search_result_become_text() -> None:
    # Claude Code 2.1.337 defers tools such as WebSearch: its ToolSearch answers with
    # tool_reference blocks, and the loaded tool arrives in the next request's tools.
    reference = {"type": "tool_reference", "tool_name": "WebSearch"}
    result = run(messages=[
        user(text("search the web")),
        assistant(tool_use("t1", "ToolSearch", {"query": "select:WebSearch"})),
        user(tool_result("t1", [reference]), text("Tool loaded.")),
    ])
    assert result.messages[2] == {"role": "tool", "tool_call_id": "t1", "content": "[tool loaded: WebSearch]"}
    assert result.messages[3] == {"role": "user", "content": "Tool loaded."}
    assert not any("tool_reference" in w for w in result.warnings)


# --------------------------------------------------------------------------- #
# Assistant content


def test_assistant_text_blocks_concatenate_and_tool_use_becomes_tool_calls() -> None:
    messages = [
        user(text("go")),
        assistant(
            text("Let me "),
            text("look."),
            tool_use("t1", "Read", {"file_path": "/a", "limit": 5}),
            tool_use("t2", "Bash", {"command": "ls"}),
        ),
        user(tool_result("t1"), tool_result("t2")),
    ]
    message = run(messages=messages).messages[1]
    assert message["content"] == "Let me look."
    assert message["tool_calls"] == [
        {
            "id": "t1",
            "type": "function",
            "function": {"name": "Read", "arguments": '{"file_path":"/a","limit":5}'},
        },
        {
            "id": "t2",
            "type": "function",
            "function": {"name": "Bash", "arguments": '{"command":"ls"}'},
        },
    ]
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "file_path": "/a",
        "limit": 5,
    }


def test_assistant_without_text_has_no_content() -> None:
    message = run(messages=tool_loop(tool_result("t1"))).messages[1]
    assert message["content"] == "Reading."
    only_calls = [user(text("go")), assistant(tool_use("t1")), user(tool_result("t1"))]
    message = run(messages=only_calls).messages[1]
    assert "content" not in message
    assert [c["id"] for c in message["tool_calls"]] == ["t1"]


def test_thinking_blocks_are_removed_without_warning() -> None:
    messages = [
        user(text("q")),
        assistant(
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "redacted_thinking", "data": "xx"},
            text("answer"),
        ),
        user(text("more")),
    ]
    result = run(messages=messages)
    assert result.messages[1] == {"role": "assistant", "content": "answer"}
    assert result.warnings == []
    assert "hmm" not in json.dumps(result.body)


def test_assistant_with_only_thinking_is_left_out() -> None:
    messages = [
        user(text("q")),
        assistant({"type": "thinking", "thinking": "hmm", "signature": "s"}),
        user(text("again")),
    ]
    assert run(messages=messages).roles() == ["user", "user"]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {"query": "x"}},
        {"type": "web_search_tool_result", "tool_use_id": "srv_1", "content": []},
        {"type": "mcp_tool_use", "id": "m1", "name": "x", "server_name": "s", "input": {}},
    ],
)
def test_server_and_unknown_assistant_blocks_are_dropped_with_warning(
    block: dict[str, Any],
) -> None:
    messages = [user(text("q")), assistant(block, text("done")), user(text("ok"))]
    result = run(messages=messages)
    assert result.messages[1] == {"role": "assistant", "content": "done"}
    assert len(result.warnings) == 1 and block["type"] in result.warnings[0]


def test_consecutive_messages_of_the_same_role_are_kept_in_order() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"},
        {"role": "assistant", "content": "d"},
    ]
    result = run(messages=messages)
    assert [(m["role"], m["content"]) for m in result.messages] == [
        ("user", "a"),
        ("user", "b"),
        ("assistant", "c"),
        ("assistant", "d"),
    ]


# --------------------------------------------------------------------------- #
# Tool results


def test_tool_result_follows_the_call_before_other_user_content() -> None:
    result = run(messages=tool_loop(text("and then?"), tool_result("t1", "file body")))
    assert result.roles() == ["user", "assistant", "tool", "user"]
    assert result.messages[2] == {"role": "tool", "content": "file body", "tool_call_id": "t1"}
    assert result.messages[3] == {"role": "user", "content": "and then?"}
    assert result.warnings == []


def test_tool_result_blocks_are_joined_by_newlines() -> None:
    content = [text("line 1"), text("line 2")]
    result = run(messages=tool_loop(tool_result("t1", content)))
    assert result.messages[2]["content"] == "line 1\nline 2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("boom", "Error: boom"),
        ("Error: already", "Error: already"),
        ([text("bad"), text("worse")], "Error: bad\nworse"),
        (None, "Error"),
    ],
)
def test_error_results_are_prefixed(content: Any, expected: str) -> None:
    result = run(messages=tool_loop(tool_result("t1", content, is_error=True)))
    assert result.messages[2]["content"] == expected


@pytest.mark.parametrize("content", [None, "", []])
def test_missing_result_content_is_an_empty_string(content: Any) -> None:
    result = run(messages=tool_loop(tool_result("t1", content)))
    assert result.messages[2] == {"role": "tool", "content": "", "tool_call_id": "t1"}


def test_images_in_results_go_to_a_user_message_after_the_tool_messages() -> None:
    shot = tool_result("t1", [text("screenshot:"), {"type": "image", "source": PNG}])
    result = run(messages=tool_loop(shot, tool_result("t2", "plain"), calls=("t1", "t2")))
    assert result.roles() == ["user", "assistant", "tool", "tool", "user"]
    assert result.messages[2]["content"] == f"screenshot:\n{IMAGE_OMITTED}"
    assert result.messages[3]["content"] == "plain"
    assert result.messages[4]["content"] == [
        {"type": "text", "text": "Images from the result of t1:"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    assert result.warnings == []


def test_images_in_results_are_dropped_with_warning_when_images_are_off() -> None:
    target = TargetOptions(model="deepseek-chat", images=False)
    shot = tool_result("t1", [{"type": "image", "source": PNG}])
    result = run(target, messages=tool_loop(shot))
    assert result.roles() == ["user", "assistant", "tool"]
    assert result.messages[2]["content"] == IMAGE_OMITTED
    assert result.warnings


def test_results_follow_call_order_whatever_their_order() -> None:
    blocks = (tool_result("t2", "two"), tool_result("t1", "one"))
    result = run(messages=tool_loop(*blocks, calls=("t1", "t2")))
    tools = [(m["tool_call_id"], m["content"]) for m in result.messages[2:]]
    assert tools == [("t1", "one"), ("t2", "two")]


def test_orphan_result_becomes_user_text_with_warning() -> None:
    messages = [
        user(text("q")),
        {"role": "assistant", "content": "hi"},
        user(tool_result("x9", "out")),
    ]
    result = run(messages=messages)
    assert result.roles() == ["user", "assistant", "user"]
    assert result.messages[2]["content"] == "[tool result for x9]: out"
    assert any("x9" in w for w in result.warnings)


def test_duplicate_result_is_treated_as_orphan() -> None:
    result = run(messages=tool_loop(tool_result("t1", "first"), tool_result("t1", "second")))
    assert result.roles() == ["user", "assistant", "tool", "user"]
    assert result.messages[2]["content"] == "first"
    assert result.messages[3]["content"] == "[tool result for t1]: second"


def test_result_answering_an_older_assistant_message_is_an_orphan() -> None:
    messages = [
        *tool_loop(tool_result("t1")),
        {"role": "assistant", "content": "done"},
        user(tool_result("t1", "late")),
    ]
    result = run(messages=messages)
    assert result.roles() == ["user", "assistant", "tool", "assistant", "user"]
    assert result.messages[4]["content"] == "[tool result for t1]: late"


def test_unanswered_call_gets_a_placeholder_result_with_warning() -> None:
    result = run(messages=tool_loop(tool_result("t1"), text("stop"), calls=("t1", "t2")))
    assert result.roles() == ["user", "assistant", "tool", "tool", "user"]
    assert result.messages[3] == {"role": "tool", "content": NO_RESULT, "tool_call_id": "t2"}
    assert any("t2" in w for w in result.warnings)


@pytest.mark.parametrize(
    "after",
    [
        [{"role": "assistant", "content": "next"}],  # no user message in between
        [{"role": "user", "content": "a plain string"}],
        [],  # the conversation ends with the call
    ],
)
def test_calls_without_a_result_message_get_placeholders(after: list[dict[str, Any]]) -> None:
    messages = [user(text("go")), assistant(tool_use("t1")), *after]
    result = run(messages=messages)
    assert result.messages[2] == {"role": "tool", "content": NO_RESULT, "tool_call_id": "t1"}
    assert result.warnings


def test_system_message_between_call_and_result_keeps_the_pairing() -> None:
    messages = [
        user(text("go")),
        assistant(tool_use("t1")),
        {"role": "system", "content": "reminder"},
        user(tool_result("t1", "r")),
    ]
    result = run(messages=messages)
    assert result.roles() == ["system", "user", "assistant", "tool"]
    assert result.warnings == []


# --------------------------------------------------------------------------- #
# Tools and tool_choice


def claude_tool(name: str = "Read", schema: Any = None, **extra: Any) -> dict[str, Any]:
    if schema is None:
        schema = {
            "$schema": SCHEMA_URL,
            "type": "object",
            "properties": {"file_path": {"type": "string"}},
            "required": ["file_path"],
            "additionalProperties": False,
        }
    return {"name": name, "input_schema": schema, **extra}


def test_custom_tool_becomes_a_function_with_clean_parameters() -> None:
    result = run(
        tools=[claude_tool(description="Reads a file", cache_control={"type": "ephemeral"})]
    )
    assert result.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "Read",
                "description": "Reads a file",
                "parameters": {
                    "type": "object",
                    "properties": {"file_path": {"type": "string"}},
                    "required": ["file_path"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    assert "tool_choice" not in result.body


def test_tool_without_description_has_no_description() -> None:
    function = run(tools=[claude_tool()]).body["tools"][0]["function"]
    assert "description" not in function


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({}, {"type": "object", "properties": {}}),
        (
            {"properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"a": {"type": "string"}}},
        ),
        ({"type": "object"}, {"type": "object", "properties": {}}),
    ],
)
def test_schema_gets_an_object_type_and_properties(schema: dict[str, Any], expected: Any) -> None:
    parameters = run(tools=[claude_tool(schema=schema)]).body["tools"][0]["function"]["parameters"]
    assert parameters == expected


def test_target_strip_keys_apply_to_tool_schemas() -> None:
    target = TargetOptions(
        model="gemini-2.5-pro", strip_schema_keys=frozenset({"$schema", "additionalProperties"})
    )
    parameters = run(target, tools=[claude_tool()]).body["tools"][0]["function"]["parameters"]
    assert "additionalProperties" not in parameters and "$schema" not in parameters


@pytest.mark.parametrize("version", ["web_search_20250305", "web_search_20260209"])
def test_a_web_search_tool_is_refused_saying_how_to_enable_search(version: str) -> None:
    tools = [claude_tool(), {"type": version, "name": "web_search", "max_uses": 3}]
    with pytest.raises(InvalidRequest) as refused:
        run(tools=tools, tool_choice={"type": "auto"})
    assert refused.value.status == 400
    assert f"'web_search' ({version})" in refused.value.message
    assert "lynkr-web-search" in refused.value.message
    assert "WEB_SEARCH_ENDPOINT" in refused.value.message


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "bash_20250124", "name": "bash"},
        {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
        {"type": "code_execution_20250825", "name": "code_execution"},
    ],
)
def test_other_versioned_tools_are_refused_never_dropped(tool: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as refused:
        run(tools=[claude_tool(), tool], tool_choice={"type": "any"})
    assert f"{tool['name']!r} ({tool['type']})" in refused.value.message
    assert "web search" not in refused.value.message


def test_empty_tools_and_tool_choice_without_tools_send_nothing() -> None:
    result = run(tools=[], tool_choice={"type": "none"})
    assert not {"tools", "tool_choice"} & result.body.keys()


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "Read"}, {"type": "function", "function": {"name": "Read"}}),
    ],
)
def test_tool_choice_mapping(choice: dict[str, Any], expected: Any) -> None:
    result = run(tools=[claude_tool()], tool_choice=choice)
    assert result.body["tool_choice"] == expected
    assert "parallel_tool_calls" not in result.body


def test_named_tool_choice_for_a_missing_tool_is_dropped_with_warning() -> None:
    result = run(tools=[claude_tool()], tool_choice={"type": "tool", "name": "Nope"})
    assert "tool_choice" not in result.body
    assert any("Nope" in w for w in result.warnings)


def test_disable_parallel_tool_use_sets_parallel_tool_calls_false() -> None:
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    assert run(tools=[claude_tool()], tool_choice=choice).body["parallel_tool_calls"] is False
    no_parallel = TargetOptions(model="gpt-4o", parallel_tool_calls=False)
    body = run(no_parallel, tools=[claude_tool()], tool_choice=choice).body
    assert "parallel_tool_calls" not in body


# --------------------------------------------------------------------------- #
# Sampling, limits, stream, model


def test_stop_sequences_are_capped_at_four_with_warning() -> None:
    result = run(stop_sequences=["a", "b", "c", "d", "e", "f"])
    assert result.body["stop"] == ["a", "b", "c", "d"]
    assert len(result.warnings) == 1
    assert run(stop_sequences=["x"]).body["stop"] == ["x"]
    assert "stop" not in run(stop_sequences=[]).body


def test_temperature_and_top_p_pass_top_k_is_dropped_silently() -> None:
    result = run(temperature=0.2, top_p=0.9, top_k=40)
    assert result.body["temperature"] == 0.2 and result.body["top_p"] == 0.9
    assert "top_k" not in result.body
    assert result.warnings == []


@pytest.mark.parametrize(
    ("target", "requested", "field", "expected"),
    [
        (GPT4O, 64000, "max_tokens", 16384),
        (GPT4O, 100, "max_tokens", 100),
        (
            TargetOptions(model="o3", token_field="max_completion_tokens"),
            64000,
            "max_completion_tokens",
            64000,
        ),
        (
            TargetOptions(model="gpt-5", token_field="max_completion_tokens"),
            200000,
            "max_completion_tokens",
            128000,
        ),
        (TargetOptions(model="qwen2.5-coder:7b"), 32000, "max_tokens", 32000),
        (
            TargetOptions(model="qwen2.5-coder:7b", max_output_tokens=4096),
            32000,
            "max_tokens",
            4096,
        ),
    ],
)
def test_max_tokens_is_clamped_into_the_target_field(
    target: TargetOptions, requested: int, field: str, expected: int
) -> None:
    body = run(target, max_tokens=requested).body
    assert body[field] == expected
    other = {"max_tokens", "max_completion_tokens"} - {field}
    assert not other & body.keys()


def test_no_max_tokens_leaves_the_field_out() -> None:
    request = anthropic.decode_request(
        b'{"model":"m","messages":[{"role":"user","content":"foo"}],"tools":[]}'
    )
    body = run_request(request).body
    assert "max_tokens" not in body and "max_completion_tokens" not in body


def test_model_is_always_the_target_model() -> None:
    assert run(model="claude-opus-4-8").body["model"] == "gpt-4o"


@pytest.mark.parametrize(
    ("request_stream", "override", "target", "stream", "usage"),
    [
        (True, None, GPT4O, True, True),
        (None, None, GPT4O, False, False),
        (False, True, GPT4O, True, True),
        (True, False, GPT4O, False, False),
        (True, None, TargetOptions(model="x", stream_usage=False), True, False),
    ],
)
def test_stream_and_stream_options(
    request_stream: bool | None,
    override: bool | None,
    target: TargetOptions,
    stream: bool,
    usage: bool,
) -> None:
    request = decode(stream=request_stream)
    body = run_request(request, target, override).body
    assert body["stream"] is stream
    assert ("stream_options" in body) is usage
    if usage:
        assert body["stream_options"] == {"include_usage": True}


# --------------------------------------------------------------------------- #
# Thinking


def enabled(budget: int) -> dict[str, Any]:
    return {"type": "enabled", "budget_tokens": budget}


EFFORT = TargetOptions(model="o3", reasoning="effort", token_field="max_completion_tokens")
OPENROUTER = TargetOptions(model="anthropic/claude-sonnet-4.5", reasoning="openrouter")
DATABRICKS = TargetOptions(model="databricks-claude-sonnet-4-5", reasoning="databricks")


@pytest.mark.parametrize(
    ("budget", "effort"),
    [(1024, "low"), (4095, "low"), (4096, "medium"), (16383, "medium"), (16384, "high")],
)
def test_effort_from_thinking_budget(budget: int, effort: str) -> None:
    result = run(EFFORT, max_tokens=32000, thinking=enabled(budget))
    assert result.body["reasoning_effort"] == effort
    assert result.extra == {}


@pytest.mark.parametrize(
    ("output_config", "effort"),
    [
        ({"effort": "low"}, "low"),
        ({"effort": "medium"}, "medium"),
        ({"effort": "high"}, "high"),
        ({"effort": "max"}, "high"),
        ({"effort": "xhigh"}, "high"),
        ({"effort": "turbo"}, "medium"),
        (None, "medium"),
    ],
)
def test_effort_from_adaptive_thinking(output_config: Any, effort: str) -> None:
    result = run(EFFORT, thinking={"type": "adaptive"}, output_config=output_config)
    assert result.body["reasoning_effort"] == effort


def test_unknown_thinking_type_counts_as_thinking() -> None:
    assert (
        run(EFFORT, thinking={"type": "deep", "budget_tokens": 20000}).body["reasoning_effort"]
        == "high"
    )
    assert run(EFFORT, thinking={"type": "deep"}).body["reasoning_effort"] == "medium"


@pytest.mark.parametrize("target", [EFFORT, OPENROUTER, DATABRICKS, GPT4O])
def test_disabled_thinking_sends_nothing(target: TargetOptions) -> None:
    result = run(target, thinking={"type": "disabled"}, output_config={"effort": "high"})
    assert "reasoning_effort" not in result.body
    assert result.extra == {}


@pytest.mark.parametrize("target", [EFFORT, OPENROUTER, DATABRICKS, GPT4O])
def test_absent_thinking_and_effort_sends_nothing(target: TargetOptions) -> None:
    result = run(target, thinking=None)
    assert "reasoning_effort" not in result.body
    assert result.extra == {}


def test_reasoning_none_drops_thinking_silently() -> None:
    result = run(GPT4O, thinking=enabled(8000), max_tokens=16000)
    assert "reasoning_effort" not in result.body and result.extra == {}
    assert result.warnings == []


def test_openrouter_reasoning_goes_to_extra() -> None:
    assert run(OPENROUTER, thinking=enabled(6000), max_tokens=9000).extra == {
        "reasoning": {"max_tokens": 6000}
    }
    adaptive = run(OPENROUTER, thinking={"type": "adaptive"}, output_config={"effort": "low"})
    assert adaptive.extra == {"reasoning": {"effort": "low"}}
    assert "reasoning_effort" not in adaptive.body


def test_extra_is_written_by_encode_request() -> None:
    request = decode(thinking=enabled(6000), max_tokens=9000)
    translated = translate_request(request, OPENROUTER)
    encoded = json.loads(openai.encode_request(translated.request, translated.extra))
    assert encoded.pop("reasoning") == {"max_tokens": 6000}
    assert_valid_chat_request(encoded)
    assert encoded["model"] == OPENROUTER.model


def test_cached_tools_are_copied_as_encoded_and_a_fresh_tool_is_encoded_in_full() -> None:
    tool = {"name": "Read", "description": "read", "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}
    translated = translate_request(decode(tools=[tool]), TargetOptions(model="m"))
    cached = translated.request.tools[0]
    assert "_json" in cached.__dict__  # translated definitions are cached and pre-encoded
    plain = msgspec.json.decode(msgspec.json.encode(translated.request))
    assert json.loads(openai.encode_request(translated.request)) == plain
    fresh = openai.FunctionTool(function=openai.FunctionDefinition(name="Other", parameters={"type": "object"}))
    mixed = msgspec.structs.replace(translated.request, tools=[cached, fresh])
    assert json.loads(openai.encode_request(mixed))["tools"] == [
        plain["tools"][0],
        {"type": "function", "function": {"name": "Other", "parameters": {"type": "object"}}},
    ]


def test_tool_cache_tells_apart_definitions_that_share_length_and_ends() -> None:
    """The cache keys on a definition's length and ends: two tools alike there but not in
    the middle must each get their own schema, every time, in any order."""
    middle_a = "x" * 200
    middle_b = "y" * 200

    def tool(middle: str) -> dict[str, Any]:
        properties = {"p": {"type": "string", "description": middle}, "q": {"description": "z" * 100}}
        schema = {"type": "object", "properties": properties}
        return {"name": "Same", "description": "a tool whose definition is long enough", "input_schema": schema}

    a, b = msgspec.json.encode(tool(middle_a)), msgspec.json.encode(tool(middle_b))
    assert len(a) == len(b) and a[:64] == b[:64] and a[-64:] == b[-64:] and a != b  # one cache key
    target = TargetOptions(model="m")
    for _ in range(3):
        for middle in (middle_a, middle_b, middle_a):
            translated = translate_request(decode(tools=[tool(middle)]), target).request
            parameters = translated.tools[0].function.parameters
            assert parameters["properties"]["p"]["description"] == middle
            encoded = json.loads(openai.encode_request(translated))
            assert encoded["tools"][0]["function"]["parameters"]["properties"]["p"]["description"] == middle


def test_a_repeated_tool_definition_is_translated_once() -> None:
    tool = {"name": "Read", "description": "read", "input_schema": {"type": "object"}}
    first = translate_request(decode(tools=[tool]), TargetOptions(model="m")).request.tools[0]
    again = translate_request(decode(tools=[tool]), TargetOptions(model="m")).request.tools[0]
    assert again is first


def test_databricks_thinking_with_budget() -> None:
    result = run(DATABRICKS, thinking=enabled(2048), max_tokens=8000)
    assert result.extra == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert result.warnings == []


@pytest.mark.parametrize(("max_tokens", "budget"), [(64000, 10240), (4000, 3999)])
def test_databricks_adaptive_budget(max_tokens: int, budget: int) -> None:
    result = run(DATABRICKS, thinking={"type": "adaptive"}, max_tokens=max_tokens)
    assert result.extra == {"thinking": {"type": "enabled", "budget_tokens": budget}}


@pytest.mark.parametrize(
    ("thinking", "max_tokens"),
    [
        (enabled(1000), 8000),
        (enabled(8000), 8000),
        (enabled(9000), 8000),
        ({"type": "adaptive"}, 1000),
    ],
)
def test_databricks_invalid_budget_is_dropped_with_warning(thinking: Any, max_tokens: int) -> None:
    result = run(DATABRICKS, thinking=thinking, max_tokens=max_tokens)
    assert result.extra == {}
    assert any("thinking" in w for w in result.warnings)


def test_databricks_budget_is_checked_against_the_clamped_max_tokens() -> None:
    target = TargetOptions(
        model="databricks-claude-sonnet-4-5", reasoning="databricks", max_output_tokens=5000
    )
    result = run(target, thinking=enabled(6000), max_tokens=64000)
    assert result.body["max_tokens"] == 5000
    assert result.extra == {}


def test_databricks_thinking_dropped_silently_in_a_tool_loop() -> None:
    result = run(
        DATABRICKS,
        thinking={"type": "adaptive"},
        max_tokens=64000,
        messages=tool_loop(tool_result("t1")),
    )
    assert result.extra == {}
    assert result.warnings == []


@pytest.mark.parametrize(
    "fields",
    [
        {"tool_choice": {"type": "any"}, "tools": [claude_tool()]},
        {"temperature": 0.5},
    ],
)
def test_databricks_thinking_dropped_when_claude_would_reject_it(fields: dict[str, Any]) -> None:
    result = run(DATABRICKS, thinking=enabled(2048), max_tokens=8000, **fields)
    assert result.extra == {}
    assert result.warnings


# --------------------------------------------------------------------------- #
# output_config, metadata, fields never forwarded


def title_format() -> dict[str, Any]:
    schema = {
        "$schema": SCHEMA_URL,
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": False,
    }
    return {"effort": "high", "format": {"type": "json_schema", "schema": schema}}


def test_json_schema_format_becomes_response_format() -> None:
    result = run(output_config=title_format(), thinking={"type": "disabled"}, tools=[])
    assert result.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "output",
            "schema": {
                "type": "object",
                "properties": {"title": {"type": "string"}},
                "required": ["title"],
                "additionalProperties": False,
            },
        },
    }
    assert result.warnings == []


def test_json_schema_format_dropped_with_warning_without_structured_output() -> None:
    target = TargetOptions(model="llama3.1", structured_output=False)
    result = run(target, output_config=title_format())
    assert "response_format" not in result.body
    assert len(result.warnings) == 1


def test_unknown_format_is_dropped_with_warning() -> None:
    result = run(output_config={"format": {"type": "yaml"}})
    assert "response_format" not in result.body
    assert any("yaml" in w for w in result.warnings)


def test_effort_only_output_config_sends_nothing() -> None:
    result = run(output_config={"effort": "high", "task_budget": 5})
    assert "response_format" not in result.body and "reasoning_effort" not in result.body


@pytest.mark.parametrize(
    ("user_id", "sent"),
    [
        ("user-42", True),
        ("12345", True),
        ('{"device_id":"abc","account_uuid":"","session_id":"s"}', False),
        ("x" * 65, False),
        ("", False),
    ],
)
def test_metadata_user_id(user_id: str, sent: bool) -> None:
    body = run(metadata={"user_id": user_id}).body
    assert body.get("user") == (user_id if sent else None)


def test_claude_code_only_fields_are_never_forwarded_or_warned_about() -> None:
    result = run(
        context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        service_tier="auto",
        container="container_1",
        mcp_servers=[{"type": "url", "url": "https://mcp", "name": "m"}],
        some_future_field={"x": 1},
        messages=[user(text("hi", cache_control={"type": "ephemeral", "ttl": "1h"}))],
    )
    dumped = json.dumps(result.body)
    for word in (
        "context_management",
        "service_tier",
        "container",
        "mcp",
        "some_future_field",
        "cache_control",
    ):
        assert word not in dumped
    assert result.warnings == []


def test_to_openai_is_the_request_of_translate_request() -> None:
    request = decode(system="s", tools=[claude_tool()], stream=True)
    translated = translate_request(request, GPT4O)
    assert isinstance(translated, Translated)
    assert to_openai(request, GPT4O) == translated.request


# --------------------------------------------------------------------------- #
# Real Claude Code captures


def load_capture(name: str) -> anthropic.MessagesRequest:
    return anthropic.decode_request((FIXTURES / name).read_bytes())


@pytest.mark.parametrize("name", ["turn1.json", "turn2.json"])
def test_claude_code_capture(name: str) -> None:
    raw = json.loads((FIXTURES / name).read_bytes())
    warnings: list[str] = []
    translated = translate_request(load_capture(name), GPT4O, warnings.append)
    encoded = openai.encode_request(translated.request, translated.extra)
    body = json.loads(encoded)
    assert_valid_chat_request(body)
    assert warnings == []

    # one system message, first: the system prompt then the mid-conversation system message
    roles = [m["role"] for m in body["messages"]]
    assert roles[0] == "system" and "system" not in roles[1:]
    system = body["messages"][0]["content"]
    # Claude Code's per-run billing line is gone: the prompt starts the same in every run
    assert system.startswith("You are a Claude agent")
    assert "x-anthropic-billing-header" not in system
    assert system.endswith(raw["messages"][1]["content"])
    # the user's two text blocks stay two parts
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": block["text"]} for block in raw["messages"][0]["content"]
    ]
    # every tool, no $schema anywhere in the schemas
    assert [t["function"]["name"] for t in body["tools"]] == [t["name"] for t in raw["tools"]]
    assert all("$schema" not in t["function"]["parameters"] for t in body["tools"])
    assert b"json-schema.org" not in encoded
    # limits and stream
    assert body["max_tokens"] == 16384
    assert body["model"] == "gpt-4o"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    for key in (
        "thinking",
        "context_management",
        "metadata",
        "user",
        "output_config",
        "reasoning_effort",
    ):
        assert key not in body
    assert b"cache_control" not in encoded
    assert b"device_id" not in encoded


def test_claude_code_turn2_pairs_the_tool_call_with_its_result() -> None:
    raw = json.loads((FIXTURES / "turn2.json").read_bytes())
    body = openai.to_builtins(to_openai(load_capture("turn2.json"), GPT4O))
    assert_valid_chat_request(body)
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool"]
    call = body["messages"][2]["tool_calls"][0]
    use = raw["messages"][2]["content"][0]
    assert call["id"] == use["id"] == "toolu_01"
    assert call["function"]["name"] == "Write"
    assert json.loads(call["function"]["arguments"]) == use["input"]
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": "toolu_01",
        "content": raw["messages"][3]["content"][0]["content"],
    }


def test_claude_code_capture_for_a_databricks_claude_target() -> None:
    warnings: list[str] = []
    t1 = translate_request(load_capture("turn1.json"), DATABRICKS, warnings.append)
    assert t1.request.max_tokens == 64000
    assert t1.extra == {"thinking": {"type": "enabled", "budget_tokens": 10240}}
    t2 = translate_request(load_capture("turn2.json"), DATABRICKS, warnings.append)
    for translated in (t1, t2):
        assert_valid_chat_request(openai.to_builtins(translated.request))
    assert t2.extra == {}  # the tool loop carries no signed thinking
    assert warnings == []


# --------------------------------------------------------------------------- #
# Property: the translated history always pairs calls and results


@dataclass
class Conversation:
    """A generated conversation, and what it holds."""

    messages: list[dict[str, Any]]
    tool_uses: int
    orphans: int
    notes: list[str]


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    """Random Claude-style conversations."""
    messages: list[dict[str, Any]] = [user(text("start"))]
    tool_uses = orphans = 0
    notes: list[str] = []
    next_id = 0
    earlier_ids: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()) and draw(st.booleans()):
            notes.append(f"note {len(messages)}")
            messages.append({"role": "system", "content": notes[-1]})
        ids = [f"toolu_{next_id + i}" for i in range(draw(st.integers(0, 3)))]
        next_id += len(ids)
        tool_uses += len(ids)
        blocks = ([text("thinking aloud")] if draw(st.booleans()) else []) + [
            tool_use(i) for i in ids
        ]
        if not blocks:
            blocks = [text("plain answer")]
        messages.append(assistant(*blocks))
        if draw(st.integers(0, 5)) == 0:
            continue  # no user reply: two assistant messages in a row, or the end
        answered = draw(st.permutations(ids))[: draw(st.integers(0, len(ids)))]
        reply = [tool_result(i, f"result {i}", is_error=draw(st.booleans())) for i in answered]
        if draw(st.integers(0, 3)) == 0:
            orphan = draw(st.sampled_from([*earlier_ids, "toolu_ghost"]))
            reply.insert(draw(st.integers(0, len(reply))), tool_result(orphan, "stray"))
            orphans += 1
        if draw(st.booleans()) or not reply:
            reply.insert(draw(st.integers(0, len(reply))), text("user says"))
        messages.append(user(*reply))
        earlier_ids.extend(ids)
    return Conversation(messages, tool_uses, orphans, notes)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(conversations())
def test_translated_history_always_pairs_calls_and_results(case: Conversation) -> None:
    result = run(system="sys", messages=case.messages)
    out = result.messages
    assert out[0] == {"role": "system", "content": "\n\n".join(["sys", *case.notes])}
    assert all(m["role"] != "system" for m in out[1:])
    calls = [c for m in out if m["role"] == "assistant" for c in m.get("tool_calls", [])]
    assert len(calls) == case.tool_uses
    assert sum(m["role"] == "tool" for m in out) == case.tool_uses
    user_text = json.dumps([m["content"] for m in out if m["role"] == "user"])
    assert user_text.count("[tool result for ") == case.orphans
    for index, message in enumerate(out):
        if message["role"] == "assistant" and message.get("tool_calls"):
            ids = [c["id"] for c in message["tool_calls"]]
            run_after = out[index + 1 : index + 1 + len(ids)]
            assert [m["role"] for m in run_after] == ["tool"] * len(ids)
            assert sorted(m["tool_call_id"] for m in run_after) == sorted(ids)
            following = out[index + 1 + len(ids) : index + 2 + len(ids)]
            assert not following or following[0]["role"] != "tool"
        if message["role"] == "tool":
            owner = index - 1
            while out[owner]["role"] == "tool":
                owner -= 1
            owner_ids = [c["id"] for c in out[owner].get("tool_calls", [])]
            assert out[owner]["role"] == "assistant" and message["tool_call_id"] in owner_ids
            assert isinstance(message["content"], str)
