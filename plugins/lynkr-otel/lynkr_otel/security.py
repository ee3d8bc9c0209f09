"""Where traces go, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from lynkr_core import Finding, Settings, is_loopback
from lynkr_otel.config import (
    is_enabled,
    load_settings,
    otel_variables,
    traces_endpoint,
    without_credentials,
)


def security_findings(settings: Settings) -> Iterator[Finding]:
    """Traces sent in clear text (``http://``) to a collector beyond this machine."""
    variables = otel_variables(settings)
    if not is_enabled(load_settings(settings), variables):
        return
    endpoint = traces_endpoint(variables)
    parts = urlsplit(endpoint)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        yield Finding(
            f"LYNKR_OTEL_ENABLED=true with {without_credentials(endpoint)}",
            "traces (models, providers, API key ids, timings) and the collector's OTLP headers "
            "travel unencrypted to another machine",
            "use an https:// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT), or a collector on this machine",
        )
