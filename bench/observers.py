"""What lynkr-metrics and lynkr-usage cost per request: ``python -m bench.observers
[--requests 20000]``.

The end-to-end bench (``nox -s bench``) compares CPU per request of lynkr with every plugin
against lynkr with the provider alone; on a busy machine its noise is larger than what
these two plugins add. This measures their own work, in process, on the exchange record
the core hands them (one step, one attempt, a JSON answer and a streamed one):

- the metrics recorder's ``exchange_finished`` (every counter and histogram of a request)
  and its ``prepare`` (a stream counted as active);
- the usage ledger's ``exchange_finished`` (the row built and queued) and the write of that
  row on the ledger's thread (one SQLite transaction), measured as the CPU time of the
  process: thread included;
- the ledger's ``check_request`` without limits (the default) and with a requests-per-minute
  limit of 1,000 (one SQLite transaction on its thread; its window fills as it runs).

Figures: microseconds of process CPU time per call (``time.process_time``), and wall p50.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable

import structlog
from lynkr_metrics.config import load_settings as metrics_settings
from lynkr_metrics.recorder import MetricsRecorder
from lynkr_usage.config import load_settings as usage_settings
from lynkr_usage.ledger import UsageLedger

from lynkr_core import (
    Exchange,
    ModelClient,
    RequestContext,
    Services,
    Settings,
    anthropic,
    message_frames,
)

#: Rows per write (the ledger writes what came in during ``USAGE_FLUSH_SECONDS``, 1 s: at
#: 50 requests a second, 50 rows).
BATCH = 50
#: The requests-per-minute limit of the last measurement (every call is let through).
LIMIT = 1000

REQUEST = anthropic.decode_request(json.dumps({
    "model": "claude-sonnet-4-6", "max_tokens": 512, "stream": True,
    "messages": [{"role": "user", "content": "Summarise the design document in three lines."}],
}).encode())
ANSWER = anthropic.decode_response(json.dumps({
    "id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
    "content": [{"type": "text", "text": "A gateway. Plugins do everything. Measured in benchmarks. " * 4}],
    "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 1200, "output_tokens": 96, "cache_read_input_tokens": 800},
}).encode())


def exchange(settings: Settings, streamed: bool, client: str) -> Exchange:
    """A finished exchange as the core records it: one step, one attempt, its answer (for a
    stream, the frames the step kept, the message rebuilt when first read)."""
    context = RequestContext(request_id="req_bench", http=None, settings=settings,  # type: ignore[arg-type]
                             log=structlog.get_logger("bench"), session_id="sess-bench", client_id=client)
    step = context.begin_step(REQUEST)
    context.begin_attempt("anthropic", "").succeeded(first_token=streamed)
    if streamed:
        step.frames = list(message_frames(ANSWER, chunk_size=16))
    else:
        step.response = ANSWER
    step.finish()
    return Exchange(request=REQUEST, client_request=REQUEST, context=context, streamed=streamed,
                    response=None if streamed else ANSWER, duration=0.25)


async def measure(name: str, calls: int, call: Callable[[int], Awaitable[object] | None],
                  after: Callable[[], Awaitable[object]] | None = None) -> None:
    """Run ``call`` ``calls`` times (awaiting what it returns, if anything); print CPU per
    call (``after`` included: queued work)."""
    walls = []
    cpu = time.process_time()
    for index in range(calls):
        started = time.perf_counter()
        result = call(index)
        if result is not None:
            await result
        walls.append(time.perf_counter() - started)
    if after is not None:
        await after()
    cpu = time.process_time() - cpu
    print(f"  {name:58} cpu {cpu / calls * 1e6:8.1f} us/call   wall p50 {statistics.median(walls) * 1e6:7.1f} us")


async def main(requests: int) -> None:
    home = tempfile.mkdtemp(prefix="lynkr-bench-observers-")
    settings = Settings({"LYNKR_HOME": home})
    limited = Settings({"LYNKR_HOME": home, "RATE_LIMIT_REQUESTS_PER_MINUTE": str(LIMIT)})
    services = Services(settings=settings, http=None, model=ModelClient(None))  # type: ignore[arg-type]
    recorder = MetricsRecorder(metrics_settings(settings))
    ledger = UsageLedger(usage_settings(settings))
    limiter = UsageLedger(usage_settings(limited))
    for item in (recorder, ledger, limiter):
        await item.start(services)
    json_exchanges = [exchange(settings, False, "key_0123456789ab") for _ in range(requests)]
    stream_exchanges = [exchange(settings, True, "key_0123456789ab") for _ in range(requests)]
    for streamed in stream_exchanges:  # what the core's other observers would have done first
        _ = streamed.steps[0].response
    print(f"per request, {requests} requests (python -m bench.observers)")
    await measure("metrics: exchange_finished (JSON)", requests,
                  lambda i: recorder.exchange_finished(json_exchanges[i]))
    await measure("metrics: prepare + exchange_finished (stream)", requests,
                  lambda i: _prepared_then_finished(recorder, stream_exchanges[i]))
    await measure("usage: exchange_finished + the row written (JSON)", requests,
                  lambda i: _recorded(ledger, json_exchanges[i], i), ledger.idle)
    await measure("usage: exchange_finished + the row written (stream)", requests,
                  lambda i: _recorded(ledger, stream_exchanges[i], i), ledger.idle)
    context = json_exchanges[0].context
    await measure("usage: check_request, no limit set (the default)", requests,
                  lambda i: ledger.check_request(REQUEST, context))
    await measure(f"usage: check_request, {LIMIT} requests per minute", LIMIT - 1,
                  lambda i: limiter.check_request(REQUEST, context))
    for item in (recorder, ledger, limiter):
        await item.close()


async def _recorded(ledger: UsageLedger, finished: Exchange, index: int) -> None:
    """Add the row, and write the batch every ``BATCH`` rows, as the ledger's timer would
    at a few hundred requests a second (rows are written in batches)."""
    ledger.exchange_finished(finished)
    if index % BATCH == BATCH - 1:
        await ledger.idle()


async def _prepared_then_finished(recorder: MetricsRecorder, finished: Exchange) -> None:
    await recorder.prepare(REQUEST, finished.context)
    recorder.exchange_finished(finished)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="exchanges per measurement")
    args = parser.parse_args()
    asyncio.run(main(args.requests))


if __name__ == "__main__":
    cli()
