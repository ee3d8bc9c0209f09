"""Ollama's native ``/api/chat`` format, to and from OpenAI chat Structs.

Requests: images go as base64 in ``images``; tool calls carry their
arguments as objects; a tool result names its tool in ``tool_name``;
sampling settings sit in ``options``; thinking is ``think``.
Answers: one JSON object per line (NDJSON), tool calls whole in one line,
``done_reason`` and the token counts on the last line, ``{"error": ...}`` for
a failure, even in the middle of a stream.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec

from lynkr_core import ContextOverflow, UpstreamError, openai, translate

_decode = msgspec.json.decode


def chat_body(
    request: openai.ChatCompletionRequest,
    *,
    keep_alive: str = "",
    num_ctx: int | None = None,
) -> dict[str, Any]:
    """The ``/api/chat`` body for a translated request."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": _messages(request.messages),
        "stream": request.stream is True,
    }
    if isinstance(request.tools, list):
        body["tools"] = msgspec.to_builtins(request.tools)
    options: dict[str, Any] = {}
    max_tokens = request.max_tokens if isinstance(request.max_tokens, int) else request.max_completion_tokens
    if isinstance(max_tokens, int):
        options["num_predict"] = max_tokens
    for name in ("temperature", "top_p"):
        value = getattr(request, name)
        if isinstance(value, float | int):
            options[name] = value
    if isinstance(request.stop, list):
        options["stop"] = request.stop
    if num_ctx:
        options["num_ctx"] = num_ctx
    if options:
        body["options"] = options
    fmt = request.response_format
    if isinstance(fmt, openai.ResponseFormat):
        if isinstance(fmt.json_schema, openai.JsonSchemaFormat):
            body["format"] = fmt.json_schema.schema
        elif fmt.type == "json_object":
            body["format"] = "json"
    if isinstance(request.reasoning_effort, str):
        # gpt-oss takes a level; other thinking models a boolean.
        body["think"] = request.reasoning_effort if "gpt-oss" in request.model else True
    if keep_alive.strip():
        body["keep_alive"] = _keep_alive(keep_alive)
    return body


_SECONDS = re.compile(r"-?\d+(?:\.\d+)?")


def _keep_alive(value: str) -> str | int | float:
    """``keep_alive`` as Ollama reads it: a bare number is seconds and must be a JSON
    number (a string is parsed as a Go duration, so ``"-1"`` would be a 400)."""
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def _messages(messages: list[openai.ChatMessage]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": ""}
        if isinstance(message.content, str):
            item["content"] = message.content
        elif isinstance(message.content, list):
            texts, images = [], []
            for part in message.content:
                if isinstance(part, openai.TextPart):
                    texts.append(part.text)
                elif part.image_url.url.startswith("data:"):
                    images.append(part.image_url.url.partition(",")[2])
                else:
                    texts.append(f"[image: {part.image_url.url}]")
            item["content"] = "\n".join(texts)
            if images:
                item["images"] = images
        if isinstance(message.tool_calls, list):
            item["tool_calls"] = [
                {"function": {"name": call.function.name, "arguments": _arguments(call.function.arguments)}}
                for call in message.tool_calls
            ]
            names.update({call.id: call.function.name for call in message.tool_calls})
        if isinstance(message.tool_call_id, str) and message.tool_call_id in names:
            item["tool_name"] = names[message.tool_call_id]
        if isinstance(message.reasoning_content, str) and message.reasoning_content:
            item["thinking"] = message.reasoning_content  # an earlier turn's reasoning, sent back
        out.append(item)
    return out


def _arguments(text: str) -> Any:
    try:
        return _decode(text) if text.strip() else {}
    except msgspec.DecodeError:
        return {}


class _Function(msgspec.Struct):
    name: str = ""
    arguments: Any = None


class _ToolCall(msgspec.Struct):
    function: _Function = msgspec.field(default_factory=_Function)


class _Message(msgspec.Struct):
    role: str = "assistant"
    content: str = ""
    thinking: str | None = None
    tool_calls: list[_ToolCall] | None = None


class ChatLine(msgspec.Struct):
    """One line of an ``/api/chat`` answer (or the whole non-streamed answer)."""

    model: str = ""
    message: _Message | None = None
    done: bool = False
    done_reason: str | None = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    error: str | None = None


_line_decoder = msgspec.json.Decoder(ChatLine)


def decode_line(data: bytes) -> ChatLine:
    """Decode one answer line; ``UpstreamError`` for an error line or garbage."""
    try:
        line = _line_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise UpstreamError(f"ollama sent an unreadable line: {exc}") from exc
    if line.error:
        overflow = translate.find_overflow(line.error)
        if overflow is not None:  # a prompt over the window: never retried, reworded by the core
            raise ContextOverflow(f"ollama: {line.error}", tokens=overflow.tokens, maximum=overflow.maximum)
        raise UpstreamError(f"ollama: {line.error}")
    return line


class ChunkConverter:
    """Turns answer lines into OpenAI chunks, numbering tool calls across lines."""

    def __init__(self) -> None:
        self.calls = 0

    def chunk(self, line: ChatLine) -> openai.ChatCompletionChunk:
        """The chunk for one line; the last line carries finish reason and usage."""
        delta = openai.MessageOut()
        if line.message is not None:
            delta.content = line.message.content or None
            delta.reasoning = line.message.thinking or None
            if line.message.tool_calls:
                delta.tool_calls = [self._call(call) for call in line.message.tool_calls]
        finish = None
        usage = None
        if line.done:
            finish = "tool_calls" if self.calls else _FINISH.get(line.done_reason or "stop", "stop")
            usage = openai.UsageOut(
                prompt_tokens=line.prompt_eval_count or 0, completion_tokens=line.eval_count or 0
            )
        return openai.ChatCompletionChunk(
            model=line.model,
            choices=[openai.ChunkChoice(delta=delta, finish_reason=finish)],
            usage=usage,
        )

    def _call(self, call: _ToolCall) -> openai.ToolCallOut:
        index = self.calls
        self.calls += 1
        arguments = call.function.arguments
        return openai.ToolCallOut(
            index=index,
            id=f"call_{uuid.uuid4().hex[:24]}",
            type="function",
            function=openai.FunctionCallOut(
                name=call.function.name,
                arguments=arguments if isinstance(arguments, str) else msgspec.json.encode(arguments or {}).decode(),
            ),
        )


_FINISH = {"stop": "stop", "length": "length", "load": "stop", "unload": "stop"}


def completion(line: ChatLine) -> openai.ChatCompletion:
    """A non-streamed answer as an OpenAI completion."""
    chunk = ChunkConverter().chunk(line)
    choice = chunk.choices[0]
    return openai.ChatCompletion(
        model=line.model,
        choices=[openai.Choice(message=choice.delta, finish_reason=choice.finish_reason or "stop")],
        usage=chunk.usage,
    )
