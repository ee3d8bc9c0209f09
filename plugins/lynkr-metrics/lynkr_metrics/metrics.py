"""The gateway's Prometheus metrics: their names, labels and buckets, in one place.

One ``GatewayMetrics`` per app. A request's counts are added up in plain dictionaries
(``add``, ``observe``) and handed to prometheus_client by ``flush`` (each second, and
before every exposition): one dictionary update per count instead of prometheus_client's
checked, locked ``labels().inc()`` halves what a request costs. In one process its
metrics live in a registry of their own; with several workers (``PROMETHEUS_MULTIPROC_DIR`` set, as ``lynkr start
--workers N`` does) prometheus_client writes them to files in that directory and the
exposition adds up every worker's (``MultiProcessCollector``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from lynkr_core import QueueStatus

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
FIRST_TOKEN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class GatewayMetrics:
    """Every metric lynkr exports (prefix ``lynkr_``)."""

    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        # In multiprocess mode metrics are kept in files, not in a registry: the
        # exposition reads them all (this worker's and the others').
        own = None if self.multiprocess_dir else CollectorRegistry(auto_describe=True)
        self._registry = own
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._counts: dict[tuple[Counter, tuple[str, ...]], float] = {}
        self._observed: list[tuple[Histogram, tuple[str, ...], float]] = []
        self.requests = Counter(
            "lynkr_requests", "Finished requests by route, status, provider, model and API key.",
            ["route", "status", "provider", "model", "client"], registry=own)
        self.request_seconds = Histogram(
            "lynkr_request_duration_seconds", "Time from the request to its last byte.",
            ["route", "streamed"], buckets=LATENCY_BUCKETS, registry=own)
        self.first_token_seconds = Histogram(
            "lynkr_time_to_first_token_seconds", "Time from an upstream call to its first streamed frame.",
            ["provider", "model"], buckets=FIRST_TOKEN_BUCKETS, registry=own)
        self.attempts = Counter(
            "lynkr_upstream_attempts", "Upstream calls by provider, model and outcome (ok or the error type).",
            ["provider", "model", "outcome"], registry=own)
        self.retries = Counter(
            "lynkr_upstream_retries", "Attempts that repeated a failed call at the same provider and model.",
            ["provider"], registry=own)
        self.failovers = Counter(
            "lynkr_upstream_failovers", "Moves to the next target (provider or model) of a step after a failure.",
            ["from_provider", "to_provider"], registry=own)
        self.upstream_errors = Counter(
            "lynkr_upstream_errors", "Failed upstream attempts by provider and error kind.",
            ["provider", "kind"], registry=own)
        self.tokens = Counter(
            "lynkr_tokens", "Tokens by kind (input, output, cache_read, cache_creation), provider and model.",
            ["kind", "provider", "model"], registry=own)
        self.cache_hits = Counter(
            "lynkr_cache_hits", "Model calls answered by an interceptor (a cache) without the upstream.",
            ["answered_by"], registry=own)
        self.tool_calls = Counter(
            "lynkr_tool_calls", "lynkr's tool calls by tool and outcome (ok, error, denied, timeout).",
            ["tool", "outcome"], registry=own)
        self.plugin_errors = Counter(
            "lynkr_plugin_errors", "Exchanges in which a plugin failed (an internal error on the request).",
            ["kind"], registry=own)
        self.active_streams = Gauge(
            "lynkr_active_streams", "Streamed requests in progress.", registry=own,
            multiprocess_mode="livesum")
        self.background_waiting = Gauge(
            "lynkr_background_waiting", "Items waiting in a plugin's background queue or being handled "
            "(exchanges for sessions, the reflector and memory; rows for usage), by queue.",
            ["queue"], registry=own, multiprocess_mode="livesum")
        self.background_dropped = Counter(
            "lynkr_background_dropped", "Items a background queue dropped because it was full, by queue "
            "(an exchange sessions did not keep, a turn the reflector or memory did not read).",
            ["queue"], registry=own)
        self.background_failed = Counter(
            "lynkr_background_failed", "Items whose background handling raised, by queue.",
            ["queue"], registry=own)
        #: The dropped and failed counts of each queue at the last ``record_queues``.
        self._queue_counts: dict[str, tuple[int, int]] = {}

    def add(self, metric: Counter, labels: tuple[str, ...], amount: float = 1.0) -> None:
        """Count ``amount`` for ``metric`` with ``labels`` (handed on at the next ``flush``)."""
        key = (metric, labels)
        self._counts[key] = self._counts.get(key, 0.0) + amount

    def observe(self, metric: Histogram, labels: tuple[str, ...], value: float) -> None:
        """Observe ``value`` in ``metric`` with ``labels`` (at the next ``flush``)."""
        self._observed.append((metric, labels, value))

    @property
    def pending(self) -> bool:
        """Whether counts wait for ``flush``."""
        return bool(self._counts or self._observed)

    def flush(self) -> None:
        """Hand what was counted to prometheus_client (in the event loop's thread)."""
        counts, self._counts = self._counts, {}
        observed, self._observed = self._observed, []
        for (metric, labels), amount in counts.items():
            self.child(metric, *labels).inc(amount)
        for metric, labels, value in observed:
            self.child(metric, *labels).observe(value)

    def record_queues(self, queues: Iterable[QueueStatus]) -> None:
        """Set the background queues' gauge and add what they dropped and failed since the
        last call (queues of one name added up; a queue closed since is left out)."""
        totals: dict[str, list[int]] = {}
        for queue in queues:
            total = totals.setdefault(queue.name, [0, 0, 0])
            total[0] += queue.waiting
            total[1] += queue.dropped
            total[2] += queue.failed
        for name, (waiting, dropped, failed) in totals.items():
            self.child(self.background_waiting, name).set(waiting)
            last_dropped, last_failed = self._queue_counts.get(name, (0, 0))
            if dropped > last_dropped:
                self.child(self.background_dropped, name).inc(dropped - last_dropped)
            if failed > last_failed:
                self.child(self.background_failed, name).inc(failed - last_failed)
            self._queue_counts[name] = (dropped, failed)

    def child(self, metric: Counter | Gauge | Histogram, *labels: str) -> Any:
        """``metric.labels(*labels)``, remembered: prometheus_client checks and converts the
        labels on every call, a dictionary lookup is enough after the first."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def exposition(self) -> bytes:
        """The text format of every metric (of every worker, in multiprocess mode); what this
        worker counted since its last ``flush`` is not in it: flush first."""
        if self._registry is not None:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)
        return generate_latest(registry)

    def close(self) -> None:
        """In multiprocess mode: drop this worker's live gauges (its counters stay summed)."""
        if self.multiprocess_dir:
            mark_process_dead(os.getpid(), self.multiprocess_dir)
