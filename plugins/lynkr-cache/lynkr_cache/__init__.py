"""lynkr-cache: a persistent prompt cache. Repeated model calls are answered from a diskcache
store under ``LYNKR_HOME/lynkr-cache``, as JSON or as a replayed stream; ``lynkr cache
stats|clear`` reads and empties it."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_cache.commands import cache_command
from lynkr_cache.config import load_settings
from lynkr_cache.interceptor import PromptCache
from lynkr_cache.security import security_findings
from lynkr_core import Command, Finding, Interceptor, Settings, hookimpl


@hookimpl
def lynkr_register_interceptors(register: Callable[[Interceptor], None], settings: Settings) -> None:
    """Register the cache when ``PROMPT_CACHE_ENABLED=true`` (off by default: it keeps prompts
    and answers on disk; ``ConfigError`` for an invalid setting)."""
    config = load_settings(settings)
    if config.enabled:
        register(PromptCache(config))


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """Register ``lynkr cache``."""
    register(cache_command())


@hookimpl
def lynkr_security_findings(report: Callable[[Finding], None], settings: Settings) -> None:
    """For ``lynkr doctor --security``: prompts and answers kept on disk."""
    for finding in security_findings(settings):
        report(finding)
