"""``lynkr start --workers 2``: each worker writes its metrics to files in
``PROMETHEUS_MULTIPROC_DIR`` (under ``LYNKR_HOME`` unless set), and whichever worker
answers ``/metrics`` adds up both."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port

LYNKR = Path(sys.executable).with_name("lynkr")
SCRUBBED = ("LYNKR_", "MODEL_", "FALLBACK_", "ANTHROPIC_", "METRICS_", "PROMETHEUS_", "prometheus_",
            "PORT", "LOG_LEVEL")
BATCH = 24
MAX_REQUESTS = 480


@contextlib.contextmanager
def lynkr_process(env: dict[str, str], workdir: Path, workers: int) -> Iterator[str]:
    """``lynkr start`` in a process group of its own; its URL once ``/ready`` says so."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    environment.update(env, LOG_LEVEL="warning")
    process = subprocess.Popen([str(LYNKR), "start", "--port", str(port), "--workers", str(workers)],
                               env=environment, cwd=workdir, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stdout.read().decode(errors="replace") if process.stdout else "")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/ready", timeout=2) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


def ask(url: str) -> None:
    """One request on a fresh client (a new connection: either worker may take it)."""
    with anthropic.Anthropic(base_url=url, api_key="k", max_retries=0) as client:
        client.messages.create(model="claude-opus-4-8", max_tokens=5, messages=[{"role": "user", "content": "hi"}])


def requests_in(text: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "lynkr_requests_total")


def test_two_workers_metrics_are_added_up(tmp_path):
    fake = FakeAnthropic([Reply.text("ok", usage={"input_tokens": 3, "output_tokens": 1})])
    fake.run_in_thread()
    home = tmp_path / "home"
    env = {"LYNKR_HOME": str(home), "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-metrics",
           "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
           "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream"}
    sent = 0
    try:
        with lynkr_process(env, tmp_path, workers=2) as url:
            # The kernel hands each new connection to whichever worker accepts first; one worker
            # may take a whole batch, so batches go on (bounded) until both have served some.
            with ThreadPoolExecutor(8) as pool:
                while sent < MAX_REQUESTS:
                    list(pool.map(lambda _: ask(url), range(BATCH)))
                    sent += BATCH
                    if len([n for n in per_worker_requests(home).values() if n]) >= 2:
                        break
            scrapes = []
            for _ in range(100):  # each scrape on a new connection, until every one agrees
                with urllib.request.urlopen(f"{url}/metrics", timeout=5) as answer:
                    scrapes.append(requests_in(answer.read().decode()))
                if len(scrapes) >= 6 and set(scrapes[-6:]) == {sent}:
                    break
                time.sleep(0.05)
            per_worker = per_worker_requests(home)
    finally:
        fake.stop_thread()
    assert set(scrapes[-6:]) == {sent}, scrapes
    assert sum(per_worker.values()) == sent
    assert len([n for n in per_worker.values() if n]) == 2, per_worker  # both workers served some


def per_worker_requests(home: Path) -> dict[str, float]:
    """The requests each worker's counter file holds so far."""
    return {path.name: requests_in_file(path) for path in (home / "prometheus").glob("counter_*.db")}


def requests_in_file(path: Path) -> float:
    """The requests one worker's counter file holds."""
    return sum(s.value for metric in MultiProcessCollector.merge([str(path)], accumulate=True)
               for s in metric.samples if s.name == "lynkr_requests_total")
