"""The OpenTelemetry SDK's pipeline: a ``TracerProvider`` of lynkr's own, a
``BatchSpanProcessor`` and the OTLP/HTTP exporter, built from the standard ``OTEL_*``
variables; an unreachable collector is logged once, not per batch.

The provider is not made the global one: lynkr's spans go where lynkr is told, and an
application that embeds lynkr keeps its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence

import structlog
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from lynkr_otel.config import sdk_environment, traces_endpoint, without_credentials

log = structlog.get_logger("lynkr-otel")

#: The service name when neither ``OTEL_SERVICE_NAME`` nor ``OTEL_RESOURCE_ATTRIBUTES`` gives one.
DEFAULT_SERVICE_NAME = "lynkr"
#: The loggers of the OTLP exporter, which log every failed batch (``ReportingExporter`` says it once).
EXPORTER_LOGGERS = ("opentelemetry.exporter.otlp.proto.http.trace_exporter",)


class ReportingExporter(SpanExporter):
    """The OTLP exporter, saying once that the collector cannot be reached (and once that it
    can again) instead of a warning per batch."""

    def __init__(self, exporter: SpanExporter, endpoint: str) -> None:
        """``endpoint`` is only named in the log (without credentials)."""
        self.exporter = exporter
        self.endpoint = endpoint
        self.failing = False
        self.exported = 0
        self.failed = 0
        self._quiet = _DropRecords()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export a batch (on the processor's thread); report a change of the collector's state."""
        result = self.exporter.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
            if self.failing:
                self.failing = False
                log.info("otel_export_recovered", endpoint=self.endpoint)
        else:
            self.failed += len(spans)
            if not self.failing:
                self.failing = True
                log.warning("otel_export_failed", endpoint=self.endpoint, spans=len(spans),
                            note="spans are dropped until the collector answers; logged once")
        return result

    def shutdown(self) -> None:
        """Shut the exporter down (aborts a retry in progress)."""
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Nothing is buffered here."""
        return self.exporter.force_flush(timeout_millis)

    def silence_exporter_logs(self) -> None:
        """Keep the SDK exporter's own per-batch failure lines out of the log."""
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).addFilter(self._quiet)

    def restore_exporter_logs(self) -> None:
        """Undo ``silence_exporter_logs``."""
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).removeFilter(self._quiet)


class _DropRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def build_provider(variables: Mapping[str, str]) -> tuple[TracerProvider, ReportingExporter]:
    """A tracer provider exporting in batches over OTLP/HTTP, configured by the SDK from
    ``variables`` (the ``OTEL_*`` settings: endpoint, headers, timeout, compression, TLS
    files, sampler, resource, batch sizes and delay)."""
    with sdk_environment(variables):
        exporter = ReportingExporter(OTLPSpanExporter(), without_credentials(traces_endpoint(variables)))
        resource = Resource.create({})
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
        provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider, exporter


async def shut_down(provider: TracerProvider, exporter: ReportingExporter, seconds: float) -> bool:
    """Flush and shut ``provider`` down on a thread of its own (the processor joins its
    worker, which may be waiting on the collector); false when that took longer than
    ``seconds``: then the exporter is shut down, which abandons a retry in progress, and
    the spans still queued are lost."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def run() -> None:
        try:
            provider.shutdown()
        except Exception:
            log.exception("otel_shutdown_failed")
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, finished)

    threading.Thread(target=run, name="lynkr-otel-shutdown", daemon=True).start()
    try:
        await asyncio.wait_for(asyncio.shield(finished), seconds)
    except TimeoutError:
        log.warning("otel_shutdown_timed_out", endpoint=exporter.endpoint, seconds=seconds)
        exporter.shutdown()
        return False
    return True


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
