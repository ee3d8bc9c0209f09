"""``lynkr doctor --security``: the settings that widen what lynkr exposes.

Each check reads a setting by the name the plugin's README gives it (the environment,
``.env``, ``lynkr.toml``'s ``[env]``, or the plugin's ``[plugins.<name>]`` table), and
only for plugins that are enabled: a setting of a plugin that does not run exposes
nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lynkr_core.config import Settings
from lynkr_core.server import is_loopback

TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One risky setting: what is set, why it matters, and how to close it."""

    setting: str
    risk: str
    fix: str


def _raw(settings: Settings, plugin: str | None, variable: str, field: str | None) -> str | None:
    """A setting as text: its environment variable, else the plugin's table field."""
    value = settings.get(variable)
    if value is None and plugin and field:
        table_value = settings.plugin_table(plugin).get(field)
        if table_value is not None:
            value = str(table_value).lower() if isinstance(table_value, bool) else str(table_value)
    return value


def _flag(settings: Settings, plugin: str | None, variable: str, field: str | None, default: bool) -> bool:
    value = _raw(settings, plugin, variable, field)
    return default if value is None or value.strip() == "" else value.strip().lower() in TRUE


def _core(settings: Settings, enabled: set[str]) -> Iterator[Finding]:
    core = settings.core
    if not is_loopback(core.host) and not core.api_keys:
        forced = core.allow_unauthenticated_public_bind
        yield Finding(
            f"LYNKR_HOST={core.host} without LYNKR_API_KEYS",
            "anyone who reaches the port uses your upstream credentials"
            + ("" if forced else " (lynkr refuses to start like this)"),
            "set LYNKR_API_KEYS, or bind to 127.0.0.1"
            + (" and unset LYNKR_ALLOW_UNAUTHENTICATED_PUBLIC_BIND" if forced else ""),
        )
    admin_plugins = sorted(enabled & {"lynkr-dashboard", "lynkr-sessions", "lynkr-usage"})
    if admin_plugins and not core.admin_keys:
        yield Finding(
            "LYNKR_ADMIN_KEYS is not set",
            f"the admin routes of {', '.join(admin_plugins)} answer nobody, so operators reach the "
            "data some other way (a shared API key, a copied database)",
            "set LYNKR_ADMIN_KEYS to a long random key used by operators only",
        )
    shared = set(core.admin_keys) & set(core.api_keys)
    if shared:
        yield Finding("a key is in both LYNKR_ADMIN_KEYS and LYNKR_API_KEYS",
                      "every client holding that key can read sessions, usage and the dashboard",
                      "give operators admin keys that no client has")
    if core.allow_private_urls:
        yield Finding("LYNKR_ALLOW_PRIVATE_URLS=true",
                      "URLs in requests and tools may reach this host's network (metadata services, admin UIs)",
                      "unset it, and list the hosts needed in LYNKR_URL_ALLOWED_HOSTS")


def _policy(settings: Settings, enabled: set[str]) -> Iterator[Finding]:
    if "lynkr-policy" not in enabled:
        return
    if _flag(settings, "lynkr-policy", "POLICY_GIT_ALLOW_PUSH", "git_allow_push", False):
        yield Finding("POLICY_GIT_ALLOW_PUSH=true",
                      "the model may push commits to your remotes (workspace_git_push)",
                      "unset POLICY_GIT_ALLOW_PUSH; push yourself after review")
    test_command = (settings.get("POLICY_GIT_TEST_COMMAND") or settings.get("WORKSPACE_TEST_COMMAND")
                    or settings.plugin_table("lynkr-tools-workspace").get("test_command"))
    if "lynkr-tools-workspace" in enabled and _flag(
            settings, "lynkr-policy", "POLICY_ALLOW_TEST_COMMAND", "allow_test_command", bool(test_command)):
        yield Finding(
            "POLICY_ALLOW_TEST_COMMAND (a test command is configured)",
            f"the model may run `{test_command or 'the test command'}` on this host, and tests run "
            "any code the model wrote",
            "set POLICY_ALLOW_TEST_COMMAND=false, or run lynkr in a container or VM",
        )


def _mcp(settings: Settings, enabled: set[str]) -> Iterator[Finding]:
    if "lynkr-mcp" not in enabled:
        return
    if not _flag(settings, "lynkr-mcp", "MCP_SANDBOX_ENABLED", "sandbox_enabled", True):
        yield Finding("MCP_SANDBOX_ENABLED=false",
                      "MCP servers run as your user, with your files and network",
                      "unset MCP_SANDBOX_ENABLED (stdio servers then run in bubblewrap)")
    elif shutil.which("bwrap") is None:
        yield Finding("MCP servers run unsandboxed: bubblewrap (bwrap) is not installed",
                      "MCP servers run as your user, with your files and network",
                      "install bubblewrap (apt-get install bubblewrap)")
    if _flag(settings, "lynkr-mcp", "MCP_SANDBOX_ALLOW_NETWORKING", "allow_networking", False):
        yield Finding("MCP_SANDBOX_ALLOW_NETWORKING=true", "sandboxed MCP servers can reach the network",
                      "unset it unless a server needs the network")
    if _flag(settings, "lynkr-mcp", "MCP_SANDBOX_WORKSPACE_WRITABLE", "workspace_writable", False):
        yield Finding("MCP_SANDBOX_WORKSPACE_WRITABLE=true", "MCP servers may change files in the workspace",
                      "unset it (the workspace is then mounted read-only)")
    if _flag(settings, "lynkr-mcp", "MCP_TRUST_PROJECT_CONFIG", "trust_project_config", False):
        yield Finding("MCP_TRUST_PROJECT_CONFIG=true",
                      "a cloned repository's own MCP configuration starts programs on this host",
                      "unset it; list servers in MCP_SERVER_MANIFEST or lynkr.toml")


def _stores(settings: Settings, enabled: set[str]) -> Iterator[Finding]:
    if "lynkr-sessions" in enabled:
        content = (_raw(settings, "lynkr-sessions", "SESSION_CONTENT", "content") or "full").strip().lower()
        if content == "full":
            yield Finding("SESSION_CONTENT=full (the default)",
                          "every prompt, file content and answer is kept on disk "
                          "(LYNKR_HOME/lynkr-sessions), secrets the model saw included",
                          "set SESSION_CONTENT=redacted (or none: metadata only)")
    if "lynkr-cache" in enabled and _flag(settings, "lynkr-cache", "PROMPT_CACHE_ENABLED", "enabled", False):
        yield Finding("PROMPT_CACHE_ENABLED=true", "prompts and answers are kept on disk (LYNKR_HOME)",
                      "turn it off where prompts hold confidential data")


def _routes(settings: Settings, enabled: set[str]) -> Iterator[Finding]:
    if "lynkr-metrics" in enabled and (_raw(settings, "lynkr-metrics", "METRICS_AUTH", "auth") or "").strip() == "none":
        yield Finding("METRICS_AUTH=none", "anyone who reaches lynkr reads its metrics (models, traffic, errors)",
                      "unset METRICS_AUTH (admin key when LYNKR_ADMIN_KEYS is set, else the API key)")


CHECKS: list[Callable[[Settings, set[str]], Iterator[Finding]]] = [_core, _policy, _mcp, _stores, _routes]


def findings(settings: Settings, enabled: set[str]) -> list[Finding]:
    """Every risky setting of this configuration, for the plugins in ``enabled``."""
    return [finding for check in CHECKS for finding in check(settings, enabled)]


def run(settings: Settings) -> int:
    """Print the risky settings (exit 1), or one line saying there are none (exit 0)."""
    from lynkr_core.plugins import make_plugin_manager

    pm = make_plugin_manager(settings)
    found = findings(settings, set(pm.enabled_names()))
    if not found:
        print("security: no risky setting found")
        return 0
    print(f"security: {len(found)} risky setting{'s' if len(found) > 1 else ''}")
    for finding in found:
        print(f"  RISK {finding.setting}\n    {finding.risk}\n    fix: {finding.fix}")
    return 1
