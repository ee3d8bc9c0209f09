"""Long-term memory as a registered object: a preparer that injects the memories relevant
to each request, and an exchange observer that learns new ones off the request path.

Writes (extraction, tools, pruning, access counts) run in order on the ``BackgroundQueue``'s
thread, with the writer connection; retrieval runs on a reader thread of its own with a
second connection (WAL lets it read while the writer writes), so a request never waits
for extraction. Retrievers come from the ``lynkr_register_memory_retrievers`` hook.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import structlog

from lynkr_core import (
    BackgroundQueue,
    Exchange,
    ExchangeObserver,
    RequestContext,
    RequestPreparer,
    Services,
    anthropic,
)
from lynkr_memory import extract, inject, learn, model_mode, turns
from lynkr_memory.config import DB_NAME, PLUGIN_NAME, MemorySettings
from lynkr_memory.recall import Ranked, recall
from lynkr_memory.retrievers import Retriever, missing_methods
from lynkr_memory.store import MemoryStore, NewMemory, Stats
from lynkr_memory.text import keywords

T = TypeVar("T")
log = structlog.get_logger(PLUGIN_NAME)

HOOK = "lynkr_register_memory_retrievers"
CLOSE_TIMEOUT_SECONDS = 10.0
#: Apply the lifecycle rules once every this many stored memories (and at start).
PRUNE_EVERY = 100
#: Sessions whose last message's keywords are kept (for the context-switch signal).
SESSIONS_REMEMBERED = 1024


class LongTermMemory(RequestPreparer, ExchangeObserver):
    """Remembers what users state across sessions and offers it back when it is relevant."""

    name = PLUGIN_NAME

    def __init__(self, config: MemorySettings) -> None:
        self.config = config
        self.retrievers: list[Retriever] = []
        #: Memories stored, verdicts, model answers that could not be used.
        self.stored = 0
        self.verdicts: dict[str, int] = {}
        self.model_failures = 0
        self.queue: BackgroundQueue[Exchange | tuple[int, ...]] = BackgroundQueue(
            "memory", self._handle, size=config.queue_size, close_timeout=CLOSE_TIMEOUT_SECONDS,
            fix="raise MEMORY_QUEUE_SIZE",
        )
        self._services: Services | None = None
        self._writer: MemoryStore | None = None
        self._reader: MemoryStore | None = None
        self._reader_thread: ThreadPoolExecutor | None = None
        self._previous: OrderedDict[str, list[str]] = OrderedDict()

    # ------------------------------------------------------------- lifecycle

    async def start(self, services: Services) -> None:
        """Open the database, collect and open the retrievers, sync them, prune."""
        self._services = services
        directory = services.data_dir(PLUGIN_NAME)
        await self.queue.start()
        self._reader_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memory-reader")
        await self._write(self._open_writer, directory)
        self.retrievers = self._collect(services)
        await self._write(self._open_retrievers, directory)
        self._reader = await self._read(MemoryStore, directory / DB_NAME)
        await self._write(self._prune)

    def _collect(self, services: Services) -> list[Retriever]:
        found: list[Retriever] = []
        for call in services.hook_calls(HOOK):
            def register(retriever: Any, plugin: str = call.plugin) -> None:
                missing = missing_methods(retriever)
                if missing:
                    raise TypeError(f"{plugin}: memory retriever {retriever!r} lacks {', '.join(missing)}")
                if any(r.name == retriever.name for r in found):
                    raise ValueError(f"{plugin}: memory retriever '{retriever.name}' already registered")
                found.append(retriever)
            try:
                call(register=register, settings=services.settings)
            except Exception as exc:
                log.error("memory_retriever_refused", plugin=call.plugin, error=f"{type(exc).__name__}: {exc}")
        log.info("memory_retrievers", retrievers=[f"{r.name}:{r.weight:g}" for r in found])
        return found

    def _open_writer(self, directory: Path) -> None:
        self._writer = MemoryStore(directory / DB_NAME)

    def _open_retrievers(self, directory: Path) -> None:
        active = dict(self._store().active_texts())
        kept = []
        for retriever in self.retrievers:
            try:
                retriever.open(directory)
                have = retriever.indexed()
                missing = [(i, text) for i, text in active.items() if i not in have]
                if missing:
                    retriever.index(missing)
                stale = sorted(have - active.keys())
                if stale:
                    retriever.remove(stale)
                kept.append(retriever)
            except Exception:
                log.exception("memory_retriever_failed_to_open", retriever=retriever.name)
        self.retrievers = kept

    async def close(self) -> None:
        """Learn from what is queued (for at most ``CLOSE_TIMEOUT_SECONDS``; model mode still
        reads), then close the writer, the retrievers and the reader."""
        await self.queue.close(last=self._close_writer)
        if self._reader_thread is not None:
            if self._reader is not None:
                await self._read(self._reader.close)
                self._reader = None
            self._reader_thread.shutdown(wait=True)
            self._reader_thread = None

    def _close_writer(self) -> None:
        for retriever in self.retrievers:
            try:
                retriever.close()
            except Exception:
                log.exception("memory_retriever_close_failed", retriever=retriever.name)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # ------------------------------------------------------------- request path

    async def prepare(self, request: anthropic.MessagesRequest, context: RequestContext) -> anthropic.MessagesRequest | None:
        """Inject the memories relevant to the user's latest words (none: the request as it was)."""
        context.state[PLUGIN_NAME] = self
        if self.config.retrieval_limit <= 0 or self._reader is None:
            return None
        text = turns.latest_prompt(request.messages)
        found = await self.search(text, context.session_id)
        if not found:
            return None
        if context.purpose == "messages":
            self.queue.submit(tuple(r.memory.id for r in found))
        block = inject.render([r.memory for r in found], self.config.format)
        return inject.inject(request, block, self.config.injection_format)

    async def search(self, text: str, session_id: str | None, limit: int | None = None) -> list[Ranked]:
        """The memories relevant to ``text`` for ``session_id``, best first (reader thread)."""
        if self._reader is None:
            return []
        return await self._read(recall, self._reader, self.retrievers, text, session_id, self.config, limit=limit)

    def exchange_finished(self, exchange: Exchange) -> None:
        """Queue a finished exchange to learn from (the core calls it for every one; a plain
        function, so it needs no task of its own)."""
        if self.config.extraction_enabled:
            self.queue.submit(exchange)

    async def idle(self) -> None:
        """Wait until everything queued has been handled."""
        await self.queue.idle()

    # ------------------------------------------------------------- tools and CLI

    async def add(self, content: str, memory_type: str, session_id: str | None, scope: str) -> tuple[int | None, list[int]]:
        """Store what the model was asked to remember: ``(id, superseded ids)``, or ``(None, [])``
        when the same memory is already stored."""
        kind = extract.classify(content)
        subject = kind[1] if kind is not None and kind[0] == memory_type else ""
        candidate = extract.Candidate(memory_type, content.strip(), subject, extract.entities(content),
                                      extract.emphasis(content))
        return await self._write(self._add_explicit, candidate, session_id, scope)

    def _add_explicit(self, candidate: extract.Candidate, session_id: str | None, scope: str) -> tuple[int | None, list[int]]:
        verdict = learn.judge(self._store(), candidate, session_id, self.config)
        if verdict.action == "duplicate":
            return None, []
        new = dataclasses.replace(learn.as_new(verdict, session_id, self.config, source="tool"),
                                  scope="global" if scope == "global" or session_id is None else "session")
        return self._store_new(new, verdict.supersedes), verdict.supersedes

    async def forget(self, memory_id: int) -> bool:
        """Delete a memory for good."""
        return await self._write(self._forget, memory_id)

    def _forget(self, memory_id: int) -> bool:
        gone = self._store().forget(memory_id)
        if gone:
            self._unindex([memory_id])
        return gone

    async def stats(self) -> Stats:
        """The database's counts."""
        assert self._reader is not None
        return await self._read(self._reader.stats)

    # ------------------------------------------------------------- the writer

    async def _handle(self, item: Exchange | tuple[int, ...]) -> None:
        if isinstance(item, tuple):
            await self._write(self._store().touch, list(item))
            return
        await self.learn(item)

    async def learn(self, exchange: Exchange) -> list[learn.Verdict]:
        """Read what the user said in ``exchange`` into memory."""
        request = exchange.client_request or exchange.request
        text = turns.new_statement(request.messages)
        if not text:
            return []
        verdicts = None
        if self.config.extraction_mode == "model":
            verdicts = await self._ask_model(text, exchange.session_id, request.model)
        if verdicts is None:
            verdicts = await self._write(self._learn, text, exchange.session_id)
        for verdict in verdicts:
            self.verdicts[verdict.action] = self.verdicts.get(verdict.action, 0) + 1
        return verdicts

    def _learn(self, text: str, session_id: str | None) -> list[learn.Verdict]:
        store = self._store()
        previous = self._previous.get(session_id or "", [])
        verdicts = []
        for candidate in extract.candidates(text):
            verdict = learn.judge(store, candidate, session_id, self.config, previous)
            verdicts.append(verdict)
            if verdict.action == "add":
                self._store_new(learn.as_new(verdict, session_id, self.config), verdict.supersedes)
        self._remember_topic(session_id, keywords(text))
        return verdicts

    def _remember_topic(self, session_id: str | None, words: list[str]) -> None:
        key = session_id or ""
        self._previous[key] = words
        self._previous.move_to_end(key)
        while len(self._previous) > SESSIONS_REMEMBERED:
            self._previous.popitem(last=False)

    def _store_new(self, new: NewMemory, supersedes: list[int]) -> int:
        memory_id = self._store().add(new, supersedes=supersedes)
        for retriever in self.retrievers:
            try:
                retriever.index([(memory_id, new.content)])
            except Exception:
                log.exception("memory_retriever_index_failed", retriever=retriever.name)
        self._unindex(supersedes)
        self.stored += 1
        log.info("memory_stored", id=memory_id, type=new.type, scope=new.scope, surprise=round(new.surprise, 3),
                 supersedes=supersedes or None)
        if self.stored % PRUNE_EVERY == 0:
            self._prune()
        return memory_id

    def _unindex(self, ids: list[int]) -> None:
        if not ids:
            return
        for retriever in self.retrievers:
            try:
                retriever.remove(ids)
            except Exception:
                log.exception("memory_retriever_remove_failed", retriever=retriever.name)

    def _prune(self) -> list[int]:
        config = self.config
        pruned = self._store().prune(max_age_days=config.max_age_days, max_count=config.max_count,
                                     decay_half_life=config.decay_half_life if config.decay_enabled else None)
        if pruned:
            self._unindex(pruned)
            log.info("memory_pruned", memories=len(pruned))
        return pruned

    async def _ask_model(self, text: str, session_id: str | None, client_model: str) -> list[learn.Verdict] | None:
        """Model mode: the model proposes what to add, update or delete; ``None`` (use the
        heuristics) when its answer is unusable."""
        assert self._services is not None
        related = await self.search(text, session_id, limit=8)
        ask = model_mode.request(self.config.extraction_model or client_model, text, [r.memory for r in related])
        try:
            answer = await self._services.model.complete(ask, purpose="memory")
            operations = model_mode.parse(answer)
        except Exception as exc:
            self.model_failures += 1
            log.warning("memory_model_unusable", error=f"{type(exc).__name__}: {exc}", fallback="heuristic extraction")
            return None
        known = {r.memory.id for r in related}
        return await self._write(self._apply_operations, operations, known, session_id)

    def _apply_operations(self, operations: list[model_mode.Operation], known: set[int],
                          session_id: str | None) -> list[learn.Verdict]:
        verdicts = []
        for operation in operations:
            verdict = model_mode.verdict(operation, known)
            if verdict is None:
                continue
            if verdict.action == "add" and not verdict.supersedes and \
                    learn.judge(self._store(), verdict.candidate, session_id, self.config).action == "duplicate":
                verdict.action = "duplicate"
            verdicts.append(verdict)
            if operation.op == "delete" and operation.id is not None:
                self._forget(operation.id)
            elif verdict.action == "add":
                self._store_new(learn.as_new(verdict, session_id, self.config, source="model"), verdict.supersedes)
        return verdicts

    # ------------------------------------------------------------- threads

    def _store(self) -> MemoryStore:
        assert self._writer is not None, "memory is not started"
        return self._writer

    async def _write(self, function: Callable[..., T], *args: Any) -> T:
        return await self.queue.on_thread(function, *args)

    async def _read(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        assert self._reader_thread is not None, "memory is not started"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_thread, lambda: function(*args, **kwargs))
