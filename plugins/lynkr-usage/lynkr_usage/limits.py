"""Whether one more request of an API key fits its limits, decided in one transaction.

Per-minute limits are sliding windows of 60 s: requests count when they are let
through (``admissions``), tokens when their exchange is recorded (so the requests in
flight are not counted yet). ``tokens_per_day`` and ``cost_per_month`` are budgets
over the UTC day and month. The headers are Anthropic's ``anthropic-ratelimit-*``,
one family per per-minute limit that is set; a refusal adds ``retry-after``.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from lynkr_core import write_transaction
from lynkr_usage.config import Limits
from lynkr_usage.db import UsageDB
from lynkr_usage.prices import PriceBook

WINDOW_SECONDS = 60.0
HEADER_PREFIX = "anthropic-ratelimit-"


@dataclass(slots=True)
class Verdict:
    """Let through or not; the headers for the answer; for a refusal, why and for how long."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    retry_after: float = 0.0


def rfc3339(at: float) -> str:
    """``at`` as Anthropic's reset headers write it: ``2026-12-07T17:05:00Z``."""
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(at: float) -> float:
    """The start of ``at``'s UTC day."""
    return at - at % 86_400


def month_start(at: float) -> float:
    """The start of ``at``'s UTC month."""
    moment = datetime.datetime.fromtimestamp(at, datetime.UTC)
    return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0))


def next_day(at: float) -> float:
    """The start of the UTC day after ``at``'s."""
    day = datetime.datetime.fromtimestamp(at, datetime.UTC).date() + datetime.timedelta(days=1)
    return calendar.timegm(day.timetuple())


def next_month(at: float) -> float:
    """The start of the UTC month after ``at``'s."""
    moment = datetime.datetime.fromtimestamp(at, datetime.UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0))


class Admission:
    """One decision for ``client`` at ``now`` (epoch seconds)."""

    def __init__(self, db: UsageDB, client: str, limits: Limits, now: float, prices: PriceBook) -> None:
        self.db = db
        self.client = client
        self.limits = limits
        self.now = now
        self.prices = prices
        self.verdict = Verdict(allowed=True)

    def decide(self) -> Verdict:
        """Check every limit that is set; count the request if it is let through."""
        limits = self.limits
        with write_transaction(self.db.conn):
            if limits.requests_per_minute:
                self._requests()
            if limits.tokens_per_minute or limits.input_tokens_per_minute or limits.output_tokens_per_minute:
                self._tokens_per_minute()
            if limits.tokens_per_day:
                self._tokens_per_day()
            if limits.cost_per_month:
                self._cost_per_month()
            if self.verdict.reasons:
                self.verdict.allowed = False
            elif limits.requests_per_minute:
                self.db.admit(self.client, self.now)
        return self.verdict

    def _refuse(self, reason: str, until: float) -> None:
        self.verdict.reasons.append(reason)
        self.verdict.retry_after = max(self.verdict.retry_after, until - self.now)

    def _headers(self, family: str, limit: int, remaining: int, reset: float) -> None:
        self.verdict.headers.update({
            f"{HEADER_PREFIX}{family}-limit": str(limit),
            f"{HEADER_PREFIX}{family}-remaining": str(max(0, remaining)),
            f"{HEADER_PREFIX}{family}-reset": rfc3339(reset),
        })

    def _requests(self) -> None:
        limit = self.limits.requests_per_minute
        count, last = self.db.admissions_since(self.client, self.now - WINDOW_SECONDS)
        if count >= limit:
            # one more fits once enough of the window's admissions have aged out of it
            until = self.db.admission_at(self.client, count - limit) + WINDOW_SECONDS
            self._refuse(f"{limit} requests per minute", until)
            self._headers("requests", limit, 0, last + WINDOW_SECONDS)
        else:
            self._headers("requests", limit, limit - count - 1, self.now + WINDOW_SECONDS)

    def _tokens_per_minute(self) -> None:
        use = self.db.tokens_since(self.client, self.now - WINDOW_SECONDS)
        for family, limit, counts in (("tokens", self.limits.tokens_per_minute, use.tokens),
                                      ("input-tokens", self.limits.input_tokens_per_minute, use.input),
                                      ("output-tokens", self.limits.output_tokens_per_minute, use.output)):
            if not limit:
                continue
            used = sum(counts)
            reset = use.times[-1] + WINDOW_SECONDS if used else self.now
            self._headers(family, limit, limit - used, reset)
            if used >= limit:
                self._refuse(f"{limit} {family.replace('-', ' ')} per minute",
                             _below(limit, used, use.times, counts) + WINDOW_SECONDS)

    def _tokens_per_day(self) -> None:
        limit = self.limits.tokens_per_day
        if self.db.tokens_from(self.client, day_start(self.now)) >= limit:
            self._refuse(f"a budget of {limit} tokens per day (UTC)", next_day(self.now))

    def _cost_per_month(self) -> None:
        budget = self.limits.cost_per_month
        spent = sum(self.prices.cost(model, *tokens) or 0.0
                    for model, *tokens in self.db.tokens_by_model_from(self.client, month_start(self.now)))
        if spent >= budget:
            self._refuse(f"a budget of {budget:g} {self.prices.table().currency} per month (UTC)",
                         next_month(self.now))


def _below(limit: int, used: int, times: list[float], counts: list[int]) -> float:
    """When the oldest rows must have left the window for ``used`` to be under ``limit``:
    the time of the last row that has to go."""
    for at, count in zip(times, counts, strict=True):
        used -= count
        if used < limit:
            return at
    return times[-1]
