"""Who may read the metrics, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator

from lynkr_core import Finding, Settings
from lynkr_metrics.config import load_settings


def security_findings(settings: Settings) -> Iterator[Finding]:
    """Metrics served to anyone (``METRICS_AUTH=none``)."""
    if load_settings(settings).auth == "none":
        yield Finding("METRICS_AUTH=none", "anyone who reaches lynkr reads its metrics (models, traffic, errors)",
                      "unset METRICS_AUTH (admin key when LYNKR_ADMIN_KEYS is set, else the API key)")
