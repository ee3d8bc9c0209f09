"""Pieces of the core's Anthropic request, built from what OpenAI-format clients send.

Shared by the Chat Completions and Responses translators: content blocks
(text, images, tool calls and results), tool definitions, ``tool_choice``,
reasoning effort as extended thinking, a JSON output format, and a
``Conversation`` that merges consecutive turns of one role (the Messages API
alternates user and assistant turns, and a tool result must be in the user
turn right after the call).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import UNSET, Raw

from lynkr_core.errors import InvalidRequest
from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.limits import output_limit
from lynkr_core.wire import anthropic

#: ``max_tokens`` when the client sets no limit (the Messages API needs one); lowered to
#: the model's documented output limit when that is smaller.
DEFAULT_MAX_TOKENS = 8192
#: Thinking budget for each OpenAI reasoning effort.
EFFORT_BUDGETS = {"low": 2048, "medium": 8192, "high": 24576, "xhigh": 32768}
#: Efforts that mean "no reasoning".
NO_REASONING = frozenset({"none", "minimal"})
#: The smallest thinking budget Claude accepts.
MIN_THINKING_BUDGET = 1024
#: What a ``json_object`` response format adds to the system prompt.
JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and nothing else."

_DATA_URL = re.compile(r"data:(?P<media>[\w.+-]+/[\w.+-]+)(?:;[^,;]*)*;base64,(?P<data>.*)", re.DOTALL)
_EMPTY_SCHEMA = {"type": "object", "properties": {}}


def raw_block(block: dict[str, Any]) -> Raw:
    """A content block (plain data) as the raw JSON a request carries."""
    return anthropic.raw(block)


def text_block(text: str) -> Raw:
    """A text block."""
    return raw_block({"type": "text", "text": text})


def image_block(url: str, where: str) -> Raw:
    """An image given as a ``data:`` URL (base64) or an ``http(s):`` URL."""
    match = _DATA_URL.fullmatch(url)
    if match is not None:
        source = {"type": "base64", "media_type": match["media"], "data": match["data"]}
    elif url.startswith(("https://", "http://")):
        source = {"type": "url", "url": url}
    else:
        raise InvalidRequest(f"{where}: an image must be a base64 data: URL or an http(s): URL")
    return raw_block({"type": "image", "source": source})


def tool_use_block(call_id: str, name: str, arguments: str, where: str) -> Raw:
    """A tool call the model made, with its JSON arguments parsed into ``input``."""
    try:
        tool_input = parse_arguments(arguments) if arguments.strip() else {}
    except MalformedArguments as exc:
        raise InvalidRequest(f"{where}: arguments are not a JSON object ({exc})") from None
    return raw_block({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})


def tool_result_block(call_id: str, output: str) -> Raw:
    """The result of a tool call."""
    return raw_block({"type": "tool_result", "tool_use_id": call_id, "content": output})


def tool_definition(name: str, description: str | None, parameters: dict[str, Any] | None) -> Raw:
    """A function the model may call, as a Messages API tool."""
    tool: dict[str, Any] = {"name": name, "input_schema": parameters or _EMPTY_SCHEMA}
    if description:
        tool["description"] = description
    return anthropic.raw(tool)


def tool_choice(choice: str | dict[str, Any] | None, parallel: bool | None, where: str) -> Raw | None:
    """OpenAI's ``tool_choice`` (and ``parallel_tool_calls``) as Anthropic's ``tool_choice``;
    ``None`` when the client said nothing."""
    config: dict[str, Any]
    if choice is None:
        if parallel is not False:
            return None
        config = {"type": "auto"}
    elif choice == "auto":
        config = {"type": "auto"}
    elif choice == "none":
        return anthropic.raw({"type": "none"})
    elif choice == "required":
        config = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidRequest(f"{where}: a function tool_choice needs the function's name")
        config = {"type": "tool", "name": name}
    else:
        raise InvalidRequest(f"{where}: must be 'auto', 'none', 'required' or a function")
    if parallel is False:
        config["disable_parallel_tool_use"] = True
    return anthropic.raw(config)


def max_tokens_for(model: str, requested: int | None, where: str) -> int:
    """The client's limit on output tokens, or the default for ``model``."""
    if requested is None:
        limit = output_limit(model)
        return DEFAULT_MAX_TOKENS if limit is None else min(DEFAULT_MAX_TOKENS, limit)
    if requested < 1:
        raise InvalidRequest(f"{where}: must be at least 1")
    return requested


def thinking_for(effort: str | None, max_tokens: int, where: str) -> Raw | None:
    """A reasoning effort as extended thinking with a token budget below ``max_tokens``;
    ``None`` for no effort, ``minimal``/``none``, or a limit too small to think within."""
    if effort is None or effort in NO_REASONING:
        return None
    budget = EFFORT_BUDGETS.get(effort)
    if budget is None:
        raise InvalidRequest(f"{where}: must be one of none, minimal, low, medium, high, xhigh")
    budget = min(budget, max_tokens - 1)
    if budget < MIN_THINKING_BUDGET:
        return None
    return anthropic.raw({"type": "enabled", "budget_tokens": budget})


def output_format(kind: str, schema: Any, where: str) -> Raw | None:
    """A ``json_schema`` response format as ``output_config``; ``None`` for other kinds."""
    if kind != "json_schema":
        return None
    if not isinstance(schema, dict):
        raise InvalidRequest(f"{where}: json_schema needs a 'schema' object")
    return anthropic.raw({"format": {"type": "json_schema", "schema": schema}})


class Conversation:
    """Turns appended in order; consecutive turns of one role become one message."""

    def __init__(self) -> None:
        self.system: list[str] = []
        self.messages: list[anthropic.Message] = []
        self._role: str | None = None
        self._blocks: list[Raw] = []

    def add(self, role: str, blocks: list[Raw]) -> None:
        """Append ``blocks`` as (part of) a ``role`` turn (``user`` or ``assistant``)."""
        if not blocks:
            return
        if role != self._role:
            self._flush()
            self._role = role
        self._blocks.extend(blocks)

    def add_system(self, text: str) -> None:
        """Add to the system prompt."""
        if text:
            self.system.append(text)

    def _flush(self) -> None:
        if self._role is not None and self._blocks:
            self.messages.append(anthropic.Message(role=self._role, content=self._blocks))
        self._role, self._blocks = None, []

    def finish(self) -> tuple[str | msgspec.UnsetType, list[anthropic.Message]]:
        """The system prompt (``UNSET`` when there is none) and the messages."""
        self._flush()
        if not self.messages:
            raise InvalidRequest("messages: the conversation has no user or assistant content")
        system = "\n\n".join(self.system) if self.system else UNSET
        return system, self.messages
