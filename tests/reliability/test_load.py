"""Load: 200 concurrent streaming requests through a real ``lynkr start`` for a bounded time.

lynkr (every installed plugin, provider ``openai``) runs in front of `bench.upstream` in
a process of its own, streaming 20 chunks per answer; `bench.load` keeps 200 Claude
Code-sized streaming requests in flight and checks every answer against what the
upstream sent. The run lasts ``LYNKR_SOAK_SECONDS`` (10 by default, 60 under
``nox -s soak``). lynkr's resident memory and open file descriptors are read from /proc
at the end of the first sixth of the run (minute 1 of the long run) and at its end:
there must be no error, less than 10% memory growth between the two, and no descriptor
growth beyond a small constant. The figures are printed (``pytest -s``), with what the
plugins' background queues dropped (read from lynkr-metrics: by design a saturated
gateway drops records rather than wait for them, so it is reported, not asserted).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.load import Expect, open_session, run_load
from bench.run import SCRUBBED_PREFIXES, Proc, free_port, percentile, wait_ready
from bench.upstream import Script

CONCURRENCY = 200
CHUNKS = 20
SECONDS = float(os.environ.get("LYNKR_SOAK_SECONDS") or 10)
#: lynkr's memory may grow this much between the two samples (the issue's bound).
RSS_GROWTH = 0.10
#: Descriptors that may come and go under load: a connection being replaced, a log file.
FD_SLACK = 8


@dataclass
class Sample:
    """lynkr's resident memory and open descriptors at one moment of the run."""

    at: float
    rss: int
    fds: int

    @classmethod
    def of(cls, pid: int, at: float) -> Sample:
        """Read ``pid``'s from /proc."""
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return cls(at, int(rss_kb) * 1024, len(os.listdir(f"/proc/{pid}/fd")))


def _environment(upstream_port: int, workspace: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(
        MODEL_PROVIDER="openai",
        OPENAI_ENDPOINT=f"http://127.0.0.1:{upstream_port}/v1/chat/completions",
        OPENAI_API_KEY="upstream-key",
        OPENAI_MODEL="gpt-4o",
        WORKSPACE_ROOT=str(workspace),
        LYNKR_HOME=str(workspace / ".lynkr"),
        LOG_LEVEL="warning",
    )
    return env


@contextlib.contextmanager
def started(name: str, argv: list[str], env: dict[str, str], work: Path) -> Iterator[Proc]:
    """A process of this test, stopped (its whole group) on the way out."""
    proc = Proc(name, argv, env, work, work)
    try:
        yield proc
    finally:
        proc.stop()


async def _sample_at(pid: int, start: float, offsets: list[float], into: list[Sample]) -> None:
    for offset in offsets:
        await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
        into.append(Sample.of(pid, time.perf_counter() - start))


async def _background_dropped(url: str) -> dict[str, int]:
    """What each background queue dropped so far, from ``/metrics``."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        assert response.status == 200, await response.text()
        text = await response.text()
    return {sample.labels["queue"]: int(sample.value)
            for family in text_string_to_metric_families(text) for sample in family.samples
            if sample.name == "lynkr_background_dropped_total"}


async def test_200_concurrent_streams_without_errors_memory_or_descriptor_growth(tmp_path):
    upstream_port, lynkr_port = free_port(), free_port()
    env = _environment(upstream_port, tmp_path)
    upstream_argv = [sys.executable, "-m", "bench.upstream", "--port", str(upstream_port),
                     "--chunks", str(CHUNKS)]
    lynkr_argv = [sys.executable, "-m", "lynkr_core.cli", "start", "--port", str(lynkr_port)]
    url = f"http://127.0.0.1:{lynkr_port}"
    with (
        started("upstream", upstream_argv, env, tmp_path) as upstream,
        started("lynkr", lynkr_argv, env, tmp_path) as lynkr,
    ):
        await wait_ready(upstream, f"http://127.0.0.1:{upstream_port}/health", limit_s=30)
        await wait_ready(lynkr, f"{url}/health", limit_s=30)
        pid = lynkr.popen.pid
        samples: list[Sample] = []
        async with open_session(CONCURRENCY) as session:
            start = time.perf_counter()
            sampler = asyncio.create_task(_sample_at(pid, start, [SECONDS / 6, SECONDS], samples))
            result = await run_load(
                session, f"{url}/v1/messages", stream=True, concurrency=CONCURRENCY,
                duration=SECONDS, max_requests=10**9, expect=Expect.of(Script(chunks=CHUNKS)),
            )
            await sampler
        dropped = await _background_dropped(url)
        assert lynkr.popen.poll() is None, lynkr.log_tail()

    early, late = samples
    growth = late.rss / early.rss - 1
    p50, p99 = (percentile(result.latency, q) or math.nan for q in (50, 99))
    print(
        f"\nload: {CONCURRENCY} concurrent streams of {CHUNKS} chunks for {SECONDS:g} s: "
        f"{result.completed} requests, {result.completed / result.wall:.0f} req/s, "
        f"{sum(result.errors.values())} errors, latency p50 {p50 * 1000:.0f} ms p99 "
        f"{p99 * 1000:.0f} ms\n"
        f"lynkr RSS {early.rss / 2**20:.1f} MB at {early.at:.1f} s -> {late.rss / 2**20:.1f} MB "
        f"at {late.at:.1f} s ({growth:+.1%}); open fds {early.fds} -> {late.fds}\n"
        f"background queues dropped: {', '.join(f'{name} {count}' for name, count in sorted(dropped.items()))}"
    )
    assert result.errors == {}, result.error_samples
    assert result.completed >= CONCURRENCY
    assert growth < RSS_GROWTH
    assert late.fds <= early.fds + FD_SLACK
