"""Settings, with the original project's variable names where it had one."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-mcp"

#: Variables of lynkr's environment a stdio server gets by default (its manifest's ``env`` adds more).
DEFAULT_PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "HOME")


class McpSettings(msgspec.Struct, kw_only=True):
    """Where servers are found, how they are run and called; each field's variable is in ``ENV``.

    ``servers`` is only read from ``[plugins.lynkr-mcp]`` in ``lynkr.toml``: a list of
    tables shaped like a manifest entry (``name``, ``command``, ``args``, ``env``, or
    ``type``/``url``/``headers``).
    """

    server_manifest: str = ""
    manifest_dirs: list[str] = msgspec.field(default_factory=lambda: ["~/.claude/mcp"])
    trust_project_config: bool = False
    lazy_start: bool = False
    call_timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 60_000
    startup_timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 30_000
    restart_backoff_ms: Annotated[int, msgspec.Meta(ge=0)] = 500
    restart_backoff_max_ms: Annotated[int, msgspec.Meta(ge=0)] = 30_000
    max_restarts: Annotated[int, msgspec.Meta(ge=0)] = 5
    max_result_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 100_000
    sandbox_enabled: bool = True
    passthrough_env: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_PASSTHROUGH_ENV))
    mount_workspace: bool = True
    workspace_writable: bool = False
    allow_networking: bool = False
    extra_mounts: list[str] = []
    servers: list[dict[str, Any]] = []


ENV = {
    "server_manifest": "MCP_SERVER_MANIFEST",
    "manifest_dirs": "MCP_MANIFEST_DIRS",
    "trust_project_config": "MCP_TRUST_PROJECT_CONFIG",
    "lazy_start": "MCP_LAZY_START",
    "call_timeout_ms": "MCP_SANDBOX_TIMEOUT_MS",
    "startup_timeout_ms": "MCP_STARTUP_TIMEOUT_MS",
    "restart_backoff_ms": "MCP_RESTART_BACKOFF_MS",
    "restart_backoff_max_ms": "MCP_RESTART_BACKOFF_MAX_MS",
    "max_restarts": "MCP_MAX_RESTARTS",
    "max_result_bytes": "MCP_MAX_RESULT_BYTES",
    "sandbox_enabled": "MCP_SANDBOX_ENABLED",
    "passthrough_env": "MCP_SANDBOX_PASSTHROUGH_ENV",
    "mount_workspace": "MCP_SANDBOX_MOUNT_WORKSPACE",
    "workspace_writable": "MCP_SANDBOX_WORKSPACE_WRITABLE",
    "allow_networking": "MCP_SANDBOX_ALLOW_NETWORKING",
    "extra_mounts": "MCP_SANDBOX_EXTRA_MOUNTS",
}


def load_settings(settings: Settings) -> McpSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one has the wrong type).
    ``MCP_MANIFEST_DIRS=`` (set, but empty) means no directory at all, as in the original."""
    return settings.plugin_config(PLUGIN_NAME, McpSettings, ENV)
