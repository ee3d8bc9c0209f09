"""The retriever on its own: the carried model, vectors kept in SQLite across restarts,
removal, the similarity floor."""

from __future__ import annotations

from pathlib import Path

from lynkr_memory_embeddings.config import EmbeddingsSettings
from lynkr_memory_embeddings.model import encode
from lynkr_memory_embeddings.retriever import EmbeddingRetriever

MEMORIES = [(1, "My favourite editor is vim."), (2, "Our API runs on port 8080."),
            (3, "We decided to use PostgreSQL for the database.")]


def test_the_carried_model_embeds_without_a_network():
    vectors = encode(["configure my text editor", "My favourite editor is vim.", "Our API runs on port 8080."])
    assert vectors.shape == (3, 64)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_index_search_remove_and_reopen(tmp_path: Path):
    retriever = EmbeddingRetriever(EmbeddingsSettings(min_similarity=0.45))
    retriever.open(tmp_path)
    assert retriever.indexed() == set()
    retriever.index(MEMORIES)
    hits = retriever.search("configure my text editor", 5, None, True)
    assert hits[0][0] == 1 and 0.45 <= hits[0][1] <= 1.0
    assert all(score >= 0.45 for _, score in hits)
    retriever.remove([1])
    assert 1 not in {memory_id for memory_id, _ in retriever.search("configure my text editor", 5, None, True)}
    retriever.close()
    again = EmbeddingRetriever(EmbeddingsSettings())
    again.open(tmp_path)
    assert again.indexed() == {2, 3}
    assert again.search("", 5, None, True) == []
    again.close()
