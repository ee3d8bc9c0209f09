"""``lynkr doctor --security``: the settings that widen what lynkr exposes.

The core reports its own (a public bind without keys, admin keys missing or shared
with clients, private URLs allowed); each enabled plugin reports its own through
``lynkr_security_findings`` (lynkr-policy a permitted push, lynkr-mcp unsandboxed
servers, lynkr-sessions content kept on disk...). A plugin that is not enabled
exposes nothing and reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from lynkr_core.config import Settings
from lynkr_core.contracts import ExtraRoute, Finding
from lynkr_core.egress import is_loopback
from lynkr_core.plugins import LynkrPluginManager, make_plugin_manager
from lynkr_core.registry import Registry, collect

HOOK = "lynkr_security_findings"

__all__ = ["Finding", "core_findings", "findings", "plugin_findings", "run"]


def core_findings(settings: Settings, admin_route_plugins: list[str]) -> Iterator[Finding]:
    """The core's own risky settings; ``admin_route_plugins`` are the enabled plugins that
    serve admin routes (``ExtraRoute.admin``), which answer nobody without admin keys."""
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
    if admin_route_plugins and not core.admin_keys:
        yield Finding(
            "LYNKR_ADMIN_KEYS is not set",
            f"the admin routes of {', '.join(admin_route_plugins)} answer nobody, so operators reach the "
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


def plugin_findings(pm: LynkrPluginManager, settings: Settings) -> list[tuple[str, Finding]]:
    """What each enabled plugin reports through ``lynkr_security_findings``, with the plugin,
    grouped by plugin in name order (a report reads better so than in hook order). A plugin
    whose hook raises (a setting it cannot read, mostly) is one finding: its risks are
    unknown."""
    enabled = frozenset(pm.enabled_names())
    found: list[tuple[str, Finding]] = []
    for call in sorted(pm.hook_calls(HOOK), key=lambda call: call.plugin):
        reported: list[Finding] = []
        pm.trace_call(call.plugin, HOOK)
        try:
            call(report=reported.append, settings=settings, enabled_plugins=enabled)
        except Exception as exc:
            reported = [Finding(
                f"{call.plugin}: its security check failed ({type(exc).__name__}: {exc})",
                "its risky settings are unknown, and it may not start with this configuration",
                f"fix the setting named, or disable {call.plugin} (LYNKR_DISABLE_PLUGINS)",
            )]
        found.extend((call.plugin, finding) for finding in reported if isinstance(finding, Finding))
    return found


def admin_route_plugins(pm: LynkrPluginManager, settings: Settings) -> list[str]:
    """The enabled plugins that register an admin route, sorted."""
    routes = collect(pm, "lynkr_register_routes", Registry[ExtraRoute]("route", name_of=lambda r: r.path),
                     settings=settings)
    return sorted({owner for owner, _path, route in routes.owned() if route.admin})


def findings(settings: Settings, pm: LynkrPluginManager | None = None) -> list[Finding]:
    """Every risky setting of this configuration: the core's, then the enabled plugins'."""
    pm = make_plugin_manager(settings) if pm is None else pm
    from_plugins = [finding for _plugin, finding in plugin_findings(pm, settings)]
    return [*core_findings(settings, admin_route_plugins(pm, settings)), *from_plugins]


def run(settings: Settings) -> int:
    """Print the risky settings (exit 1), or one line saying there are none (exit 0)."""
    found = findings(settings)
    if not found:
        print("security: no risky setting found")
        return 0
    print(f"security: {len(found)} risky setting{'s' if len(found) > 1 else ''}")
    for finding in found:
        print(f"  RISK {finding.setting}\n    {finding.risk}\n    fix: {finding.fix}")
    return 1
