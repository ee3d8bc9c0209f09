"""What the prompt cache keeps on disk, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator

from lynkr_cache.config import load_settings
from lynkr_core import Finding, Settings


def security_findings(settings: Settings) -> Iterator[Finding]:
    """Prompts and answers kept on disk while the cache is on (``PROMPT_CACHE_ENABLED``)."""
    if load_settings(settings).enabled:
        yield Finding("PROMPT_CACHE_ENABLED=true", "prompts and answers are kept on disk (LYNKR_HOME)",
                      "turn it off where prompts hold confidential data")
