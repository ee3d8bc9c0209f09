"""One MCP server, kept connected: started, listed, restarted with backoff, stopped.

Each server has a task of its own that opens the transport, initializes the session
and lists the tools, then waits for one of three things: the connection is lost (the
process died), the server says its tools changed (``notifications/tools/list_changed``:
they are listed again), or lynkr stops. After a loss it reconnects after a backoff
that doubles from ``MCP_RESTART_BACKOFF_MS`` up to ``MCP_RESTART_BACKOFF_MAX_MS``,
and gives up after ``MCP_MAX_RESTARTS`` failed attempts in a row. A call in flight
when the connection goes gets an error at once (the SDK fails it), never a hang.

The transport and the session are entered and left in the server's own task (the
SDK's context managers require it); calls come from request tasks and only send on
the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import anyio
import mcp.types as mcp_types
import structlog
from mcp import ClientSession
from mcp.shared.exceptions import MCPError

from lynkr_mcp.manifests import ServerSpec
from lynkr_mcp.sandbox import Launch
from lynkr_mcp.transports import open_transport

log = structlog.get_logger("lynkr-mcp")

State = Literal["configured", "untrusted", "starting", "ready", "restarting", "failed", "stopped"]

#: How lynkr introduces itself to servers.
CLIENT_INFO = mcp_types.Implementation(name="lynkr", version="0.1.0")


class CallFailed(Exception):
    """A call that did not reach a result: the message is what the model reads."""


@dataclass(frozen=True, slots=True)
class Timing:
    """How long to wait for what, in seconds, and how often to retry."""

    startup: float
    backoff: float
    backoff_max: float
    max_restarts: int


class ServerConnection:
    """A configured server and its live session (``session`` is ``None`` unless ``ready``)."""

    def __init__(
        self,
        spec: ServerSpec,
        timing: Timing,
        *,
        launch: Launch | None,
        errlog_path: Path | None,
        tools_cache: Path | None = None,
        on_tools_changed: Callable[[ServerConnection], None],
    ) -> None:
        self.spec = spec
        self.timing = timing
        self.launch = launch
        self.errlog_path = errlog_path
        self.tools_cache = tools_cache
        self.on_tools_changed = on_tools_changed
        self.state: State = "configured" if spec.trusted else "untrusted"
        self.reason = "" if spec.trusted else (
            "defined in the workspace's .mcp.json; set MCP_TRUST_PROJECT_CONFIG=true to start it")
        self.tools: list[mcp_types.Tool] = []
        self.session: ClientSession | None = None
        self.failures = 0
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._stopping = False
        self._lost = False
        self._refresh = False
        self._relisted = asyncio.Event()  # clear while a list_changed re-listing is pending
        self._relisted.set()
        self._was_ready = False
        self._failure_noted = False

    @property
    def name(self) -> str:
        return self.spec.name

    def load_cached_tools(self) -> bool:
        """Take the tools of the last listing (kept in ``tools_cache``); False when there is none."""
        if self.tools_cache is None or not self.tools_cache.is_file():
            return False
        try:
            listed = json.loads(self.tools_cache.read_text())
            self.tools = [mcp_types.Tool.model_validate(tool) for tool in listed]
        except (OSError, ValueError) as exc:
            log.warning("mcp_tools_cache_unreadable", server=self.name, error=type(exc).__name__)
            return False
        return True

    def _keep_tools(self, tools: list[mcp_types.Tool]) -> None:
        self.tools = tools
        if self.tools_cache is not None:
            self.tools_cache.parent.mkdir(parents=True, exist_ok=True)
            self.tools_cache.write_text(json.dumps(
                [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]))
        self.on_tools_changed(self)

    def start(self) -> None:
        """Start the server's task (no-op when untrusted or already started)."""
        if self._task is None and self.spec.trusted and not self._stopping:
            self._set("starting")
            self._task = asyncio.create_task(self._run(), name=f"lynkr-mcp:{self.name}")

    async def settled(self, seconds: float) -> None:
        """Wait until the first attempt is over (ready or failed), at most ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while self.state in ("configured", "starting"):
                    if self._task is None:
                        return
                    await self._changed_event()

    async def close(self) -> None:
        """Stop the server (its process tree, for stdio) and wait for it: a session is
        closed as the SDK does it, an attempt still connecting is cancelled."""
        self._stopping = True
        self._relisted.set()
        self._wake.set()
        if self._task is not None:
            if self.state in ("starting", "restarting"):
                self._task.cancel()  # still connecting: nothing to wind down gracefully
            done, _ = await asyncio.wait({self._task}, timeout=10)
            if not done:
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=10)
        self._set("stopped")

    async def call(self, tool: str, arguments: dict[str, Any], seconds: float) -> mcp_types.CallToolResult:
        """Call ``tool``, waiting at most ``seconds`` for its result; ``CallFailed`` saying why
        when none came back."""
        self.start()
        session = await self._ready_session(seconds)
        try:
            result = await session.call_tool(tool, arguments, read_timeout_seconds=seconds)
        except MCPError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                raise CallFailed(f"MCP server {self.name!r}: {tool} timed out after {seconds:g} s") from None
            if exc.code == mcp_types.CONNECTION_CLOSED:
                self._connection_lost()
                raise CallFailed(f"MCP server {self.name!r} closed the connection during the call "
                                 "(it stopped or crashed); it is being restarted") from None
            raise CallFailed(f"MCP server {self.name!r} refused the call: {exc.message} "
                             f"(error {exc.code})") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError) as exc:
            self._connection_lost()
            raise CallFailed(f"MCP server {self.name!r} is unreachable: {type(exc).__name__}") from None
        if not isinstance(result, mcp_types.CallToolResult):
            raise CallFailed(f"MCP server {self.name!r} answered {tool} with an unsupported result")
        return result

    async def _ready_session(self, seconds: float) -> ClientSession:
        try:
            async with asyncio.timeout(max(seconds, self.timing.startup)):
                while True:
                    if self.state == "ready" and self.session is not None:
                        return self.session
                    if self.state in ("failed", "untrusted", "stopped", "configured"):
                        raise CallFailed(f"MCP server {self.name!r} is {self.state}: {self.reason}")
                    await self._changed_event()
        except TimeoutError:
            raise CallFailed(f"MCP server {self.name!r} is still {self.state}") from None

    def _connection_lost(self) -> None:
        """The session is gone: calls from now on wait for the restart."""
        self._lost = True
        self._wake.set()
        if self.state == "ready" and not self._stopping:
            self.session = None
            self._set("restarting")

    async def _run(self) -> None:
        while not self._stopping:
            self._was_ready = self._failure_noted = False
            try:
                await self._serve_once()
            except Exception as exc:  # any failure to connect: report, back off, retry
                if not self._failure_noted:
                    self._note_failure(exc)
            finally:
                self.session = None
            if self._stopping:
                break
            was_ready = self._was_ready
            if was_ready:
                self.failures = 0
                self.restarts += 1
                self.reason = "the connection was lost (the server stopped or crashed)"
                log.warning("mcp_server_lost", server=self.name)
            else:
                self.failures += 1
            if self.failures > self.timing.max_restarts:
                self.reason = f"{self.reason} (gave up after {self.failures} attempts)"
                self._set("failed")
                if self.tools:  # no longer offered: calls could only fail
                    self.tools = []
                    self.on_tools_changed(self)
                return
            self._set("restarting" if was_ready else "failed")
            delay = min(self.timing.backoff * 2 ** max(self.failures - 1, 0), self.timing.backoff_max)
            await self._sleep(delay)
            if not self._stopping:
                self._set("restarting")

    async def _serve_once(self) -> None:
        """Connect, list, serve until lost or stopped (``_was_ready`` says how far it got)."""
        self._lost = self._refresh = False
        self._relisted.set()
        self._wake.clear()
        errlog = self._open_errlog()
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(
                    open_transport(self.spec, self.launch, errlog, self.timing.startup))
                group = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(group.cancel_scope.cancel)
                watched_send, watched = anyio.create_memory_object_stream[Any](0)
                group.start_soon(self._watch, read, watched_send)
                session = await stack.enter_async_context(ClientSession(
                    watched, write, message_handler=self._on_message, client_info=CLIENT_INFO))
                try:
                    with anyio.fail_after(self.timing.startup):
                        await session.initialize()
                        tools = await _list_tools(session)
                except Exception as exc:
                    self._note_failure(exc)  # now: winding the transport down may take seconds
                    raise
                self.session, self.reason, self._was_ready = session, "", True
                self._set("ready")
                log.info("mcp_server_ready", server=self.name, transport=self.spec.transport, tools=len(tools))
                self._keep_tools(tools)
                await self._serve(session)
        finally:
            errlog.close()

    def _note_failure(self, exc: BaseException) -> None:
        self._failure_noted = True
        self.reason = self._explain(exc)
        log.warning("mcp_server_failed", server=self.name, reason=self.reason)
        if self.state in ("starting", "restarting"):
            self._set("failed")

    async def _serve(self, session: ClientSession) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping or self._lost:
                return
            if self._refresh:
                self._refresh = False
                try:
                    with anyio.fail_after(self.timing.startup):
                        tools = await _list_tools(session)
                except Exception as exc:
                    log.warning("mcp_relist_failed", server=self.name, error=type(exc).__name__)
                    continue
                finally:
                    self._relisted.set()
                log.info("mcp_tools_changed", server=self.name, tools=len(tools))
                self._keep_tools(tools)

    async def _watch(self, read: Any, send: Any) -> None:
        """Pass the transport's messages on to the session; note when they end (a loss)."""
        try:
            async with send:
                async for item in read:
                    await send.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
            pass
        finally:
            self._connection_lost()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            # Noted before the result of the call that changed the tools reaches the model:
            # the next listing waits for the new one (``tools_settled``).
            self._refresh = True
            self._relisted.clear()
            self._wake.set()
            self.on_tools_changed(self)
        elif isinstance(message, Exception):
            log.warning("mcp_transport_error", server=self.name, error=type(message).__name__)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not self._stopping:
                    await self._wake.wait()
                    self._wake.clear()

    def _set(self, state: State) -> None:
        self.state = state
        self._changed.set()
        self._changed = asyncio.Event()

    async def tools_settled(self) -> None:
        """Wait (at most the start-up timeout) for a re-listing the server asked for."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timing.startup):
                await self._relisted.wait()

    async def _changed_event(self) -> None:
        await self._changed.wait()

    def _open_errlog(self) -> IO[str]:
        if self.errlog_path is None:
            return open("/dev/null", "w")  # closed in _serve_once
        self.errlog_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.errlog_path, "a")  # closed in _serve_once
        handle.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {self.name}\n")
        handle.flush()
        return handle

    def _explain(self, exc: BaseException) -> str:
        """Why an attempt failed, with the last line the server wrote to stderr."""
        if isinstance(exc, TimeoutError):
            what = f"no answer within {self.timing.startup:g} s"
        elif isinstance(exc, MCPError) and exc.code == mcp_types.CONNECTION_CLOSED:
            what = "the server closed the connection before it was ready"
        elif isinstance(exc, BaseExceptionGroup):
            return self._explain(exc.exceptions[0])
        else:
            what = f"{type(exc).__name__}: {exc}"
        last = _last_line(self.errlog_path)
        return f"{what} (stderr: {last})" if last else what


async def _list_tools(session: ClientSession) -> list[mcp_types.Tool]:
    """Every tool of the server, following pagination."""
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    while True:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _last_line(path: Path | None) -> str:
    """The last line a server wrote to stderr since it was last started."""
    if path is None or not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4096))
        text = handle.read().decode(errors="replace")
    since_start = text.rsplit("\n--- ", 1)[-1].splitlines()[1:]
    lines = [line.strip() for line in since_start if line.strip()]
    return lines[-1][:300] if lines else ""
