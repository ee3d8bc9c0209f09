"""What the dashboard knows, kept in memory and bounded: the recent requests, each
provider's recent health, tokens over time, and a tally per session (for ``lynkr
statusline``). Pure bookkeeping: no I/O, fed one finished exchange at a time."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from lynkr_core import Exchange
from lynkr_dashboard.config import DashboardSettings

#: How many recent outcomes a provider's health line shows.
HEALTH_WINDOW = 50


class Tokens(msgspec.Struct):
    """Token counts, added up (msgspec structs, like the rows holding them: made on every
    request, at a fifth of a dataclass's cost)."""

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

    def add_tokens(self, other: Tokens) -> None:
        """Add another tally."""
        self.input += other.input
        self.output += other.output
        self.cache_read += other.cache_read
        self.cache_creation += other.cache_creation


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


class RequestRow(msgspec.Struct, kw_only=True):
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


class Bucket(msgspec.Struct):
    """Requests and tokens in one time slot."""

    start: float
    requests: int = 0
    errors: int = 0
    tokens: Tokens = msgspec.field(default_factory=Tokens)


class SessionTally(msgspec.Struct):
    """One session's totals: what served it last, its tokens, and what lynkr's cache saved."""

    session_id: str
    requests: int = 0
    provider: str | None = None
    model: str | None = None
    updated: float = 0.0
    tokens: Tokens = msgspec.field(default_factory=Tokens)
    cache_hits: int = 0
    saved: Tokens = msgspec.field(default_factory=Tokens)


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
        """Add one finished exchange to every view (one pass over its steps: this runs for
        every request)."""
        now = self.clock()
        steps = exchange.context.steps
        served = None  # the last attempt that succeeded, else the last attempt
        answered_by = None
        tool_calls = 0
        paid = Tokens()  # of the steps that went upstream
        saved: Tokens | None = None  # of the steps a cache answered
        cache_hits = 0
        counted = False
        for step in steps:
            tool_calls += len(step.tool_calls)
            if answered_by is None:
                answered_by = step.answered_by
            for attempt in step.attempts:
                self._attempt(attempt, now)
                if served is None or attempt.status == 200 or served.status != 200:
                    served = attempt
            usage = step.usage()  # a stream's tokens, without rebuilding its message
            if usage is None:
                continue
            counted = True
            if step.answered_by and not step.attempts:
                cache_hits += 1
                saved = saved or Tokens()
                saved.add(usage)
            else:
                paid.add(usage)
        tokens = paid  # the row's: every step's (never changed once in the row)
        if saved is not None:
            tokens = Tokens()
            tokens.add_tokens(paid)
            tokens.add_tokens(saved)
        elif not counted and exchange.response is not None:
            tokens = Tokens()
            tokens.add(exchange.response.usage)
        error = exchange.error
        row = RequestRow(
            request_id=exchange.context.request_id, finished=now, session_id=exchange.session_id,
            model=exchange.client_request.model if exchange.client_request else exchange.request.model,
            provider=served.provider if served else None,
            upstream_model=(served.model or None) if served else None,
            status=exchange.status, streamed=exchange.streamed, duration=exchange.duration,
            time_to_first_token=served.time_to_first_token if served else None,
            steps=len(steps), tool_calls=tool_calls, answered_by=answered_by,
            error=getattr(error, "message", None) if error is not None else None,
            tokens=tokens,
        )
        self.total_requests += 1
        self.requests.append(row)
        self._bucket(now, row)
        if row.session_id:
            self._session(row, paid, saved, cache_hits, now)

    def _bucket(self, now: float, row: RequestRow) -> None:
        size = self.config.bucket_seconds
        start = now - now % size
        if not self.buckets or self.buckets[-1].start < start:
            self.buckets.append(Bucket(start=start))
        bucket = self.buckets[-1]
        bucket.requests += 1
        bucket.errors += 0 if row.status == 200 else 1
        bucket.tokens.add_tokens(row.tokens)

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

    def _session(self, row: RequestRow, paid: Tokens, saved: Tokens | None, cache_hits: int, now: float) -> None:
        key = row.session_id or ""
        tally = self.sessions.pop(key, None) or SessionTally(key)
        self.sessions[key] = tally  # most recently updated last
        while len(self.sessions) > self.config.sessions:
            self.sessions.popitem(last=False)
        tally.requests += 1
        tally.updated = now
        if row.provider:
            tally.provider, tally.model = row.provider, row.upstream_model or row.model
        tally.tokens.add_tokens(paid)
        if saved is not None:
            tally.cache_hits += cache_hits
            tally.saved.add_tokens(saved)

    def overview(self) -> dict[str, Any]:
        """Everything the page draws, as JSON data (newest request first)."""
        return {
            "started": self.started,
            "now": self.clock(),
            "total_requests": self.total_requests,
            "requests": msgspec.to_builtins(list(reversed(self.requests))),
            "providers": [health.as_json() for health in sorted(self.providers.values(), key=lambda h: h.name)],
            "series": {"bucket_seconds": self.config.bucket_seconds,
                       "buckets": msgspec.to_builtins(list(self.buckets))},
        }

    def session(self, session_id: str) -> dict[str, Any] | None:
        """One session's tally as JSON data, or ``None`` when this server has not seen it."""
        tally = self.sessions.get(session_id)
        return msgspec.to_builtins(tally) if tally is not None else None
