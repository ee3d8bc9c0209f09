"""What the upstream gets instead of Anthropic's web search: a function tool in place of
the server tool, and plain tool calls and results in place of the server blocks in the
conversation.

An OpenAI-format upstream cannot take ``web_search_20250305`` or the
``server_tool_use``/``web_search_tool_result`` blocks (the core's translation drops
them). The search tool becomes a function of the same name taking ``{"query": ...}``;
each assistant message holding searches is split where the results are: the text and
calls before them stay an assistant message (the searches as ``tool_use``), the
results become a user message of ``tool_result`` blocks carrying the results' text
(read back from ``encrypted_content``), and what follows goes on as another assistant
message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET

from lynkr_core import InvalidRequest, anthropic
from lynkr_web_search.blocks import result_text
from lynkr_web_search.domains import normalise

SEARCH_TOOL_PREFIX = "web_search_"
RESULT_BLOCK = "web_search_tool_result"
CALL_BLOCK = "server_tool_use"
#: The name Anthropic's web search tool has (other server tools' blocks are left alone).
SEARCH_NAME = "web_search"
#: The description of the function that stands in for the server tool.
FUNCTION_DESCRIPTION = (
    "Search the web for current information. Returns the titles, URLs and text snippets of "
    "the results; cite the URLs you use."
)
FUNCTION_SCHEMA = {
    "type": "object",
    "properties": {"query": {"type": "string", "description": "The search query"}},
    "required": ["query"],
}


@dataclass(frozen=True, slots=True)
class SearchTool:
    """The client's web search server tool: its name and options."""

    name: str
    max_uses: int | None = None
    allowed_domains: list[str] = field(default_factory=list)
    blocked_domains: list[str] = field(default_factory=list)


def find_search_tool(request: anthropic.MessagesRequest) -> SearchTool | None:
    """The request's web search server tool, if it has one. ``InvalidRequest`` when its
    options are malformed, when both domain lists are given (Anthropic refuses that too) or
    when another tool has the same name."""
    found: SearchTool | None = None
    others: list[str] = []
    for raw_tool in request.tools or ():
        name = _name(raw_tool)
        server_tool = _search_server_tool(raw_tool, name)
        if server_tool is not None and found is None:
            found = _options(server_tool.name, msgspec.json.decode(raw_tool))
        else:
            others.append(name)
    if found is not None and found.name in others:
        raise InvalidRequest(f"tools: the name {found.name!r} is used by two tools")
    return found


def offers_search(request: anthropic.MessagesRequest) -> bool:
    """Whether the request offers a web search server tool (a quick look)."""
    return any(_search_server_tool(raw_tool) is not None for raw_tool in request.tools or ())


def _search_server_tool(raw_tool: msgspec.Raw, name: str | None = None) -> anthropic.ServerTool | None:
    """``raw_tool`` (named ``name``, when known) as a web search server tool, or ``None`` when
    it is another tool (or malformed: the translation names it). Anthropic's web search tool
    is always named ``web_search``: other names are ruled out from the definition's first
    bytes, without decoding it."""
    if (_name(raw_tool) if name is None else name) != SEARCH_NAME:
        return None
    try:
        tool = anthropic.decode_tool(raw_tool)
    except anthropic.DECODE_ERRORS:
        return None
    if isinstance(tool, anthropic.ServerTool) and tool.type.startswith(SEARCH_TOOL_PREFIX):
        return tool
    return None


def _name(raw_tool: msgspec.Raw) -> str:
    try:
        return anthropic.tool_name(raw_tool)
    except anthropic.DECODE_ERRORS:
        return ""


def _options(name: str, options: dict[str, Any]) -> SearchTool:
    max_uses = options.get("max_uses")
    if max_uses is not None and (not isinstance(max_uses, int) or isinstance(max_uses, bool) or max_uses < 1):
        raise InvalidRequest(f"tools: {name}.max_uses must be a positive integer")
    allowed = _domains(name, options, "allowed_domains")
    blocked = _domains(name, options, "blocked_domains")
    if allowed and blocked:
        raise InvalidRequest(f"tools: {name} takes allowed_domains or blocked_domains, not both")
    return SearchTool(name, max_uses, allowed, blocked)


def _domains(name: str, options: dict[str, Any], key: str) -> list[str]:
    value = options.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(d, str) and d.strip() for d in value):
        raise InvalidRequest(f"tools: {name}.{key} must be a list of domain names")
    return [normalise(d) for d in value]


def function_tool(tool: SearchTool) -> msgspec.Raw:
    """The function the upstream is offered in place of the server tool."""
    return anthropic.raw(
        {"name": tool.name, "description": FUNCTION_DESCRIPTION, "input_schema": FUNCTION_SCHEMA}
    )


def has_search_blocks(request: anthropic.MessagesRequest) -> bool:
    """Whether an assistant message of the conversation holds web search blocks."""
    for message in request.messages:
        if message.role == "assistant" and isinstance(message.content, list):
            data = b"".join(message.content)  # one scan per message
            if b'"server_tool_use"' in data or b'"web_search_tool_result"' in data:
                return True
    return False


def for_upstream(request: anthropic.MessagesRequest, tool: SearchTool | None) -> anthropic.MessagesRequest:
    """``request`` as the OpenAI-format upstream can take it: the server tool as a function,
    the search blocks as tool calls and results."""
    changes: dict[str, Any] = {"messages": rewrite_history(request.messages)}
    if tool is not None and request.tools is not UNSET:
        changes["tools"] = [
            function_tool(tool) if _is_search_tool(raw, tool.name) else raw for raw in request.tools
        ]
    return request.replace(**changes)


def _is_search_tool(raw_tool: msgspec.Raw, name: str) -> bool:
    tool = _search_server_tool(raw_tool)
    return tool is not None and tool.name == name


def rewrite_history(messages: list[anthropic.Message]) -> list[anthropic.Message]:
    """The conversation with every assistant message that holds search blocks split up."""
    rewritten: list[anthropic.Message] = []
    for message in messages:
        if message.role == "assistant" and isinstance(message.content, list) \
                and any(_plain(raw) is not None for raw in message.content):
            rewritten.extend(_split(message.content))
        else:
            rewritten.append(message)
    return rewritten


def _split(content: list[msgspec.Raw]) -> list[anthropic.Message]:
    """One assistant message's blocks as assistant and user messages (see the module)."""
    out: list[anthropic.Message] = []
    said: list[msgspec.Raw] = []
    results: list[msgspec.Raw] = []
    queries: dict[str, str] = {}

    def flush_said() -> None:
        """The assistant message before a result; the client's own calls wait until after
        the results, so that the client's answers to them follow them directly."""
        waiting = [_is_client_call(raw, queries) for raw in said]
        kept = [raw for raw, wait in zip(said, waiting, strict=True) if not wait]
        if kept:
            out.append(anthropic.Message(role="assistant", content=kept))
        said[:] = [raw for raw, wait in zip(said, waiting, strict=True) if wait]

    def flush_results() -> None:
        if results:
            out.append(anthropic.Message(role="user", content=list(results)))
            results.clear()

    for raw_block in content:
        block = _plain(raw_block)
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == RESULT_BLOCK and isinstance(block.get("tool_use_id"), str):
            flush_said()
            tool_use_id = block["tool_use_id"]
            text, is_error = result_text(queries.get(tool_use_id, ""), block.get("content"))
            results.append(anthropic.raw(
                {"type": "tool_result", "tool_use_id": tool_use_id, "content": text, "is_error": is_error}
            ))
            continue
        flush_results()
        if kind == CALL_BLOCK and isinstance(block.get("id"), str) and block.get("name") == SEARCH_NAME:
            arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
            query = arguments.get("query")
            queries[block["id"]] = query if isinstance(query, str) else ""
            call = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": arguments}
            said.append(anthropic.raw(call))
        else:
            said.append(raw_block)
    flush_results()
    if said:  # what follows the last results (the client's own calls among it)
        out.append(anthropic.Message(role="assistant", content=list(said)))
    return out or [anthropic.Message(role="assistant", content=content)]


def _is_client_call(raw_block: msgspec.Raw, searches: dict[str, str]) -> bool:
    """Whether a block is a call of one of the client's tools (not a search)."""
    return _kind(raw_block) == "tool_use" and _tool_use_id(raw_block) not in searches


def _kind(raw_block: msgspec.Raw) -> str | None:
    try:
        return anthropic.block_type(raw_block)
    except anthropic.DECODE_ERRORS:
        return None


def _tool_use_id(raw_block: msgspec.Raw) -> str | None:
    try:
        block = anthropic.decode_block(raw_block)
    except anthropic.DECODE_ERRORS:
        return None
    return block.id if isinstance(block, anthropic.ToolUseBlock) else None


def _plain(raw_block: msgspec.Raw) -> Any:
    """A block as plain data when it may be a search block; ``None`` otherwise or when
    unreadable (it goes on as it came, and the translation says what is wrong)."""
    data = bytes(raw_block)
    if b'"server_tool_use"' not in data and b'"web_search_tool_result"' not in data:
        return None
    try:
        return msgspec.json.decode(data)
    except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
        return None
