"""What the ledger keeps of a finished exchange."""

from __future__ import annotations

from typing import Any

from lynkr_core import Exchange

#: The client of requests made without API keys (``LYNKR_API_KEYS`` unset).
ANONYMOUS = "anonymous"


def usage_row(exchange: Exchange, now: float) -> dict[str, Any] | None:
    """The ledger row of ``exchange``: its tokens added up over the steps that went upstream
    (one an interceptor answered, a cache's, costs nothing), the model of the last attempt
    (the upstream model routing chose, else the model asked for);
    ``None`` when nothing went upstream (a refused or invalid request)."""
    paid = [step for step in exchange.steps if step.answered_by is None and step.attempts]
    if not paid:
        return None
    input_ = output = cache_read = cache_write = 0
    for step in paid:
        usage = step.usage()
        if usage is None:
            continue
        input_ += usage.input_tokens
        output += usage.output_tokens
        cache_read += usage.cache_read_input_tokens or 0
        cache_write += usage.cache_creation_input_tokens or 0
    last = paid[-1]
    attempt = last.attempts[-1]
    model = attempt.model or last.request.model
    context = exchange.context
    return {
        "at": now, "client": context.client_id or ANONYMOUS,
        "session": exchange.session_id, "model": model, "provider": attempt.provider,
        "status": exchange.status, "streamed": int(exchange.streamed), "input": input_, "output": output,
        "cache_read": cache_read, "cache_write": cache_write, "duration": exchange.duration,
    }
