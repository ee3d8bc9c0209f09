"""The reflector: a preparer that offers the playbook's hints, and the background worker
that reads finished exchanges into the playbook.

The exchange hook only queues (``submit``): a bounded queue, and a full one drops the
exchange with a counted warning, so the hook never waits. One worker task reads the
queue in order, everything queued at once: the database work runs on one thread of its
own, off the event loop, reached once per batch (a hop per exchange waited for the busy
loop each time, and the queue overflowed at a few hundred requests a second).
The active hints are kept in memory (``hints``) for the preparer, refreshed when a
delta changes the playbook.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import msgspec
import structlog

from lynkr_core import (
    BackgroundQueue,
    Exchange,
    ExchangeObserver,
    RequestContext,
    RequestPreparer,
    Services,
    ToolCallRecord,
    anthropic,
)
from lynkr_reflector import episodes, inject, model_mode, transcript
from lynkr_reflector.config import DB_NAME, PLUGIN_NAME, ReflectorSettings
from lynkr_reflector.episodes import Reading, Usage
from lynkr_reflector.playbook import THREAD_TTL_SECONDS, Applied, Hint, Playbook
from lynkr_reflector.records import Change

T = TypeVar("T")

log = structlog.get_logger(PLUGIN_NAME)

#: How long ``close`` waits for the queue to be read before giving up on the rest.
CLOSE_TIMEOUT_SECONDS = 10.0
#: Forget old conversations once every this many exchanges.
FORGET_EVERY = 500


class _Job(NamedTuple):
    """What reading one exchange takes: its session, conversation, usage, lynkr's tool
    calls, and whether the client got a finished answer."""

    session_id: str
    request: anthropic.MessagesRequest
    usage: Usage
    calls: list[ToolCallRecord]
    answered: bool


class Reflector(RequestPreparer, ExchangeObserver):
    """Learns the workspace's playbook from finished exchanges and offers it to the model."""

    name = PLUGIN_NAME

    def __init__(self, config: ReflectorSettings, workspace: str) -> None:
        self.config = config
        self.workspace = workspace
        #: The active hints, strongest first (what the preparer offers).
        self.hints: tuple[Hint, ...] = ()
        #: Exchanges read, model answers that could not be used.
        self.processed = 0
        self.model_failures = 0
        #: The exchanges waiting to be read, their worker and the playbook's thread.
        self.queue: BackgroundQueue[Exchange] = BackgroundQueue(
            "reflector", handle_many=self._reflect_queued, size=config.queue_size,
            close_timeout=CLOSE_TIMEOUT_SECONDS, fix="raise REFLECTOR_QUEUE_SIZE",
        )
        self._services: Services | None = None
        self._playbook: Playbook | None = None
        #: Exchanges read since old conversations were last forgotten (the thread's count).
        self._since_forget = 0

    # ------------------------------------------------------------- lifecycle

    async def start(self, services: Services) -> None:
        """Start the worker; with injection on, load the hints before the first request."""
        self._services = services
        await self.queue.start()
        if self.config.inject:
            await self._on_thread(self._refresh)

    async def close(self) -> None:
        """Read what is queued (for at most ``CLOSE_TIMEOUT_SECONDS``), then stop."""
        await self.queue.close(last=self._close_playbook)

    @property
    def dropped(self) -> int:
        """Exchanges dropped because the queue was full."""
        return self.queue.dropped

    def _close_playbook(self) -> None:
        if self._playbook is not None:
            self._playbook.close()
            self._playbook = None

    # ------------------------------------------------------------- request path

    async def prepare(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> anthropic.MessagesRequest | None:
        """With injection on, add the hints relevant to the task."""
        if not self.config.inject:
            return None
        return inject.inject(request, self.hints, self.config.max_hints)

    def exchange_finished(self, exchange: Exchange) -> None:
        """Queue a finished exchange to be read (the core calls it for every one; a plain
        function, so it needs no task of its own)."""
        self.submit(exchange)

    def submit(self, exchange: Exchange) -> bool:
        """Queue ``exchange`` to be read, without waiting; ``False`` when it is not (no
        session, not started, or the queue is full: then it is dropped and counted)."""
        if exchange.session_id is None:
            return False
        return self.queue.submit(exchange)

    async def idle(self) -> None:
        """Wait until every queued exchange has been read."""
        await self.queue.idle()

    # ------------------------------------------------------------- the worker

    async def _reflect_queued(self, exchanges: list[Exchange]) -> None:
        await self.reflect_many(exchanges)

    async def reflect(self, exchange: Exchange) -> Reading | None:
        """Read one exchange into the playbook (and, in model mode, ask the model)."""
        return (await self.reflect_many([exchange]))[0]

    async def reflect_many(self, exchanges: list[Exchange]) -> list[Reading | None]:
        """Read exchanges into the playbook in order, in one trip to the database thread and
        a transaction each (in model mode, then ask the model about those worth it). An
        exchange with nothing to read (no session, no tools: a title request) reads as
        ``None``, and so does one whose reading failed (logged and counted in the queue's
        ``failed``; the others are still read)."""
        wanted = [exchange if _worth_reading(exchange) else None for exchange in exchanges]
        if not any(wanted):
            return [None] * len(wanted)
        readings = await self._on_thread(self._read_all, wanted)
        for exchange, reading in zip(wanted, readings, strict=True):
            if exchange is None or reading is None:
                continue
            self.processed += 1
            if self.config.mode == "model" and model_mode.worth_asking(reading):
                await self._ask_model(reading, _request_of(exchange).model)
        return readings

    def _read_all(self, exchanges: list[Exchange | None]) -> list[Reading | None]:
        """On the database thread: ``_read`` each exchange, a failure costing only its own
        (the usage and the answer, which a stream's frames are rebuilt into, are read here
        too: off the event loop)."""
        readings: list[Reading | None] = []
        for exchange in exchanges:
            reading = None
            if exchange is not None:
                try:
                    reading = self._read(*_job(exchange))
                except Exception:
                    self.queue.failed += 1
                    log.exception("reflector_failed", session=exchange.session_id)
            readings.append(reading)
        return readings

    def _read(self, session_id: str, request: anthropic.MessagesRequest, usage: Usage,
              calls: list[ToolCallRecord], answered: bool) -> Reading:
        """On the database thread: advance the conversation and apply the heuristic delta."""
        playbook = self._open()
        messages = request.messages
        key = transcript.thread_key(session_id, messages)
        server = transcript.server_events(calls, len(messages))
        now = time.time()
        self._since_forget += 1
        with playbook.transaction():
            thread = playbook.load_thread(self.workspace, key) or episodes.new_thread(session_id, key)
            cwd = "" if thread.cwd else transcript.working_directory(request)
            reading = episodes.read(thread, messages, usage=usage, server_events=server,
                                    answered=answered, workspace=self.workspace, cwd=cwd)
            playbook.save_thread(self.workspace, thread, now)
            applied = playbook.apply(self.workspace, reading.changes,
                                     prune_below=self.config.prune_below, now=now)
            playbook.record_episodes(self.workspace, reading.episodes, now)
            playbook.record_verdicts(self.workspace, reading.verdicts)
            if self._since_forget >= FORGET_EVERY:
                playbook.forget_threads(now - THREAD_TTL_SECONDS)
                self._since_forget = 0
        if reading.rewound:
            log.info("reflector_history_rewritten", session=session_id, messages=len(messages))
        self._note(applied)
        return reading

    async def _ask_model(self, reading: Reading, client_model: str) -> None:
        assert self._services is not None
        playbook_hints = await self._on_thread(lambda: self._open().hints(self.workspace))
        ask = model_mode.request(self.config.model or client_model, reading, playbook_hints)
        try:
            answer = await self._services.model.complete(ask, purpose="reflector")
            proposal = model_mode.parse(answer)
        except Exception as exc:  # an upstream error or an unusable answer: heuristics only
            self.model_failures += 1
            log.warning("reflector_model_unusable", error=f"{type(exc).__name__}: {exc}",
                        fallback="heuristic delta only")
            return
        counted = await self._on_thread(self._counted, model_mode.named(proposal))
        changes = model_mode.accept(proposal, reading, playbook_hints, counted)
        proposed = len(proposal.add) + len(proposal.support) + len(proposal.contradict)
        log.info("reflector_model_delta", proposed=proposed, accepted=len(changes))
        if changes:
            await self._on_thread(self._apply, changes)

    def _counted(self, hint_ids: set[int]) -> model_mode.Counted:
        playbook = self._open()
        return {
            hint_id: {(e.session_id, e.thread, e.turn, e.support) for e in playbook.evidence(hint_id)}
            for hint_id in hint_ids
        }

    def _apply(self, changes: list[Change]) -> Applied:
        playbook = self._open()
        with playbook.transaction():
            applied = playbook.apply(self.workspace, changes, prune_below=self.config.prune_below,
                                     now=time.time())
        self._note(applied)
        return applied

    def _note(self, applied: Applied) -> None:
        if not applied.changed:
            return
        if applied.pruned:
            log.info("reflector_pruned", hints=applied.pruned)
        self._refresh()

    # ------------------------------------------------------------- the database thread

    def _open(self) -> Playbook:
        if self._playbook is None:
            assert self._services is not None
            self._playbook = Playbook(self._services.data_dir(PLUGIN_NAME) / DB_NAME)
        return self._playbook

    def _refresh(self) -> None:
        """Reload the active hints (the preparer's copy, replaced whole: the event loop reads
        it while this thread writes it); keep the old tuple when equal."""
        active = tuple(self._open().active(self.workspace, self.config.min_evidence))
        if active != self.hints:
            self.hints = active

    async def _on_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await self.queue.on_thread(function, *args)


def _request_of(exchange: Exchange) -> anthropic.MessagesRequest:
    """The request as the client sent it (the conversation the reflector reads)."""
    return exchange.client_request or exchange.request


def _worth_reading(exchange: Exchange) -> bool:
    """An agent's turn in a session: a session id, messages and tools (not a title or
    summary request)."""
    request = _request_of(exchange)
    return exchange.session_id is not None and bool(request.messages) and _has_tools(request)


def _job(exchange: Exchange) -> _Job:
    """What reading ``exchange`` (``_worth_reading``) takes."""
    assert exchange.session_id is not None
    totals = exchange.usage()
    usage = Usage(
        steps=max(1, len(exchange.steps)),
        input_tokens=totals.input_tokens + _count(totals.cache_read_input_tokens)
        + _count(totals.cache_creation_input_tokens),
        output_tokens=totals.output_tokens,
        seconds=exchange.duration,
    )
    # a stream the client left may look finished, but the client never saw its end
    answered = (exchange.error is None and not exchange.disconnected
                and transcript.answered(exchange.response))
    return _Job(exchange.session_id, _request_of(exchange), usage, exchange.tool_calls, answered)


def _has_tools(request: anthropic.MessagesRequest) -> bool:
    """An agent's turn declares tools; a title or summary request does not."""
    return request.tools is not msgspec.UNSET and bool(request.tools)


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0
