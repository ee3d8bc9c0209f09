"""An OpenAI Chat Completions answer as an Anthropic message.

``from_openai`` turns a complete (non-streaming) ``ChatCompletion`` into a
``MessageResponse``. The helpers below it (stop reason, usage, errors, the
Databricks list content) are shared with ``lynkr_core.translate.stream``, so
a streamed answer adds up to the same message as the complete one.

Content comes out in this order: thinking (``reasoning_content`` or
``reasoning``), then the content (Databricks list content keeps its own order
of thinking and text parts), then a refusal as text, then the tool calls.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import UNSET, Raw

from lynkr_core.errors import ContextOverflow, UpstreamError
from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.overflow import find_overflow
from lynkr_core.translate.pieces import (
    Piece,
    TextPiece,
    ToolCallPiece,
    ToolTextExtractor,
    ToolTextFactory,
)
from lynkr_core.translate.think_tags import ThinkTagMode, ThinkTagSplitter
from lynkr_core.translate.thinking import ThinkingSigner
from lynkr_core.translate.tool_names import ToolNames
from lynkr_core.wire import anthropic, openai

# --------------------------------------------------------------------------- #
# Shared with the stream translator


def new_message_id() -> str:
    """A fresh Anthropic-style message id: ``msg_`` and 24 random hex digits."""
    return "msg_" + secrets.token_hex(12)


def new_tool_id() -> str:
    """A fresh tool_use id, for calls the upstream gave none: ``toolu_`` and 24 hex digits."""
    return "toolu_" + secrets.token_hex(12)


def upstream_error(error: openai.ErrorOut) -> UpstreamError:
    """The client's error for an error object inside a 200 answer (OpenRouter does this).

    The status is ``error.code`` when it is an HTTP error status (400..599, an
    int or a string of digits), else 502. An error saying that the prompt does
    not fit the context window is a ``ContextOverflow`` (400, never retried).
    """
    raw = error.metadata.get("raw") if isinstance(error.metadata, dict) else None
    text = f"{error.message} {raw}" if isinstance(raw, str) else error.message
    overflow = find_overflow(text, error.code, error.type)
    if overflow is not None:
        return ContextOverflow(
            error.message or "upstream: context window exceeded",
            tokens=overflow.tokens,
            maximum=overflow.maximum,
        )
    code = error.code
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    status = code if isinstance(code, int) and 400 <= code <= 599 else 502
    return UpstreamError(error.message or "upstream returned an error", status=status)


def malformed_arguments_error(name: str, detail: str) -> UpstreamError:
    """The client's error for a tool call whose arguments are not a usable JSON object."""
    return UpstreamError(
        f"upstream model returned malformed arguments for tool {name}: {detail}", status=502
    )


_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "content_filter": "refusal",
}


def stop_reason_for(
    finish_reason: str | None,
    *,
    tool_use: bool,
    refused: bool = False,
    matched_stop: str | int | None = None,
    stop_sequences: Sequence[str] = (),
) -> tuple[str, str | None]:
    """The Anthropic ``(stop_reason, stop_sequence)`` for an OpenAI ``finish_reason``.

    ``length`` always gives ``max_tokens``; otherwise any ``tool_use`` block
    gives ``tool_use`` (some servers say ``stop`` with tool calls), and only a
    ``tool_use`` block does (``tool_calls`` without a call is ``end_turn``: a
    client told ``tool_use`` would look for a call to answer); a refusal
    or ``content_filter`` gives ``refusal``; ``stop`` with a ``matched_stop``
    (vLLM's choice ``stop_reason``) that is one of the request's
    ``stop_sequences`` gives ``stop_sequence``. Unknown or missing reasons
    give ``end_turn``.
    """
    if finish_reason == "length":
        return "max_tokens", None
    if tool_use:
        return "tool_use", None
    if refused:
        return "refusal", None
    if finish_reason == "stop" and isinstance(matched_stop, str) and matched_stop in stop_sequences:
        return "stop_sequence", matched_stop
    return _STOP_REASONS.get(finish_reason or "", "end_turn"), None


def usage_from(usage: openai.UsageOut | None) -> anthropic.Usage:
    """Anthropic usage from OpenAI usage (zeros when there is none).

    Prompt tokens read from the provider's cache (``prompt_tokens_details.cached_tokens``,
    DeepSeek's ``prompt_cache_hit_tokens``) become ``cache_read_input_tokens``, those
    written to it (``prompt_tokens_details.cache_write_tokens``: OpenRouter, OpenAI,
    llama.cpp) ``cache_creation_input_tokens``; both are taken out of ``input_tokens``,
    as Anthropic counts it. A cache field is left out when it is zero or unreported.
    """
    if usage is None:
        return anthropic.Usage(input_tokens=0, output_tokens=0)
    prompt = usage.prompt_tokens or 0
    details = usage.prompt_tokens_details
    read = (details.cached_tokens or 0) if details is not None else 0
    read = read or usage.prompt_cache_hit_tokens or 0
    written = (details.cache_write_tokens or 0) if details is not None else 0
    if not prompt and usage.prompt_cache_miss_tokens:  # DeepSeek's parts, without the whole
        prompt = read + usage.prompt_cache_miss_tokens
    return anthropic.Usage(
        input_tokens=max(prompt - read - written, 0),
        output_tokens=usage.completion_tokens or 0,
        cache_creation_input_tokens=written if written > 0 else UNSET,
        cache_read_input_tokens=read if read > 0 else UNSET,
    )


@dataclass(frozen=True, slots=True)
class ReasoningPart:
    """Thinking from a Databricks ``reasoning`` part: one summary item and its signature."""

    text: str
    signature: str | None = None


def split_content(content: str | list[Raw] | None) -> list[str | ReasoningPart]:
    """A message's (or delta's) ``content`` as text strings and reasoning parts, in order.

    A string is one text; a Databricks list gives its ``text`` parts as texts
    and one ``ReasoningPart`` per ``summary`` item of its ``reasoning`` parts.
    Unknown parts, and parts that are not the expected shape, are left out.
    """
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    out: list[str | ReasoningPart] = []
    for raw_part in content:
        try:
            part = msgspec.json.decode(raw_part)
        except msgspec.DecodeError:
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            out.append(part["text"])
        elif kind == "reasoning" and isinstance(part.get("summary"), list):
            out.extend(_summary_items(part["summary"]))
    return out


def _summary_items(summary: list[Any]) -> list[ReasoningPart]:
    items = []
    for item in summary:
        if not isinstance(item, dict) or item.get("type", "summary_text") != "summary_text":
            continue
        text = item.get("text")
        signature = item.get("signature")
        text = text if isinstance(text, str) else ""
        signature = signature if isinstance(signature, str) and signature else None
        if text or signature:
            items.append(ReasoningPart(text, signature))
    return items


# --------------------------------------------------------------------------- #
# The complete answer


def from_openai(
    completion: openai.ChatCompletion,
    *,
    model: str,
    message_id: str | None = None,
    stop_sequences: Sequence[str] = (),
    tool_text: ToolTextFactory | None = None,
    tool_names: ToolNames | None = None,
    signer: ThinkingSigner | None = None,
    think_tags: ThinkTagMode = "off",
) -> anthropic.MessageResponse:
    """The Anthropic message for a complete Chat Completions answer (its first choice).

    ``model`` is the name the client asked for, echoed back. ``tool_text``
    makes an extractor for tool calls printed as text (local models): the
    text is run through a fresh one. ``tool_names`` gives back the client's
    names of tools sent under another name (``tool_names``). A tool call cut
    by ``finish_reason: length`` before its arguments are whole is left out:
    the message ends with ``max_tokens``. ``signer`` signs the thinking blocks
    (``thinking``; without one they carry the upstream's signature or none);
    ``think_tags`` splits ``<think>`` blocks off the content as thinking
    (``think_tags``). Raises ``UpstreamError`` for an error
    inside the answer, an answer with no choices, and a tool call whose
    arguments are not a JSON object even after safe repairs.
    """
    if completion.error is not None:
        raise upstream_error(completion.error)
    if not completion.choices:
        raise UpstreamError("upstream returned no choices", status=502)
    choice = completion.choices[0]
    message = choice.message
    names = tool_names if tool_names is not None else ToolNames()
    blocks = _Blocks(tool_text() if tool_text is not None else None, names, signer, think_tags)

    reasoning = message.reasoning_content or message.reasoning
    details = message.reasoning_details if signer is not None else None
    if reasoning or details:
        blocks.thinking(reasoning or "", None, details)
    for part in split_content(message.content):
        if isinstance(part, ReasoningPart):
            blocks.thinking(part.text, part.signature)
        else:
            blocks.text(part)
    blocks.finish_text()
    if message.refusal:
        blocks.plain_text(message.refusal)
    ids: set[str] = set()
    for call in message.tool_calls or []:
        function = call.function or openai.FunctionCallOut()
        name = names.original(function.name or "")
        if not name:
            raise UpstreamError("upstream model returned a tool call without a name", status=502)
        try:
            arguments = parse_arguments(function.arguments or "")
        except MalformedArguments as exc:
            if choice.finish_reason == "length":
                continue  # cut by the output limit: the answer ends at max_tokens without it
            raise malformed_arguments_error(name, str(exc)) from exc
        # an id the upstream repeats would give two tool_use blocks one id
        tool_id = call.id if call.id and call.id not in ids else new_tool_id()
        ids.add(tool_id)
        blocks.tool_use(tool_id, name, arguments)

    stop_reason, stop_sequence = stop_reason_for(
        choice.finish_reason,
        tool_use=blocks.has_tool_use,
        refused=bool(message.refusal) or choice.finish_reason == "content_filter",
        matched_stop=choice.stop_reason,
        stop_sequences=stop_sequences,
    )
    return anthropic.MessageResponse(
        id=message_id or new_message_id(),
        model=model,
        content=[anthropic.raw(block) for block in blocks.blocks],
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        usage=usage_from(completion.usage),
    )


class _Blocks:
    """The content blocks of a message being built; adjacent text is merged into one block."""

    def __init__(
        self,
        extractor: ToolTextExtractor | None,
        names: ToolNames,
        signer: ThinkingSigner | None = None,
        think_tags: ThinkTagMode = "off",
    ) -> None:
        self.blocks: list[anthropic.ContentBlock] = []
        self.has_tool_use = False
        self._extractor = extractor
        self._names = names
        self._signer = signer
        self._splitter = ThinkTagSplitter(think_tags) if think_tags != "off" else None

    def thinking(self, text: str, signature: str | None, details: list[Any] | None = None) -> None:
        """A thinking block, signed by the signer when there is one."""
        if self._signer is not None:
            signature = self._signer.sign(text, signature=signature, details=details)
        self.blocks.append(anthropic.ThinkingBlock(thinking=text, signature=signature or ""))

    def text(self, text: str) -> None:
        """Content text: ``<think>`` blocks split off, the rest through the tool-text
        extractor when there is one."""
        if self._splitter is None:
            self._content_text(text)
        else:
            self._runs(self._splitter.feed(text))

    def finish_text(self) -> None:
        """The end of the content text: flush the splitter and the extractor."""
        if self._splitter is not None:
            self._runs(self._splitter.finish())
        if self._extractor is not None:
            self._pieces(self._extractor.finish())

    def _runs(self, runs: list[tuple[bool, str]]) -> None:
        for is_thinking, text in runs:
            if is_thinking:
                self.thinking(text, None)
            else:
                self._content_text(text)

    def _content_text(self, text: str) -> None:
        if self._extractor is None:
            self.plain_text(text)
        else:
            self._pieces(self._extractor.feed(text))

    def plain_text(self, text: str) -> None:
        if not text:
            return
        last = self.blocks[-1] if self.blocks else None
        if isinstance(last, anthropic.TextBlock):
            self.blocks[-1] = anthropic.TextBlock(text=last.text + text)
        else:
            self.blocks.append(anthropic.TextBlock(text=text))

    def tool_use(self, tool_id: str, name: str, arguments: dict[str, Any]) -> None:
        self.blocks.append(anthropic.ToolUseBlock(id=tool_id, name=name, input=arguments))
        self.has_tool_use = True

    def _pieces(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            if isinstance(piece, TextPiece):
                self.plain_text(piece.text)
            elif isinstance(piece, ToolCallPiece):
                self.tool_use(new_tool_id(), self._names.original(piece.name), piece.arguments)
