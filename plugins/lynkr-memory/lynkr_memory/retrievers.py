"""The FTS5 retriever (BM25 over a Porter-stemmed index), registered through lynkr-memory's
own hook like any third-party retriever, and the bookkeeping lynkr-memory does for all of
them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

from lynkr_memory.config import DB_NAME
from lynkr_memory.store import MemoryStore
from lynkr_memory.text import fts_terms


class Retriever(Protocol):
    """What ``lynkr_register_memory_retrievers`` registers (see its docstring)."""

    name: str
    weight: float

    def open(self, directory: Path) -> None: ...
    def indexed(self) -> set[int]: ...
    def index(self, memories: list[tuple[int, str]]) -> None: ...
    def remove(self, ids: list[int]) -> None: ...
    def search(self, text: str, limit: int, session_id: str | None, include_global: bool) -> list[tuple[int, float]]: ...
    def close(self) -> None: ...


REQUIRED = ("name", "weight", "open", "indexed", "index", "remove", "search", "close")


def missing_methods(retriever: Any) -> list[str]:
    """What ``retriever`` lacks of the protocol (empty: nothing)."""
    return [attribute for attribute in REQUIRED if not hasattr(retriever, attribute)]


#: Matches read per query word, newest first. A word with fewer matches is rare and all of
#: them are read; a commoner one is weak evidence, and its newest matches are enough.
MATCHES_PER_TERM = 100


def lexical_search(store: MemoryStore, text: str, limit: int) -> list[tuple[int, float]]:
    """Memories sharing (Porter-stemmed) words with ``text``, best first, each scored by the
    sum of its matching words' BM25 inverse document frequencies, relative to the best
    (one-sentence memories make BM25's term-frequency and length factors all but constant).

    Each word is one FTS5 query that stops after ``MATCHES_PER_TERM`` matches, so the cost
    is bounded whatever the words (BM25 ranking in SQL visits every match of every word).
    Superseded memories and other sessions' are among the results: the caller filters.
    """
    terms = fts_terms(text)
    if not terms or limit <= 0:
        return []
    total = max(1, store.size())
    scores: dict[int, float] = {}
    for term in terms:
        ids = store.term_matches(term, MATCHES_PER_TERM + 1)
        if not ids:
            continue
        frequency = len(ids)  # exact when rare; a lower bound for a word with more matches
        idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
        for memory_id in ids[:MATCHES_PER_TERM]:
            scores[memory_id] = scores.get(memory_id, 0.0) + idf
    if not scores:
        return []
    best = sorted(scores.items(), key=lambda item: (-item[1], -item[0]))[:limit]
    top = best[0][1] or 1.0
    return [(memory_id, score / top) for memory_id, score in best]


class Fts5Retriever:
    """Memories whose words match the request's (``lexical_search``). Reads through a
    connection of its own."""

    name = "fts5"

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight
        self._store: MemoryStore | None = None
        self._owned = False

    def open(self, directory: Path) -> None:
        """Open a read connection to the memory database."""
        self._store = MemoryStore(directory / DB_NAME)
        self._owned = True

    def use(self, store: MemoryStore) -> None:
        """Read through ``store`` (the CLI and the benchmark, without a data directory)."""
        self._store = store

    def indexed(self) -> set[int]:
        """The FTS5 index follows the table through triggers: nothing to hand it."""
        assert self._store is not None
        return {memory_id for memory_id, _ in self._store.active_texts()}

    def index(self, memories: list[tuple[int, str]]) -> None:
        """Nothing to do: triggers index each memory as it is written."""

    def remove(self, ids: list[int]) -> None:
        """Nothing to do: triggers drop each memory as it is deleted."""

    def search(self, text: str, limit: int, session_id: str | None, include_global: bool) -> list[tuple[int, float]]:
        """The best lexical matches, scored 0..1 (scopes are filtered by lynkr-memory)."""
        assert self._store is not None
        return lexical_search(self._store, text, limit)

    def close(self) -> None:
        """Close the read connection (not one handed to ``use``)."""
        if self._store is not None and self._owned:
            self._store.close()
        self._store = None
