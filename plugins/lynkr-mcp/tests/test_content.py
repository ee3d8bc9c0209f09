"""MCP results as what the model reads: text, images, embedded resources, structured content,
the size cap."""

from __future__ import annotations

import mcp.types as t
from lynkr_mcp.content import to_tool_result
from lynkr_mcp.tools import tool_name

PNG = "iVBORw0KGgo" + "A" * 40


def result(*content, structured=None, is_error=False) -> t.CallToolResult:
    return t.CallToolResult(content=list(content), structured_content=structured, is_error=is_error)


def test_text_stays_text_and_is_error_is_kept():
    mapped = to_tool_result(result(t.TextContent(type="text", text="boom"), is_error=True), 1000)
    assert (mapped.text, mapped.is_error, mapped.blocks) == ("boom", True, None)


def test_an_image_becomes_an_image_block_next_to_the_text():
    mapped = to_tool_result(result(t.TextContent(type="text", text="see:"),
                                   t.ImageContent(type="image", data=PNG, mime_type="image/png")), 1000)
    assert mapped.blocks == [
        {"type": "text", "text": "see:"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
    ]
    assert mapped.text == "see:\n[image/png image]"


def test_embedded_resources_and_links():
    text_resource = t.EmbeddedResource(type="resource", resource=t.TextResourceContents(
        uri="file:///notes.md", mime_type="text/markdown", text="# Notes"))
    image_resource = t.EmbeddedResource(type="resource", resource=t.BlobResourceContents(
        uri="file:///a.png", mime_type="image/png", blob=PNG))
    binary = t.EmbeddedResource(type="resource", resource=t.BlobResourceContents(
        uri="file:///a.zip", mime_type="application/zip", blob="AAAA"))
    link = t.ResourceLink(type="resource_link", uri="file:///b.txt", name="b")
    audio = t.AudioContent(type="audio", data="AAAA", mime_type="audio/wav")
    blocks = to_tool_result(result(text_resource, image_resource, binary, link, audio), 10_000).blocks
    assert blocks[0] == {"type": "text", "text": "[resource file:///notes.md]\n# Notes"}
    assert blocks[1]["type"] == "image"
    assert blocks[2] == {"type": "text", "text": "[resource file:///a.zip (application/zip, 3 bytes) left out]"}
    assert blocks[3] == {"type": "text", "text": "[resource file:///b.txt: b]"}
    assert "audio" in blocks[4]["text"]


def test_structured_content_is_kept_as_json_unless_the_text_says_it_already():
    both = to_tool_result(result(t.TextContent(type="text", text="3 issues"), structured={"open": 3}), 1000)
    assert both.text == '3 issues\n{"open": 3}'
    wrapped = to_tool_result(result(t.TextContent(type="text", text="5"), structured={"result": 5}), 1000)
    assert wrapped.text == "5"
    only = to_tool_result(result(structured={"open": 3}), 1000)
    assert only.text == '{"open": 3}'


def test_the_result_is_capped():
    mapped = to_tool_result(result(t.TextContent(type="text", text="é" * 2000),
                                   t.ImageContent(type="image", data=PNG, mime_type="image/png")), 1024)
    assert mapped.text.startswith("é" * 512)
    assert "[truncated: 2976 more bytes, over MCP_MAX_RESULT_BYTES=1024]" in mapped.text
    assert "image left out" in mapped.text and mapped.blocks is None


def test_tool_names_follow_claude_code():
    assert tool_name("git hub", "list.issues") == "mcp__git_hub__list_issues"


def test_long_tool_names_are_cut_to_64_characters_and_stay_distinct():
    first = tool_name("a-server-with-a-rather-long-name", "a_tool_with_an_even_longer_name_one")
    second = tool_name("a-server-with-a-rather-long-name", "a_tool_with_an_even_longer_name_two")
    assert len(first) == len(second) == 64
    assert first != second and first.startswith("mcp__a-server-with-a-rather-long-name__a_tool")
