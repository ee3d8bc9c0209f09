"""What ``lynkr doctor`` says about the search backend."""

from __future__ import annotations

import aiohttp

from lynkr_core import HealthCheck
from lynkr_web_search.backends import SearchBackend, SearchFailed, shown
from lynkr_web_search.config import WebSearchSettings

LABEL = "web search backend"


async def backend_check(config: WebSearchSettings, backend: SearchBackend | None,
                        http: aiohttp.ClientSession) -> HealthCheck:
    """A SearXNG named by ``WEB_SEARCH_ENDPOINT`` is asked one query; a keyed backend is not
    (a search costs quota), nor the default endpoint nobody configured (lynkr works without
    it: only requests carrying the web search tool need it)."""
    problem = config.unconfigured()
    if problem is not None or backend is None:
        return HealthCheck(True, f"off ({problem}): requests with the web search tool to "
                                 "non-Anthropic providers are refused")
    if backend.name != "searxng":
        where = f"{backend.name} at {shown(backend.url)}"
        return HealthCheck(True, f"{where}, key set (not probed: searches cost quota)")
    if not config.endpoint:
        return HealthCheck(True, f"searxng at {shown(backend.url)} (the default; not probed until "
                                 "WEB_SEARCH_ENDPOINT is set)")
    try:
        hits = await backend.search(http, "lynkr", count=1, allowed=[], blocked=[])
    except SearchFailed as failure:
        hint = "SearXNG needs `json` in search.formats"
        return HealthCheck(False, f"{failure.reason} ({failure.code}); {hint}")
    return HealthCheck(True, f"searxng at {shown(backend.url)} answers ({len(hits)} result(s) for a test query)")
