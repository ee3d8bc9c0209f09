"""Retrieval: every retriever's candidates for a request's text, blended into one
relevance, ranked with recency and importance; the top ``MEMORY_RETRIEVAL_LIMIT``.

Only memories some retriever found relevant are candidates (a memory no retriever
relates to the request is never injected, however recent or important)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from lynkr_memory.config import PLUGIN_NAME, MemorySettings
from lynkr_memory.retrievers import Retriever
from lynkr_memory.store import DAY, Memory, MemoryStore, decayed

log = structlog.get_logger(PLUGIN_NAME)

#: Each retriever is asked for this many times the retrieval limit.
POOL = 4


@dataclass(frozen=True, slots=True)
class Ranked:
    """A retrieved memory with its scores."""

    memory: Memory
    score: float
    relevance: float
    recency: float
    importance: float


def recall(store: MemoryStore, retrievers: Sequence[Retriever], text: str, session_id: str | None,
           config: MemorySettings, *, limit: int | None = None, now: float | None = None,
           ranked: bool = True) -> list[Ranked]:
    """The memories to offer for ``text``, best first. ``ranked=False`` orders by relevance
    alone (the benchmark's "FTS5 alone")."""
    limit = config.retrieval_limit if limit is None else limit
    if limit <= 0 or not text.strip() or not retrievers:
        return []
    now = time.time() if now is None else now
    found: list[tuple[float, dict[int, float]]] = []
    for retriever in retrievers:
        try:
            hits = retriever.search(text, limit * POOL, session_id, config.include_global)
        except Exception:
            log.exception("memory_retriever_failed", retriever=retriever.name)
            continue
        found.append((max(0.0, float(retriever.weight)), dict(hits)))
    total_weight = sum(weight for weight, _ in found) or 1.0
    ids = {memory_id for _, hits in found for memory_id in hits}
    memories = store.visible(ids, session_id, include_global=config.include_global)
    results = []
    for memory_id, memory in memories.items():
        relevance = sum(weight * hits.get(memory_id, 0.0) for weight, hits in found) / total_weight
        age = max(0.0, now - memory.created_at)
        recency = math.exp(-age / (config.recency_days * DAY))
        importance = decayed(memory.importance, age, config.decay_half_life) if config.decay_enabled \
            else memory.importance
        score = (config.weight_recency * recency + config.weight_importance * importance
                 + config.weight_relevance * relevance) if ranked else relevance
        results.append(Ranked(memory, score, relevance, recency, importance))
    results.sort(key=lambda r: (-r.score, -r.relevance, r.memory.id))
    return results[:limit]
