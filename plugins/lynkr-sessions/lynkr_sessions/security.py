"""What the session store keeps on disk, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator

from lynkr_core import Finding, Settings
from lynkr_sessions.config import PLUGIN_NAME, load_settings


def security_findings(settings: Settings) -> Iterator[Finding]:
    """Whole prompts, files and answers kept (``SESSION_CONTENT=full``, the default)."""
    if load_settings(settings).content == "full":
        yield Finding("SESSION_CONTENT=full (the default)",
                      "every prompt, file content and answer is kept on disk "
                      f"(LYNKR_HOME/{PLUGIN_NAME}), secrets the model saw included",
                      "set SESSION_CONTENT=redacted (or none: metadata only)")
