"""What the dashboard knows, kept in memory and bounded: the recent requests, each
provider's recent health, tokens over time, and a tally per session (for ``lynkr
statusline``). Pure bookkeeping: no I/O, fed one finished exchange at a time."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from lynkr_core import Exchange
from lynkr_dashboard.config import DashboardSettings

#: How many recent outcomes a provider's health line shows.
HEALTH_WINDOW = 50


@dataclass(slots=True)
class Tokens:
    """Token counts, added up."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0

    def add(self, usage: Any) -> None:
        """Add an Anthropic ``Usage`` (cache fields may be unset or ``None``)."""
        self.input += usage.input_tokens or 0
        self.output += usage.output_tokens or 0
        self.cache_read += _count(usage.cache_read_input_tokens)
        self.cache_creation += _count(usage.cache_creation_input_tokens)


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


@dataclass(slots=True)
class RequestRow:
    """One finished ``/v1/messages`` request, as the live table shows it."""

    request_id: str
    finished: float
    session_id: str | None
    model: str
    provider: str | None
    upstream_model: str | None
    status: int | None
    streamed: bool
    duration: float
    time_to_first_token: float | None
    steps: int
    tool_calls: int
    answered_by: str | None
    error: str | None
    tokens: Tokens


@dataclass(slots=True)
class ProviderHealth:
    """A provider's recent attempts: counts, the last outcome, and a window of statuses."""

    name: str
    attempts: int = 0
    failures: int = 0
    last_status: int | None = None
    last_error: str | None = None
    last_seen: float = 0.0
    recent: deque[int | None] = field(default_factory=lambda: deque(maxlen=HEALTH_WINDOW))
    latency_total: float = 0.0

    def as_json(self) -> dict[str, Any]:
        ok = sum(1 for status in self.recent if status == 200)
        return {
            "name": self.name, "attempts": self.attempts, "failures": self.failures,
            "last_status": self.last_status, "last_error": self.last_error, "last_seen": self.last_seen,
            "recent": list(self.recent), "recent_ok_ratio": ok / len(self.recent) if self.recent else None,
            "mean_seconds": self.latency_total / self.attempts if self.attempts else None,
        }


@dataclass(slots=True)
class Bucket:
    """Requests and tokens in one time slot."""

    start: float
    requests: int = 0
    errors: int = 0
    tokens: Tokens = field(default_factory=Tokens)


@dataclass(slots=True)
class SessionTally:
    """One session's totals: what served it last, its tokens, and what lynkr's cache saved."""

    session_id: str
    requests: int = 0
    provider: str | None = None
    model: str | None = None
    updated: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)
    cache_hits: int = 0
    saved: Tokens = field(default_factory=Tokens)


class Feed:
    """The dashboard's in-memory record, fed by ``record(exchange)``."""

    def __init__(self, config: DashboardSettings, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.started = clock()
        self.requests: deque[RequestRow] = deque(maxlen=config.recent_requests)
        self.providers: dict[str, ProviderHealth] = {}
        self.buckets: deque[Bucket] = deque(maxlen=config.history_buckets)
        self.sessions: OrderedDict[str, SessionTally] = OrderedDict()
        self.total_requests = 0

    def record(self, exchange: Exchange) -> None:
        """Add one finished exchange to every view."""
        now = self.clock()
        row = self._row(exchange, now)
        self.total_requests += 1
        self.requests.append(row)
        self._bucket(now, row)
        for step in exchange.context.steps:
            for attempt in step.attempts:
                self._attempt(attempt, now)
        if exchange.session_id:
            self._session(exchange, row, now)

    def _row(self, exchange: Exchange, now: float) -> RequestRow:
        context = exchange.context
        steps = context.steps
        attempts = [attempt for step in steps for attempt in step.attempts]
        served = next((a for a in reversed(attempts) if a.status == 200), attempts[-1] if attempts else None)
        tokens = Tokens()
        tokens.add(exchange.usage())
        error = exchange.error
        return RequestRow(
            request_id=context.request_id, finished=now, session_id=exchange.session_id,
            model=exchange.client_request.model if exchange.client_request else exchange.request.model,
            provider=served.provider if served else None,
            upstream_model=(served.model or None) if served else None,
            status=exchange.status, streamed=exchange.streamed, duration=exchange.duration,
            time_to_first_token=served.time_to_first_token if served else None,
            steps=len(steps), tool_calls=sum(len(step.tool_calls) for step in steps),
            answered_by=next((s.answered_by for s in steps if s.answered_by), None),
            error=getattr(error, "message", None) if error is not None else None,
            tokens=tokens,
        )

    def _bucket(self, now: float, row: RequestRow) -> None:
        size = self.config.bucket_seconds
        start = now - now % size
        if not self.buckets or self.buckets[-1].start < start:
            self.buckets.append(Bucket(start=start))
        bucket = self.buckets[-1]
        bucket.requests += 1
        bucket.errors += 0 if row.status == 200 else 1
        for name in ("input", "output", "cache_read", "cache_creation"):
            setattr(bucket.tokens, name, getattr(bucket.tokens, name) + getattr(row.tokens, name))

    def _attempt(self, attempt: Any, now: float) -> None:
        health = self.providers.get(attempt.provider)
        if health is None:
            health = self.providers[attempt.provider] = ProviderHealth(attempt.provider)
        health.attempts += 1
        health.failures += 0 if attempt.status == 200 else 1
        health.last_status = attempt.status
        health.last_error = attempt.error
        health.last_seen = now
        health.recent.append(attempt.status)
        health.latency_total += attempt.duration

    def _session(self, exchange: Exchange, row: RequestRow, now: float) -> None:
        key = exchange.session_id or ""
        tally = self.sessions.pop(key, None) or SessionTally(key)
        self.sessions[key] = tally  # most recently updated last
        while len(self.sessions) > self.config.sessions:
            self.sessions.popitem(last=False)
        tally.requests += 1
        tally.updated = now
        if row.provider:
            tally.provider, tally.model = row.provider, row.upstream_model or row.model
        for step in exchange.context.steps:
            usage = step.usage()  # a stream's tokens, without rebuilding its message
            if usage is None:
                continue
            if step.answered_by and not step.attempts:
                tally.cache_hits += 1
                tally.saved.add(usage)
            else:
                tally.tokens.add(usage)

    def overview(self) -> dict[str, Any]:
        """Everything the page draws, as JSON data (newest request first)."""
        return {
            "started": self.started,
            "now": self.clock(),
            "total_requests": self.total_requests,
            "requests": [asdict(row) for row in reversed(self.requests)],
            "providers": [health.as_json() for health in sorted(self.providers.values(), key=lambda h: h.name)],
            "series": {"bucket_seconds": self.config.bucket_seconds,
                       "buckets": [asdict(bucket) for bucket in self.buckets]},
        }

    def session(self, session_id: str) -> dict[str, Any] | None:
        """One session's tally as JSON data, or ``None`` when this server has not seen it."""
        tally = self.sessions.get(session_id)
        return asdict(tally) if tally is not None else None
