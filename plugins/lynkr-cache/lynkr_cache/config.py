"""Settings, with the original project's variable names where it had one, and where the
cache lives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-cache"

#: The directory under ``LYNKR_HOME`` that holds the store.
DIR_NAME = "lynkr-cache"

MIB = 1024 * 1024


class CacheSettings(msgspec.Struct, kw_only=True, frozen=True):
    """What the cache keeps and for how long; each field's environment variable is in ``ENV``."""

    enabled: bool = False
    ttl_ms: Annotated[int, msgspec.Meta(ge=0)] = 300_000
    max_entries: Annotated[int, msgspec.Meta(ge=1)] = 1000
    max_bytes: Annotated[int, msgspec.Meta(ge=MIB)] = 256 * MIB
    nondeterministic: bool = False

    @property
    def ttl_seconds(self) -> float | None:
        """How long an entry lives (``None``: until evicted)."""
        return self.ttl_ms / 1000 if self.ttl_ms else None


ENV = {
    "enabled": "PROMPT_CACHE_ENABLED",
    "ttl_ms": "PROMPT_CACHE_TTL_MS",
    "max_entries": "PROMPT_CACHE_MAX_ENTRIES",
    "max_bytes": "PROMPT_CACHE_MAX_BYTES",
    "nondeterministic": "PROMPT_CACHE_NONDETERMINISTIC",
}


def load_settings(settings: Settings) -> CacheSettings:
    """The cache's settings (``ConfigError`` naming the variable when one has the wrong type)."""
    return settings.plugin_config(PLUGIN_NAME, CacheSettings, ENV)


def cache_dir(settings: Settings) -> Path:
    """The store's directory: ``LYNKR_HOME/lynkr-cache``, where ``services.data_dir(DIR_NAME)``
    puts it (for the CLI, which has no ``Services``). Not created here."""
    return Path(settings.core.home).expanduser() / DIR_NAME
