"""Hypothesis strategies for valid Anthropic Messages requests, as JSON data.

A small local set for the translation fuzz target (``lynkr_core.testing.messages``
is the shared, fuller one): conversations of user, assistant and Claude Code's
mid-conversation ``system`` messages with every block type lynkr decodes plus an
unknown one, tool_use ids answered by tool_result blocks in any order (or not
at all), client and server tools with JSON schemas, and every request option
the translator maps (tool_choice, thinking, output_config, metadata, stop
sequences, temperature...).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.strategies import json_objects, json_values

words = st.text(min_size=1, max_size=16)
cache_control = st.fixed_dictionaries({"type": st.just("ephemeral")}, optional={"ttl": st.sampled_from(["5m", "1h"])})
TOOL_NAMES = ["Read", "Bash", "Write", "mcp__git__status", "web_search"]


def _with_cache(block: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(block, st.none() | cache_control).map(
        lambda pair: pair[0] if pair[1] is None else {**pair[0], "cache_control": pair[1]}
    )


text_blocks = _with_cache(st.fixed_dictionaries({"type": st.just("text"), "text": words}))
image_sources = st.one_of(
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": st.sampled_from(["image/png", "image/jpeg"]),
                           "data": st.sampled_from(["iVBORw0KGgo=", ""])}),
    st.fixed_dictionaries({"type": st.just("url"), "url": st.just("https://example.com/a.png")}),
    st.fixed_dictionaries({"type": st.just("file"), "file_id": st.just("file_01")}),
)
image_blocks = _with_cache(st.fixed_dictionaries({"type": st.just("image"), "source": image_sources}))
document_sources = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "media_type": st.just("text/plain"), "data": words}),
    st.fixed_dictionaries({"type": st.just("content"), "content": words | st.lists(text_blocks, max_size=2)}),
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": st.just("application/pdf"), "data": st.just("JVBERi0=")}),
    st.fixed_dictionaries({"type": st.just("url"), "url": st.just("https://example.com/a.pdf")}),
)
document_blocks = st.fixed_dictionaries(
    {"type": st.just("document"), "source": document_sources},
    optional={"title": st.none() | words, "context": st.none() | words},
)
search_result_blocks = st.fixed_dictionaries(
    {"type": st.just("search_result"), "source": words, "title": words,
     "content": st.lists(text_blocks, min_size=1, max_size=2)}
)
unknown_blocks = st.fixed_dictionaries({"type": st.just("future_block")}, optional={"payload": json_values})
thinking_blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("thinking"), "thinking": words, "signature": st.just("sig==")}),
    st.fixed_dictionaries({"type": st.just("redacted_thinking"), "data": st.just("opaque")}),
)
server_blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("server_tool_use"), "id": st.just("srvtoolu_1"),
                           "name": st.just("web_search"), "input": json_objects}),
    st.fixed_dictionaries({"type": st.just("web_search_tool_result"), "tool_use_id": st.just("srvtoolu_1"),
                           "content": st.just([])}),
)
user_blocks = st.one_of(text_blocks, image_blocks, document_blocks, search_result_blocks, unknown_blocks)
result_contents = st.one_of(
    st.just(None), words, st.just(""), st.lists(st.one_of(text_blocks, image_blocks), max_size=2)
)


@st.composite
def tool_result(draw: st.DrawFn, tool_use_id: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id}
    content = draw(result_contents)
    if content is not None:
        block["content"] = content
    if draw(st.booleans()):
        block["is_error"] = draw(st.booleans())
    return block


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Turns of a conversation; every tool_use id is unique, and the user message
    after an assistant's tool calls answers some, all or none of them."""
    messages: list[dict[str, Any]] = []
    pending: list[str] = []
    for turn in range(draw(st.integers(1, 6))):
        role = draw(st.sampled_from(["user", "user", "assistant", "system"]))
        if role == "system":
            messages.append({"role": "system", "content": draw(words)})
            continue
        if role == "assistant":
            blocks = draw(st.lists(st.one_of(text_blocks, thinking_blocks, server_blocks), max_size=2))
            pending = [f"toolu_{turn}_{i}" for i in range(draw(st.integers(0, 2)))]
            blocks += [
                {"type": "tool_use", "id": tool_id, "name": draw(st.sampled_from(TOOL_NAMES)),
                 "input": draw(json_objects)}
                for tool_id in pending
            ]
            if not blocks:
                messages.append({"role": "assistant", "content": draw(words)})
            else:
                messages.append({"role": "assistant", "content": blocks})
            continue
        answered = draw(st.permutations(pending)) if pending else []
        answered = answered[: draw(st.integers(0, len(answered)))]
        pending = []
        blocks = [draw(tool_result(tool_id)) for tool_id in answered]
        blocks += draw(st.lists(user_blocks, min_size=0 if blocks else 1, max_size=3))
        if draw(st.booleans()) and all(b["type"] == "text" for b in blocks):
            messages.append({"role": "user", "content": draw(words)})
        else:
            messages.append({"role": "user", "content": draw(st.permutations(blocks))})
    return messages


schemas = st.one_of(
    st.just({"type": "object", "properties": {}}),
    st.fixed_dictionaries(
        {"type": st.just("object"),
         "properties": st.dictionaries(words, st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "array"])}), max_size=3)},
        optional={"required": st.lists(words, max_size=2), "$schema": st.just("http://json-schema.org/draft-07/schema#"),
                  "additionalProperties": st.booleans()},
    ),
    json_objects,
)
custom_tools = st.fixed_dictionaries(
    {"name": st.sampled_from(TOOL_NAMES), "input_schema": schemas},
    optional={"description": words, "type": st.just("custom"), "cache_control": cache_control},
)
server_tools = st.fixed_dictionaries(
    {"type": st.sampled_from(["web_search_20250305", "bash_20250124"]), "name": st.sampled_from(["web_search", "bash"])}
)
tool_choices = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["auto", "any"])}, optional={"disable_parallel_tool_use": st.booleans()}),
    st.fixed_dictionaries({"type": st.just("tool"), "name": st.sampled_from(TOOL_NAMES)},
                          optional={"disable_parallel_tool_use": st.booleans()}),
    st.just({"type": "none"}),
)
thinking = st.one_of(
    st.fixed_dictionaries({"type": st.just("enabled"), "budget_tokens": st.integers(1024, 64000)}),
    st.just({"type": "disabled"}),
    st.just({"type": "adaptive"}),
    st.fixed_dictionaries({"type": st.just("future_mode")}, optional={"budget_tokens": json_values}),
)
output_configs = st.fixed_dictionaries(
    {},
    optional={
        "effort": st.sampled_from(["low", "medium", "high", "max", "xhigh", "odd"]),
        "format": st.one_of(
            st.fixed_dictionaries({"type": st.just("json_schema"), "schema": schemas}),
            st.fixed_dictionaries({"type": st.just("text")}),
        ),
    },
)
metadata = st.fixed_dictionaries(
    {}, optional={"user_id": st.none() | words | st.just('{"device_id":"x"}') | st.text(min_size=65, max_size=70)}
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``POST /v1/messages`` body."""
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["claude-sonnet-4-5", "claude-opus-4-1", "gpt-4o", "o3-mini"])),
        "max_tokens": draw(st.integers(1, 200_000)),
        "messages": draw(conversations()),
    }
    optional = {
        "system": words | st.lists(text_blocks, max_size=3),
        "tools": st.lists(st.one_of(custom_tools, custom_tools, server_tools), max_size=4),
        "tool_choice": tool_choices,
        "stop_sequences": st.lists(words, max_size=6),
        "stream": st.booleans(),
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1),
        "top_k": st.integers(0, 500),
        "metadata": metadata,
        "thinking": thinking,
        "output_config": output_configs,
        "service_tier": st.sampled_from(["auto", "standard_only"]),
        "context_management": json_objects,
        "a_future_field": json_values,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    if "tools" in body:  # tool names are unique within a request
        seen: set[str] = set()
        body["tools"] = [t for t in body["tools"] if not (t["name"] in seen or seen.add(t["name"]))]
    return body
