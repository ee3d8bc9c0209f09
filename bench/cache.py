"""The prompt cache's benchmark: ``python -m bench.cache [--requests N]`` (``nox -s bench_cache``).

Two parts, one after the other, on the bench's own upstream (`bench.upstream`, a
Claude Code-shaped ~20 KB request answered with a 50-chunk text, JSON or SSE):

1. **Over HTTP**, one request at a time on a kept-alive connection, every answer checked
   (`bench.load`): the upstream alone (``direct``), then ``lynkr start`` with
   lynkr-provider-anthropic and lynkr-cache: the cache bypassed (``x-lynkr-cache:
   bypass``: lynkr's proxy cost alone), a miss (a request never seen: the key, a lookup,
   the upstream, the store), a hit (the same request again). Latency until the last byte.
2. **In process**, lynkr's own time on a hit: the interceptor's ``complete`` (and its
   whole replayed stream) timed around the call, with a store on disk opened as the server
   opens it, for the bench's request and for a whole captured Claude Code turn (85 KB);
   and the parts of it: the key alone, a store lookup on the cache's thread and on the
   event loop itself (the cost ``to_thread`` avoids paying in stalls, see
   ``lynkr_cache.background``).

Nothing is written outside a temporary directory; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import structlog
from lynkr_cache.config import CacheSettings
from lynkr_cache.interceptor import PromptCache

from bench.load import HEADERS, Expect, check_message, check_stream, request_body
from bench.run import (
    ROOT,
    SCRUBBED_PREFIXES,
    Proc,
    free_port,
    percentile,
    start_upstream,
    wait_ready,
)
from bench.upstream import Script
from lynkr_core import RequestContext, Services, Settings, anthropic

CLAUDE_CODE_TURN = ROOT / "tests" / "fixtures" / "claude_code" / "turn1.json"
Row = tuple[str, list[float]]
#: Where the in-process calls go (a context without a router: its provider, default model).
ROUTE = ("anthropic", "")


# --------------------------------------------------------------------------- #
# Over HTTP


def lynkr_env(upstream_port: int, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith((*SCRUBBED_PREFIXES, "PROMPT_CACHE_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(
        MODEL_PROVIDER="anthropic",
        ANTHROPIC_UPSTREAM_BASE_URL=f"http://127.0.0.1:{upstream_port}",
        ANTHROPIC_UPSTREAM_API_KEY="x",
        LYNKR_PLUGINS="lynkr-provider-anthropic,lynkr-cache",
        LYNKR_HOME=str(home),
        LOG_LEVEL="warning",
        PROMPT_CACHE_ENABLED="true",
        PROMPT_CACHE_MAX_ENTRIES="1000000",
    )
    return env


def unique_bodies(stream: bool, count: int) -> list[bytes]:
    """The bench's request, made new ``count`` times (a last system block that differs)."""
    base = msgspec.json.decode(request_body(stream))
    bodies = []
    for n in range(count):
        base["system"] = [*base["system"][:-1], {"type": "text", "text": f"{stream} {n} {time.time_ns()}"}]
        bodies.append(msgspec.json.encode(base))
    return bodies


async def timed_requests(
    session: aiohttp.ClientSession, url: str, bodies: list[bytes], stream: bool,
    headers: dict[str, str] | None = None,
) -> list[float]:
    """Each body posted in turn; the seconds until each answer's last byte (answers checked)."""
    expect = Expect.of(Script(chunks=50))
    latencies = []
    for body in bodies:
        start = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            data = await response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {data[:300]!r}")
        (check_stream if stream else check_message)(data, expect)
    return latencies


async def over_http(requests: int, work: Path) -> tuple[list[Row], dict[str, Any]]:
    upstream, upstream_port = start_upstream(Script(chunks=50), work)
    lynkr_port = free_port()
    env = lynkr_env(upstream_port, work / "home")
    lynkr = None
    rows: list[Row] = []
    try:
        await wait_ready(upstream, f"http://127.0.0.1:{upstream_port}/health")
        (work / "lynkr").mkdir()
        lynkr = Proc("lynkr", [sys.executable, "-m", "lynkr_core.cli", "start", "--port", str(lynkr_port)],
                     env, work / "lynkr", work)
        await wait_ready(lynkr, f"http://127.0.0.1:{lynkr_port}/ready")
        direct = f"http://127.0.0.1:{upstream_port}/v1/messages"
        proxied = f"http://127.0.0.1:{lynkr_port}/v1/messages"
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, headers=HEADERS) as session:
            warm = 50
            for mode, stream in (("JSON", False), ("stream", True)):
                same = [request_body(stream)] * (requests + warm)
                await timed_requests(session, proxied, same[:1], stream)  # stored: the hits' entry
                scenarios: list[tuple[str, str, list[bytes], dict[str, str] | None]] = [
                    ("direct (upstream alone)", direct, same, None),
                    ("lynkr, cache bypassed", proxied, same, {"x-lynkr-cache": "bypass"}),
                    ("lynkr, miss (then stored)", proxied, unique_bodies(stream, requests + warm), None),
                    ("lynkr, hit", proxied, same, None),
                ]
                for name, url, bodies, headers in scenarios:
                    await timed_requests(session, url, bodies[:warm], stream, headers)
                    rows.append((f"{mode}: {name}", await timed_requests(session, url, bodies[warm:], stream, headers)))
            async with session.get(f"http://127.0.0.1:{upstream_port}/_stats") as response:
                upstream_stats = await response.json()
    finally:
        if lynkr is not None:
            lynkr.stop()
        upstream.stop()
    return rows, upstream_stats


# --------------------------------------------------------------------------- #
# In process


async def in_process(iterations: int, work: Path) -> list[Row]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # warnings off
    settings = Settings({"LYNKR_HOME": str(work / "inproc")})
    cache = PromptCache(CacheSettings())
    await cache.start(Services(settings=settings, http=None, model=None))  # type: ignore[arg-type]
    rows: list[Row] = []
    try:
        bench_request = anthropic.decode_request(request_body(False))
        claude_code = anthropic.decode_request(CLAUDE_CODE_TURN.read_bytes())
        for label, request in (("bench request, 20 KB", bench_request), ("Claude Code turn, 85 KB", claude_code)):
            await _store_one(cache, settings, request)
            rows.append((f"hit, JSON ({label})", await _timed(iterations, lambda r=request: _hit_json(cache, settings, r))))
            rows.append((f"hit, stream ({label})", await _timed(iterations, lambda r=request: _hit_stream(cache, settings, r))))
            rows.append((f"  key alone ({label})", await _timed(iterations, _sync(lambda r=request: cache.keys.key(r, ROUTE, {})))))
        key = cache.keys.key(bench_request, ROUTE, {})
        store = cache.thread.store
        assert store is not None
        rows.append(("  store get on the cache's thread", await _timed(iterations, lambda: cache.thread.run(store.get, key))))
        rows.append(("  store get on the event loop", await _timed(iterations, _sync(lambda: store.get(key)))))
    finally:
        await cache.close()
    return rows


def _context(settings: Settings, request: anthropic.MessagesRequest) -> RequestContext:
    context = RequestContext(
        request_id="bench", http=None, settings=settings, log=structlog.get_logger(),  # type: ignore[arg-type]
        provider_name="anthropic",
    )
    context.begin_step(request)
    return context


async def _store_one(cache: PromptCache, settings: Settings, request: anthropic.MessagesRequest) -> None:
    context = _context(settings, request)
    answer = anthropic.decode_response(
        msgspec.json.encode({
            "id": "msg_1", "type": "message", "role": "assistant", "model": request.model,
            "content": [{"type": "text", "text": Script(chunks=50).text()}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 5000, "output_tokens": 50},
        })
    )

    async def upstream(_: anthropic.MessagesRequest) -> anthropic.MessageResponse:
        context.begin_attempt("anthropic", "")
        return answer

    await cache.complete(request, context, upstream)


async def _not_called(_: anthropic.MessagesRequest) -> Any:
    raise AssertionError("a hit went upstream")


async def _hit_json(cache: PromptCache, settings: Settings, request: anthropic.MessagesRequest) -> None:
    context = _context(settings, request)
    await cache.complete(request, context, _not_called)
    assert context.steps[-1].answered_by == "lynkr-cache"


async def _hit_stream(cache: PromptCache, settings: Settings, request: anthropic.MessagesRequest) -> None:
    context = _context(settings, request)
    async for _ in cache.stream(request, context, _not_called):
        pass
    assert context.steps[-1].answered_by == "lynkr-cache"


def _sync(function: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        return function()

    return call


async def _timed(iterations: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(min(200, iterations)):
        await call()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return times


# --------------------------------------------------------------------------- #
# The table


def table(title: str, rows: list[Row], unit: str) -> str:
    scale = {"ms": 1e3, "µs": 1e6}[unit]
    width = max(len(name) for name, _ in rows)
    lines = [f"## {title}", "", f"| {'':<{width}} | n | p50 {unit} | p99 {unit} | mean {unit} |",
             f"|{'-' * (width + 2)}|---|---|---|---|"]
    for name, values in rows:
        p50, p99 = percentile(values, 50), percentile(values, 99)
        lines.append(
            f"| {name:<{width}} | {len(values)} | {p50 * scale:.3f} | {p99 * scale:.3f} "
            f"| {statistics.fmean(values) * scale:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="timed HTTP requests per row (default 500)")
    parser.add_argument("--iterations", type=int, default=2000, help="timed in-process calls per row (default 2000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-cache-") as tmp:
        work = Path(tmp)
        rows, upstream_stats = asyncio.run(over_http(args.requests, work))
        inproc = asyncio.run(in_process(args.iterations, work))
    print(table("Over HTTP: one request at a time, latency to the last byte", rows, "ms"))
    print(f"\nupstream saw {upstream_stats.get('messages')} /v1/messages requests "
          f"(the hits none of them)\n")
    print(table("In process: lynkr's own time on a hit, and its parts", inproc, "µs"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
