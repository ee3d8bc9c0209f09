"""Facts about upstream model names that decide how a request is shaped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lynkr_core.translate.options import TargetOptions

_REASONING = re.compile(r"(^|[/_-])(o[1-9]|gpt-5|gpt-oss)", re.I)
#: Models whose thinking mode wants the reasoning of earlier tool-calling turns back:
#: DeepSeek (https://api-docs.deepseek.com/guides/thinking_mode#tool-calls) and Kimi K2
#: Thinking (Moonshot's docs: keep ``reasoning_content`` in the context).
_HISTORY = re.compile(r"deepseek|kimi-k2[.-]?\d*-thinking|k2-thinking", re.I)


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` takes OpenAI's ``reasoning_effort`` (o-series, gpt-5, gpt-oss...)."""
    return bool(_REASONING.search(model))


def is_claude_model(model: str) -> bool:
    """Whether ``model`` names a Claude model (``databricks-claude-sonnet-4-5``...)."""
    return "claude" in model.lower()


def takes_reasoning_effort(target: TargetOptions) -> bool:
    """Whether ``target``'s model takes its provider's reasoning parameter: never for a
    provider without one (``reasoning="none"``); else the first of ``target.model_reasoning``
    that says so for the model; else every model of a provider whose parameter is its own
    (OpenRouter, Databricks), and ``is_reasoning_model`` for ``reasoning_effort``."""
    if target.reasoning == "none":
        return False
    said = _said(target, "effort")
    if said is not None:
        return said
    return target.reasoning != "effort" or is_reasoning_model(target.model)


def needs_reasoning_history(target: TargetOptions) -> bool:
    """Whether ``target``'s model wants the reasoning of earlier assistant turns back: the
    first of ``target.model_reasoning`` that says so for the model, else DeepSeek and
    Kimi K2 Thinking by name."""
    said = _said(target, "history")
    return bool(_HISTORY.search(target.model)) if said is None else said


def _said(target: TargetOptions, capability: str) -> bool | None:
    for entry in target.model_reasoning:
        value = getattr(entry, capability)
        if value is not None and entry.matches(target.model):
            return bool(value)
    return None
