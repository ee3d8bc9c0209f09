"""Hypothesis strategies for the fuzz targets: what OpenAI-compatible upstreams send.

Chat-completion answers and stream chunks are drawn as plain JSON data in the
shapes servers really produce (nulls, empty strings, several choices, tool
calls split into fragments and interleaved, Databricks' list content, usage in
a last chunk), from small pools of ids and names so that fragments collide, and
then sometimes corrupted: a value replaced by one of the wrong type, or the
JSON text itself cut or garbled. ``sse_bodies`` turns a chunk list into the
bytes of an SSE body, cut into arbitrary reads.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import strategies as st

# --------------------------------------------------------------------------- #
# JSON values

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
#: Objects one level deep (with lists of scalars): a recursive strategy costs
#: several times more per example, and nesting adds nothing a translator looks at.
json_objects = st.dictionaries(
    st.sampled_from(["path", "command", "", " ", "名前"]) | st.text(max_size=6),
    json_scalars | st.lists(json_scalars, max_size=2),
    max_size=3,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy`` or ``None`` (JSON null)."""
    return st.none() | strategy


#: Tool calls as local models print them into their text (and pieces of them).
TOOL_TEXT = [
    '<tool_call>{"name": "Bash", "arguments": {"command": "ls"}}</tool_call>',
    '<tool_call>\n{"name": "Read", "arguments": {"path": "a.txt"}}',
    '{"name": "Bash", "arguments": {"command": "ls"}}',
    '```json\n[{"name": "Read", "parameters": {"path": "a"}}]\n```',
    '<function=Write>{"path": "/x", "content": "y"}</function>',
    '[TOOL_CALLS]Bash[ARGS]{"command": "pwd"}',
    "<tool_call><function=Read><parameter=path>a</parameter></function></tool_call>",
    "<tool_call>Read<arg_key>path</arg_key><arg_value>a</arg_value></tool_call>",
    "<tool_call>", "</tool_call>", "<function=", "[TOOL_CALLS]", '{"name": "Bash", ',
]
#: The tools those calls may name: the ``tools`` of a text tool-call extractor.
TEXT_TOOLS = {
    "Bash": {"type": "object", "properties": {"command": {"type": "string"}}},
    "Read": {"type": "object", "properties": {"path": {"type": "string"}}},
    "Write": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}},
}
#: Text as models write it, with the characters that break naive code.
texts = (
    st.text(max_size=24)
    | st.sampled_from(["", " ", "\n", "\u2028", "\ud7ff", "\x00", "```json\n", "{", "é☃𝄞"])
    | st.sampled_from(TOOL_TEXT)
)
tokens = maybe(st.integers(0, 2**40))

# --------------------------------------------------------------------------- #
# Pieces of an answer

TOOL_NAMES = ["Bash", "Read", "Write", "", "名前", "mcp__srv__do-it"]
CALL_IDS = ["call_1", "call_2", "", "toolu_x"]
#: Fragments that make, break or nearly make JSON objects when joined.
ARGUMENT_FRAGMENTS = [
    "{", "}", '"path"', ":", '"a.txt"', ",", "1", "[", "]", "null", '{"path":"a.txt"}', "{}",
    "[]", '"{\\"a\\":1}"', "```json\n", "\n```", "{'a': True}", '{"a":1,}', " ", "tru",
]
FINISH_REASONS = [
    None, "stop", "length", "tool_calls", "function_call", "content_filter", "error", "eos", "",
]

arguments_text = (
    st.lists(st.sampled_from(ARGUMENT_FRAGMENTS), max_size=5).map("".join)
    | json_objects.map(json.dumps)
    | texts
)
functions = st.fixed_dictionaries(
    {},
    optional={"name": maybe(st.sampled_from(TOOL_NAMES)), "arguments": maybe(arguments_text)},
)
tool_call_fragments = st.fixed_dictionaries(
    {},
    optional={
        "index": maybe(st.integers(0, 3)),
        "id": maybe(st.sampled_from(CALL_IDS)),
        "type": maybe(st.just("function")),
        "function": maybe(functions),
    },
)
summary_items = st.fixed_dictionaries(
    {},
    optional={"type": st.sampled_from(["summary_text", "other"]), "text": maybe(texts),
              "signature": maybe(st.sampled_from(["", "sig=="]))},
)
content_parts = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}),
    st.fixed_dictionaries(
        {"type": st.just("reasoning"), "summary": st.lists(summary_items, max_size=2)}
    ),
    json_values,
)
contents = maybe(texts | st.lists(content_parts, max_size=3))


def messages(tool_calls: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An assistant message or a stream delta, with ``tool_calls`` drawn from the given strategy."""
    return st.fixed_dictionaries(
        {},
        optional={
            "role": maybe(st.just("assistant")),
            "content": contents,
            "reasoning_content": maybe(texts),
            "reasoning": maybe(texts),
            "refusal": maybe(texts),
            "tool_calls": maybe(st.lists(tool_calls, max_size=3)),
        },
    )


usages = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": tokens,
        "completion_tokens": tokens,
        "total_tokens": tokens,
        "prompt_tokens_details": maybe(st.fixed_dictionaries({}, optional={"cached_tokens": tokens})),
        "completion_tokens_details": maybe(
            st.fixed_dictionaries({}, optional={"reasoning_tokens": tokens})
        ),
    },
)
errors = st.fixed_dictionaries(
    {},
    optional={
        "message": texts,
        "type": maybe(texts),
        "code": maybe(st.integers(-1, 1000) | st.sampled_from(["429", "rate_limited", ""])),
        "param": maybe(texts),
        "metadata": maybe(json_objects),
    },
)


def choices(body: str, tool_calls: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A choice whose message is under ``body`` (``message`` or ``delta``); index 0 mostly."""
    return st.fixed_dictionaries(
        {body: messages(tool_calls)},
        optional={
            "index": st.sampled_from([0, 0, 0, 1]),
            "finish_reason": st.sampled_from(FINISH_REASONS),
            "stop_reason": maybe(texts | st.integers(0, 100)),
        },
    )


def rarely(strategy: st.SearchStrategy[Any], one_in: int) -> st.SearchStrategy[Any]:
    """A value of ``strategy`` once in ``one_in`` draws or so, else ``None``."""
    return st.integers(1, one_in).flatmap(lambda n: strategy if n == 1 else st.none())


def _answers(body: str, tool_calls: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    answers = st.fixed_dictionaries(
        {"choices": st.lists(choices(body, tool_calls), max_size=2)},
        optional={
            "id": texts,
            "model": texts,
            "object": st.just("chat.completion.chunk" if body == "delta" else "chat.completion"),
            "usage": maybe(usages),
        },
    )
    # an error object ends everything: in one answer in ten, not one in two
    return st.tuples(answers, rarely(errors, 10)).map(
        lambda pair: pair[0] if pair[1] is None else {**pair[0], "error": pair[1]}
    )


#: Whole tool calls of a complete answer: mostly with an id, a name and arguments.
whole_tool_calls = st.fixed_dictionaries(
    {"function": functions},
    optional={"id": maybe(st.sampled_from(CALL_IDS)), "type": st.just("function"),
              "index": maybe(st.integers(0, 3))},
)
completions = _answers("message", whole_tool_calls)
chunks = _answers("delta", tool_call_fragments)


@st.composite
def split(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut into fragments at arbitrary points (empty ones included)."""
    points = sorted(draw(st.lists(st.integers(0, len(text)), max_size=4)))
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def planned_calls(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Tool calls as a stream sends them: per call, its fragments in order, the first
    with the id and name. Indexes and ids come from small pools, so calls collide;
    arguments are mostly a JSON object, sometimes a broken one."""
    calls = []
    for _ in range(draw(st.integers(0, 3))):
        index = draw(maybe(st.integers(0, 2)))
        arguments = draw(json_objects.map(json.dumps) | json_objects.map(json.dumps) | arguments_text)
        head: dict[str, Any] = {"index": index, "type": "function",
                                "id": draw(st.sampled_from(CALL_IDS) | st.none()),
                                "function": {"name": draw(st.sampled_from(TOOL_NAMES))}}
        fragments = [{"index": index, "function": {"arguments": part}} for part in draw(split(arguments))]
        fragments[0] = {**head, "function": {**head["function"], **fragments[0]["function"]}}
        calls.append(fragments)
    return calls


@st.composite
def chunk_streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The chunks of one streamed answer: a plausible one (thinking, text, tool calls
    interleaved, a ``finish_reason``, usage in a last chunk), with arbitrary chunks
    from ``chunks`` mixed in now and then."""
    field = draw(st.sampled_from(["reasoning_content", "reasoning"]))
    segments = [
        [{field: part} for part in draw(split(draw(texts)))],
        [{"content": part} for part in draw(split(draw(texts)))],
    ]
    queues = draw(planned_calls())
    calls: list[dict[str, Any]] = []
    while any(queues):
        queue = draw(st.sampled_from([q for q in queues if q]))
        calls.append({"tool_calls": [queue.pop(0)]})
    segments.append(calls)
    if draw(st.booleans()):
        segments = draw(st.permutations(segments))
    deltas = [delta for segment in segments for delta in segment]
    stream = [{"choices": [{"index": 0, "delta": delta}]} for delta in deltas]
    for _ in range(draw(st.integers(0, 2))):
        stream.insert(draw(st.integers(0, len(stream))), draw(chunks))
    finish = draw(st.sampled_from(["stop", "tool_calls", "length", "stop", None, "error", "eos"]))
    if finish is not None:
        stream.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish,
                                    "stop_reason": draw(st.none() | st.just("STOP"))}]})
    if draw(st.booleans()):
        stream.append({"choices": [], "usage": draw(usages)})
    return stream


# --------------------------------------------------------------------------- #
# Corruption


@st.composite
def corrupted(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one node (anywhere in it) replaced by an arbitrary JSON value."""
    paths = list(_paths(value, ()))
    path = draw(st.sampled_from(paths))
    replacement = draw(json_values)
    return _replace(value, path, replacement)


def _paths(value: Any, path: tuple[Any, ...]):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replace(value: Any, path: tuple[Any, ...], replacement: Any) -> Any:
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, replacement)}
    copy = list(value)
    copy[head] = _replace(value[head], rest, replacement)
    return copy


def documents(shapes: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """The JSON text of ``shapes``: mostly as drawn, sometimes with a node of the wrong
    type, cut short, garbled, or nested absurdly deep."""
    as_drawn = shapes.map(_dumps)
    wrong_type = shapes.flatmap(corrupted).map(_dumps)
    cut = st.tuples(as_drawn, st.integers(0, 400)).map(lambda pair: pair[0][: pair[1]])
    garbled = st.tuples(as_drawn, st.integers(0, 400), st.binary(min_size=1, max_size=4)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )
    bad_utf8 = st.tuples(as_drawn, st.integers(0, 50), st.sampled_from([b"\x80", b"\xff", b"\xc3"])).map(
        lambda t: _after_quote(*t)
    )
    return st.one_of(
        as_drawn, as_drawn, as_drawn, as_drawn, as_drawn, as_drawn, wrong_type, cut, garbled, bad_utf8
    )


def _after_quote(document: bytes, which: int, byte: bytes) -> bytes:
    """``document`` with ``byte`` (not UTF-8) put just inside one of its strings."""
    quotes = [i for i, c in enumerate(document) if c == ord('"')]
    if not quotes:
        return document + byte
    at = quotes[which % len(quotes)] + 1
    return document[:at] + byte + document[at:]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


# --------------------------------------------------------------------------- #
# SSE bodies


@st.composite
def cuts(draw: st.DrawFn, data: bytes, max_pieces: int = 12) -> list[bytes]:
    """``data`` cut into arbitrary pieces (empty ones included), as reads of a socket."""
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=max_pieces)))
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def stream_documents(draw: st.DrawFn) -> list[bytes]:
    """The chunks of a stream as JSON texts, one in twenty or so corrupted."""
    return [
        _dumps(chunk) if draw(st.integers(1, 20)) > 1 else draw(documents(st.just(chunk)))
        for chunk in draw(chunk_streams())
    ]


@st.composite
def sse_bodies(draw: st.DrawFn) -> list[bytes]:
    """An upstream's stream body, cut into reads: ``data:`` frames of chunks (a few
    corrupted), comments, odd line endings, and usually a final ``[DONE]``."""
    frames = []
    for document in stream_documents(draw):
        newline = draw(st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]))
        prefix = draw(st.sampled_from([b"data: ", b"data:", b": keep-alive" + newline + b"data: "]))
        frames.append(prefix + document.replace(b"\n", b"") + newline + newline)
    ending = draw(st.sampled_from([b"data: [DONE]\n\n", b"data: [DONE]\n\n", b"", b"data: [DO"]))
    return draw(cuts(b"".join(frames) + ending))
