"""What the ledger keeps of a finished exchange."""

from __future__ import annotations

from typing import NamedTuple

from lynkr_core import Exchange

#: The client of requests made without API keys (``LYNKR_API_KEYS`` unset).
ANONYMOUS = "anonymous"


class UsageRow(NamedTuple):
    """One row of the ``usage`` table, its fields in the table's column order."""

    at: float
    client: str
    session: str | None
    model: str
    provider: str
    status: int | None
    streamed: int
    input: int
    output: int
    cache_read: int
    cache_write: int
    duration: float


def usage_row(exchange: Exchange, now: float) -> UsageRow | None:
    """The ledger row of ``exchange``: its tokens added up over the steps that went upstream
    (one an interceptor answered, a cache's, costs nothing), the model of the last attempt
    (the upstream model routing chose, else the model asked for);
    ``None`` when nothing went upstream (a refused or invalid request)."""
    input_ = output = cache_read = cache_write = 0
    last = None
    for step in exchange.steps:
        if step.answered_by is not None or not step.attempts:
            continue
        last = step
        usage = step.usage()
        if usage is None:
            continue
        input_ += usage.input_tokens
        output += usage.output_tokens
        cache_read += usage.cache_read_input_tokens or 0
        cache_write += usage.cache_creation_input_tokens or 0
    if last is None:
        return None
    attempt = last.attempts[-1]
    return UsageRow(now, exchange.context.client_id or ANONYMOUS, exchange.session_id,
                    attempt.model or last.request.model, attempt.provider, exchange.status,
                    int(exchange.streamed), input_, output, cache_read, cache_write, exchange.duration)
