"""A Chat Completions request, as clients send it, translated into the core's Messages request.

``decode_chat_request`` reads the body (lenient about the many optional
fields clients send; ``n`` other than 1 is refused); ``to_messages_request``
builds the Anthropic request the pipeline runs: system and developer
messages become the system prompt, tool calls and tool messages become
``tool_use`` and ``tool_result`` blocks, ``tool_choice``, ``response_format``,
``reasoning_effort``, ``stop``, the token limit and ``user`` their Messages
API counterparts.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw

from lynkr_core.errors import InvalidRequest
from lynkr_core.openai_api import build
from lynkr_core.openai_api.decode import decode_body
from lynkr_core.wire import anthropic


class FunctionCallIn(msgspec.Struct, kw_only=True):
    """A function call in an assistant message: its name and JSON arguments."""

    name: str
    arguments: str = ""


class ToolCallIn(msgspec.Struct, kw_only=True):
    """One tool call of an assistant message."""

    id: str
    function: FunctionCallIn
    type: str = "function"


class ChatMessageIn(msgspec.Struct, kw_only=True):
    """One message: ``system``, ``developer``, ``user``, ``assistant`` or ``tool``."""

    role: str
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None


class FunctionIn(msgspec.Struct, kw_only=True):
    """A function the model may call."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolIn(msgspec.Struct, kw_only=True):
    """``{"type": "function", "function": {...}}``."""

    function: FunctionIn
    type: str = "function"


class StreamOptionsIn(msgspec.Struct, kw_only=True):
    """``stream_options``."""

    include_usage: bool = False


class ResponseFormatIn(msgspec.Struct, kw_only=True):
    """``response_format``: ``text``, ``json_object`` or ``json_schema``."""

    type: str
    json_schema: dict[str, Any] | None = None


class ChatRequestIn(msgspec.Struct, kw_only=True):
    """``POST /v1/chat/completions`` as a client sends it (unknown fields are ignored)."""

    model: str
    messages: list[ChatMessageIn]
    stream: bool | None = None
    stream_options: StreamOptionsIn | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: str | list[str] | None = None
    n: int | None = None
    tools: list[ToolIn] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormatIn | None = None
    reasoning_effort: str | None = None
    user: str | None = None

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with a usage chunk."""
        return self.stream_options is not None and self.stream_options.include_usage


_decoder = msgspec.json.Decoder(ChatRequestIn)


def decode_chat_request(body: bytes) -> ChatRequestIn:
    """Decode and check a Chat Completions body; ``InvalidRequest`` says what is wrong."""
    request = decode_body(body, _decoder)
    if not request.model.strip():
        raise InvalidRequest("model: must not be empty")
    if request.n is not None and request.n != 1:
        raise InvalidRequest("n: lynkr returns one choice; only n=1 is supported")
    if not request.messages:
        raise InvalidRequest("messages: must not be empty")
    return request


def to_messages_request(request: ChatRequestIn) -> anthropic.MessagesRequest:
    """The Messages request the pipeline runs for ``request``."""
    conversation = _conversation(request.messages)
    fields: dict[str, Any] = {}
    requested = request.max_completion_tokens if request.max_completion_tokens is not None else request.max_tokens
    where = "max_completion_tokens" if request.max_completion_tokens is not None else "max_tokens"
    max_tokens = build.max_tokens_for(request.model, requested, where)
    if request.tools:
        fields["tools"] = [_tool(tool, i) for i, tool in enumerate(request.tools)]
        choice = build.tool_choice(request.tool_choice, request.parallel_tool_calls, "tool_choice")
        if choice is not None:
            fields["tool_choice"] = choice
    if request.stop:
        fields["stop_sequences"] = [request.stop] if isinstance(request.stop, str) else list(request.stop)
    if request.temperature is not None:
        fields["temperature"] = request.temperature
    if request.top_p is not None:
        fields["top_p"] = request.top_p
    if request.user:
        fields["metadata"] = anthropic.raw({"user_id": request.user})
    thinking = build.thinking_for(request.reasoning_effort, max_tokens, "reasoning_effort")
    if thinking is not None:
        fields["thinking"] = thinking
    if request.response_format is not None:
        _apply_format(request.response_format, conversation, fields)
    system, messages = conversation.finish()
    return anthropic.MessagesRequest(
        model=request.model,
        messages=messages,
        max_tokens=max_tokens,
        system=system,
        stream=bool(request.stream),
        **fields,
    )


def _tool(tool: ToolIn, index: int) -> Raw:
    if tool.type != "function":
        raise InvalidRequest(f"tools[{index}].type: only function tools are supported, not {tool.type!r}")
    function = tool.function
    return build.tool_definition(function.name, function.description, function.parameters)


def _apply_format(fmt: ResponseFormatIn, conversation: build.Conversation, fields: dict[str, Any]) -> None:
    if fmt.type == "json_object":
        conversation.add_system(build.JSON_OBJECT_INSTRUCTION)
    elif fmt.type == "json_schema":
        spec = fmt.json_schema or {}
        fields["output_config"] = build.output_format("json_schema", spec.get("schema"), "response_format.json_schema")
    elif fmt.type != "text":
        raise InvalidRequest(f"response_format.type: unknown format {fmt.type!r}")


def _conversation(messages: list[ChatMessageIn]) -> build.Conversation:
    conversation = build.Conversation()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.role in ("system", "developer"):
            conversation.add_system(_plain_text(message.content, where))
        elif message.role == "user":
            conversation.add("user", _user_blocks(message.content, where))
        elif message.role == "assistant":
            conversation.add("assistant", _assistant_blocks(message, where))
        elif message.role == "tool":
            if not message.tool_call_id:
                raise InvalidRequest(f"{where}.tool_call_id: a tool message needs the id of its call")
            output = _plain_text(message.content, where)
            conversation.add("user", [build.tool_result_block(message.tool_call_id, output)])
        else:
            raise InvalidRequest(f"{where}.role: unknown role {message.role!r}")
    return conversation


def _plain_text(content: str | list[dict[str, Any]] | None, where: str) -> str:
    """The text of a string or of a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for index, part in enumerate(content):
        if part.get("type") not in ("text", "input_text", "output_text") or not isinstance(part.get("text"), str):
            raise InvalidRequest(f"{where}.content[{index}]: only text parts are allowed here")
        texts.append(part["text"])
    return "\n".join(texts)


def _user_blocks(content: str | list[dict[str, Any]] | None, where: str) -> list[Raw]:
    if content is None:
        raise InvalidRequest(f"{where}.content: a user message needs content")
    if isinstance(content, str):
        return [build.text_block(content)]
    blocks = []
    for index, part in enumerate(content):
        place = f"{where}.content[{index}]"
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append(build.text_block(part["text"]))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise InvalidRequest(f"{place}.image_url: needs a url")
            blocks.append(build.image_block(url, f"{place}.image_url.url"))
        else:
            raise InvalidRequest(f"{place}.type: content part {kind!r} is not supported (text and image_url are)")
    return blocks


def _assistant_blocks(message: ChatMessageIn, where: str) -> list[Raw]:
    blocks = []
    text = _plain_text(message.content, where) if message.content is not None else ""
    if text:
        blocks.append(build.text_block(text))
    for index, call in enumerate(message.tool_calls or ()):
        place = f"{where}.tool_calls[{index}].function"
        blocks.append(build.tool_use_block(call.id, call.function.name, call.function.arguments, place))
    return blocks

