"""The plugin's settings: which search backend, where it is, and how far to trust it."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from lynkr_core import ConfigError, Settings

PLUGIN_NAME = "lynkr-web-search"

Backend = Literal["searxng", "brave", "tavily", "none"]

#: Where each backend answers when ``WEB_SEARCH_ENDPOINT`` is not set.
DEFAULT_ENDPOINTS: dict[str, str] = {
    "searxng": "http://localhost:8888/search",
    "brave": "https://api.search.brave.com/res/v1/web/search",
    "tavily": "https://api.tavily.com/search",
}
#: The backends that answer only with ``WEB_SEARCH_API_KEY``.
KEYED_BACKENDS = frozenset({"brave", "tavily"})


class WebSearchSettings(msgspec.Struct, kw_only=True):
    """What the plugin reads; each field's environment variable is in ``ENV``."""

    backend: Backend = "searxng"
    endpoint: str = ""
    api_key: str = ""
    timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    max_results: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10
    max_uses: Annotated[int, msgspec.Meta(ge=1)] = 5
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=5)] = 1

    def url(self) -> str:
        """The backend's URL: ``endpoint``, else the backend's public default."""
        return self.endpoint or DEFAULT_ENDPOINTS.get(self.backend, "")

    def unconfigured(self) -> str | None:
        """Why no search can run as configured (what to set), or ``None`` when one can."""
        if self.backend == "none":
            return "WEB_SEARCH_BACKEND=none"
        if self.backend in KEYED_BACKENDS and not self.api_key:
            return f"WEB_SEARCH_BACKEND={self.backend} needs WEB_SEARCH_API_KEY"
        return None


ENV = {
    "backend": "WEB_SEARCH_BACKEND",
    "endpoint": "WEB_SEARCH_ENDPOINT",
    "api_key": "WEB_SEARCH_API_KEY",
    "timeout_ms": "WEB_SEARCH_TIMEOUT_MS",
    "max_results": "WEB_SEARCH_MAX_RESULTS",
    "max_uses": "WEB_SEARCH_MAX_USES",
    "max_retries": "WEB_SEARCH_MAX_RETRIES",
}


def load_settings(settings: Settings) -> WebSearchSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    config = settings.plugin_config(PLUGIN_NAME, WebSearchSettings, ENV)
    if config.endpoint and not config.endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{PLUGIN_NAME}: WEB_SEARCH_ENDPOINT must be an http:// or https:// URL")
    return config
