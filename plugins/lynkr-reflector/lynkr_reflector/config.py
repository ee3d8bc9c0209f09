"""Settings, and where the playbook lives (the server and ``lynkr reflect report`` agree)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-reflector"


DB_NAME = "playbook.db"


class ReflectorSettings(msgspec.Struct, kw_only=True):
    """What the reflector does; each field's environment variable is in ``ENV``."""

    enabled: bool = True
    mode: Literal["heuristic", "model"] = "heuristic"
    inject: bool = False
    max_hints: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    min_evidence: Annotated[int, msgspec.Meta(ge=1)] = 2
    prune_below: float = 0.0
    queue_size: Annotated[int, msgspec.Meta(ge=1)] = 64
    model: str = ""


ENV = {
    "enabled": "REFLECTOR_ENABLED",
    "mode": "REFLECTOR_MODE",
    "inject": "REFLECTOR_INJECT",
    "max_hints": "REFLECTOR_MAX_HINTS",
    "min_evidence": "REFLECTOR_MIN_EVIDENCE",
    "prune_below": "REFLECTOR_PRUNE_BELOW",
    "queue_size": "REFLECTOR_QUEUE_SIZE",
    "model": "REFLECTOR_MODEL",
}


def load_settings(settings: Settings) -> ReflectorSettings:
    """The reflector's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, ReflectorSettings, ENV)


def data_dir(home: str) -> Path:
    """The reflector's directory under ``LYNKR_HOME``: the one ``Services.data_dir(PLUGIN_NAME)``
    gives the server (not created here)."""
    return Path(home).expanduser().joinpath(PLUGIN_NAME)


def db_path(home: str) -> Path:
    """The playbook database under ``LYNKR_HOME``."""
    return data_dir(home) / DB_NAME


def workspace_of(settings: Settings) -> str:
    """The workspace a playbook belongs to: ``WORKSPACE_ROOT``, resolved."""
    return str(Path(settings.core.workspace_root).expanduser().resolve())
