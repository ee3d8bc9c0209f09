"""How far MCP servers reach beyond their sandbox, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator

from lynkr_core import Finding, Settings
from lynkr_mcp.config import load_settings
from lynkr_mcp.sandbox import find_bwrap

UNSANDBOXED = "MCP servers run as your user, with your files and network"


def security_findings(settings: Settings) -> Iterator[Finding]:
    """Servers without the sandbox (turned off, or bubblewrap missing), the sandbox's
    openings (network, a writable workspace), and a repository's own servers trusted."""
    config = load_settings(settings)
    if not config.sandbox_enabled:
        yield Finding("MCP_SANDBOX_ENABLED=false", UNSANDBOXED,
                      "unset MCP_SANDBOX_ENABLED (stdio servers then run in bubblewrap)")
    elif find_bwrap(True) is None:
        yield Finding("MCP servers run unsandboxed: bubblewrap (bwrap) is not installed", UNSANDBOXED,
                      "install bubblewrap (apt-get install bubblewrap)")
    if config.allow_networking:
        yield Finding("MCP_SANDBOX_ALLOW_NETWORKING=true", "sandboxed MCP servers can reach the network",
                      "unset it unless a server needs the network")
    if config.workspace_writable:
        yield Finding("MCP_SANDBOX_WORKSPACE_WRITABLE=true", "MCP servers may change files in the workspace",
                      "unset it (the workspace is then mounted read-only)")
    if config.trust_project_config:
        yield Finding("MCP_TRUST_PROJECT_CONFIG=true",
                      "a cloned repository's own MCP configuration starts programs on this host",
                      "unset it; list servers in MCP_SERVER_MANIFEST or lynkr.toml")
