"""A lynkr-memory retriever that scores memories by cosine similarity to the request's
text. Vectors live in SQLite next to the memories (``embeddings.db``) and in memory as one
matrix, searched by a matrix product; state is replaced whole, never mutated, so that the
reader thread always sees a consistent pair of ids and vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import structlog

from lynkr_core import open_sqlite, write_transaction
from lynkr_memory_embeddings import model
from lynkr_memory_embeddings.config import DB_NAME, PLUGIN_NAME, EmbeddingsSettings

log = structlog.get_logger(PLUGIN_NAME)


class EmbeddingRetriever:
    """Semantic retrieval for lynkr-memory (registered through its hook)."""

    name = "embeddings"

    def __init__(self, config: EmbeddingsSettings) -> None:
        self.weight = config.weight
        self.min_similarity = config.min_similarity
        self._connection = None
        self._state: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64), np.zeros((0, 0), np.float32))

    def open(self, directory: Path) -> None:
        """Load the stored vectors (and the model, once)."""
        self._connection = open_sqlite(directory / DB_NAME)
        self._connection.execute("CREATE TABLE IF NOT EXISTS vectors (memory_id INTEGER PRIMARY KEY, vector BLOB NOT NULL)")
        rows = self._connection.execute("SELECT memory_id, vector FROM vectors ORDER BY memory_id").fetchall()
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        vectors = np.stack([np.frombuffer(row[1], dtype=np.float32) for row in rows]) if rows else \
            np.zeros((0, model.encode(["warm up"]).shape[1]), np.float32)
        self._state = (ids, vectors)
        log.info("memory_embeddings_loaded", vectors=len(ids))

    def indexed(self) -> set[int]:
        """The memory ids with a vector."""
        return set(self._state[0].tolist())

    def index(self, memories: list[tuple[int, str]]) -> None:
        """Embed and store new memories."""
        if not memories:
            return
        vectors = model.encode([text for _, text in memories])
        new_ids = np.array([memory_id for memory_id, _ in memories], dtype=np.int64)
        assert self._connection is not None
        with write_transaction(self._connection):
            self._connection.executemany(
                "INSERT OR REPLACE INTO vectors (memory_id, vector) VALUES (?, ?)",
                [(int(i), v.tobytes()) for i, v in zip(new_ids, vectors, strict=True)])
        ids, matrix = self._state
        keep = ~np.isin(ids, new_ids)
        self._state = (np.concatenate([ids[keep], new_ids]), np.concatenate([matrix[keep], vectors]))

    def remove(self, ids: list[int]) -> None:
        """Drop the vectors of memories that are gone or superseded."""
        if not ids:
            return
        assert self._connection is not None
        with write_transaction(self._connection):
            self._connection.executemany("DELETE FROM vectors WHERE memory_id = ?", [(i,) for i in ids])
        current, matrix = self._state
        keep = ~np.isin(current, np.array(ids, dtype=np.int64))
        self._state = (current[keep], matrix[keep])

    def search(self, text: str, limit: int, session_id: str | None, include_global: bool) -> list[tuple[int, float]]:
        """The ``limit`` memories closest to ``text`` with a similarity of at least
        ``min_similarity``, scored by similarity (scopes are lynkr-memory's to filter)."""
        ids, matrix = self._state
        if not len(ids) or not text.strip() or limit <= 0:
            return []
        # einsum, not ``@``: a matrix-vector product this small is slower through a threaded
        # BLAS (its threads spin against the server's), and einsum stays on this thread
        similarities = np.einsum("ij,j->i", matrix, model.encode([text])[0])
        count = min(limit, len(ids))
        top = np.argpartition(-similarities, count - 1)[:count]
        top = top[np.argsort(-similarities[top], kind="stable")]
        return [(int(ids[i]), float(similarities[i])) for i in top if similarities[i] >= self.min_similarity]

    def close(self) -> None:
        """Close the database."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
