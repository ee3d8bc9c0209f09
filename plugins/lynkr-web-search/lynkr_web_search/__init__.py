"""lynkr-web-search: Anthropic's web search server tool for upstreams that cannot run it.

Requests carrying ``web_search_20250305`` to a non-Anthropic provider are answered with
searches lynkr runs against SearXNG's JSON API (or Brave, Tavily), in Anthropic's own
blocks, as JSON or as a stream.
"""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Finding, Interceptor, Settings, hookimpl
from lynkr_web_search.config import load_settings
from lynkr_web_search.interceptor import WebSearch
from lynkr_web_search.security import security_findings


@hookimpl
def lynkr_register_interceptors(register: Callable[[Interceptor], None], settings: Settings) -> None:
    """Register the web search interceptor (``ConfigError`` for an invalid setting)."""
    register(WebSearch(load_settings(settings)))


@hookimpl
def lynkr_security_findings(report: Callable[[Finding], None], settings: Settings) -> None:
    """For ``lynkr doctor --security``: queries sent to the backend unencrypted."""
    for finding in security_findings(settings):
        report(finding)
