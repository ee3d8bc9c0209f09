"""lynkr policy: allow/deny lists and caps for tools, git push and test gates, writable paths."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Finding, Policy, Settings, hookimpl
from lynkr_policy.config import load_settings
from lynkr_policy.policy import LynkrPolicy
from lynkr_policy.security import security_findings


@hookimpl
def lynkr_register_policies(register: Callable[[Policy], None], settings: Settings) -> None:
    """Register ``lynkr-policy`` (``ConfigError`` for an invalid setting)."""
    register(LynkrPolicy(load_settings(settings)))


@hookimpl
def lynkr_security_findings(
    report: Callable[[Finding], None], settings: Settings, enabled_plugins: frozenset[str]
) -> None:
    """For ``lynkr doctor --security``: a permitted push or test command."""
    for finding in security_findings(settings, enabled_plugins):
        report(finding)
