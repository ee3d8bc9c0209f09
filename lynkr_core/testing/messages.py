"""Hypothesis strategies for the Anthropic Messages API: valid requests, and near-valid ones.

The shapes follow what lynkr decodes (``lynkr_core.wire.anthropic``): content blocks
of every kind lynkr types (text, image, document, search_result, tool_use,
tool_result, thinking, redacted_thinking), a system prompt as a string or as text
blocks with ``cache_control``, client tools with JSON schemas and Anthropic's server
tools, ``tool_choice``, ``thinking``, ``metadata``, ``stop_sequences``, sampling
options and the ``stream`` flag. Every value is plain JSON data (dicts, lists,
strings, numbers), ready for ``json.dumps``.

``messages_requests()`` draws bodies for ``POST /v1/messages`` that the Anthropic API
accepts: a conversation that starts and ends with a user turn, every ``tool_use``
answered by a ``tool_result`` in the next user turn, a thinking budget below
``max_tokens``, a forced tool that exists. ``count_tokens_requests()`` draws bodies for
``POST /v1/messages/count_tokens``. ``near_valid(strategy)`` breaks one thing in a
drawn body, the way a buggy or hostile client would::

    @given(near_valid(messages_requests()))
    def test_never_a_500(case):
        note(case.describe())
        status = post(case.body)
        ...

The mutations (``MUTATIONS``): a field dropped, a value of the wrong JSON type, an
unknown content block type, an out-of-range number, a role swapped or made up, a
list emptied. A mutated body may still be valid (a dropped optional field): a test
must accept "served" as well as the right error.

URL sources use IP literals of public addresses, so that no DNS lookup is needed and
no private-address check refuses them.
"""

from __future__ import annotations

import base64
import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "MUTATIONS",
    "PUBLIC_URLS",
    "Mutated",
    "any_texts",
    "cache_controls",
    "content_blocks",
    "conversations",
    "count_tokens_requests",
    "document_blocks",
    "image_blocks",
    "json_values",
    "messages_requests",
    "near_valid",
    "redacted_thinking_blocks",
    "schemas",
    "search_result_blocks",
    "system_prompts",
    "text_blocks",
    "texts",
    "thinking_blocks",
    "tool_definitions",
    "tool_names",
    "tool_result_blocks",
    "tool_use_blocks",
    "tricky_texts",
    "user_blocks",
]

JSON = dict[str, Any]

# --------------------------------------------------------------------------- #
# Scalars

#: Text the API accepts: any character but lone surrogates (not valid UTF-8), at
#: least one non-space character (Anthropic refuses empty and blank text blocks).
texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda text: text.strip() != ""
)
#: Text with the characters that break naive code: quotes, escapes, NUL, line
#: separators, RTL marks, astral characters, markup.
tricky_texts = st.sampled_from(
    [
        'quote " and backslash \\',
        "nul \x00 and bell \x07",
        "line\u2028separator\u2029",
        "\u202e reversed",
        "astral 𝄞 😀",
        "</script><b>x</b>",
        "{{template}} ${var} %s",
        "\r\nX-Injected: 1",
    ]
)
any_texts = texts | tricky_texts
model_names = st.sampled_from(
    ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-3-5-haiku-latest"]
)
#: Tool names as the API allows them (``^[a-zA-Z0-9_-]{1,64}$``), from a small pool so
#: that names collide (with each other, and with lynkr's own tools).
tool_names = st.sampled_from(
    ["get_weather", "Read", "Bash", "edit-file", "t", "workspace_read", "A" * 64]
) | st.builds("{}_{}".format, st.sampled_from(["tool", "fn", "X"]), st.integers(0, 999))
ids = st.integers(0, 2**64).map(lambda n: f"{n:016x}")
_property_names = st.sampled_from(["path", "command", "q", "n", "items", "old_string", "x_y", "$ref"])
PUBLIC_URLS = (
    "https://93.184.215.14/cat.png",
    "https://[2606:4700:4700::1111]/doc.pdf",
    "http://8.8.8.8/img.jpg",
)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_texts
)
#: Small JSON values (tool inputs, metadata-like data).
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _base64(max_size: int = 48) -> st.SearchStrategy[str]:
    return st.binary(min_size=1, max_size=max_size).map(lambda data: base64.b64encode(data).decode())


def _with_optional(required: JSON, optional: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[JSON]:
    """``required`` plus any subset of ``optional``'s keys with drawn values."""
    return st.fixed_dictionaries(required, optional=optional)


# --------------------------------------------------------------------------- #
# Shared pieces

#: ``{"type": "ephemeral"}``, with a ``ttl`` sometimes.
cache_controls = _with_optional({"type": st.just("ephemeral")}, {"ttl": st.sampled_from(["5m", "1h"])})
_cached = {"cache_control": cache_controls}

image_sources = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("base64"), "media_type": st.sampled_from(IMAGE_TYPES), "data": _base64()}
    ),
    st.fixed_dictionaries({"type": st.just("url"), "url": st.sampled_from(PUBLIC_URLS)}),
    st.fixed_dictionaries({"type": st.just("file"), "file_id": ids.map(lambda i: f"file_{i}")}),
)

# --------------------------------------------------------------------------- #
# Content blocks


def text_blocks(*, cached: bool = True) -> st.SearchStrategy[JSON]:
    """``{"type": "text", "text": ...}``, with ``cache_control`` sometimes."""
    return _with_optional({"type": st.just("text"), "text": any_texts}, _cached if cached else {})


#: Images: base64, URL or Files API sources.
image_blocks = _with_optional({"type": st.just("image"), "source": image_sources}, _cached)

_document_sources = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("base64"), "media_type": st.just("application/pdf"), "data": _base64()}
    ),
    st.fixed_dictionaries(
        {"type": st.just("text"), "media_type": st.just("text/plain"), "data": any_texts}
    ),
    st.fixed_dictionaries(
        {"type": st.just("content"), "content": any_texts | st.lists(text_blocks(cached=False), min_size=1, max_size=2)}
    ),
    st.fixed_dictionaries({"type": st.just("url"), "url": st.sampled_from(PUBLIC_URLS)}),
)
#: Documents: PDF (base64 or URL), plain text, or content blocks.
document_blocks = _with_optional(
    {"type": st.just("document"), "source": _document_sources},
    {
        "title": texts,
        "context": texts,
        "citations": st.fixed_dictionaries({"enabled": st.booleans()}),
        **_cached,
    },
)
#: A search result the client supplies for citation.
search_result_blocks = _with_optional(
    {
        "type": st.just("search_result"),
        "source": st.sampled_from(PUBLIC_URLS),
        "title": texts,
        "content": st.lists(text_blocks(cached=False), min_size=1, max_size=2),
    },
    {"citations": st.fixed_dictionaries({"enabled": st.booleans()}), **_cached},
)
thinking_blocks = st.fixed_dictionaries(
    {"type": st.just("thinking"), "thinking": any_texts, "signature": _base64(24)}
)
redacted_thinking_blocks = st.fixed_dictionaries(
    {"type": st.just("redacted_thinking"), "data": _base64(24)}
)


_tool_inputs = st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=3)
_tool_use_blocks = _with_optional(
    {"type": st.just("tool_use"), "id": st.just("toolu_01"), "name": tool_names, "input": _tool_inputs},
    _cached,
)
_tool_result_blocks = _with_optional(
    {"type": st.just("tool_result"), "tool_use_id": st.just("toolu_01")},
    {
        "content": any_texts | st.lists(text_blocks(cached=False) | image_blocks, min_size=1, max_size=2),
        "is_error": st.booleans(),
        **_cached,
    },
)


def tool_use_blocks(tool_id: str, names: st.SearchStrategy[str] = tool_names) -> st.SearchStrategy[JSON]:
    """A ``tool_use`` block with id ``tool_id``, a name from ``names`` and a JSON object as input."""
    return st.builds(lambda block, name: {**block, "id": tool_id, "name": name}, _tool_use_blocks, names)


def tool_result_blocks(tool_id: str) -> st.SearchStrategy[JSON]:
    """A ``tool_result`` answering ``tool_id``: a string, or text and image blocks."""
    return _tool_result_blocks.map(lambda block: {**block, "tool_use_id": tool_id})


#: Blocks a user turn may carry besides tool results.
user_blocks = st.one_of(text_blocks(), image_blocks, document_blocks, search_result_blocks)
#: Every kind of block lynkr types, in no particular turn.
content_blocks = st.one_of(
    user_blocks,
    thinking_blocks,
    redacted_thinking_blocks,
    _tool_use_blocks,
    _tool_result_blocks,
)

# --------------------------------------------------------------------------- #
# Conversations


@st.composite
def conversations(draw: st.DrawFn, names: st.SearchStrategy[str] = tool_names, max_turns: int = 3) -> list[JSON]:
    """Alternating user and assistant messages, starting and ending with the user.

    An assistant turn may call tools (after optional thinking and text); the next
    user turn then starts with one ``tool_result`` per call, in call order.
    """
    messages: list[JSON] = []
    calls: list[str] = []
    for turn in range(draw(st.integers(1, max_turns))):
        results = [draw(tool_result_blocks(call)) for call in calls]
        if not results and draw(st.booleans()):
            messages.append({"role": "user", "content": draw(any_texts)})
        else:
            extra = draw(st.lists(user_blocks, min_size=0 if results else 1, max_size=2))
            messages.append({"role": "user", "content": results + extra})
        if turn == 0 and draw(st.booleans()):
            break
        calls = [f"toolu_{turn}{index}{draw(ids)}" for index in range(draw(st.integers(0, 2)))]
        blocks: list[JSON] = []
        if draw(st.booleans()):
            blocks.append(draw(thinking_blocks | redacted_thinking_blocks))
        if not calls or draw(st.booleans()):
            blocks.append(draw(text_blocks()))
        blocks.extend(draw(tool_use_blocks(call, names)) for call in calls)
        if not calls and draw(st.booleans()):
            messages.append({"role": "assistant", "content": draw(any_texts)})
        else:
            messages.append({"role": "assistant", "content": blocks})
    if messages[-1]["role"] == "assistant":
        results = [draw(tool_result_blocks(call)) for call in calls]
        messages.append({"role": "user", "content": results or draw(any_texts)})
    return messages


#: A system prompt: a string, or text blocks with ``cache_control`` (as Claude Code sends).
system_prompts = any_texts | st.lists(text_blocks(), min_size=1, max_size=3)

# --------------------------------------------------------------------------- #
# Tools

_leaf_schemas = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "enum": ["a", "b"]},
        {"type": "integer", "minimum": 0},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"type": "string"}},
        {"type": ["string", "null"]},
        {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    ]
)
_property_schemas = st.recursive(
    _leaf_schemas,
    lambda children: st.dictionaries(_property_names, children, min_size=1, max_size=3).map(
        lambda properties: {"type": "object", "properties": properties}
    ),
    max_leaves=4,
)


@st.composite
def schemas(draw: st.DrawFn) -> JSON:
    """A tool's ``input_schema``: an object schema, with ``$schema`` and
    ``additionalProperties`` sometimes (Claude Code sends both)."""
    properties = draw(
        st.dictionaries(_property_names, _property_schemas, max_size=4)
    )
    schema: JSON = {"type": "object", "properties": properties}
    if properties and draw(st.booleans()):
        schema["required"] = draw(st.lists(st.sampled_from(sorted(properties)), unique=True, min_size=1))
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    if draw(st.booleans()):
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema


_client_tools = _with_optional(
    {"name": st.just("t"), "input_schema": schemas()},
    {"description": any_texts, "type": st.just("custom"), **_cached},
)


_server_tools = st.sampled_from(
    [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"type": "bash_20250124", "name": "bash"},
        {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
    ]
)


@st.composite
def tool_definitions(draw: st.DrawFn, max_tools: int = 3) -> list[JSON]:
    """Client tools with distinct names, and one of Anthropic's server tools sometimes."""
    names = draw(st.lists(tool_names, unique_by=str.lower, min_size=1, max_size=max_tools))
    tools = [{**draw(_client_tools), "name": name} for name in names]
    if draw(st.integers(0, 4)) == 0:
        server = draw(_server_tools)
        if server["name"] not in names:
            tools.append(server)
    return tools


_parallel = {"disable_parallel_tool_use": st.booleans()}
#: ``tool_choice`` values; a forced ``tool`` gets the name of one of the request's tools.
_tool_choices = st.one_of(
    _with_optional({"type": st.just("auto")}, _parallel),
    _with_optional({"type": st.just("any")}, _parallel),
    _with_optional({"type": st.just("tool"), "name": st.just("t")}, _parallel),
    st.just({"type": "none"}),
)


# --------------------------------------------------------------------------- #
# Requests


@st.composite
def _thinking(draw: st.DrawFn, max_tokens: int) -> JSON:
    """``thinking``: off, adaptive, or a budget below ``max_tokens`` (and at least 1,024)."""
    kinds = ["disabled", "adaptive"] + (["enabled"] if max_tokens > 1024 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "enabled":
        return {"type": kind, "budget_tokens": draw(st.integers(1024, max_tokens - 1))}
    return {"type": kind}


@st.composite
def _request(draw: st.DrawFn, stream: st.SearchStrategy[bool] | None, count_tokens: bool) -> JSON:
    tools = draw(st.none() | tool_definitions())
    names = st.sampled_from([t["name"] for t in tools]) if tools else tool_names
    body: JSON = {"model": draw(model_names), "messages": draw(conversations(names))}
    max_tokens = draw(st.integers(1, 64000))
    if not count_tokens:
        body["max_tokens"] = max_tokens
    if draw(st.booleans()):
        body["system"] = draw(system_prompts)
    if tools is not None:
        body["tools"] = tools
        if draw(st.booleans()):
            choice = draw(_tool_choices)
            if choice["type"] == "tool":
                choice = {**choice, "name": draw(names)}
            body["tool_choice"] = choice
    if draw(st.integers(0, 3)) == 0:
        body["thinking"] = draw(_thinking(max_tokens))
    if count_tokens:
        return body
    optional = {
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1, exclude_min=True),
        "top_k": st.integers(1, 500),
        "stop_sequences": st.lists(texts, min_size=1, max_size=3),
        "metadata": st.fixed_dictionaries({}, optional={"user_id": st.text(max_size=40)}),
    }
    for name, values in optional.items():
        if draw(st.integers(0, 3)) == 0:
            body[name] = draw(values)
    if stream is not None:
        body["stream"] = draw(stream)
    return body


_STREAM_FLAGS = st.booleans()


def messages_requests(stream: st.SearchStrategy[bool] | None = _STREAM_FLAGS) -> st.SearchStrategy[JSON]:
    """Valid ``POST /v1/messages`` bodies; ``stream`` draws the ``stream`` flag (``None``
    leaves it out)."""
    return _request(stream, count_tokens=False)


def count_tokens_requests() -> st.SearchStrategy[JSON]:
    """Valid ``POST /v1/messages/count_tokens`` bodies (no ``max_tokens``, no sampling)."""
    return _request(None, count_tokens=True)


# --------------------------------------------------------------------------- #
# Near-valid requests

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutated:
    """A body with one thing broken: ``mutation`` names what, ``path`` where."""

    mutation: str
    path: str
    body: JSON

    def describe(self) -> str:
        """One line for ``hypothesis.note``."""
        return f"{self.mutation} at {self.path or '$'}"


def _paths(value: Any, path: Path = ()) -> list[Path]:
    """The path of ``value`` and of everything inside it, outermost first."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


def _at(body: Any, path: Path) -> Any:
    for step in path:
        body = body[step]
    return body


def _show(path: Path) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".")


def _where(draw: st.DrawFn, body: JSON, wanted: Callable[[Path, Any], bool]) -> Path | None:
    candidates = [path for path in _paths(body) if wanted(path, _at(body, path))]
    return _pick(draw, candidates) if candidates else None


def _pick(draw: st.DrawFn, items: list[Any]) -> Any:
    """One of ``items``, about uniformly. Drawn directly, hypothesis picks the first
    item most of the time here (the draw comes last in a long example, where it
    fills in zeros): with the top-level fields first, nearly every mutation would hit
    ``model``. A drawn seed still replays and shrinks."""
    return random.Random(draw(st.integers(0, 2**32 - 1))).choice(items)


def _block_paths(path: Path, value: Any) -> bool:
    """Whether ``path`` is a content block: an object with a ``type`` inside a list."""
    return bool(path) and isinstance(path[-1], int) and isinstance(value, dict) and "type" in value


def _drop_field(draw: st.DrawFn, body: JSON) -> Path | None:
    path = _where(draw, body, lambda p, v: bool(p) and isinstance(_parent_of(body, p), dict))
    if path is not None:
        del _at(body, path[:-1])[path[-1]]
    return path


def _parent_of(body: JSON, path: Path) -> Any:
    return _at(body, path[:-1])


_WRONG_TYPES: dict[type, list[Any]] = {
    str: [5, None, ["x"], {"text": "x"}, True],
    int: ["5", 5.5, None, [], True],
    float: ["0.5", None, {}, [0.5]],
    bool: ["true", 1, None],
    list: ["not a list", {}, 7, None],
    dict: ["not an object", [], 7, None],
}


def _wrong_type(draw: st.DrawFn, body: JSON) -> Path | None:
    path = _where(draw, body, lambda p, v: bool(p) and type(v) in _WRONG_TYPES)
    if path is not None:
        value = _at(body, path)
        _at(body, path[:-1])[path[-1]] = draw(st.sampled_from(_WRONG_TYPES[type(value)]))
    return path


_UNKNOWN_TYPES = ["hologram", "", "TEXT", "text ", "image_v99", "tool_use_2099", "\x00"]


def _unknown_block_type(draw: st.DrawFn, body: JSON) -> Path | None:
    path = _where(draw, body, _block_paths)
    if path is None:
        return None
    _at(body, path)["type"] = draw(st.sampled_from(_UNKNOWN_TYPES))
    return path


_OUT_OF_RANGE = {
    "max_tokens": [0, -1, -(2**31), 2**31, 2**63, 2**64, 10**30],
    "temperature": [-1.0, 2.5, 1e308, -1e308],
    "top_p": [-0.5, 1.5, 0.0],
    "top_k": [-1, 0, 2**63],
    "budget_tokens": [-5, 0, 1, 10**20],
    "max_uses": [-1, 0, 10**12],
}


def _out_of_range(draw: st.DrawFn, body: JSON) -> Path | None:
    path = _where(draw, body, lambda p, v: bool(p) and p[-1] in _OUT_OF_RANGE)
    if path is None:
        path = ("max_tokens",)
    _at(body, path[:-1])[path[-1]] = draw(st.sampled_from(_OUT_OF_RANGE[str(path[-1])]))
    return path


_ROLES = ["user", "assistant", "system", "robot", "", "USER", "tool", "developer"]


def _swap_role(draw: st.DrawFn, body: JSON) -> Path | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    index = draw(st.integers(0, len(messages) - 1))
    current = messages[index].get("role")
    messages[index]["role"] = draw(st.sampled_from([role for role in _ROLES if role != current]))
    return ("messages", index, "role")


def _empty_list(draw: st.DrawFn, body: JSON) -> Path | None:
    path = _where(draw, body, lambda p, v: bool(p) and isinstance(v, list) and bool(v))
    if path is not None:
        _at(body, path[:-1])[path[-1]] = []
    return path


MUTATIONS: dict[str, Callable[[st.DrawFn, JSON], Path | None]] = {
    "drop a field": _drop_field,
    "wrong type": _wrong_type,
    "unknown block type": _unknown_block_type,
    "out-of-range number": _out_of_range,
    "swap a role": _swap_role,
    "empty a list": _empty_list,
}
"""Each mutation changes the body in place and returns where (``None``: nothing to change)."""


@st.composite
def near_valid(draw: st.DrawFn, requests: st.SearchStrategy[JSON]) -> Mutated:
    """A body drawn from ``requests`` with one mutation of ``MUTATIONS`` applied."""
    name = draw(st.sampled_from(sorted(MUTATIONS)))  # first: drawn last, it would be the first
    body = copy.deepcopy(draw(requests))
    path = MUTATIONS[name](draw, body)
    return Mutated(name, "" if path is None else _show(path), body)
