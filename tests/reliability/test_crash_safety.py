"""Crash safety: ``kill -9`` a real ``lynkr start`` during a burst of writing requests, restart
it on the same ``LYNKR_HOME``, and check what was committed is there.

The only store lynkr keeps today is lynkr-tools-workspace's task tracker
(``<LYNKR_HOME>/tasks.db``, SQLite through sqlite-utils); the session store, memory and
the prompt cache of the design do not exist yet. lynkr runs in server tool mode in front
of a scripted Anthropic-format upstream that plays the model: asked for a task, it calls
``workspace_task_create``; handed the tool's result, it answers with it. A creation counts
as acknowledged once its result ("Created task #N ...") reached the model's next step or
the client's answer. Concurrent clients keep requests in flight (JSON and streamed) while
lynkr is killed with SIGKILL, a few times over; after each restart the server must answer,
``PRAGMA integrity_check`` must say ok, every acknowledged task must be there under its
number and complete, and a new task must be created. No tool call may fail while lynkr
runs: concurrent writers queue for the lock rather than getting "database is locked".

A second test aims the kill at the store itself, where a request's part is a few
milliseconds: processes that do nothing but create tasks in one database (as ``lynkr
start --workers N`` would) are killed at once, mid-transaction for some, several times.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from bench.run import SCRUBBED_PREFIXES, Proc, free_port, wait_ready
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply

UPSTREAM_KEY = "upstream-key"
CLIENTS = 24
#: Acknowledged creations to wait for before each kill.
ACKS_BEFORE_KILL = 25
ROUNDS = 3
#: lynkr offers its own tools only next to one of the client's.
CLIENT_TOOLS = [{"name": "ask_user", "description": "Ask the user",
                 "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]
CREATED = re.compile(r"Created task #(\d+) \[todo\] (task-\d+)")


class TaskModel:
    """The scripted model. It records what lynkr acknowledged and every tool error."""

    def __init__(self) -> None:
        self.acknowledged: dict[str, int] = {}
        self.asked: set[str] = set()
        self.tool_errors: list[str] = []

    def __call__(self, body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        if len(messages) == 1:
            title = messages[0]["content"]
            self.asked.add(title)
            return Reply.tool_use("workspace_task_create", {"title": title}, id=f"toolu_{title}")
        result = next(b for b in messages[-1]["content"] if b.get("type") == "tool_result")
        text = result["content"] if isinstance(result["content"], str) else json.dumps(result["content"])
        if result.get("is_error"):
            self.tool_errors.append(text)
        self.note(text)
        return Reply.text(text)

    def note(self, text: str) -> None:
        for number, title in CREATED.findall(text):
            assert self.acknowledged.setdefault(title, int(number)) == int(number), text


def lynkr_environment(upstream: str, home: Path, workspace: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(
        MODEL_PROVIDER="anthropic",
        ANTHROPIC_UPSTREAM_BASE_URL=upstream,
        ANTHROPIC_UPSTREAM_API_KEY=UPSTREAM_KEY,
        LYNKR_PLUGINS="lynkr-provider-anthropic,lynkr-tools-workspace",
        TOOL_EXECUTION_MODE="server",
        LYNKR_UPSTREAM_RETRIES="0",
        WORKSPACE_ROOT=str(workspace),
        LYNKR_HOME=str(home),
        LOG_LEVEL="warning",
    )
    return env


@contextlib.contextmanager
def lynkr(env: dict[str, str], work: Path, port: int, name: str) -> Iterator[Proc]:
    """``lynkr start`` on ``port``; stopped on the way out unless the test killed it."""
    argv = [sys.executable, "-m", "lynkr_core.cli", "start", "--port", str(port)]
    proc = Proc(name, argv, env, work, work)
    try:
        yield proc
    finally:
        proc.stop()


async def ask(session: aiohttp.ClientSession, url: str, title: str, stream: bool, model: TaskModel) -> None:
    """One request asking for the task ``title``; an answer acknowledges its creation."""
    body = {"model": "claude-sonnet-4-5", "max_tokens": 200, "stream": stream, "tools": CLIENT_TOOLS,
            "messages": [{"role": "user", "content": title}]}
    async with session.post(f"{url}/v1/messages", json=body, headers={"x-api-key": "client"}) as response:
        text = await response.text()
    assert response.status == 200, text
    model.note(text if not stream else "".join(
        json.loads(line[6:]).get("delta", {}).get("text", "")
        for line in text.splitlines() if line.startswith("data: ") and "text_delta" in line
    ))


async def burst(url: str, model: TaskModel, titles: Iterator[str], stop: asyncio.Event) -> int:
    """``CLIENTS`` clients asking for tasks back to back until ``stop``; the number of
    requests cut by the kill."""
    cut = 0

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal cut
        while not stop.is_set():
            try:
                await ask(session, url, next(titles), stream=index % 2 == 0, model=model)
            except (TimeoutError, aiohttp.ClientError):
                cut += 1
                return

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(client(session, i) for i in range(CLIENTS)))
    return cut


def stored_tasks(db_path: Path, workspace: Path) -> dict[str, tuple[int, str, str, str]]:
    """title -> (id, status, created, updated), read by an independent connection."""
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        assert connection.execute("pragma integrity_check").fetchall() == [("ok",)]
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
        rows = connection.execute(
            "select title, id, status, created, updated from tasks where workspace = ?",
            [str(workspace)],
        ).fetchall()
    assert len({row[0] for row in rows}) == len(rows), "a task stored twice"
    return {title: (id_, status, created, updated) for title, id_, status, created, updated in rows}


async def test_kill_9_during_a_burst_loses_no_acknowledged_task(tmp_path: Path) -> None:
    home, workspace = tmp_path / "home", tmp_path / "workspace"
    workspace.mkdir()
    model = TaskModel()
    titles = (f"task-{n}" for n in itertools.count())
    figures = []
    async with FakeAnthropic(model, api_key=UPSTREAM_KEY) as fake:
        env = lynkr_environment(fake.base_url or "", home, workspace.resolve())
        for round_ in range(ROUNDS):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            with lynkr(env, tmp_path, port, f"lynkr-{round_}") as proc:
                await wait_ready(proc, f"{url}/health", limit_s=30)
                if round_:  # the restarted server took over the store: it writes again
                    await ask_one_more(url, titles, model)
                target = len(model.acknowledged) + ACKS_BEFORE_KILL
                unanswered_before = len(model.asked) - len(model.acknowledged)
                stop = asyncio.Event()
                clients = asyncio.create_task(burst(url, model, titles, stop))
                started = time.monotonic()
                while len(model.acknowledged) < target and not clients.done():
                    assert time.monotonic() - started < 30, "no progress:\n" + proc.log_tail()
                    await asyncio.sleep(0.005)
                in_flight = len(model.asked) - len(model.acknowledged) - unanswered_before
                os.kill(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(10)
                stop.set()
                cut = await clients
            assert model.tool_errors == [], model.tool_errors[:3]
            stored = stored_tasks(home / "tasks.db", workspace.resolve())
            figures.append((len(model.acknowledged), in_flight, cut, len(stored)))
            for title, number in model.acknowledged.items():
                assert title in stored, f"{title} (#{number}) was acknowledged and is gone"
                task_id, status, created, updated = stored[title]
                assert (task_id, status) == (number, "todo") and created and updated
            assert set(stored) <= model.asked

        port = free_port()
        with lynkr(env, tmp_path, port, "lynkr-last") as proc:
            await wait_ready(proc, f"http://127.0.0.1:{port}/health", limit_s=30)
            await ask_one_more(f"http://127.0.0.1:{port}", titles, model)
    assert stored_tasks(home / "tasks.db", workspace.resolve()).keys() >= model.acknowledged.keys()
    print("\ncrash safety: " + "; ".join(
        f"kill {n + 1}: {acked} acknowledged in all, {in_flight} creations in flight, "
        f"{cut} requests cut, {rows} stored"
        for n, (acked, in_flight, cut, rows) in enumerate(figures)
    ))


async def ask_one_more(url: str, titles: Iterator[str], model: TaskModel) -> None:
    """A new task, created and acknowledged through a fresh server."""
    title = next(titles)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await ask(session, url, title, stream=False, model=model)
    assert title in model.acknowledged, f"{title} was not created"


#: A process creating tasks in a loop; each line it prints is an acknowledged task.
WRITER = """
import sys
from pathlib import Path
from lynkr_tools_workspace.taskstore import TaskStore
store = TaskStore(Path(sys.argv[1]), "/workspace")
for n in range(10**9):
    task = store.create(f"{sys.argv[2]}-{n}", "x" * 2000, "todo")
    # one write per line, so a kill cannot leave half of one (even with PYTHONUNBUFFERED)
    sys.stdout.write(f"{task.id} {task.title}\\n")
    sys.stdout.flush()
"""
WRITERS = 4
KILLS = 3


async def test_kill_9_of_processes_writing_to_the_store_at_once(tmp_path: Path) -> None:
    db_path = tmp_path / "tasks.db"
    acknowledged: dict[str, int] = {}
    for kill in range(KILLS):
        writers = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", WRITER, str(db_path), f"w{kill}.{n}",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            for n in range(WRITERS)
        ]
        try:
            # every writer has created a few tasks, so all of them are writing now
            for writer in writers:
                for _ in range(5):
                    line = await asyncio.wait_for(writer.stdout.readline(), 30)
                    assert line, "a writer failed:\n" + (await writer.stderr.read()).decode()[-2000:]
                    number, title = line.split()
                    acknowledged[title.decode()] = int(number)
        finally:
            for writer in writers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(writer.pid, signal.SIGKILL)
        for writer in writers:
            # what it printed before the kill: acknowledged too
            rest = await writer.stdout.read()
            await writer.wait()
            for line in rest.decode().split("\n")[:-1]:  # complete lines: acknowledged
                number, title = line.split()
                acknowledged[title] = int(number)
        stored = stored_tasks(db_path, Path("/workspace"))
        missing = [t for t in acknowledged if t not in stored]
        assert not missing, f"acknowledged and gone: {missing[:5]}"
        assert all(stored[t][0] == n for t, n in acknowledged.items())
    print(f"\nstore kills: {KILLS} x {WRITERS} writers, {len(acknowledged)} acknowledged, "
          f"{len(stored)} stored")
