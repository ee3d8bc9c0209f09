"""Settings, and where the index of a workspace lives (the server and ``lynkr index`` agree)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from lynkr_core import Settings
from lynkr_indexer.indexer import IndexOptions
from lynkr_indexer.walk import DEFAULT_EXCLUDE

PLUGIN_NAME = "lynkr-indexer"


class IndexerSettings(msgspec.Struct, kw_only=True):
    """How the workspace is indexed and used; each field's environment variable is in ``ENV``."""

    exclude: list[str] = []
    max_file_bytes: Annotated[int, msgspec.Meta(ge=1)] = 1_000_000
    workers: Annotated[int, msgspec.Meta(ge=0)] = 0
    freshness: Literal["watch", "request", "off"] = "watch"
    auto_index: bool = False
    repo_context: Literal["auto", "map", "summary", "off"] = "auto"
    repo_map_tokens: Annotated[int, msgspec.Meta(ge=64, le=32_000)] = 1024

    def options(self) -> IndexOptions:
        """The indexing options these settings give."""
        return IndexOptions(exclude=DEFAULT_EXCLUDE + tuple(self.exclude), max_file_bytes=self.max_file_bytes,
                            workers=self.workers)


ENV = {
    "exclude": "INDEXER_EXCLUDE",
    "max_file_bytes": "INDEXER_MAX_FILE_BYTES",
    "workers": "INDEXER_WORKERS",
    "freshness": "INDEXER_FRESHNESS",
    "auto_index": "INDEXER_AUTO_INDEX",
    "repo_context": "INDEXER_REPO_CONTEXT",
    "repo_map_tokens": "INDEXER_REPO_MAP_TOKENS",
}


def load_settings(settings: Settings) -> IndexerSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, IndexerSettings, ENV)


def workspace_root(settings: Settings) -> Path:
    """``WORKSPACE_ROOT``, resolved."""
    return Path(settings.core.workspace_root).expanduser().resolve()


def db_path(home: str | Path, root: Path) -> Path:
    """The index database of ``root`` under ``LYNKR_HOME``: one per workspace, named after
    the folder and a hash of its full path."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", root.name or "root")[:40]
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path(home).expanduser().joinpath(PLUGIN_NAME, f"{slug}-{digest}.db")
