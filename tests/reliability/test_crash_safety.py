"""Crash safety: ``kill -9`` a real ``lynkr start`` during a burst of writing requests, restart
it on the same ``LYNKR_HOME``, and check what was committed is there.

Two stores are covered: lynkr-tools-workspace's task tracker (``<LYNKR_HOME>/tasks.db``)
and lynkr-sessions' session store (``<LYNKR_HOME>/lynkr-sessions/sessions.db``), both
SQLite through sqlite-utils.

The task tracker: lynkr runs in server tool mode in front
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

The session store writes each finished exchange after its answer, off the request path,
so a client's answer does not mean its exchange is written. "Acknowledged" there is what
the store committed: what a second connection read just before the kill. Clients keep
Claude Code-like conversations (one session each, every turn running lynkr's
``workspace_read`` so that each row carries a hidden tool step); after every kill the
database must pass ``integrity_check``, every acknowledged row must be there unchanged,
every row whole, every session's count equal to its rows; a fresh server then restores
a session from before the kills and writes again. The same is done to processes that
only write exchanges, killed mid-transaction.
"""

from __future__ import annotations

import asyncio
import collections
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
import anthropic as anthropic_sdk  # the official SDK, as a client

from bench.run import SCRUBBED_PREFIXES, Proc, free_port, wait_ready
from lynkr_core import anthropic
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


# --------------------------------------------------------------------------- #
# The session store (lynkr-sessions)

#: Clients talking at once, each in a session of its own; turns before a client starts a new one.
SESSION_CLIENTS = 16
SESSION_TURNS = 6
#: Exchanges the store must have committed in a round before the kill.
COMMITS_BEFORE_KILL = 40
#: Files the model reads with lynkr's workspace_read: every exchange hides a tool step
#: whose result is this big, so each write is a few hundred KB of JSON.
READ_FILES = 4
READ_FILE_BYTES = 24_000


class ReadingModel:
    """The scripted model: asked to read a file, it calls ``workspace_read``; handed the result,
    it quotes the file's first line."""

    def __init__(self) -> None:
        self.calls = itertools.count()

    def __call__(self, body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]["content"]
        if isinstance(last, list) and any(b.get("type") == "tool_result" for b in last):
            result = next(b for b in last if b.get("type") == "tool_result")
            content = result["content"] if isinstance(result["content"], str) else json.dumps(result["content"])
            first = next((line for line in content.splitlines() if "line 0 of" in line), "?")
            return Reply.text(f"It starts with: {first}")
        text = last if isinstance(last, str) else last[-1].get("text", "")
        name = text.removeprefix("read ")
        return Reply([{"type": "text", "text": f"Reading {name}."},
                      {"type": "tool_use", "id": f"toolu_{next(self.calls)}", "name": "workspace_read",
                       "input": {"path": name}}])


def sessions_environment(upstream: str, home: Path, workspace: Path) -> dict[str, str]:
    env = lynkr_environment(upstream, home, workspace)
    env.update(LYNKR_PLUGINS="lynkr-provider-anthropic,lynkr-tools-workspace,lynkr-sessions",
               SESSION_CONTENT="full", SESSION_QUEUE_SIZE="10000")
    return env


class Committed:
    """What the session store committed, read by a connection of the test's own."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        #: request_id -> (session_id, status, bytes of request, response, steps, hidden_turns)
        self.rows: dict[str, tuple[Any, ...]] = {}

    def read(self) -> dict[str, tuple[Any, ...]]:
        """Every exchange committed now (WAL: what a reader sees is whole transactions)."""
        if not self.db_path.exists():
            return {}
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as connection:
            try:
                found = connection.execute(
                    "select request_id, session_id, status, length(request), length(response), length(steps), "
                    "length(hidden_turns) from exchanges").fetchall()
            except sqlite3.OperationalError:  # the store has not created its tables yet
                return {}
        return {row[0]: row[1:] for row in found}


def check_sessions_db(db_path: Path) -> dict[str, tuple[Any, ...]]:
    """Open the database after a kill: intact, every row whole, every session's count equal to
    its exchanges (the row and its session's update were one transaction); its rows."""
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        assert connection.execute("pragma integrity_check").fetchall() == [("ok",)]
        assert connection.execute("pragma foreign_key_check").fetchall() == []
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
        counts = connection.execute(
            "select s.id, s.exchanges, count(e.seq) from sessions s left join exchanges e "
            "on e.session_id = s.id group by s.id").fetchall()
        assert all(kept == counted for _, kept, counted in counts), counts
        rows = connection.execute(
            "select request_id, session_id, status, request, response, steps, hidden_turns from exchanges").fetchall()
    for request_id, _, status, request, response, steps, hidden in rows:
        assert status == 200, request_id
        anthropic.decode_request(request.encode())
        anthropic.decode_response(response.encode())
        assert json.loads(steps) and json.loads(hidden)["steps"], request_id
    return {row[0]: (row[1], row[2], *(len(text) for text in row[3:])) for row in rows}


class SessionClient:
    """A client keeping its conversation, as Claude Code does; a new session every
    ``SESSION_TURNS`` turns. ``answered`` counts the answers it got."""

    def __init__(self, url: str, name: str, stream: bool) -> None:
        self.sdk = anthropic_sdk.AsyncAnthropic(base_url=url, api_key="client", max_retries=0, timeout=30)
        self.name, self.stream = name, stream
        self.sessions = itertools.count()
        self.answered = 0
        self._new_session()

    def _new_session(self) -> None:
        self.session_id = f"{self.name}-{next(self.sessions)}"
        self.messages: list[dict[str, Any]] = []

    async def turn(self) -> None:
        if len(self.messages) >= 2 * SESSION_TURNS:
            self._new_session()
        turn = len(self.messages) // 2
        self.messages.append({"role": "user", "content": f"read file-{turn % READ_FILES}.txt"})
        fields: dict[str, Any] = {
            "model": "claude-sonnet-4-6", "max_tokens": 200, "tools": CLIENT_TOOLS, "messages": self.messages,
            "extra_headers": {"x-claude-code-session-id": self.session_id},
        }
        if self.stream:
            async with self.sdk.messages.stream(**fields) as events:
                answer = await events.get_final_message()
        else:
            answer = await self.sdk.messages.create(**fields)
        self.messages.append({"role": "assistant",
                              "content": [block.model_dump(exclude_none=True) for block in answer.content]})
        self.answered += 1


async def session_burst(clients: list[SessionClient], stop: asyncio.Event) -> int:
    """Every client talking until ``stop``, set just before the kill; the number of turns the
    kill cut (any failure before ``stop`` fails the test)."""
    cut = 0

    async def talk(client: SessionClient) -> None:
        nonlocal cut
        while not stop.is_set():
            try:
                await client.turn()
            except Exception:
                if not stop.is_set():
                    raise
                cut += 1
                return

    await asyncio.gather(*(talk(client) for client in clients))
    return cut


async def test_kill_9_during_session_writes_keeps_every_committed_exchange_whole(tmp_path: Path) -> None:
    """``acknowledged`` here is what the store committed: the rows a second connection read
    just before the kill. The store writes after the client got its answer (off the
    request path), so an answered exchange may still be queued when the process dies;
    those are counted (``answered, not committed``), not required. Every acknowledged
    row must be there after the kill, unchanged and whole; no row may be half written."""
    home, workspace = tmp_path / "home", tmp_path / "workspace"
    workspace.mkdir()
    for n in range(READ_FILES):
        lines = [f"file {n} line {i} of many: " + "x" * 60 for i in range(READ_FILE_BYTES // 80)]
        (workspace / f"file-{n}.txt").write_text("\n".join(lines) + "\n")
    db_path = home / "lynkr-sessions" / "sessions.db"
    committed = Committed(db_path)
    acknowledged: dict[str, tuple[Any, ...]] = {}
    figures = []
    async with FakeAnthropic(ReadingModel(), api_key=UPSTREAM_KEY) as fake:
        env = sessions_environment(fake.base_url or "", home, workspace.resolve())
        for round_ in range(ROUNDS):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            with lynkr(env, tmp_path, port, f"lynkr-sessions-{round_}") as proc:
                await wait_ready(proc, f"{url}/health", limit_s=30)
                clients = [SessionClient(url, f"r{round_}c{n}", stream=n % 2 == 0) for n in range(SESSION_CLIENTS)]
                before = len(await asyncio.to_thread(committed.read))
                stop = asyncio.Event()
                talking = asyncio.create_task(session_burst(clients, stop))
                started = time.monotonic()
                while True:
                    seen = await asyncio.to_thread(committed.read)
                    if len(seen) - before >= COMMITS_BEFORE_KILL or talking.done():
                        break
                    assert time.monotonic() - started < 60, "no progress:\n" + proc.log_tail()
                    await asyncio.sleep(0.02)
                assert not talking.done(), "the clients stopped:\n" + proc.log_tail()
                stop.set()
                os.kill(proc.popen.pid, signal.SIGKILL)  # right after the read: writes are under way
                proc.popen.wait(10)
                cut = await talking
                for client in clients:
                    await client.sdk.close()
            acknowledged.update(seen)
            stored = check_sessions_db(db_path)
            lost = [request_id for request_id in acknowledged if request_id not in stored]
            assert not lost, f"committed before the kill and gone: {lost[:5]}"
            changed = [r for r, row in acknowledged.items() if stored[r] != row]
            assert not changed, f"committed rows changed by the kill: {changed[:5]}"
            answered = sum(client.answered for client in clients)
            figures.append((answered, len(seen) - before, len(stored) - len(seen), cut))

        # a fresh server takes the store over: it restores a session from before the kills and writes
        port = free_port()
        with lynkr(env, tmp_path, port, "lynkr-sessions-last") as proc:
            url = f"http://127.0.0.1:{port}"
            await wait_ready(proc, f"{url}/health", limit_s=30)
            survivor = SessionClient(url, "after", stream=False)
            turns = collections.Counter(session for session, *_ in stored.values())
            _, survivor.session_id = max((n, s) for s, n in turns.items() if n < SESSION_TURNS)
            survivor.messages = history_of(db_path, survivor.session_id)
            requests_before = len(fake.message_requests)
            await survivor.turn()
            await survivor.sdk.close()
            restored = fake.message_requests[requests_before].json["messages"]
            results = [b for m in restored if isinstance(m["content"], list) for b in m["content"]
                       if b.get("type") == "tool_result"]
            assert len(results) == turns[survivor.session_id], restored[-3:]
            deadline = time.monotonic() + 30
            while len(await asyncio.to_thread(committed.read)) <= len(stored):
                assert time.monotonic() < deadline, "the restarted server wrote nothing:\n" + proc.log_tail()
                await asyncio.sleep(0.05)
    check_sessions_db(db_path)
    print("\nsession crash safety: " + "; ".join(
        f"kill {n + 1}: {answered} answered, {acked} committed before the kill, "
        f"{extra} committed between the last read and the kill, {cut} turns cut"
        for n, (answered, acked, extra, cut) in enumerate(figures)
    ))


def history_of(db_path: Path, session_id: str) -> list[dict[str, Any]]:
    """A session's conversation as its client kept it: each turn's prompt and the answer it got."""
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        rows = connection.execute("select request, response from exchanges where session_id = ? order by seq",
                                  [session_id]).fetchall()
    messages: list[dict[str, Any]] = []
    for request, response in rows:
        messages += [json.loads(request)["messages"][-1],
                     {"role": "assistant", "content": json.loads(response)["content"]}]
    return messages


#: A process writing session exchanges in a loop, as the store's writer thread does (one
#: transaction each: the row and its session's update); each line it prints is a committed one.
SESSION_WRITER = """
import json, sys, time
from pathlib import Path
from lynkr_sessions.db import SessionDB
db = SessionDB(Path(sys.argv[1]))
name, big = sys.argv[2], "x" * 50_000
response = json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                       "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                       "usage": {"input_tokens": 1, "output_tokens": 1}})
for n in range(10**9):
    request_id = f"{name}-{n}"
    db.write({
        "request_id": request_id, "session_id": f"{name}-s{n % 3}", "finished": time.time(),
        "streamed": 0, "status": 200, "provider": "anthropic", "model": "m", "usage": "{}",
        "duration": 0.1, "response": response,
        "request": json.dumps({"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": big}]}),
        "steps": json.dumps([{"index": 0, "tool_calls": [{"result": big}]}]),
        "hidden_turns": json.dumps({"steps": [{"content": [], "results": [{"content": big}]}]}),
    })
    sys.stdout.write(request_id + "\\n")
    sys.stdout.flush()
"""


async def test_kill_9_of_processes_writing_sessions_at_once(tmp_path: Path) -> None:
    """Processes that do nothing but write exchanges to one session database (as ``lynkr start
    --workers N`` would) are killed at once, mid-transaction for some, several times; every
    exchange whose commit returned is there and whole, every session's count matches."""
    db_path = tmp_path / "sessions.db"
    acknowledged: set[str] = set()
    for kill in range(KILLS):
        writers = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", SESSION_WRITER, str(db_path), f"w{kill}.{n}",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
            )
            for n in range(WRITERS)
        ]
        try:
            for writer in writers:  # every writer has committed a few: all of them are writing now
                for _ in range(5):
                    line = await asyncio.wait_for(writer.stdout.readline(), 30)
                    assert line, "a writer failed:\n" + (await writer.stderr.read()).decode()[-2000:]
                    acknowledged.add(line.decode().strip())
        finally:
            for writer in writers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(writer.pid, signal.SIGKILL)
        for writer in writers:
            rest = await writer.stdout.read()
            await writer.wait()
            acknowledged.update(rest.decode().split("\n")[:-1])  # complete lines only
        stored = check_sessions_db(db_path)
        missing = sorted(acknowledged - stored.keys())
        assert not missing, f"committed and gone: {missing[:5]}"
    print(f"\nsession store kills: {KILLS} x {WRITERS} writers, {len(acknowledged)} committed, "
          f"{len(stored)} stored")
