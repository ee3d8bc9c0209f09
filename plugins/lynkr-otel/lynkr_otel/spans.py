"""One finished exchange as a tree of spans, with the record's own start and end times.

::

    POST /v1/messages          SERVER    the request (a child of the caller's ``traceparent``;
                                         ``/v1/chat/completions``, ``/v1/responses`` likewise)
      step 0                   INTERNAL  a model call and the tool calls lynkr ran on its answer
        chat <model>           CLIENT    an upstream attempt (retries, failovers: siblings)
        execute_tool <name>    INTERNAL  one of lynkr's tool calls
      step 1 ...

Attributes follow the OpenTelemetry semantic conventions for HTTP servers and for GenAI
(``gen_ai.*``) where they fit, lynkr's own under ``lynkr.*``. Never exported: message
content, tool input and output, error messages (they may quote either), API keys; the
session id only as a digest.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from lynkr_core import Attempt, Exchange, Step, ToolCallRecord, anthropic

#: The request span's ``http.route`` when the context names no path.
DEFAULT_ROUTE = "/v1/messages"
#: ``gen_ai.operation.name`` of a model call and of a tool call.
CHAT = "chat"
EXECUTE_TOOL = "execute_tool"

_propagator = TraceContextTextMapPropagator()


class Clock:
    """Turns the record's ``time.monotonic()`` readings into the epoch nanoseconds spans
    carry (one offset per exchange, so that the times keep their order)."""

    def __init__(self) -> None:
        self.offset = time.time_ns() - time.monotonic_ns()

    def ns(self, monotonic: float) -> int:
        return self.offset + int(monotonic * 1e9)


def caller_context(headers: Mapping[str, str]) -> Context | None:
    """The caller's trace from a W3C ``traceparent`` (and ``tracestate``) header; ``None``
    without a valid one (the request span is then a root)."""
    if "traceparent" not in headers:
        return None
    extracted = _propagator.extract(headers)
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


def session_digest(session_id: str) -> str:
    """A stable digest of the client's session id, to group a conversation's traces without
    exporting the id."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def record_exchange(tracer: Tracer, exchange: Exchange) -> None:
    """Emit the spans of ``exchange`` (ended: the processor exports them in its batches)."""
    clock = Clock()
    context = exchange.context
    started = context.started
    ended = started + exchange.duration
    route = context.path or DEFAULT_ROUTE
    request_span = tracer.start_span(
        f"POST {route}", context=caller_context(context.client_headers), kind=SpanKind.SERVER,
        start_time=clock.ns(started), attributes=_request_attributes(exchange, route),
    )
    _set_request_status(request_span, exchange)
    parent = trace.set_span_in_context(request_span)
    for step in exchange.steps:
        _record_step(tracer, clock, parent, step)
    request_span.end(end_time=clock.ns(max(ended, *(_step_end(step) for step in exchange.steps), started)))


def _record_step(tracer: Tracer, clock: Clock, parent: Context, step: Step) -> None:
    answered = step.started + step.duration
    attributes: dict[str, Any] = {"lynkr.step.index": step.index, "gen_ai.request.model": step.request.model}
    if step.answered_by is not None:
        attributes["lynkr.step.answered_by"] = step.answered_by
    span = tracer.start_span(f"step {step.index}", context=parent, kind=SpanKind.INTERNAL,
                             start_time=clock.ns(step.started), attributes=attributes)
    _set_usage(span, step.usage())
    if step.error is not None:
        span.set_status(Status(StatusCode.ERROR, "the model call failed"))
    inner = trace.set_span_in_context(span)
    for index, attempt in enumerate(step.attempts):
        last = index == len(step.attempts) - 1
        _record_attempt(tracer, clock, inner, step, attempt, index, answered if last else None)
    for call in step.tool_calls:
        _record_tool_call(tracer, clock, inner, call)
    if step.tool_calls:
        span.add_event("model answered", timestamp=clock.ns(answered))
    span.end(end_time=clock.ns(_step_end(step)))


def _step_end(step: Step) -> float:
    """A step ends when its model call and the tool calls lynkr ran on its answer have."""
    return max([step.started + step.duration, *(call.started + call.duration for call in step.tool_calls)])


def _record_attempt(tracer: Tracer, clock: Clock, parent: Context, step: Step, attempt: Attempt,
                    index: int, step_answered: float | None) -> None:
    """An upstream attempt; the answered one of a stream runs until the step's last frame
    (``step_answered``), not only to the first (``Attempt.duration``)."""
    model = attempt.model or step.request.model
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": CHAT,
        "gen_ai.provider.name": attempt.provider,
        "gen_ai.system": attempt.provider,
        "gen_ai.request.model": model,
        "lynkr.attempt.index": index,
        "lynkr.target": f"{attempt.provider}:{attempt.model}" if attempt.model else attempt.provider,
        "lynkr.attempt.outcome": attempt.outcome,
    }
    if attempt.status is not None:
        attributes["lynkr.attempt.status"] = attempt.status
    if attempt.skipped is not None:
        attributes["lynkr.attempt.skipped"] = attempt.skipped
    start = clock.ns(attempt.started)
    end = attempt.started + attempt.duration
    span = tracer.start_span(f"{CHAT} {model}", context=parent, kind=SpanKind.CLIENT,
                             start_time=start, attributes=attributes)
    if attempt.status == 200:
        if attempt.time_to_first_token is not None:
            span.add_event("first token", timestamp=clock.ns(attempt.started + attempt.time_to_first_token))
            if step_answered is not None:
                end = max(end, step_answered)
        _set_response(span, step.response)
        _set_usage(span, step.usage())
    elif attempt.error_type is not None:
        span.set_attribute("error.type", attempt.error_type)
        span.set_status(Status(StatusCode.ERROR, f"{attempt.error_type} ({attempt.status})"))
    span.end(end_time=clock.ns(end))


def _record_tool_call(tracer: Tracer, clock: Clock, parent: Context, call: ToolCallRecord) -> None:
    outcome = call.outcome
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": EXECUTE_TOOL,
        "gen_ai.tool.name": call.name,
        "gen_ai.tool.call.id": call.id,
        "lynkr.tool.outcome": outcome,
        "lynkr.tool.read_only": call.read_only,
    }
    if call.denied_by is not None:
        attributes["lynkr.tool.denied_by"] = call.denied_by
    span = tracer.start_span(f"{EXECUTE_TOOL} {call.name}", context=parent, kind=SpanKind.INTERNAL,
                             start_time=clock.ns(call.started), attributes=attributes)
    if outcome in ("error", "timeout"):
        span.set_attribute("error.type", outcome)
        span.set_status(Status(StatusCode.ERROR, f"the tool call ended with an {outcome}"
                               if outcome == "error" else "the tool call timed out"))
    span.end(end_time=clock.ns(call.started + call.duration))


def _request_attributes(exchange: Exchange, route: str) -> dict[str, Any]:
    context = exchange.context
    client_model = exchange.client_request.model if exchange.client_request is not None else exchange.request.model
    attributes: dict[str, Any] = {
        "http.request.method": "POST",
        "http.route": route,
        "url.path": route,
        "gen_ai.operation.name": CHAT,
        "gen_ai.request.model": client_model,
        "lynkr.request_id": context.request_id,
        "lynkr.streamed": exchange.streamed,
        "lynkr.steps": len(exchange.steps),
        "lynkr.status": "client_closed" if exchange.status is None else str(exchange.status),
    }
    if exchange.status is not None:
        attributes["http.response.status_code"] = exchange.status
    provider, target = _served_by(exchange)
    if provider is not None:
        attributes["lynkr.provider"] = provider
    if target is not None:
        attributes["lynkr.target"] = target
    if context.client_id is not None:
        attributes["lynkr.client_id"] = context.client_id
    if context.session_id:
        attributes["gen_ai.conversation.id"] = session_digest(context.session_id)
    return attributes


def _set_request_status(span: trace.Span, exchange: Exchange) -> None:
    """Tokens and the answering model when there is an answer; the error's type when not
    (5xx: the span's status is an error, as the HTTP conventions say for a server)."""
    error = exchange.error
    if error is not None:
        span.set_attribute("error.type", error.error_type)
        if error.status >= 500:
            span.set_status(Status(StatusCode.ERROR, f"{error.error_type} ({error.status})"))
        return
    if exchange.disconnected:
        return
    _set_response(span, exchange.response)
    _set_usage(span, exchange.usage())


def _set_response(span: trace.Span, response: anthropic.MessageResponse | None) -> None:
    if response is None:
        return
    span.set_attribute("gen_ai.response.model", response.model)
    span.set_attribute("gen_ai.response.id", response.id)
    if response.stop_reason:
        span.set_attribute("gen_ai.response.finish_reasons", [response.stop_reason])


def _set_usage(span: trace.Span, usage: anthropic.Usage | None) -> None:
    if usage is None:
        return
    span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
    span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
    if isinstance(usage.cache_read_input_tokens, int):
        span.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cache_read_input_tokens)
    if isinstance(usage.cache_creation_input_tokens, int):
        span.set_attribute("gen_ai.usage.cache_creation.input_tokens", usage.cache_creation_input_tokens)


def _served_by(exchange: Exchange) -> tuple[str | None, str | None]:
    """The provider (and ``provider:model`` target) of the last attempt, or the interceptor
    that answered; ``None`` when nothing did."""
    for step in reversed(exchange.steps):
        if step.attempts:
            attempt = step.attempts[-1]
            return attempt.provider, f"{attempt.provider}:{attempt.model}" if attempt.model else attempt.provider
        if step.answered_by is not None:
            return step.answered_by, None
    return None, None
