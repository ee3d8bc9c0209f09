"""A Claude Code conversation as a flat list of events: the user's prompts, tool calls,
their results, final answers. Pure functions over the wire types.

A Claude Code request carries the whole conversation so far; the reflector reads only
the messages it has not seen (``events(messages, start)``), so every event comes from
one message of one request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from lynkr_core import ToolCallRecord, anthropic
from lynkr_reflector import classify

#: What of a result's text is kept: enough for error classes and test summaries.
RESULT_HEAD = 3000
RESULT_TAIL = 3000


@dataclass(frozen=True, slots=True)
class Prompt:
    """The user typed a new request (a user turn with no tool results)."""

    index: int
    text: str


@dataclass(frozen=True, slots=True)
class Interjection:
    """The user wrote while a task ran: text beside tool results, or an interruption."""

    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ToolUse:
    """The model called a tool (``source``: ``client``, Claude Code's, or ``server``, lynkr's)."""

    index: int
    id: str
    name: str
    input: dict[str, Any]
    source: str = "client"


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The result of a tool call, by the call's id."""

    index: int
    tool_use_id: str
    is_error: bool
    text: str


@dataclass(frozen=True, slots=True)
class AnswerEnd:
    """The model answered without calling a tool: the task is over."""

    index: int


Event = Prompt | Interjection | ToolUse | ToolResult | AnswerEnd


def _blocks(message: anthropic.Message) -> list[Any]:
    try:
        return message.blocks()
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
        return []


def _clip(text: str) -> str:
    if len(text) <= RESULT_HEAD + RESULT_TAIL:
        return text
    return text[:RESULT_HEAD] + "\n...\n" + text[-RESULT_TAIL:]


def result_text(block: anthropic.ToolResultBlock) -> str:
    """A tool result's text (text blocks joined; images and the rest left out), clipped."""
    content = block.content
    if content is msgspec.UNSET:
        return ""
    if isinstance(content, str):
        return _clip(content)
    parts = []
    for raw in content:
        try:
            inner = anthropic.decode_block(raw)
        except (msgspec.MsgspecError, UnicodeDecodeError):
            continue
        if isinstance(inner, anthropic.TextBlock):
            parts.append(inner.text)
    return _clip("\n".join(parts))


def events(messages: Sequence[anthropic.Message], start: int = 0) -> list[Event]:
    """The events of ``messages[start:]``, in order."""
    found: list[Event] = []
    for index in range(start, len(messages)):
        found.extend(_message_events(index, messages[index]))
    return found


def _message_events(index: int, message: anthropic.Message) -> Iterator[Event]:
    if message.role == "assistant":
        called = False
        for block in _blocks(message):
            if isinstance(block, anthropic.ToolUseBlock):
                called = True
                yield ToolUse(index, block.id, block.name, block.input or {})
        if not called:
            yield AnswerEnd(index)
        return
    if message.role != "user":
        return  # Claude Code's mid-conversation "system" messages
    results: list[ToolResult] = []
    typed: list[str] = []
    for block in _blocks(message):
        if isinstance(block, anthropic.ToolResultBlock):
            results.append(ToolResult(index, block.tool_use_id, block.is_error is True, result_text(block)))
        elif isinstance(block, anthropic.TextBlock) and classify.typed_by_user(block.text):
            typed.append(block.text.strip())
    yield from results
    text = "\n".join(typed)
    if results and text:
        yield Interjection(index, text)
    elif text and classify.INTERRUPTED.match(text):
        yield Interjection(index, text)
    elif text:
        yield Prompt(index, text)


def server_events(calls: Sequence[ToolCallRecord], index: int) -> list[Event]:
    """lynkr's own tool calls (server mode), which the client's messages never show."""
    found: list[Event] = []
    for number, call in enumerate(calls):
        call_id = call.id or f"lynkr-{index}-{number}"
        arguments = call.input if isinstance(call.input, dict) else {}
        found.append(ToolUse(index, call_id, call.name, arguments, source="server"))
        found.append(ToolResult(index, call_id, call.is_error or call.refused,
                                "refused" if call.refused and not call.result else _clip(call.result)))
    return found


def answered(response: anthropic.MessageResponse | None) -> bool:
    """Whether ``response`` ends the task: an answer that calls no tool."""
    if response is None or response.stop_reason == "pause_turn":
        return False
    try:
        blocks = response.blocks()
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return False
    return not any(isinstance(block, anthropic.ToolUseBlock) for block in blocks)


# --------------------------------------------------------------------------- #
# Identities and the task at hand


def message_text(message: anthropic.Message) -> str:
    """What a message says, for fingerprints: its text, tool calls' ids and results' ids.
    Not its raw bytes: Claude Code moves ``cache_control`` from turn to turn."""
    if isinstance(message.content, str):
        return message.content
    parts = [message.role]
    for block in _blocks(message):
        if isinstance(block, anthropic.TextBlock):
            parts.append(block.text)
        elif isinstance(block, anthropic.ToolUseBlock):
            parts.append(f"use:{block.id}")
        elif isinstance(block, anthropic.ToolResultBlock):
            parts.append(f"result:{block.tool_use_id}")
    return "\x1f".join(parts)


def fingerprint(message: anthropic.Message) -> str:
    """A short stable digest of ``message_text``."""
    return hashlib.blake2b(message_text(message).encode(), digest_size=8).hexdigest()


def thread_key(session_id: str, messages: Sequence[anthropic.Message]) -> str:
    """One conversation of a session: the main one and each sub-agent's start with a
    different first message, and each keeps its own cursor."""
    root = fingerprint(messages[0]) if messages else "empty"
    return f"{session_id}/{root}"


_WORKING_DIRECTORY = re.compile(r"Primary working directory: (\S+)")


def working_directory(request: anthropic.MessagesRequest) -> str:
    """The client's working directory, as Claude Code's system prompt names it ("" if not)."""
    found = _WORKING_DIRECTORY.search(request.system_text())
    return found.group(1) if found else ""


def prompts_backwards(messages: Sequence[anthropic.Message]) -> Iterator[str]:
    """The user's prompts, latest first; only text blocks are decoded (tool results are
    skipped by their type)."""
    for message in reversed(messages):
        if message.role != "user":
            continue
        texts = [text for text in message.texts() if classify.typed_by_user(text)]
        if texts:
            yield "\n".join(texts)


def current_task_type(messages: Sequence[anthropic.Message], look_back: int = 4) -> str:
    """The task type of the user's last prompt; a prompt that names none ("no, the other
    file") takes the type of the one before (up to ``look_back`` prompts)."""
    for number, prompt in enumerate(prompts_backwards(messages)):
        kind = classify.task_type(prompt)
        if kind != classify.OTHER or number + 1 >= look_back:
            return kind
    return classify.OTHER
