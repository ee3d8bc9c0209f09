"""Settings, and where the memory database lives (the server and ``lynkr memory`` agree).

Every ``MEMORY_*`` variable of the original project is honoured under its name; the
few lynkr adds (weights, extraction mode, queue size) follow the same prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-memory"
DB_NAME = "memory.db"

Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]
Weight = Annotated[float, msgspec.Meta(ge=0)]


class MemorySettings(msgspec.Struct, kw_only=True):
    """What the memory plugin does; each field's environment variable is in ``ENV``."""

    enabled: bool = True
    extraction_enabled: bool = True
    extraction_mode: Literal["heuristic", "model"] = "heuristic"
    extraction_model: str = ""
    surprise_threshold: Fraction = 0.3
    dedup_lookback: Annotated[int, msgspec.Meta(ge=0)] = 5
    retrieval_limit: Annotated[int, msgspec.Meta(ge=0, le=50)] = 5
    injection_format: Literal["system", "assistant_preamble"] = "system"
    format: Literal["compact", "detailed"] = "compact"
    include_global: bool = True
    global_types: list[str] = msgspec.field(default_factory=lambda: ["preference", "fact", "decision", "relationship"])
    decay_enabled: bool = True
    decay_half_life: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    max_age_days: Annotated[float, msgspec.Meta(ge=0)] = 90.0
    max_count: Annotated[int, msgspec.Meta(ge=0)] = 10000
    recency_days: Annotated[float, msgspec.Meta(gt=0)] = 7.0
    weight_recency: Weight = 0.3
    weight_importance: Weight = 0.4
    weight_relevance: Weight = 0.3
    surprise_weights: Annotated[list[Weight], msgspec.Meta(min_length=5, max_length=5)] = msgspec.field(
        default_factory=lambda: [0.30, 0.40, 0.15, 0.10, 0.05])
    tools_enabled: bool = True
    queue_size: Annotated[int, msgspec.Meta(ge=1)] = 256


ENV = {
    "enabled": "MEMORY_ENABLED",
    "extraction_enabled": "MEMORY_EXTRACTION_ENABLED",
    "extraction_mode": "MEMORY_EXTRACTION_MODE",
    "extraction_model": "MEMORY_EXTRACTION_MODEL",
    "surprise_threshold": "MEMORY_SURPRISE_THRESHOLD",
    "dedup_lookback": "MEMORY_DEDUP_LOOKBACK",
    "retrieval_limit": "MEMORY_RETRIEVAL_LIMIT",
    "injection_format": "MEMORY_INJECTION_FORMAT",
    "format": "MEMORY_FORMAT",
    "include_global": "MEMORY_INCLUDE_GLOBAL",
    "global_types": "MEMORY_GLOBAL_TYPES",
    "decay_enabled": "MEMORY_DECAY_ENABLED",
    "decay_half_life": "MEMORY_DECAY_HALF_LIFE",
    "max_age_days": "MEMORY_MAX_AGE_DAYS",
    "max_count": "MEMORY_MAX_COUNT",
    "recency_days": "MEMORY_RECENCY_DAYS",
    "weight_recency": "MEMORY_WEIGHT_RECENCY",
    "weight_importance": "MEMORY_WEIGHT_IMPORTANCE",
    "weight_relevance": "MEMORY_WEIGHT_RELEVANCE",
    "surprise_weights": "MEMORY_SURPRISE_WEIGHTS",
    "tools_enabled": "MEMORY_TOOLS_ENABLED",
    "queue_size": "MEMORY_QUEUE_SIZE",
}


def load_settings(settings: Settings) -> MemorySettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, MemorySettings, ENV)


def db_path(home: str | Path) -> Path:
    """The memory database under ``LYNKR_HOME``: in the directory
    ``Services.data_dir(PLUGIN_NAME)`` gives the server (not created here)."""
    return Path(home).expanduser().joinpath(PLUGIN_NAME, DB_NAME)
