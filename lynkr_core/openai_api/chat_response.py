"""A complete Anthropic message as a ``chat.completion``.

Text blocks become ``content``, thinking ``reasoning_content``, ``tool_use``
blocks ``tool_calls`` (arguments as a JSON string), ``stop_reason`` the
``finish_reason``, and the usage OpenAI's counts.
"""

from __future__ import annotations

import msgspec

from lynkr_core.openai_api.outcome import ChatUsage, chat_usage, finish_reason, new_id, now
from lynkr_core.wire.anthropic import MessageResponse, TextBlock, ThinkingBlock, ToolUseBlock


class FunctionCallOut(msgspec.Struct, kw_only=True):
    """A function call: name and JSON arguments."""

    name: str
    arguments: str


class ToolCallOut(msgspec.Struct, kw_only=True):
    """One tool call of the answer."""

    id: str
    function: FunctionCallOut
    type: str = "function"


class AssistantMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The answer's message (``content`` is always written, ``null`` when empty)."""

    role: str
    content: str | None
    tool_calls: list[ToolCallOut] | None = None
    reasoning_content: str | None = None
    refusal: str | None = None


class CompletionChoice(msgspec.Struct, kw_only=True):
    """The one choice."""

    index: int
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletionOut(msgspec.Struct, kw_only=True):
    """``{"object": "chat.completion", ...}``."""

    id: str
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: ChatUsage
    object: str = "chat.completion"
    system_fingerprint: str | None = None


def chat_completion(message: MessageResponse, model: str) -> ChatCompletionOut:
    """``message`` as a chat completion answering for ``model`` (the client's model name)."""
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCallOut] = []
    for block in message.blocks():
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ThinkingBlock):
            thinking.append(block.thinking)
        elif isinstance(block, ToolUseBlock):
            arguments = msgspec.json.encode(block.input or {}).decode()
            calls.append(ToolCallOut(id=block.id, function=FunctionCallOut(name=block.name, arguments=arguments)))
    reply = AssistantMessage(
        role="assistant",
        content="".join(texts) if texts or not calls else None,
        tool_calls=calls or None,
        reasoning_content="".join(thinking) or None,
    )
    return ChatCompletionOut(
        id=new_id("chatcmpl-"),
        created=now(),
        model=model,
        choices=[CompletionChoice(index=0, message=reply, finish_reason=finish_reason(message.stop_reason))],
        usage=chat_usage(message.usage),
    )
