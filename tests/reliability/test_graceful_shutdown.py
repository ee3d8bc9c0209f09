"""SIGTERM under load: ``lynkr start`` (lynkr-sessions and lynkr-mcp with a real stdio MCP
server) with 50 streams in flight through the ``anthropic`` SDK.

The upstream sends the first half of each answer at once and holds the second half until
the test releases it, so every stream is mid-body when the signal lands, whatever the
machine's load. With a grace period longer than the streams, every stream completes; with
a shorter one, a stream still held gets Anthropic's ``error`` event (``overloaded_error``)
and a clean end of its body, never a cut connection. Either way every completed exchange
is in the sessions database after the exit, the process exits by itself, and the MCP
server is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import pytest
from aiohttp import web

from lynkr_core.testing.fake_anthropic import Reply, sse_frame, stream_events
from lynkr_core.testing.server import free_port

LYNKR = Path(sys.executable).with_name("lynkr")
TOY = Path(__file__).parents[2] / "plugins" / "lynkr-mcp" / "tests" / "toy_server.py"
SCRUBBED = ("LYNKR_", "MODEL_", "FALLBACK_", "ANTHROPIC_", "SESSION_", "MCP_", "PORT", "LOG_LEVEL")
STREAMS = 50
#: The number of the one non-streaming request sent alongside the streams.
JSON_REQUEST = STREAMS
FIRST_HALF = "the first half of the answer, "
SECOND_HALF = "and the second half."
#: Generous bounds for a loaded 2-core machine: these are ceilings, never expectations.
READY_WITHIN = 90.0
STARTED_WITHIN = 120.0
#: How long the process may take to stop after its grace period (its last frames, then
#: the plugins' close: the session store's queue, the MCP server).
EXIT_BOUND = 60.0


class HeldUpstream:
    """An Anthropic Messages upstream on loopback, in a thread of its own: each streamed
    answer's first half goes out at once, the rest when ``release`` names its stream (the
    number in the user's message, ``stream N``)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._released: dict[int, asyncio.Event] = {}
        #: The numbers of the requests received so far.
        self.received: set[int] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> HeldUpstream:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release(list(range(STREAMS + 1)))  # the held answers' handlers end (their client left)
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)

    def release(self, streams: list[int]) -> None:
        """Let these streams send the rest of their answer."""
        def release() -> None:
            for number in streams:
                self._gate(number).set()
        self.loop.call_soon_threadsafe(release)

    def _gate(self, number: int) -> asyncio.Event:
        return self._released.setdefault(number, asyncio.Event())

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        number = int(body["messages"][0]["content"].removeprefix("stream "))
        self.received.add(number)
        reply = Reply.text(FIRST_HALF + SECOND_HALF, chunk_size=len(FIRST_HALF))
        if not body.get("stream"):
            await self._gate(number).wait()
            return web.json_response({
                "id": f"msg_{number}", "type": "message", "role": "assistant", "model": body["model"],
                "content": [{"type": "text", "text": FIRST_HALF + SECOND_HALF}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 9}})
        events = stream_events(reply, message_id=f"msg_{number}", model=body["model"],
                               usage={"input_tokens": 5, "output_tokens": 9})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        held = next(i for i, (_, data) in enumerate(events)
                    if data.get("delta", {}).get("text") == SECOND_HALF)
        for index, (name, data) in enumerate(events):
            if index == held:
                await self._gate(number).wait()
            await response.write(sse_frame(name, data))
        await response.write_eof()
        return response


@dataclass
class Outcome:
    """How one stream ended: ``complete`` (its whole answer) or ``error`` (an ``error``
    event the SDK raised), with the session it was recorded under."""

    number: int
    session: str
    kind: str
    detail: str = ""


class Started:
    """Counts the streams whose first event has arrived."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Condition()

    def add(self) -> None:
        with self._lock:
            self.count += 1
            self._lock.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.count >= count, timeout)


def run_json(url: str, number: int) -> Outcome:
    """One non-streaming request through the SDK: its answer, or the 529 of a shutdown."""
    session = str(uuid.uuid4())
    with anthropic.Anthropic(base_url=url, api_key="k", max_retries=0, timeout=300) as client:
        try:
            message = client.messages.create(
                model="claude-sonnet-4-6", max_tokens=64,
                messages=[{"role": "user", "content": f"stream {number}"}],
                extra_headers={"x-claude-code-session-id": session},
            )
        except anthropic.APIStatusError as exc:
            error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
            return Outcome(number, session, "error", f"{exc.status_code} {error.get('type')}")
    assert message.content[0].text == FIRST_HALF + SECOND_HALF
    return Outcome(number, session, "complete")


def run_stream(url: str, number: int, started: Started) -> Outcome:
    """One stream through the SDK; any other ending than the two allowed raises."""
    session = str(uuid.uuid4())
    with anthropic.Anthropic(base_url=url, api_key="k", max_retries=0, timeout=300) as client:
        try:
            with client.messages.stream(
                model="claude-sonnet-4-6", max_tokens=64,
                messages=[{"role": "user", "content": f"stream {number}"}],
                extra_headers={"x-claude-code-session-id": session},
            ) as stream:
                for event in stream:
                    if event.type == "message_start":
                        started.add()
                message = stream.get_final_message()
        except anthropic.APIStatusError as exc:
            error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
            return Outcome(number, session, "error", str(error.get("type")))
    text = "".join(block.text for block in message.content if block.type == "text")
    assert text == FIRST_HALF + SECOND_HALF, (number, text)
    assert message.stop_reason == "end_turn"
    return Outcome(number, session, "complete")


@contextlib.contextmanager
def lynkr_process(env: dict[str, str], workdir: Path, workers: int) -> Iterator[tuple[subprocess.Popen, str]]:
    """``lynkr start`` in a process group of its own, once ``/ready`` says so; killed (with
    its group) if the test left it running."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    environment.update(env, LOG_LEVEL="warning")
    log = (workdir / "lynkr.log").open("wb")
    process = subprocess.Popen([str(LYNKR), "start", "--port", str(port), "--workers", str(workers)],
                               env=environment, cwd=workdir, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            assert process.poll() is None and time.monotonic() < deadline, output(workdir)
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/ready", timeout=2) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


def output(workdir: Path) -> str:
    """What lynkr printed."""
    return (workdir / "lynkr.log").read_text(errors="replace")


def processes_running(tag: str) -> list[int]:
    """The processes whose command line holds ``tag`` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if tag.encode() in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
    return found


def workers_of(supervisor: int) -> list[int]:
    """The live worker processes Hypercorn's supervisor spawned."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            if int(fields[1]) == supervisor and fields[0] != "Z" and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def wait_until(condition: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it is true (``True``) or ``timeout`` passes (``False``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def refused(url: str) -> bool:
    """Whether a new connection to ``url`` is refused."""
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def recorded_sessions(home: Path) -> set[str]:
    """The sessions that have an exchange in lynkr-sessions' database."""
    with contextlib.closing(sqlite3.connect(home / "lynkr-sessions" / "sessions.db")) as db:
        return {row[0] for row in db.execute("SELECT session_id FROM exchanges")}


@pytest.mark.parametrize(("grace", "released", "workers"), [
    pytest.param(300.0, "all", 1, id="grace-outlasts-streams"),
    pytest.param(3.0, "even", 1, id="grace-ends-first"),
    pytest.param(300.0, "all", 2, id="grace-outlasts-streams-2-workers"),
])
def test_sigterm_under_50_streams_loses_no_acknowledged_record(tmp_path, grace, released, workers):
    tag = f"graceful-shutdown-{uuid.uuid4()}"
    manifest = tmp_path / "servers.json"
    manifest.write_text(json.dumps({"servers": [
        {"name": "toy", "command": sys.executable, "args": [str(TOY), "stdio", tag]}]}))
    home = tmp_path / "home"
    with HeldUpstream() as upstream:
        env = {
            "LYNKR_HOME": str(home), "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-sessions,lynkr-mcp",
            "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": upstream.base_url,
            "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream", "LYNKR_SHUTDOWN_GRACE_SECONDS": str(grace),
            "MCP_SERVER_MANIFEST": str(manifest), "MCP_MANIFEST_DIRS": "", "MCP_SANDBOX_ENABLED": "false",
            "MCP_STARTUP_TIMEOUT_MS": "30000",
        }
        # On a failure lynkr is killed first, so that no client thread waits for it.
        with ThreadPoolExecutor(STREAMS + 1) as pool, lynkr_process(env, tmp_path, workers) as (process, url):
            assert wait_until(lambda: processes_running(tag), 60), "the MCP server did not start"
            started = Started()
            futures = [pool.submit(run_stream, url, number, started) for number in range(STREAMS)]
            json_future = pool.submit(run_json, url, JSON_REQUEST)
            assert started.wait_for(STREAMS, STARTED_WITHIN), f"{started.count} streams started"
            assert wait_until(lambda: JSON_REQUEST in upstream.received, STARTED_WITHIN)
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)  # the server's pid only, as `lynkr stop` does
            if workers == 1:  # several workers: the supervisor still holds the socket
                assert wait_until(lambda: refused(url), 30), "new connections are still accepted"
            if released == "all":
                # All but stream 0 first; with several workers, stream 0's worker must
                # outlive the other one (which exits once its streams are done) and still
                # finish it: Hypercorn's supervisor sends it SIGTERM when the first exits.
                upstream.release([*range(1, STREAMS), JSON_REQUEST])
                for future in [*futures[1:], json_future]:
                    future.result(timeout=STARTED_WITHIN)
                if workers > 1:
                    assert wait_until(lambda: len(workers_of(process.pid)) == 1, EXIT_BOUND), \
                        workers_of(process.pid)
                upstream.release([0])
            else:
                upstream.release([n for n in range(STREAMS) if n % 2 == 0])  # and not the JSON one
            outcomes = [future.result(timeout=grace + EXIT_BOUND) for future in futures]
            json_outcome = json_future.result(timeout=grace + EXIT_BOUND)
            try:
                exit_code = process.wait(max(0.0, signalled + grace + EXIT_BOUND - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"lynkr did not exit within its grace period and {EXIT_BOUND} s:\n{output(tmp_path)}")
    assert exit_code == 0, output(tmp_path)
    assert wait_until(lambda: not processes_running(tag), 30), "the MCP server outlived lynkr"
    complete = [o for o in outcomes if o.kind == "complete"]
    cut = [o for o in outcomes if o.kind == "error"]
    assert len(complete) + len(cut) == STREAMS
    assert {o.detail for o in cut} <= {"overloaded_error"}, cut
    if released == "all":
        assert len(complete) == STREAMS, cut
        assert json_outcome.kind == "complete"
        complete.append(json_outcome)
    else:  # a stream never released cannot complete: the grace period ended it
        held = {o.number for o in cut}
        assert {n for n in range(STREAMS) if n % 2} <= held
        assert (json_outcome.kind, json_outcome.detail) == ("error", "529 overloaded_error")
    missing = {o.session for o in complete} - recorded_sessions(home)
    assert not missing, f"{len(missing)} completed exchanges are not in the sessions database"
    assert "Traceback" not in output(tmp_path), output(tmp_path)


def test_workers_do_not_outlive_a_killed_supervisor(tmp_path):
    """Workers ignore SIGTERM (their supervisor owns the shutdown), so a supervisor killed
    with SIGKILL, which never tells them to stop, must not leave them serving on their own."""
    env = {"LYNKR_HOME": str(tmp_path / "home"), "LYNKR_PLUGINS": "lynkr-provider-anthropic",
           "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": "http://127.0.0.1:9",
           "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream"}
    with lynkr_process(env, tmp_path, workers=2) as (process, _url):
        assert wait_until(lambda: len(workers_of(process.pid)) == 2, READY_WITHIN), output(tmp_path)
        workers = workers_of(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

        def alive(pid: int) -> bool:
            with contextlib.suppress(OSError):
                return (Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]) != "Z"
            return False

        assert wait_until(lambda: not any(alive(pid) for pid in workers), EXIT_BOUND), (workers, output(tmp_path))
        assert "the supervisor is gone" in output(tmp_path)
