"""Where the model's search queries go, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from lynkr_core import Finding, Settings, is_loopback
from lynkr_web_search.config import load_settings


def security_findings(settings: Settings) -> Iterator[Finding]:
    """A backend reached over plain http beyond this host: the queries (and the API key,
    when one is set) cross the network unencrypted."""
    config = load_settings(settings)
    url = urlsplit(config.url())
    host = url.hostname or ""
    if config.unconfigured() is None and url.scheme == "http" and not is_loopback(host):
        carried = "the model's search queries" + (" and WEB_SEARCH_API_KEY" if config.api_key else "")
        yield Finding(f"WEB_SEARCH_ENDPOINT is plain http to {host}",
                      f"{carried} cross the network unencrypted, readable and changeable on the way",
                      "use an https:// endpoint, or run the search backend on this host")
