"""The exchange observer that turns each finished exchange into spans.

Registered only when tracing is enabled (``LYNKR_OTEL_ENABLED``): otherwise lynkr has
no observer of it and keeps nothing for it. Spans are built after the answer, off the
request path, from the exchange record's own times; the SDK's batch processor exports
them on its own thread, so an export never delays or fails a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import Tracer

from lynkr_core import Exchange, ExchangeObserver, HealthCheck, Services, __version__
from lynkr_otel.config import (
    PLUGIN_NAME,
    OtelSettings,
    sdk_environment,
    traces_endpoint,
    without_credentials,
)
from lynkr_otel.export import ReportingExporter, build_provider, shut_down
from lynkr_otel.spans import record_exchange

#: How long ``lynkr doctor`` waits for the collector to take an empty batch.
PROBE_TIMEOUT_SECONDS = 3.0


class ExchangeTracer(ExchangeObserver):
    """Spans for every request, step, upstream attempt and tool call, sent over OTLP/HTTP."""

    name = PLUGIN_NAME

    def __init__(self, config: OtelSettings, variables: Mapping[str, str]) -> None:
        self.config = config
        #: The ``OTEL_*`` settings the SDK is built from.
        self.variables = dict(variables)
        self.provider: TracerProvider | None = None
        self.exporter: ReportingExporter | None = None
        self.tracer: Tracer | None = None

    @property
    def endpoint(self) -> str:
        """Where the spans go (as configured: it may hold credentials)."""
        return traces_endpoint(self.variables)

    async def start(self, services: Services) -> None:
        """Build the SDK's provider, batch processor and exporter (in the worker that serves)."""
        self.provider, self.exporter = build_provider(self.variables)
        self.exporter.silence_exporter_logs()
        self.tracer = self.provider.get_tracer("lynkr", __version__)

    async def close(self) -> None:
        """Export what is queued (for at most ``LYNKR_OTEL_SHUTDOWN_TIMEOUT_SECONDS``) and
        shut the SDK down."""
        provider, exporter = self.provider, self.exporter
        self.provider = self.exporter = self.tracer = None
        if provider is None or exporter is None:
            return
        try:
            await shut_down(provider, exporter, self.config.shutdown_timeout_seconds)
        finally:
            exporter.restore_exporter_logs()

    def exchange_finished(self, exchange: Exchange) -> None:
        """Emit the exchange's spans (the batch processor queues them; nothing waits here, so
        a plain function: no task of its own)."""
        if self.tracer is not None:
            record_exchange(self.tracer, exchange)

    async def health_checks(self, services: Services) -> dict[str, HealthCheck]:
        """Where traces go, and whether the collector there takes an (empty) batch."""
        endpoint = without_credentials(self.endpoint)
        with sdk_environment(self.variables):
            exporter = OTLPSpanExporter(timeout=PROBE_TIMEOUT_SECONDS)
        try:
            ok = await asyncio.to_thread(exporter.export, []) is SpanExportResult.SUCCESS
        finally:
            exporter.shutdown()
        detail = f"{endpoint} (OTLP/HTTP)" if ok else f"{endpoint} (OTLP/HTTP) did not take an empty batch"
        return {"opentelemetry traces": HealthCheck(ok, detail)}
