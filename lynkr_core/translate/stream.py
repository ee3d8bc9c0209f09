"""An OpenAI Chat Completions stream as Anthropic Messages API events.

``StreamTranslator`` turns chunks into events, one content block per run:
a thinking run (``reasoning_content``, ``reasoning``, Databricks reasoning
parts), a text run, and one block per tool call. Switching from one kind to
another closes the open block; block indices are 0..n-1 in order, no gaps.
``translate_stream`` drives it over an async iterator of chunks and yields
SSE frames, with ``ping`` frames where the reader marks the upstream idle.

Tool calls. Fragments arrive by ``index``; the first fragment of a call
carries its id and name, and several calls may interleave (0, 1, 0, 1...).
Anthropic allows one open block at a time and a closed block cannot grow,
so:

- the first call (a call with a name, while no tool block is open) is
  streamed *live*: its block opens at once and its arguments go out as
  ``input_json_delta`` events as they come, even after other calls have
  started, as far as they are a strict JSON object that no repair will
  change (``StreamedArguments``): the rest waits, and is sent repaired
  (code fence, trailing commas, double encoding, Python literals) when the
  call ends;
- every other call is *buffered*; at ``finish()`` the live block is closed
  and each buffered call is sent whole, in index order: its block start, one
  ``input_json_delta`` with the arguments (repaired by ``parse_arguments``
  and re-encoded), its block stop;
- text or thinking arriving while the live block is open closes it; a later
  call can then go live (its buffered fragments are sent as one delta).
  Arguments for a call whose block is already closed raise ``UpstreamError``.

Arguments that cannot be repaired into a JSON object raise ``UpstreamError``
(the client sees an error event, not a broken call). A call with no
arguments gets a ``"{}"`` delta. A call cut by ``finish_reason: length`` is
not repaired: its block gets the arguments as far as they are valid JSON and
is closed, and the message ends with ``stop_reason: max_tokens``, as
Anthropic ends a tool call cut by ``max_tokens``. Tool calls printed as text
(``tool_text``) are sent whole as soon as the extractor reports them.

The ``message_delta`` (stop reason and usage) is only sent by ``finish()``,
once the upstream has ended, because usage often comes in a last chunk with
no choices, after the ``finish_reason``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from lynkr_core.errors import UpstreamError
from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.pieces import Piece, TextPiece, ToolCallPiece, ToolTextFactory
from lynkr_core.translate.response import (
    ReasoningPart,
    malformed_arguments_error,
    new_message_id,
    new_tool_id,
    split_content,
    stop_reason_for,
    upstream_error,
    usage_from,
)
from lynkr_core.translate.streamed_arguments import StreamedArguments
from lynkr_core.translate.think_tags import ThinkTagMode, ThinkTagSplitter
from lynkr_core.translate.thinking import ThinkingSigner, merge_reasoning_details
from lynkr_core.translate.tool_names import ToolNames
from lynkr_core.wire import anthropic, events, openai

_Kind = Literal["thinking", "text", "tool"]
_encode = msgspec.json.Encoder().encode
_THINKING_SHELL = {"type": "thinking", "thinking": "", "signature": ""}
_TEXT_SHELL = {"type": "text", "text": ""}


@dataclass(slots=True)
class _Call:
    """One upstream tool call being received."""

    index: int
    seq: int
    id: str
    upstream_id: str  # the id the upstream gave the call ("" for none), which ``id`` may not be
    name: str = ""
    arguments: StreamedArguments = field(default_factory=StreamedArguments)
    state: Literal["buffered", "live", "done"] = "buffered"


class StreamTranslator:
    """Turns the chunks of one Chat Completions stream into Messages API events.

    Call ``start()`` once, ``feed()`` for each chunk, then ``finish()`` when
    the upstream has ended. ``feed`` and ``finish`` raise ``UpstreamError``
    for an error chunk and for tool-call arguments that cannot be sent as a
    JSON object. ``model`` is the client's model name; ``input_tokens`` is the
    estimate sent in ``message_start`` (the upstream's count, when it gives
    one, comes in ``message_delta``). ``signer`` signs each thinking block: its
    ``signature_delta`` goes out just before the block's ``content_block_stop``,
    as Anthropic streams it. ``think_tags`` splits ``<think>`` blocks off the
    content (``think_tags``).
    """

    def __init__(
        self,
        *,
        model: str,
        message_id: str | None = None,
        input_tokens: int = 0,
        stop_sequences: Sequence[str] = (),
        tool_text: ToolTextFactory | None = None,
        tool_names: ToolNames | None = None,
        signer: ThinkingSigner | None = None,
        think_tags: ThinkTagMode = "off",
    ) -> None:
        self._model = model
        self._signer = signer
        self._splitter = ThinkTagSplitter(think_tags) if think_tags != "off" else None
        #: The open thinking block's text and OpenRouter details, for its signature.
        self._thought: list[str] = []
        self._details: list[Any] = []
        self._names = tool_names if tool_names is not None else ToolNames()
        self._message_id = message_id or new_message_id()
        self._input_tokens = input_tokens
        self._stop_sequences = tuple(stop_sequences)
        self._extractor = tool_text() if tool_text is not None else None
        self._next_index = 0
        self._open: _Kind | None = None
        self._signature: str | None = None
        self._calls: list[_Call] = []
        self._ids: set[str] = set()
        self._by_index: dict[int, _Call] = {}
        self._live: _Call | None = None
        self._tool_use = False
        self._refused = False
        self._finish_reason: str | None = None
        self._matched_stop: str | int | None = None
        self._usage: openai.UsageOut | None = None
        self._finished_stream = False

    @property
    def finished(self) -> bool:
        """Whether the upstream sent a ``finish_reason``."""
        return self._finish_reason is not None

    def start(self) -> list[events.StreamEvent]:
        """``[message_start]``: the message with no content and the input token estimate."""
        message = anthropic.MessageResponse(
            id=self._message_id,
            model=self._model,
            content=[],
            usage=anthropic.Usage(input_tokens=self._input_tokens, output_tokens=0),
        )
        return [events.MessageStart(message=message)]

    def feed(self, chunk: openai.ChatCompletionChunk) -> list[events.StreamEvent]:
        """The events for one chunk (often none)."""
        if chunk.error is not None:
            raise upstream_error(chunk.error)
        if chunk.usage is not None:
            self._usage = chunk.usage
        out: list[events.StreamEvent] = []
        for choice in chunk.choices:
            if choice.index == 0:
                self._choice(choice, out)
        return out

    def finish(self) -> list[events.StreamEvent]:
        """Close the open block, send the buffered tool calls, then ``message_delta``
        (stop reason and usage) and ``message_stop``. A second call gives nothing."""
        if self._finished_stream:
            return []
        self._finished_stream = True  # from here a live call is closed by the end of the answer
        out: list[events.StreamEvent] = []
        if self._splitter is not None:
            self._runs(self._splitter.finish(), out)
        if self._extractor is not None:
            self._pieces(self._extractor.finish(), out)
        self._close(out)
        buffered = [call for call in self._calls if call.state == "buffered"]
        for call in sorted(buffered, key=lambda c: (c.index, c.seq)):
            if not call.name:
                raise UpstreamError(
                    "upstream model returned a tool call without a name", status=502
                )
            try:
                arguments = parse_arguments(call.arguments.text())
            except MalformedArguments as exc:
                if self._finish_reason != "length":
                    raise malformed_arguments_error(call.name, str(exc)) from exc
                self._go_live(call, out)  # cut short: as far as it is valid JSON, then closed
                self._close(out)
                continue
            self._whole_tool(call.id, call.name, arguments, out)
            call.state = "done"
        stop_reason, stop_sequence = stop_reason_for(
            self._finish_reason,
            tool_use=self._tool_use,
            refused=self._refused,
            matched_stop=self._matched_stop,
            stop_sequences=self._stop_sequences,
        )
        out.append(
            events.MessageDelta(
                delta=events.MessageDeltaBody(stop_reason=stop_reason, stop_sequence=stop_sequence),
                usage=self._delta_usage(),
            )
        )
        out.append(events.MessageStop())
        return out

    # ------------------------------------------------------------ one choice

    def _choice(self, choice: openai.ChunkChoice, out: list[events.StreamEvent]) -> None:
        delta = choice.delta
        reasoning = delta.reasoning_content or delta.reasoning
        details = delta.reasoning_details if self._signer is not None else None
        if reasoning or details:
            self._thinking(reasoning or "", None, out, details)
        for part in split_content(delta.content):
            if isinstance(part, ReasoningPart):
                self._thinking(part.text, part.signature, out)
            else:
                self._text(part, out)
        if delta.refusal:
            self._refused = True
            self._plain_text(delta.refusal, out)
        if delta.tool_calls and self._splitter is not None:
            self._runs(self._splitter.flush(), out)
        for fragment in delta.tool_calls or []:
            self._tool_fragment(fragment, out)
        if choice.finish_reason == "error":
            raise UpstreamError("upstream stream failed (finish_reason error)", status=502)
        if choice.finish_reason:
            self._finish_reason = choice.finish_reason
            self._matched_stop = choice.stop_reason

    def _thinking(
        self, text: str, signature: str | None, out: list[events.StreamEvent], details: list[Any] | None = None
    ) -> None:
        if text:
            # a signature ends a thinking block: more thinking after it is a new block
            if self._open != "thinking" or self._signature is not None:
                self._open_block("thinking", _THINKING_SHELL, out)
            out.append(self._delta(events.ThinkingDelta(thinking=text)))
            self._thought.append(text)
        if details:
            if self._open != "thinking":
                self._open_block("thinking", _THINKING_SHELL, out)
            self._details.extend(details)
        if signature:
            if self._open != "thinking":
                self._open_block("thinking", _THINKING_SHELL, out)
            self._signature = signature

    def _text(self, text: str, out: list[events.StreamEvent]) -> None:
        if self._splitter is not None:
            if text:
                self._runs(self._splitter.feed(text), out)
        else:
            self._content_text(text, out)

    def _runs(self, runs: list[tuple[bool, str]], out: list[events.StreamEvent]) -> None:
        for is_thinking, text in runs:
            if is_thinking:
                self._thinking(text, None, out)
            else:
                self._content_text(text, out)

    def _content_text(self, text: str, out: list[events.StreamEvent]) -> None:
        if self._extractor is None:
            self._plain_text(text, out)
        elif text:
            self._pieces(self._extractor.feed(text), out)

    def _plain_text(self, text: str, out: list[events.StreamEvent]) -> None:
        if not text:
            return
        if self._open != "text":
            self._open_block("text", _TEXT_SHELL, out)
        out.append(self._delta(events.TextDelta(text=text)))

    def _pieces(self, pieces: list[Piece], out: list[events.StreamEvent]) -> None:
        for piece in pieces:
            if isinstance(piece, TextPiece):
                self._plain_text(piece.text, out)
            elif isinstance(piece, ToolCallPiece):
                self._whole_tool(new_tool_id(), self._names.original(piece.name), piece.arguments, out)

    # ------------------------------------------------------------ tool calls

    def _tool_fragment(self, fragment: openai.ToolCallOut, out: list[events.StreamEvent]) -> None:
        call = self._call_for(fragment)
        function = fragment.function
        if function is not None and function.name and not call.name:
            call.name = self._names.original(function.name)
        arguments = (function.arguments if function is not None else None) or ""
        if call.state == "done":
            if arguments:
                raise UpstreamError(
                    f"upstream model sent arguments for tool {call.name} after its block was closed",
                    status=502,
                )
            return
        call.arguments.feed(arguments)
        if call.state == "live":
            self._send_arguments(call.arguments.take(), out)
            return
        if call.name and self._open != "tool":
            self._go_live(call, out)

    def _call_for(self, fragment: openai.ToolCallOut) -> _Call:
        """The call a fragment belongs to, made new for its first fragment.

        A fragment with no ``index`` belongs to the last call unless it has a
        new id; a fragment whose id differs from its index's call starts a new
        call (some servers give every call index 0).
        """
        if fragment.index is not None:
            call = self._by_index.get(fragment.index)
        else:
            call = self._calls[-1] if self._calls else None
        if call is not None and not (fragment.id and call.upstream_id and fragment.id != call.upstream_id):
            return call
        index = fragment.index if fragment.index is not None else len(self._calls)
        call = _Call(
            index=index,
            seq=len(self._calls),
            # an id the upstream repeats would give two tool_use blocks one id
            id=fragment.id if fragment.id and fragment.id not in self._ids else new_tool_id(),
            upstream_id=fragment.id or "",
        )
        self._ids.add(call.id)
        self._calls.append(call)
        self._by_index[index] = call
        return call

    def _go_live(self, call: _Call, out: list[events.StreamEvent]) -> None:
        """Open ``call``'s block and send what it has so far."""
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        self._open_block("tool", block, out)
        self._live = call
        call.state = "live"
        self._send_arguments(call.arguments.take(), out)

    def _send_arguments(self, text: str, out: list[events.StreamEvent]) -> None:
        if text:
            out.append(self._delta(events.InputJsonDelta(partial_json=text)))

    def _close_live(self, out: list[events.StreamEvent]) -> None:
        """Send the rest of the live call's arguments, repaired, before its block stops;
        for a call cut by ``length`` (the answer ends with it), what it has as far as it is
        valid JSON."""
        call = self._live
        assert call is not None
        self._live = None
        call.state = "done"
        self._tool_use = True
        if self._finished_stream and self._finish_reason == "length":
            self._send_arguments(call.arguments.truncated(), out)
            return
        try:
            self._send_arguments(call.arguments.finish(), out)
        except MalformedArguments as exc:
            raise malformed_arguments_error(call.name, str(exc)) from exc

    def _whole_tool(
        self, tool_id: str, name: str, arguments: dict[str, Any], out: list[events.StreamEvent]
    ) -> None:
        """A complete tool call as its own block: start, one delta, stop."""
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
        self._open_block("tool", block, out)
        self._live = None
        out.append(self._delta(events.InputJsonDelta(partial_json=_encode(arguments).decode())))
        out.append(events.ContentBlockStop(index=self._next_index - 1))
        self._open = None
        self._tool_use = True

    # ------------------------------------------------------------ blocks

    def _open_block(
        self, kind: _Kind, block: dict[str, Any], out: list[events.StreamEvent]
    ) -> None:
        self._close(out)
        out.append(
            events.ContentBlockStart(index=self._next_index, content_block=anthropic.raw(block))
        )
        self._next_index += 1
        self._open = kind

    def _close(self, out: list[events.StreamEvent]) -> None:
        if self._open is None:
            return
        if self._open == "thinking":
            signature = self._signature
            if self._signer is not None:
                details = merge_reasoning_details(self._details) if self._details else None
                signature = self._signer.sign("".join(self._thought), signature=signature, details=details)
            if signature is not None:
                out.append(self._delta(events.SignatureDelta(signature=signature)))
            self._thought = []
            self._details = []
        if self._open == "tool" and self._live is not None:
            self._close_live(out)
        self._signature = None
        self._open = None
        out.append(events.ContentBlockStop(index=self._next_index - 1))

    def _delta(self, delta: events.Delta) -> events.ContentBlockDelta:
        return events.ContentBlockDelta(index=self._next_index - 1, delta=delta)

    def _delta_usage(self) -> events.MessageDeltaUsage:
        if self._usage is None:
            # no upstream count: keep message_start's estimate for the input
            return events.MessageDeltaUsage(output_tokens=0)
        usage = usage_from(self._usage)
        return events.MessageDeltaUsage(
            output_tokens=usage.output_tokens,
            input_tokens=usage.input_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
        )


# --------------------------------------------------------------------------- #
# Driving it


_PING = events.event_frame(events.Ping())


async def translate_stream(
    chunks: AsyncIterator[openai.ChatCompletionChunk | list[openai.ChatCompletionChunk] | None],
    translator: StreamTranslator,
) -> AsyncIterator[bytes]:
    """The SSE frames for an upstream stream of chunks.

    ``chunks`` gives single chunks or lists of them (the chunks that came in
    one read: their events go out as one piece of bytes, one write to the
    client instead of one per event). A ``None`` means the upstream has been
    silent for a while (the reader decides how long, see
    ``OpenAIChatProvider``): a ``ping`` frame goes out. Nothing here waits
    with a timer of its own, so a chunk costs no task and no timer.

    ``message_start`` is held back until a chunk has something to say (or a
    ping is due), so an upstream that fails before saying anything fails
    before the client got a byte, and can still be retried or failed over.
    Then come the events of each chunk and the closing events. Raises
    ``UpstreamError`` when the upstream ends without a ``finish_reason``,
    without closing the message (the caller turns it into an SSE error event,
    and Claude Code retries). Closing this generator closes ``chunks``.
    """
    opening = [events.event_frame(event) for event in translator.start()]
    try:
        async for chunk in chunks:
            if chunk is None:
                for frame in opening:
                    yield frame
                opening = []
                yield _PING
                continue
            batch = chunk if isinstance(chunk, list) else (chunk,)
            frames: list[bytes] = []
            try:
                for one in batch:
                    frames.extend(events.event_frame(e) for e in translator.feed(one))
            except UpstreamError:
                if frames:  # what came before the failure, as if it had come in its own read
                    yield b"".join(opening + frames)
                raise
            if frames:
                yield b"".join(opening + frames)
                opening = []
        if not translator.finished:
            raise UpstreamError("upstream stream ended before finish_reason", status=502)
        yield b"".join(opening + [events.event_frame(event) for event in translator.finish()])
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


