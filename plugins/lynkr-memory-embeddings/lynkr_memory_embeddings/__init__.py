"""lynkr memory embeddings: semantic retrieval for lynkr-memory. A retriever registered
through lynkr-memory's own hook, blended there with the FTS5 scores; its model is a small
static embedding model carried inside a PyPI package (nothing is downloaded at run time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lynkr_core import Settings, hookimpl
from lynkr_memory_embeddings.config import load_settings
from lynkr_memory_embeddings.retriever import EmbeddingRetriever


@hookimpl(optionalhook=True)
def lynkr_register_memory_retrievers(register: Callable[[Any], None], settings: Settings) -> None:
    """The embeddings retriever (unless ``MEMORY_EMBEDDINGS_ENABLED=false``). Optional: this
    plugin loads, and does nothing, when lynkr-memory is not installed."""
    config = load_settings(settings)
    if config.enabled:
        register(EmbeddingRetriever(config))
