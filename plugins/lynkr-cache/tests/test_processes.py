"""Several processes share one store: ``lynkr start --workers 2``, and two separate servers on
one ``LYNKR_HOME``."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port

LYNKR = Path(sys.executable).with_name("lynkr")
#: Settings from the test runner's environment that would change what lynkr does.
SCRUBBED = ("LYNKR_", "MODEL_", "FALLBACK_", "ANTHROPIC_", "AZURE_", "PROMPT_CACHE_", "PORT", "LOG_LEVEL")


@pytest.fixture
def upstream() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic([Reply.text("one answer for every worker")])
    fake.run_in_thread()
    yield fake
    fake.stop_thread()


@contextlib.contextmanager
def lynkr_process(env: dict[str, str], workdir: Path, *, workers: int = 1) -> Iterator[str]:
    """``lynkr start`` in a process group of its own; yields its URL once ``/ready`` says so."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    environment.update(env, LOG_LEVEL="warning")
    process = subprocess.Popen(
        [str(LYNKR), "start", "--port", str(port), "--workers", str(workers)],
        env=environment, cwd=workdir, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url)
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


def _wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"lynkr exited with {process.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("lynkr did not become ready")


def ask(url: str) -> str:
    """One request on a fresh client (a new connection)."""
    with anthropic.Anthropic(base_url=url, api_key="k", max_retries=0) as client:
        message = client.messages.create(
            model="claude-opus-4-8", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
    return message.content[0].text


def test_two_workers_share_the_store(upstream, env_for, home, tmp_path):
    env = env_for(upstream.base_url, home)
    with lynkr_process(env, tmp_path, workers=2) as url:
        answers = [ask(url) for _ in range(10)]
    assert set(answers) == {"one answer for every worker"}
    assert len(upstream.message_requests) == 1


def test_a_second_server_on_the_same_home_hits_at_once(upstream, env_for, home, tmp_path):
    env = env_for(upstream.base_url, home)
    with lynkr_process(env, tmp_path) as first, lynkr_process(env, tmp_path) as second:
        assert ask(first) == "one answer for every worker"
        assert ask(second) == "one answer for every worker"
    assert len(upstream.message_requests) == 1
