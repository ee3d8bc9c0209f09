"""Reads each finished exchange into the metrics; counts the streams in progress.

``MetricsRecorder`` is a preparer (the first sight of a request, where a stream is
counted as active) that is also an ``ExchangeObserver`` (every finished exchange,
off the request path). Nothing runs per frame.
"""

from __future__ import annotations

import asyncio

from lynkr_core import (
    Exchange,
    ExchangeObserver,
    RequestContext,
    RequestPreparer,
    Services,
    Step,
    UpstreamError,
    anthropic,
    background_queues,
)
from lynkr_metrics.config import PLUGIN_NAME, MetricsSettings
from lynkr_metrics.metrics import GatewayMetrics

#: What the ``route`` label says for each ``RequestContext.purpose``.
ROUTES = {"messages": "/v1/messages"}
#: A label value beyond the ``max_models`` first; one for what is unknown.
OTHER = "other"
NONE = "none"
#: How long counts wait to be handed to prometheus_client (for other workers' scrapes).
FLUSH_SECONDS = 1.0


class MetricsRecorder(RequestPreparer, ExchangeObserver):
    """Feeds ``GatewayMetrics`` (built at ``start``, in the worker that serves)."""

    name = PLUGIN_NAME

    def __init__(self, config: MetricsSettings) -> None:
        self.config = config
        self.metrics: GatewayMetrics | None = None
        self._models: set[str] = set()
        self._tools: set[str] = set()
        self._flush_timer: asyncio.TimerHandle | None = None

    async def start(self, services: Services) -> None:
        """Build the metrics (in-process, or in ``PROMETHEUS_MULTIPROC_DIR``'s files)."""
        self.metrics = GatewayMetrics()

    async def close(self) -> None:
        """Hand on what was counted; let go of this worker's live gauges."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self.metrics is not None:
            self.metrics.flush()
            self.metrics.close()

    def flush(self) -> None:
        """Hand the counts of the last requests, and the background queues' state, to
        prometheus_client (each second after a request, and before every exposition)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self.metrics is not None:
            self.metrics.record_queues(background_queues())
            self.metrics.flush()

    async def prepare(self, request: anthropic.MessagesRequest, context: RequestContext) -> None:
        """Count a streamed request as active until its exchange is observed."""
        if self.metrics is not None and request.is_streaming and context.purpose == "messages":
            self.metrics.active_streams.inc()
            context.state[PLUGIN_NAME] = True
        return None

    def exchange_finished(self, exchange: Exchange) -> None:
        """Count the request, its steps, attempts, tokens and tool calls (a plain function:
        dictionary updates, handed to prometheus_client by ``flush``)."""
        metrics = self.metrics
        if metrics is None:
            return
        context = exchange.context
        if context.state.pop(PLUGIN_NAME, False):
            metrics.active_streams.dec()
        steps = context.steps
        route = ROUTES.get(context.purpose, context.purpose)
        client_request = exchange.client_request
        model = self._model_label(client_request.model if client_request else "")
        provider = _provider_of(steps)
        status = exchange.status
        metrics.add(metrics.requests, (route, "client_closed" if status is None else str(status), provider, model,
                                       context.client_id or NONE))
        metrics.observe(metrics.request_seconds, (route, "true" if exchange.streamed else "false"), exchange.duration)
        if _is_internal_error(exchange):
            metrics.add(metrics.plugin_errors, ("request",))
        for step in steps:
            self._record_step(metrics, step)
        self._record_tokens(metrics, exchange, provider)
        if self._flush_timer is None:
            self._flush_timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def _record_step(self, metrics: GatewayMetrics, step: Step) -> None:
        """A step's cache answer, attempts, errors, first tokens, retries, failovers and tool calls."""
        if step.answered_by is not None:
            metrics.add(metrics.cache_hits, (step.answered_by,))
        previous = None
        for attempt in step.attempts:
            model = self._model_label(attempt.model or "default")
            metrics.add(metrics.attempts, (attempt.provider, model, attempt.outcome))
            if attempt.status not in (200, None):
                metrics.add(metrics.upstream_errors, (attempt.provider, attempt.error_type or "unknown"))
            if attempt.time_to_first_token is not None:
                metrics.observe(metrics.first_token_seconds, (attempt.provider, model), attempt.time_to_first_token)
            if previous is not None:
                if (previous.provider, previous.model) == (attempt.provider, attempt.model):
                    metrics.add(metrics.retries, (attempt.provider,))
                else:
                    metrics.add(metrics.failovers, (previous.provider, attempt.provider))
            previous = attempt
        for call in step.tool_calls:
            metrics.add(metrics.tool_calls, (self._bounded(self._tools, call.name), call.outcome))

    def _record_tokens(self, metrics: GatewayMetrics, exchange: Exchange, provider: str) -> None:
        input_, output, cache_read, cache_creation = exchange.token_counts()
        model = self._model_label(exchange.request.model)
        if input_:
            metrics.add(metrics.tokens, ("input", provider, model), input_)
        if output:
            metrics.add(metrics.tokens, ("output", provider, model), output)
        if cache_read:
            metrics.add(metrics.tokens, ("cache_read", provider, model), cache_read)
        if cache_creation:
            metrics.add(metrics.tokens, ("cache_creation", provider, model), cache_creation)

    def _model_label(self, model: str) -> str:
        return self._bounded(self._models, model)

    def _bounded(self, seen: set[str], value: str) -> str:
        """``value``, or ``other`` once ``max_models`` distinct ones were seen (a client
        chooses the model string, and the model a tool name: neither may grow the metrics
        without bound)."""
        if value in seen:
            return value
        if len(seen) >= self.config.max_models:
            return OTHER
        seen.add(value)
        return value


def _provider_of(steps: list[Step]) -> str:
    """The provider of the last attempt, the interceptor that answered, or ``none``."""
    for step in reversed(steps):
        if step.attempts:
            return step.attempts[-1].provider
        if step.answered_by is not None:
            return step.answered_by
    return NONE


def _is_internal_error(exchange: Exchange) -> bool:
    """A 500 lynkr made itself (a plugin or core bug), not an upstream's error."""
    error = exchange.error
    return error is not None and error.status == 500 and not isinstance(error, UpstreamError) \
        and error.error_type == "api_error"

