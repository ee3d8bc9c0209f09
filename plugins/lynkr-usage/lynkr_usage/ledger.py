"""The ledger: records every exchange's usage, and enforces each API key's limits.

``UsageLedger`` is a policy (``check_request``: before anything goes upstream) and an
``ExchangeObserver`` (every finished exchange, off the request path). Both reach the
database through one ``BackgroundQueue``'s thread. Recording only queues the row; the
queue's worker lingers ``USAGE_FLUSH_SECONDS`` after a first row, or until ``batch_rows``
are queued, and writes what it has in one transaction (a write costs about 65 us of CPU,
thread hop included, and 4 us more per row: one per request would cost more than the
rest of the plugin). ``USAGE_QUEUE_SIZE`` bounds the rows waiting: beyond it they are
dropped, counted and logged (``usage_queue_full``; lynkr-metrics counts them too).
Admissions run on the same thread, one at a time in this process and in one
``BEGIN IMMEDIATE`` transaction across processes: a limit holds exactly under
concurrency and with several workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from lynkr_core import (
    BackgroundQueue,
    Exchange,
    ExchangeObserver,
    Policy,
    RateLimited,
    RequestContext,
    Services,
    Settings,
    anthropic,
)
from lynkr_usage.config import (
    DB_NAME,
    PLUGIN_NAME,
    UsageSettings,
    limits_by_key,
    load_settings,
    prices_path,
)
from lynkr_usage.db import UsageDB
from lynkr_usage.limits import Admission
from lynkr_usage.prices import PriceBook
from lynkr_usage.records import ANONYMOUS, UsageRow, usage_row

log = structlog.get_logger(PLUGIN_NAME)

CLOSE_TIMEOUT_SECONDS = 10.0
#: Rows queued that the writer takes at once without lingering ``USAGE_FLUSH_SECONDS``
#: (fewer when ``USAGE_QUEUE_SIZE`` is small: ``batch_rows``).
BATCH_ROWS = 256


class UsageLedger(Policy, ExchangeObserver):
    """Usage in ``LYNKR_HOME/lynkr-usage/usage.db``; limits from ``UsageSettings``."""

    name = PLUGIN_NAME

    def __init__(self, config: UsageSettings, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.defaults, self.per_key = limits_by_key(config)
        #: Wall-clock time (a test may give its own).
        self.clock = clock
        self.queue: BackgroundQueue[UsageRow] = BackgroundQueue(
            "usage", handle_many=self._write, size=config.queue_size, linger=config.flush_seconds,
            linger_items=batch_rows(config.queue_size), close_timeout=CLOSE_TIMEOUT_SECONDS,
            fix="raise USAGE_QUEUE_SIZE")
        self.prices: PriceBook | None = None
        self._db: UsageDB | None = None

    async def start(self, services: Services) -> None:
        """Open the ledger on the queue's thread and read the price table."""
        path = services.data_dir(PLUGIN_NAME) / DB_NAME
        self.prices = PriceBook(prices_path(self.config, services.home), keep_last_good=True)
        await self.queue.start()
        self._db = await self.queue.on_thread(UsageDB, path)

    @property
    def dropped(self) -> int:
        """Rows dropped because ``USAGE_QUEUE_SIZE`` rows were already waiting."""
        return self.queue.dropped

    async def close(self) -> None:
        """Write what is waiting (for a bounded time), then close the ledger."""
        db = self._db
        await self.queue.close(last=db.close if db is not None else None)
        self._db = None

    async def idle(self) -> None:
        """Write what is waiting now, and wait until it is written."""
        await self.queue.idle()

    def prepare_reload(self, settings: Settings) -> Callable[[], None]:
        """Hot reload: check the new limits, budgets and price table (``ConfigError`` naming
        the setting refuses the reload); what is returned puts them in force."""
        config = load_settings(settings)
        defaults, per_key = limits_by_key(config)
        path = prices_path(config, settings.core.home)
        prices = None
        if self.prices is not None and path != self.prices.path:  # USAGE_PRICES_FILE changed
            PriceBook(path).table()  # ConfigError naming the file when it does not hold
            prices = PriceBook(path, keep_last_good=True)

        def apply() -> None:
            self.config, self.defaults, self.per_key = config, defaults, per_key
            queue = self.queue
            queue.size, queue.linger = config.queue_size, config.flush_seconds
            queue.linger_items = batch_rows(config.queue_size)
            if prices is not None:
                self.prices = prices

        return apply

    # ----------------------------------------------------------------- limits

    async def check_request(self, request: anthropic.MessagesRequest, context: RequestContext) -> None:
        """Refuse a request over its key's limits with Anthropic's 429 (``RateLimited``);
        otherwise count it and set the ``anthropic-ratelimit-*`` headers of its answer."""
        if context.purpose != "messages":
            return None
        client = context.client_id or ANONYMOUS
        limits = self.per_key.get(client, self.defaults)
        if not limits.any or self._db is None or self.prices is None:
            return None
        admission = Admission(self._db, client, limits, self.clock(), self.prices)
        verdict = await self.queue.on_thread(admission.decide)
        if not verdict.allowed:
            context.log.info("usage_limited", client=client, reasons=verdict.reasons,
                             retry_after=round(verdict.retry_after, 1))
            raise RateLimited(
                f"rate limit reached for API key {client}: {'; '.join(verdict.reasons)}; "
                f"retry in {max(1, round(verdict.retry_after))} s",
                retry_after=verdict.retry_after, headers=verdict.headers)
        context.response_headers.update(verdict.headers)
        return None

    # ----------------------------------------------------------------- records

    def exchange_finished(self, exchange: Exchange) -> None:
        """Queue the exchange's usage row (nothing when nothing went upstream)."""
        row = usage_row(exchange, self.clock())
        if row is not None:
            self.queue.submit(row)

    async def _write(self, rows: list[UsageRow]) -> None:
        db = self._db
        if db is not None:
            await self.queue.on_thread(db.write, rows)


def batch_rows(queue_size: int) -> int:
    """How many queued rows the writer takes at once without lingering: ``BATCH_ROWS``, or a
    quarter of ``USAGE_QUEUE_SIZE`` when that is smaller. A batch that waited out
    ``USAGE_FLUSH_SECONDS`` whatever its size counted towards the queue all that time: at
    more than ``USAGE_QUEUE_SIZE`` exchanges a second, rows were dropped while the writer
    sat idle."""
    return max(1, min(BATCH_ROWS, queue_size // 4))
