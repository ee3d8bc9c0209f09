"""What a translation needs to know about its target: the upstream model and
what the provider accepts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

#: How a provider takes a request for extended thinking.
#: ``none``: it has no such setting, thinking is dropped;
#: ``effort``: OpenAI's ``reasoning_effort`` (o-series, gpt-5, gpt-oss...);
#: ``openrouter``: OpenRouter's ``reasoning`` object;
#: ``databricks``: Databricks' Claude endpoints, Anthropic's ``thinking`` object.
ReasoningStyle = Literal["none", "effort", "openrouter", "databricks"]

#: Called with a human-readable message for each thing a translation dropped.
Warn = Callable[[str], None]


def ignore_warning(message: str) -> None:
    """A ``Warn`` that drops the message."""


@dataclass(frozen=True, slots=True)
class TargetOptions:
    """The upstream model and what its provider accepts.

    ``max_output_tokens`` clamps ``max_tokens`` (``None``: look the model up
    in ``limits``, and leave it as asked for a model not listed there).
    """

    model: str
    max_output_tokens: int | None = None
    token_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    reasoning: ReasoningStyle = "none"
    images: bool = True
    structured_output: bool = True
    stream_usage: bool = True
    parallel_tool_calls: bool = True
    strip_schema_keys: frozenset[str] = field(default_factory=lambda: frozenset({"$schema"}))
    text_tool_calls: bool = False
