"""How to script each bundled fake upstream, behind one interface: the `Scripting` a
`conformance.ProviderProfile` names.

The conformance suite asks for replies by what they mean (a text reply, a tool call, an
HTTP error, an error inside a stream, a stream that breaks off); a `Scripting` answers with
the script items of one kind of fake. `OpenAIScripting` serves `FakeOpenAI` in every
dialect, `OllamaScripting` `FakeOllama`, `AnthropicScripting` `FakeAnthropic`. A provider
whose upstream needs a fake of its own implements `Scripting` for it.
"""

from __future__ import annotations

import abc
from typing import Any

from lynkr_core.testing.fake_anthropic import CutStream as AnthropicCut
from lynkr_core.testing.fake_anthropic import ErrorReply as AnthropicError
from lynkr_core.testing.fake_anthropic import Reply
from lynkr_core.testing.fake_ollama import OllamaCut, OllamaError, OllamaReply
from lynkr_core.testing.fake_openai import ChatReply, CutStream, ErrorReply, ToolCallSpec
from lynkr_core.testing.scripted import RecordedRequest

__all__ = ["AnthropicScripting", "OllamaScripting", "OpenAIScripting", "Scripting"]

Usage = tuple[int, int]
"""Input and output tokens, as the upstream reports them."""


class Scripting(abc.ABC):
    """The script items of one kind of fake upstream, and where it records chat calls.

    Every reply streams its text (and a tool call's arguments, where the wire splits them:
    ``splits_arguments``) ``chunk_size`` characters at a time and reports ``usage`` as
    ``(input, output)`` tokens.
    """

    splits_arguments = True

    @abc.abstractmethod
    def text(self, text: str, *, usage: Usage, chunk_size: int, delay: float = 0.0) -> Any:
        """A reply of ``text`` alone; a stream sleeps ``delay`` seconds between pieces."""

    @abc.abstractmethod
    def tool_call(
        self, text: str, name: str, arguments: dict[str, Any], *, usage: Usage, chunk_size: int
    ) -> Any:
        """A reply of ``text``, then one call of the tool ``name`` with ``arguments``."""

    @abc.abstractmethod
    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Any:
        """An HTTP ``status`` with ``message`` in the upstream's error envelope, and a
        ``Retry-After`` header of ``retry_after`` seconds when given."""

    @abc.abstractmethod
    def stream_error(self, status: int, message: str, *, partial: str) -> Any:
        """HTTP 200, the text ``partial``, then an error of ``status`` inside the stream."""

    @abc.abstractmethod
    def cut(self, *, abort: bool) -> Any:
        """A stream that breaks off after some text: its connection dropped (``abort``) or
        its body ended cleanly, either way before the stream's own end."""

    def chat_requests(self, fake: Any) -> list[RecordedRequest]:
        """The chat calls ``fake`` recorded, in order (its ``chat_requests``)."""
        return fake.chat_requests


class OpenAIScripting(Scripting):
    """`FakeOpenAI`, in any dialect."""

    def text(self, text: str, *, usage: Usage, chunk_size: int, delay: float = 0.0) -> ChatReply:
        """A `ChatReply` of ``text``."""
        return ChatReply(text, usage=usage, chunk_size=chunk_size, delay=delay)

    def tool_call(
        self, text: str, name: str, arguments: dict[str, Any], *, usage: Usage, chunk_size: int
    ) -> ChatReply:
        """A `ChatReply` with one `ToolCallSpec`, its arguments in ``chunk_size`` pieces too."""
        call = ToolCallSpec(name, arguments)
        return ChatReply(
            text,
            tool_calls=[call],
            usage=usage,
            chunk_size=chunk_size,
            arguments_chunk_size=chunk_size,
        )

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> ErrorReply:
        """An `ErrorReply`."""
        return ErrorReply(status, message, retry_after=retry_after)

    def stream_error(self, status: int, message: str, *, partial: str) -> ErrorReply:
        """An `ErrorReply` sent as a data chunk after ``partial``."""
        return ErrorReply(status, message, in_stream=True, partial=partial)

    def cut(self, *, abort: bool) -> CutStream:
        """A `CutStream` after four chunks (Azure's first is its prompt-filter chunk)."""
        return CutStream(after_chunks=4, abort=abort)


class OllamaScripting(Scripting):
    """`FakeOllama`."""

    splits_arguments = False  # Ollama sends each tool call whole

    def text(self, text: str, *, usage: Usage, chunk_size: int, delay: float = 0.0) -> OllamaReply:
        """An `OllamaReply` of ``text``, ``usage`` as its eval counts."""
        prompt, output = usage
        return OllamaReply(
            text, chunk_size=chunk_size, prompt_eval_count=prompt, eval_count=output, delay=delay
        )

    def tool_call(
        self, text: str, name: str, arguments: dict[str, Any], *, usage: Usage, chunk_size: int
    ) -> OllamaReply:
        """An `OllamaReply` with one call."""
        prompt, output = usage
        return OllamaReply(
            text,
            tool_calls=[(name, arguments)],
            chunk_size=chunk_size,
            prompt_eval_count=prompt,
            eval_count=output,
        )

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> OllamaError:
        """An `OllamaError`; Ollama never sends ``Retry-After``, so none can be scripted."""
        if retry_after is not None:
            raise ValueError("FakeOllama cannot send Retry-After (Ollama never does)")
        return OllamaError(status, message)

    def stream_error(self, status: int, message: str, *, partial: str) -> OllamaError:
        """An `OllamaError` sent as an ``{"error": ...}`` line after ``partial``."""
        return OllamaError(status, message, in_stream=True, partial=partial)

    def cut(self, *, abort: bool) -> OllamaCut:
        """An `OllamaCut` after three lines."""
        return OllamaCut(after_lines=3, abort=abort)


class AnthropicScripting(Scripting):
    """`FakeAnthropic` (its chat calls are its ``message_requests``)."""

    def text(self, text: str, *, usage: Usage, chunk_size: int, delay: float = 0.0) -> Reply:
        """A text `Reply`."""
        return Reply.text(text, usage=_usage(usage), chunk_size=chunk_size, delay=delay)

    def tool_call(
        self, text: str, name: str, arguments: dict[str, Any], *, usage: Usage, chunk_size: int
    ) -> Reply:
        """A `Reply` of a text block and a tool_use block."""
        blocks = [
            {"type": "text", "text": text},
            {"type": "tool_use", "id": "toolu_01conformance", "name": name, "input": arguments},
        ]
        return Reply(blocks, usage=_usage(usage), chunk_size=chunk_size)

    def error(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> AnthropicError:
        """An `ErrorReply` of the type Anthropic gives ``status``."""
        return AnthropicError(status, message=message, retry_after=retry_after)

    def stream_error(self, status: int, message: str, *, partial: str) -> AnthropicError:
        """An ``error`` event right after ``message_start``: `FakeAnthropic` sends no text
        before it, so ``partial`` must be empty."""
        if partial:
            raise ValueError("FakeAnthropic sends no text before an in-stream error")
        return AnthropicError(status, message=message, in_stream=True)

    def cut(self, *, abort: bool) -> AnthropicCut:
        """A `CutStream` after two content deltas."""
        return AnthropicCut(deltas=2, abort=abort)

    def chat_requests(self, fake: Any) -> list[RecordedRequest]:
        """``fake.message_requests``."""
        return fake.message_requests


def _usage(usage: Usage) -> dict[str, int]:
    """Anthropic's usage object."""
    return {"input_tokens": usage[0], "output_tokens": usage[1]}
