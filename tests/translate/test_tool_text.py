"""Tool calls printed as text by local models: recognised in whole text and while streaming."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr_core.translate.pieces import Piece, TextPiece, ToolCallPiece, ToolTextExtractor
from lynkr_core.translate.tool_text import (
    MAX_CANDIDATE,
    TextToolCallExtractor,
    extract_tool_calls,
    extractor_factory,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude_code"
#: The tools the real Claude Code CLI declares (Bash, Read, Write, TaskCreate...).
TOOLS: dict[str, dict[str, Any]] = {
    tool["name"]: tool["input_schema"]
    for tool in json.loads((FIXTURES / "turn1.json").read_text())["tools"]
}
WRITE_ARGS = {"file_path": "/work/hello.txt", "content": "hi from lynkr\n"}


def call(name: str, **arguments: Any) -> ToolCallPiece:
    return ToolCallPiece(name=name, arguments=arguments)


def extract(text: str, tools: dict[str, Any] | None = None) -> list[Piece]:
    return extract_tool_calls(text, TOOLS if tools is None else tools)


def merged(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, TextPiece) and out and isinstance(out[-1], TextPiece):
            out[-1] = TextPiece(out[-1].text + piece.text)
        else:
            out.append(piece)
    return out


def streamed(fragments: list[str], tools: dict[str, Any] | None = None) -> list[Piece]:
    extractor = TextToolCallExtractor(TOOLS if tools is None else tools)
    pieces: list[Piece] = []
    for fragment in fragments:
        pieces += extractor.feed(fragment)
    return pieces + extractor.finish()


def text_of(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces if isinstance(piece, TextPiece))


# --------------------------------------------------------------------------- #
# 1. Hermes / Qwen2.5


def test_hermes_call_with_text_around() -> None:
    text = (
        "I'll create the file for you.\n\n<tool_call>\n"
        '{"name": "Write", "arguments": {"file_path": "/work/hello.txt", '
        '"content": "hi from lynkr\\n"}}\n</tool_call>\nDone.'
    )
    assert extract(text) == [
        TextPiece("I'll create the file for you.\n\n"),
        call("Write", **WRITE_ARGS),
        TextPiece("\nDone."),
    ]


def test_hermes_several_blocks_are_several_calls() -> None:
    text = (
        '<tool_call>\n{"name": "Bash", "arguments": {"command": "ls"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "Read", "arguments": {"file_path": "/etc/hosts"}}\n</tool_call>'
    )
    assert extract(text) == [call("Bash", command="ls"), call("Read", file_path="/etc/hosts")]


def test_closing_tag_inside_a_json_string_does_not_end_the_call() -> None:
    content = "Models print <tool_call>...</tool_call> blocks."
    body = json.dumps({"name": "Write", "arguments": {"file_path": "/d.md", "content": content}})
    assert extract(f"<tool_call>{body}</tool_call>") == [
        call("Write", file_path="/d.md", content=content)
    ]


def test_raw_newlines_inside_json_strings_are_accepted() -> None:
    text = '<tool_call>{"name": "Write", "arguments": {"file_path": "/a", "content": "a\nb"}}'
    assert extract(text + "</tool_call>") == [call("Write", file_path="/a", content="a\nb")]


def test_unterminated_tool_call_at_the_end_is_a_call() -> None:
    text = 'Running it.\n<tool_call>\n{"name": "Bash", "arguments": {"command": "pwd"}}\n'
    assert extract(text) == [TextPiece("Running it.\n"), call("Bash", command="pwd")]


def test_unterminated_tool_call_with_incomplete_json_is_text() -> None:
    text = '<tool_call>\n{"name": "Bash", "arguments": {"command": "pw'
    assert extract(text) == [TextPiece(text)]


def test_text_after_the_json_inside_the_tag_is_text() -> None:
    text = '<tool_call>{"name": "Bash", "arguments": {"command": "ls"}} and more</tool_call>'
    assert extract(text) == [TextPiece(text)]


# --------------------------------------------------------------------------- #
# 2. A bare JSON call that is the whole message


def test_bare_json_with_parameters_llama() -> None:
    text = '{"name": "Bash", "parameters": {"command": "ls -la", "description": "List files"}}'
    assert extract(f"\n {text}\n\n") == [call("Bash", command="ls -la", description="List files")]


def test_bare_json_arguments_given_as_a_json_string() -> None:
    text = json.dumps({"name": "Write", "arguments": json.dumps(WRITE_ARGS)})
    assert extract(text) == [call("Write", **WRITE_ARGS)]


def test_bare_json_list_is_several_calls() -> None:
    text = json.dumps(
        [
            {"name": "Read", "arguments": {"file_path": "/a"}},
            {"type": "function", "name": "Read", "parameters": {"file_path": "/b"}},
        ]
    )
    assert extract(text) == [call("Read", file_path="/a"), call("Read", file_path="/b")]


@pytest.mark.parametrize("language", ["json", "", "JSON"])
def test_bare_json_in_a_fence(language: str) -> None:
    body = json.dumps({"name": "Write", "arguments": WRITE_ARGS}, indent=2)
    assert extract(f"```{language}\n{body}\n```\n") == [call("Write", **WRITE_ARGS)]


@pytest.mark.parametrize(
    "text",
    [
        'Here it is: {"name": "Bash", "arguments": {"command": "ls"}}',
        '{"name": "Bash", "arguments": {"command": "ls"}}\nThat runs ls.',
        '```python\n{"name": "Bash", "arguments": {"command": "ls"}}\n```',
        '```json\n{"name": "Bash", "arguments": {"command": "ls"}}\n```\nThat runs ls.',
        # a tool definition, not a call
        '{"name": "Bash", "description": "Runs a command", "parameters": {"type": "object"}}',
        '{"name": "Bash", "arguments": ["ls"]}',
        '{"name": "Bash", "arguments": "ls -la"}',
        '{"name": "Bash", "arguments": {}, "parameters": {}}',
        '[{"name": "Bash", "arguments": {"command": "ls"}}, {"name": "Nope", "arguments": {}}]',
        "[]",
    ],
)
def test_json_that_is_not_the_whole_message_or_not_a_call_is_text(text: str) -> None:
    assert extract(text) == [TextPiece(text)]


# --------------------------------------------------------------------------- #
# 3. Llama 3.1 function tag


def test_llama_function_tag() -> None:
    text = 'Writing now.<function=Write>{"file_path": "/x", "content": "y"}</function>'
    assert extract(text) == [TextPiece("Writing now."), call("Write", file_path="/x", content="y")]


def test_llama_function_tag_with_empty_arguments_then_text() -> None:
    text = "<function=CronList>{}</function> Listing your cron jobs."
    assert extract(text) == [call("CronList"), TextPiece(" Listing your cron jobs.")]


def test_function_tag_of_an_unknown_tool_is_text() -> None:
    text = '<function=get_weather>{"city": "Paris"}</function>'
    assert extract(text) == [TextPiece(text)]


# --------------------------------------------------------------------------- #
# 4. Mistral


@pytest.mark.parametrize("gap", [" ", "", "\n"])
def test_mistral_list(gap: str) -> None:
    text = f'[TOOL_CALLS]{gap}[{{"name": "Bash", "arguments": {{"command": "ls"}}}}]'
    assert extract(text) == [call("Bash", command="ls")]


def test_mistral_list_with_call_ids_and_text_before() -> None:
    text = (
        'Let me look.[TOOL_CALLS][{"name": "Read", "arguments": {"file_path": "/a"}, '
        '"id": "Ab3dE5gH7"}, {"name": "Read", "arguments": {"file_path": "/b"}, "id": "x9"}]'
    )
    assert extract(text) == [
        TextPiece("Let me look."),
        call("Read", file_path="/a"),
        call("Read", file_path="/b"),
    ]


def test_mistral_named_form_several_calls() -> None:
    text = '[TOOL_CALLS]Bash[ARGS]{"command": "ls"}[TOOL_CALLS]Read[ARGS]{"file_path": "/a"}'
    assert extract(text) == [call("Bash", command="ls"), call("Read", file_path="/a")]


def test_mistral_named_form_with_call_id() -> None:
    text = '[TOOL_CALLS]Bash[CALL_ID]a1B2c3D4e[ARGS]{"command": "ls"}'
    assert extract(text) == [call("Bash", command="ls")]


@pytest.mark.parametrize(
    "text",
    [
        '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}',
        "[TOOL_CALLS] is the marker Mistral models print.",
        '[TOOL_CALLS]Bash[ARGS]["ls"]',
    ],
)
def test_mistral_not_a_call_is_text(text: str) -> None:
    assert extract(text) == [TextPiece(text)]


# --------------------------------------------------------------------------- #
# 5. Qwen3-Coder XML and 6. GLM-4.5 XML


def test_qwen3_coder_xml() -> None:
    text = (
        "<tool_call>\n<function=Write>\n<parameter=file_path>\n/tmp/a.txt\n</parameter>\n"
        "<parameter=content>\nhello\n\n</parameter>\n</function>\n</tool_call>"
    )
    assert extract(text) == [call("Write", file_path="/tmp/a.txt", content="hello\n")]


def test_qwen3_coder_xml_types_values_with_the_schema() -> None:
    text = (
        "<tool_call>\n<function=Read>\n<parameter=file_path>\n/a.py\n</parameter>\n"
        "<parameter=offset>\n10\n</parameter>\n<parameter=limit>\nall\n</parameter>\n"
        "</function>\n</tool_call>"
    )
    assert extract(text) == [call("Read", file_path="/a.py", offset=10, limit="all")]


def test_qwen3_coder_xml_missing_parameter_close_tags() -> None:
    text = (
        "<tool_call>\n<function=Bash>\n<parameter=command>\nls\n"
        "<parameter=run_in_background>\ntrue\n</function>\n</tool_call>"
    )
    assert extract(text) == [call("Bash", command="ls", run_in_background=True)]


def test_qwen3_function_without_the_tool_call_wrapper() -> None:
    text = "<function=Bash>\n<parameter=command>\nls\n</parameter>\n</function>"
    assert extract(text) == [call("Bash", command="ls")]


def test_glm_xml() -> None:
    text = (
        "<tool_call>Write\n<arg_key>file_path</arg_key>\n<arg_value>/tmp/a.txt</arg_value>\n"
        "<arg_key>content</arg_key>\n<arg_value>hello</arg_value>\n</tool_call>"
    )
    assert extract(text) == [call("Write", file_path="/tmp/a.txt", content="hello")]


def test_glm_xml_typed_values_and_no_arguments() -> None:
    text = (
        "<tool_call>Bash\n<arg_key>command</arg_key>\n<arg_value>sleep 1</arg_value>\n"
        "<arg_key>timeout</arg_key>\n<arg_value>5000</arg_value>\n</tool_call>"
        "<tool_call>CronList\n</tool_call>"
    )
    assert extract(text) == [call("Bash", command="sleep 1", timeout=5000), call("CronList")]


@pytest.mark.parametrize(
    "text",
    [
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "</function>\n</tool_call>",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
        "</tool_call>",
        "<tool_call>Write\n<arg_key>file_path</arg_key>\n</tool_call>",
        "<tool_call>\n<function=Write>\n<parameter=file_path>\n/x\n</parameter>\n</tool_call>",
        "<tool_call></tool_call>",
    ],
)
def test_xml_forms_that_are_not_calls_are_text(text: str) -> None:
    assert extract(text) == [TextPiece(text)]


@pytest.mark.parametrize(
    ("tool", "key", "value", "expected"),
    [
        ("Bash", "timeout", "120000", 120000),
        ("Bash", "timeout", "1.5", 1.5),
        ("Bash", "run_in_background", "True", True),
        ("Bash", "run_in_background", "false", False),
        ("Bash", "run_in_background", "maybe", "maybe"),
        ("Bash", "command", "123", "123"),
        ("Read", "offset", "1.5", "1.5"),
        ("Read", "offset", "ten", "ten"),
        ("TaskCreate", "metadata", '{"priority": 1}', {"priority": 1}),
        ("WebSearch", "allowed_domains", '["a.com"]', ["a.com"]),
        ("WebSearch", "allowed_domains", "a.com", "a.com"),
        ("Bash", "not_declared", "42", "42"),
    ],
)
def test_xml_values_follow_the_property_type(
    tool: str, key: str, value: str, expected: Any
) -> None:
    text = (
        f"<tool_call>{tool}\n<arg_key>{key}</arg_key>\n<arg_value>{value}</arg_value>\n</tool_call>"
    )
    assert extract(text) == [ToolCallPiece(tool, {key: expected})]


def test_xml_values_with_a_type_list_or_any_of() -> None:
    tools = {
        "Set": {
            "properties": {
                "count": {"type": ["integer", "null"]},
                "label": {"type": ["string", "null"]},
                "size": {"anyOf": [{"type": "number"}, {"type": "boolean"}]},
            }
        }
    }
    text = (
        "<tool_call>Set<arg_key>count</arg_key><arg_value>null</arg_value>"
        "<arg_key>label</arg_key><arg_value>null</arg_value>"
        "<arg_key>size</arg_key><arg_value>3</arg_value></tool_call>"
    )
    assert extract(text, tools) == [
        ToolCallPiece("Set", {"count": None, "label": "null", "size": 3})
    ]


# --------------------------------------------------------------------------- #
# Names, whitespace, plain text


def test_names_match_case_insensitively_to_the_declared_name() -> None:
    text = '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>'
    assert extract(text) == [call("Bash", command="ls")]


def test_an_ambiguous_case_insensitive_name_is_not_a_call() -> None:
    tools = {"Bash": {}, "BASH": {}}
    text = '<tool_call>{"name": "bash", "arguments": {}}</tool_call>'
    assert extract(text, tools) == [TextPiece(text)]
    exact = '<tool_call>{"name": "BASH", "arguments": {}}</tool_call>'
    assert extract(exact, tools) == [ToolCallPiece("BASH", {})]


def test_whitespace_only_text_around_calls_is_dropped() -> None:
    block = '<tool_call>\n{"name": "Bash", "arguments": {"command": "ls"}}\n</tool_call>'
    assert extract(f"\n\n{block}\n\n{block}\n") == [call("Bash", command="ls")] * 2


@pytest.mark.parametrize("text", ["", "   \n", "plain answer", "  indented\n"])
def test_plain_text_is_kept_exactly(text: str) -> None:
    assert extract(text) == ([TextPiece(text)] if text else [])


def test_no_tools_means_no_calls() -> None:
    text = '<tool_call>{"name": "Bash", "arguments": {}}</tool_call>'
    assert extract(text, {}) == [TextPiece(text)]


# --------------------------------------------------------------------------- #
# Streaming


def test_text_before_a_marker_is_given_back_at_once() -> None:
    extractor = TextToolCallExtractor(TOOLS)
    assert extractor.feed("Let me check.\n<tool") == [TextPiece("Let me check.\n")]
    assert extractor.feed('_call>\n{"name": "Bash", ') == []
    assert extractor.feed('"arguments": {"command": "ls"}}\n</tool_call>') == [
        call("Bash", command="ls")
    ]
    assert extractor.feed("Done.") == [TextPiece("Done.")]
    assert extractor.finish() == []


def test_a_partial_marker_is_held_until_the_next_fragment_decides() -> None:
    extractor = TextToolCallExtractor(TOOLS)
    assert extractor.feed("a <too") == [TextPiece("a ")]
    assert extractor.feed("l") == []
    assert extractor.feed("s are fun") == [TextPiece("<tools are fun")]
    assert extractor.feed(" [TOOL_CALL") == [TextPiece(" ")]
    assert extractor.finish() == [TextPiece("[TOOL_CALL")]


def test_prose_mentioning_markers_is_released_early() -> None:
    extractor = TextToolCallExtractor(TOOLS)
    assert extractor.feed("Use <tool_call> tags ") == [TextPiece("Use <tool_call> tags ")]
    assert extractor.feed("or <function=Write> then ") == [TextPiece("or <function=Write> then ")]


def test_a_json_message_is_held_until_the_end() -> None:
    extractor = TextToolCallExtractor(TOOLS)
    assert extractor.feed('{"name": "Bash", "arguments": {"command": "ls"}}') == []
    assert extractor.feed("\n") == []
    assert extractor.finish() == [call("Bash", command="ls")]


def test_a_message_starting_with_a_brace_of_prose_is_released_early() -> None:
    extractor = TextToolCallExtractor(TOOLS)
    assert extractor.feed("{x} is a set, [1] a list") == [TextPiece("{x} is a set, [1] a list")]


def test_a_candidate_longer_than_the_limit_is_released_as_text() -> None:
    extractor = TextToolCallExtractor(TOOLS)
    head = "<tool_call>\n<function=Bash>\n<parameter=command>\n"
    body = "x" * (MAX_CANDIDATE + 100)
    released = extractor.feed(head) + extractor.feed(body)
    assert text_of(released) == head + body  # given back before the end of the message
    tail = extractor.feed("\n</parameter>\n</function>\n</tool_call>") + extractor.finish()
    assert text_of(released + tail) == head + body + "\n</parameter>\n</function>\n</tool_call>"


def test_a_long_call_under_the_limit_is_still_a_call() -> None:
    content = "line\n" * (MAX_CANDIDATE // 7)  # 6 characters each in JSON
    text = json.dumps({"name": "Write", "arguments": {"file_path": "/big", "content": content}})
    fragments = [text[i : i + 7] for i in range(0, len(text), 7)]
    assert streamed(["<tool_call>", *fragments, "</tool_call>"]) == [
        call("Write", file_path="/big", content=content)
    ]


def test_factory_makes_fresh_extractors() -> None:
    factory = extractor_factory(TOOLS)
    one, two = factory(), factory()
    assert one is not two
    assert isinstance(one, TextToolCallExtractor)
    protocol: ToolTextExtractor = one
    assert protocol.feed("<tool_call>") == []
    assert two.feed("hello") == [TextPiece("hello")]


# --------------------------------------------------------------------------- #
# Any split gives the same pieces as the whole text

CALL_SAMPLES = [
    "I'll list the files.\n<tool_call>\n"
    '{"name": "Bash", "arguments": {"command": "ls -la", "description": "List files"}}\n'
    "</tool_call>\n<tool_call>\n"
    '{"name": "Read", "arguments": {"file_path": "/work/a.py"}}\n</tool_call>\nThat is all.',
    '\n{"name": "Write", "parameters": {"file_path": "/x", "content": "a {b} [c] \\"d\\""}}\n',
    '```json\n[{"name": "Bash", "arguments": "{\\"command\\": \\"pwd\\"}"}]\n```',
    'Sure.<function=Write>{"file_path": "/x", "content": "y</function>"}</function> ok',
    'Checking [TOOL_CALLS] [{"name": "Bash", "arguments": {"command": "ls"}}]',
    '[TOOL_CALLS]Bash[ARGS]{"command": "ls"}[TOOL_CALLS]Read[CALL_ID]x1[ARGS]{"file_path": "/a"}',
    "<tool_call>\n<function=Write>\n<parameter=file_path>\n/tmp/a.txt\n</parameter>\n"
    "<parameter=content>\nhello <b>\n</parameter>\n</function>\n</tool_call>",
    "<tool_call>Read\n<arg_key>file_path</arg_key>\n<arg_value>/tmp/a.txt</arg_value>\n"
    "<arg_key>offset</arg_key>\n<arg_value>3</arg_value>\n</tool_call> then <",
    '<tool_call>\n{"name": "bash", "arguments": {"command": "echo }"}}',
]
PROSE_SAMPLES = [
    "a < b and c > d; x = {y}; list[0]; ```not a fence```",
    "  [1] First point.\n[2] Second.",
    "{braces first} then <tool_call> mentioned",
    '{"name": "Bash", "arguments": {"command": "ls"}} is how you would call it.',
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    '<function=get_weather>{"city": "Paris"}</function> and <function=Write oops',
    '[TOOL_CALLS] [{"name": "search", "arguments": {"q": "x"}}]',
    "[TOOL_CALLS]search[ARGS]{}",
    "<tool_call>Lookup\n<arg_key>q</arg_key>\n<arg_value>x</arg_value>\n</tool_call>",
    "```python\nprint({'a': [1]})\n```\n",
    '```json\n{"name": "Bash", "description": "a tool"}\n```',
    "<tool_call>{not json}</tool_call> <tool_call",
    "\n\n   ",
    "<<tool_call>> [[TOOL_CALLS]] <function=<function=",
    "ends with a partial <tool_ca",
]


@pytest.mark.parametrize("text", CALL_SAMPLES + PROSE_SAMPLES)
def test_every_two_way_split_and_single_characters(text: str) -> None:
    whole = extract(text)
    assert merged(streamed(list(text))) == whole
    for cut in range(len(text) + 1):
        assert merged(streamed([text[:cut], text[cut:]])) == whole


@pytest.mark.parametrize("text", CALL_SAMPLES)
def test_call_samples_have_calls(text: str) -> None:
    assert any(isinstance(piece, ToolCallPiece) for piece in extract(text))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_split_gives_the_same_pieces(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(CALL_SAMPLES + PROSE_SAMPLES))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    fragments = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    pieces = streamed(fragments)
    assert merged(pieces) == extract(text)
    assert all(not isinstance(p, TextPiece) or p.text for p in pieces)
    if text in PROSE_SAMPLES:
        assert all(isinstance(p, TextPiece) for p in pieces)
        assert text_of(pieces) == text


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list('<>[]{}"`\n :/_TOOLCALStoolcalfunctin=')), max_size=60),
    st.data(),
)
def test_random_text_splits_consistently(text: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    fragments = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    pieces = merged(streamed(fragments))
    assert pieces == extract(text)
    assert all(isinstance(p, TextPiece) for p in pieces)
    assert text_of(pieces) == text
