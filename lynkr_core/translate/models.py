"""Facts about upstream model names that decide how a request is shaped."""

from __future__ import annotations

import re

_REASONING = re.compile(r"(^|[/_-])(o[1-9]|gpt-5|gpt-oss)", re.I)


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` takes OpenAI's ``reasoning_effort`` (o-series, gpt-5, gpt-oss...)."""
    return bool(_REASONING.search(model))


def is_claude_model(model: str) -> bool:
    """Whether ``model`` names a Claude model (``databricks-claude-sonnet-4-5``...)."""
    return "claude" in model.lower()
