"""Settings of the embeddings retriever."""

from __future__ import annotations

from typing import Annotated

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-memory-embeddings"
DB_NAME = "embeddings.db"


class EmbeddingsSettings(msgspec.Struct, kw_only=True):
    """Each field's environment variable is in ``ENV``."""

    enabled: bool = True
    weight: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    min_similarity: Annotated[float, msgspec.Meta(ge=-1, le=1)] = 0.55


ENV = {
    "enabled": "MEMORY_EMBEDDINGS_ENABLED",
    "weight": "MEMORY_EMBEDDINGS_WEIGHT",
    "min_similarity": "MEMORY_EMBEDDINGS_MIN_SIMILARITY",
}


def load_settings(settings: Settings) -> EmbeddingsSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, EmbeddingsSettings, ENV)
