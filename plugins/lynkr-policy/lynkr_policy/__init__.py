"""lynkr policy: allow/deny lists and caps for tools, git push and test gates, writable paths."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Policy, Settings, hookimpl
from lynkr_policy.config import load_settings
from lynkr_policy.policy import LynkrPolicy


@hookimpl
def lynkr_register_policies(register: Callable[[Policy], None], settings: Settings) -> None:
    """Register ``lynkr-policy`` (``ConfigError`` for an invalid setting)."""
    register(LynkrPolicy(load_settings(settings)))
