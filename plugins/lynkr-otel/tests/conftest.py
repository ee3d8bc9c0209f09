"""lynkr with the OpenTelemetry plugin in front of a scripted Anthropic upstream, and a
collector on loopback that takes OTLP/HTTP exports and decodes them with
``opentelemetry-proto``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from lynkr_core.testing.server import anthropic_gateway

UPSTREAM_KEY = "sk-upstream-secret-4242"
KINDS = {ProtoSpan.SPAN_KIND_SERVER: "server", ProtoSpan.SPAN_KIND_CLIENT: "client",
         ProtoSpan.SPAN_KIND_INTERNAL: "internal"}
STATUS = {0: "unset", 1: "ok", 2: "error"}


@dataclass
class SpanSeen:
    """One exported span, decoded."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    start: int
    end: int
    attributes: dict[str, Any]
    status: str
    status_message: str
    events: list[tuple[str, int]]
    resource: dict[str, Any]


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, which) if which else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


@dataclass
class Collector:
    """An OTLP/HTTP trace collector: ``POST /v1/traces`` with a protobuf
    ``ExportTraceServiceRequest``, answered like a collector does."""

    spans: list[SpanSeen] = field(default_factory=list)
    posts: int = 0
    content_types: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def take(self, path: str, content_type: str, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        seen = [
            SpanSeen(
                name=span.name, kind=KINDS.get(span.kind, str(span.kind)), trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(), parent_id=span.parent_span_id.hex(),
                start=span.start_time_unix_nano, end=span.end_time_unix_nano,
                attributes=_attributes(span.attributes), status=STATUS[span.status.code],
                status_message=span.status.message,
                events=[(event.name, event.time_unix_nano) for event in span.events],
                resource=_attributes(resource_spans.resource.attributes),
            )
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self._lock:
            self.posts += 1
            self.paths.append(path)
            self.content_types.append(content_type)
            self.spans.extend(seen)

    def snapshot(self) -> list[SpanSeen]:
        with self._lock:
            return list(self.spans)

    async def until(self, check: Callable[[list[SpanSeen]], bool], seconds: float = 30.0) -> list[SpanSeen]:
        """The spans once ``check`` holds for them (the processor exports on its own thread)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            spans = self.snapshot()
            if check(spans):
                return spans
            await asyncio.sleep(0.02)
        raise AssertionError(f"the collector never got there: {[s.name for s in self.snapshot()]}")


@contextlib.contextmanager
def running_collector() -> Iterator[Collector]:
    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            collector.take(self.path, self.headers.get("content-type", ""), body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    collector.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def collector() -> Iterator[Collector]:
    with running_collector() as running:
        yield running


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A temporary ``LYNKR_HOME``; no ``OTEL_*`` variables from the runner's environment."""
    for name in [n for n in os.environ if n.startswith(("OTEL_", "LYNKR_OTEL_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {"LYNKR_HOME": str(tmp_path / "home")}


@pytest.fixture
def gateway(lynkr_env: dict[str, str]) -> Callable[..., Any]:
    """``async with gateway(fake, *plugins, **env) as url:`` lynkr with the Anthropic
    provider and lynkr-otel (and ``plugins``) in front of ``fake``."""
    return functools.partial(anthropic_gateway, {**lynkr_env, "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY},
                             ["lynkr-otel"])


def tracing(collector: Collector, **env: str) -> dict[str, str]:
    """The settings that turn tracing on and send it to ``collector``."""
    return {"LYNKR_OTEL_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, **env}
