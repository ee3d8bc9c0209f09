"""The record of one request: every model call (step), its attempts, and lynkr's tool calls.

The pipeline fills it in as the request runs (``RequestContext.steps``) and
hands it whole to ``lynkr_exchange_finished``: for session stores, usage,
metrics, memory extraction and the reflector. Nothing here holds a
reference back to the context, so a finished request leaves no cycle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lynkr_core.streams import message_from_frames, usage_from_frames
from lynkr_core.wire.anthropic import Usage, add_usage

if TYPE_CHECKING:
    from lynkr_core.context import RequestContext
    from lynkr_core.errors import LynkrError
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest


@dataclass(slots=True)
class Attempt:
    """One try of one provider (and upstream model) for one step.

    ``status`` is 200 when the answer came (for a stream: its first frame),
    the error's status when it failed, ``None`` when it was cancelled.
    ``duration`` runs until then; ``time_to_first_token`` is the same
    moment for a stream, ``None`` for a JSON answer. ``skipped`` says why the
    attempt was never sent (``"circuit_open"``: the target's circuit breaker
    refused it; status 529, ``overloaded_error``); ``None`` when it was sent.
    """

    provider: str
    model: str
    started: float = field(default_factory=time.monotonic)
    status: int | None = None
    error_type: str | None = None
    error: str | None = None
    duration: float = 0.0
    time_to_first_token: float | None = None
    skipped: str | None = None

    def succeeded(self, *, first_token: bool = False) -> None:
        """Record the answer (or, for a stream, its first frame) arriving now."""
        self.duration = time.monotonic() - self.started
        self.status = 200
        if first_token:
            self.time_to_first_token = self.duration

    @property
    def outcome(self) -> str:
        """``ok``, the Anthropic error type of the failure, or ``cancelled`` (the client left):
        the attempt in one word, as metrics and traces label it."""
        if self.status == 200:
            return "ok"
        return self.error_type or "cancelled"

    def failed(self, error: BaseException) -> None:
        """Record the attempt's failure (status and message of a ``LynkrError``); a
        cancellation (the client left) keeps ``status`` ``None``."""
        self.duration = time.monotonic() - self.started
        if not isinstance(error, Exception):
            self.error = "cancelled"
            return
        status = getattr(error, "status", None)
        self.status = status if isinstance(status, int) else 500
        self.error_type = getattr(error, "error_type", type(error).__name__)
        self.error = getattr(error, "message", str(error))


@dataclass(slots=True)
class ToolCallRecord:
    """One of lynkr's tool calls and its outcome.

    ``refused`` is true when it never ran: a policy denied it (``denied_by``
    names the policy), it needed a permit nobody gave, its input did not fit,
    or no such tool is installed. ``result`` is the text the model read.
    ``read_only`` is true when the call's declared effects change nothing
    (``ToolEffects.read_only``); false for writes, actions, opaque effects and
    calls whose effects could not be read. ``started`` is when the call began to
    run (``time.monotonic()``, like ``Attempt.started``; for a refused call, when
    it was recorded); ``duration`` runs from then. ``timed_out`` is true when the
    call ran past lynkr's tool time limit (``result`` then says so).
    """

    id: str
    name: str
    input: Any
    result: str = ""
    is_error: bool = False
    refused: bool = False
    denied_by: str | None = None
    duration: float = 0.0
    read_only: bool = False
    started: float = field(default_factory=time.monotonic)
    timed_out: bool = False

    @property
    def outcome(self) -> str:
        """``denied`` (refused before running), ``timeout``, ``error`` or ``ok``: the call in
        one word, as metrics and traces label it."""
        if self.refused:
            return "denied"
        if self.timed_out:
            return "timeout"
        return "error" if self.is_error else "ok"


class Step:
    """One model call: the request sent, the answer, the attempts it took, and the tool calls
    lynkr ran on that answer (server mode). A step an interceptor answered without calling
    on (a cache) has no attempts, and ``answered_by`` names the interceptor when it says so
    (``context.steps[-1].answered_by = self.name``).

    For a stream, ``frames`` holds the SSE bytes the step produced while something observes
    exchanges, and ``response`` is rebuilt from them the first time it is read (off the
    request path, and only if an observer reads it).
    """

    __slots__ = (
        "_response",
        "_usage",
        "answered_by",
        "attempts",
        "duration",
        "error",
        "frames",
        "index",
        "request",
        "started",
        "tool_calls",
    )

    def __init__(
        self,
        index: int,
        request: MessagesRequest,
        response: MessageResponse | None = None,
        attempts: list[Attempt] | None = None,
        tool_calls: list[ToolCallRecord] | None = None,
        started: float | None = None,
        duration: float = 0.0,
        error: str | None = None,
        answered_by: str | None = None,
        frames: list[bytes] | None = None,
    ) -> None:
        self.index = index
        self.request = request
        self._response = response
        self.attempts: list[Attempt] = attempts if attempts is not None else []
        self.tool_calls: list[ToolCallRecord] = tool_calls if tool_calls is not None else []
        self.started = time.monotonic() if started is None else started
        self.duration = duration
        self.error = error
        self.answered_by = answered_by
        self.frames = frames
        self._usage: Usage | None = None

    @property
    def response(self) -> MessageResponse | None:
        """The step's answer (for a stream: rebuilt from ``frames`` when first read)."""
        if self._response is None and self.frames is not None:
            self._response = message_from_frames(self.frames)
        return self._response

    @response.setter
    def response(self, message: MessageResponse | None) -> None:
        self._response = message

    def usage(self) -> Usage | None:
        """The step's tokens; ``None`` without an answer. For a stream whose message was not
        rebuilt, read from the two frames that carry them (``message_start``,
        ``message_delta``) without rebuilding the message: what usage and metrics need."""
        if self._response is not None:
            return self._response.usage
        if self.frames is not None and self._usage is None:
            self._usage = usage_from_frames(self.frames)
        return self._usage

    def __repr__(self) -> str:
        return (f"Step(index={self.index}, attempts={self.attempts!r}, tool_calls={self.tool_calls!r}, "
                f"duration={self.duration!r}, error={self.error!r}, answered_by={self.answered_by!r})")

    def finish(self, error: BaseException | None = None) -> None:
        """Record the step's end (and its error, if it failed; ``"cancelled"`` when the client left)."""
        self.duration = time.monotonic() - self.started
        if error is not None and not isinstance(error, Exception):
            self.error = "cancelled"
        elif error is not None:
            self.error = getattr(error, "message", None) or f"{type(error).__name__}: {error}"


class Exchange:
    """One finished ``/v1/messages`` request: what was asked, every step, what came back.

    ``request`` is the request as sent upstream (after the preparers),
    ``client_request`` as the client sent it. ``response`` is the message the
    client got, ``None`` when it failed before an answer; for a stream it is
    rebuilt from the frames the client got (``client_frames``, or the last
    step's) the first time it is read.
    """

    __slots__ = (
        "_response",
        "client_frames",
        "client_request",
        "context",
        "disconnected",
        "duration",
        "error",
        "request",
        "streamed",
    )

    def __init__(
        self,
        request: MessagesRequest,
        context: RequestContext,
        streamed: bool,
        client_request: MessagesRequest | None = None,
        response: MessageResponse | None = None,
        error: LynkrError | None = None,
        disconnected: bool = False,
        duration: float = 0.0,
        client_frames: list[bytes] | None = None,
    ) -> None:
        self.request = request
        self.context = context
        self.streamed = streamed
        self.client_request = client_request
        self._response = response
        self.error = error
        self.disconnected = disconnected
        self.duration = duration
        #: The SSE bytes the client got, kept when its message is not any one step's (server mode).
        self.client_frames = client_frames

    @property
    def response(self) -> MessageResponse | None:
        """The message the client got (for a stream: rebuilt when first read)."""
        if self._response is None and self.streamed:
            if self.client_frames is not None:
                self._response = message_from_frames(self.client_frames)
            elif self.context.steps:
                self._response = self.context.steps[-1].response
        return self._response

    @response.setter
    def response(self, message: MessageResponse | None) -> None:
        self._response = message

    def __repr__(self) -> str:
        return (f"Exchange(request_id={self.context.request_id!r}, streamed={self.streamed!r}, "
                f"status={self.status!r}, steps={len(self.context.steps)}, duration={self.duration!r})")

    @property
    def session_id(self) -> str | None:
        """The client's session (see ``RequestContext.session_id``)."""
        return self.context.session_id

    @property
    def steps(self) -> list[Step]:
        """Every model call of the request, in order."""
        return self.context.steps

    @property
    def attempts(self) -> list[Attempt]:
        """Every provider attempt of every step, in order."""
        return [attempt for step in self.context.steps for attempt in step.attempts]

    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        """Every tool call lynkr ran (or refused), in order."""
        return [call for step in self.context.steps for call in step.tool_calls]

    @property
    def status(self) -> int | None:
        """200, the error's status, or ``None`` when the client left."""
        if self.disconnected:
            return None
        return self.error.status if self.error is not None else 200

    def usage(self) -> Usage:
        """Tokens of every step added up (a step without an answer counts nothing; a
        streamed step's message is not rebuilt for it: ``Step.usage``)."""
        total = Usage()
        counted = False
        for step in self.context.steps:
            usage = step.usage()
            if usage is not None:
                add_usage(total, usage)
                counted = True
        if not counted and self.response is not None:
            add_usage(total, self.response.usage)
        return total

    def token_counts(self) -> tuple[int, int, int, int]:
        """``usage()`` as four plain counts, ``(input, output, cache_read, cache_creation)``:
        what metrics add up on every request, without building a ``Usage``."""
        input_ = output = cache_read = cache_creation = 0
        counted = False
        for step in self.context.steps:
            usage = step.usage()
            if usage is None:
                continue
            counted = True
            input_ += usage.input_tokens
            output += usage.output_tokens
            cache_read += usage.cache_read_input_tokens or 0
            cache_creation += usage.cache_creation_input_tokens or 0
        if not counted and self.response is not None:
            usage = self.response.usage
            return (usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens or 0,
                    usage.cache_creation_input_tokens or 0)
        return input_, output, cache_read, cache_creation
