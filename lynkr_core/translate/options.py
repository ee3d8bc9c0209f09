"""What a translation needs to know about its target: the upstream model and
what the provider accepts."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from lynkr_core.config import ConfigError
from lynkr_core.translate.think_tags import ThinkTagMode

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
class ModelLimit:
    """A setting's context window and maximum output for the models matching ``pattern``
    (a glob on the upstream model name, case-insensitive); ``None``: not set."""

    pattern: str
    context_window: int | None = None
    max_output_tokens: int | None = None

    @classmethod
    def parse(cls, text: str) -> ModelLimit:
        """``model=window`` or ``model=window/max_output`` (either number may be empty:
        ``model=/8192``); ``ValueError`` naming the entry when it is not that."""
        pattern, sep, numbers = text.partition("=")
        window, _, output = numbers.partition("/")
        try:
            limits = [int(n) if n.strip() else None for n in (window, output)]
        except ValueError:
            limits = []
        if not sep or not pattern.strip() or not limits or any(n is not None and n <= 0 for n in limits):
            raise ValueError(f"model limit {text!r} is not model=context_window[/max_output_tokens]")
        return cls(pattern.strip().lower(), limits[0], limits[1])

    def matches(self, model: str) -> bool:
        """Whether ``model`` falls under this entry."""
        return fnmatch.fnmatchcase(model.lower(), self.pattern)


def parse_model_limits(entries: list[str], variable: str) -> tuple[ModelLimit, ...]:
    """A provider's ``*_MODEL_LIMITS`` setting; ``ConfigError`` naming ``variable`` for a
    malformed entry."""
    try:
        return tuple(ModelLimit.parse(entry) for entry in entries if entry.strip())
    except ValueError as exc:
        raise ConfigError(f"{variable}: {exc}") from None


@dataclass(frozen=True, slots=True)
class ModelReasoning:
    """A setting's reasoning capabilities for the models matching ``pattern`` (a glob
    on the upstream model name, case-insensitive); ``None``: not said here.

    ``effort``: the model takes the provider's reasoning parameter (``reasoning_effort``,
    OpenRouter's ``reasoning``, Databricks' ``thinking``). ``history``: the reasoning of
    earlier assistant turns goes back upstream with them (DeepSeek's thinking mode
    refuses a tool-calling turn without its ``reasoning_content``).
    """

    pattern: str
    effort: bool | None = None
    history: bool | None = None

    #: The words of an entry's flags.
    FLAGS: ClassVar[dict[str, tuple[str, bool]]] = {
        "effort": ("effort", True),
        "no-effort": ("effort", False),
        "history": ("history", True),
        "no-history": ("history", False),
    }

    @classmethod
    def parse(cls, text: str) -> ModelReasoning:
        """``model=flag+flag`` with flags ``effort``, ``no-effort``, ``history``,
        ``no-history`` (``none``: both off); ``ValueError`` naming the entry otherwise."""
        pattern, sep, flags = text.partition("=")
        values: dict[str, bool] = {}
        words = [word.strip().lower() for word in flags.split("+")]
        if words == ["none"]:
            values = {"effort": False, "history": False}
        elif all(word in cls.FLAGS for word in words):
            values = dict(cls.FLAGS[word] for word in words)
        if not sep or not pattern.strip() or not values:
            raise ValueError(
                f"model reasoning {text!r} is not model=flags (flags: effort, no-effort,"
                " history, no-history, joined by +; or none)"
            )
        return cls(pattern.strip().lower(), **values)

    def matches(self, model: str) -> bool:
        """Whether ``model`` falls under this entry."""
        return fnmatch.fnmatchcase(model.lower(), self.pattern)


def parse_model_reasoning(entries: list[str], variable: str) -> tuple[ModelReasoning, ...]:
    """A provider's ``*_MODEL_REASONING`` setting; ``ConfigError`` naming ``variable`` for
    a malformed entry."""
    try:
        return tuple(ModelReasoning.parse(entry) for entry in entries if entry.strip())
    except ValueError as exc:
        raise ConfigError(f"{variable}: {exc}") from None


@dataclass(frozen=True, slots=True)
class TargetOptions:
    """The upstream model and what its provider accepts.

    ``max_output_tokens`` clamps ``max_tokens`` (``None``: look the model up
    in ``limits``, and leave it as asked for a model not listed there).
    ``context_window`` is the model's window in tokens (``None``: look it up in
    ``limits``); ``model_limits`` are per-model settings, which win over both.
    """

    model: str
    max_output_tokens: int | None = None
    context_window: int | None = None
    model_limits: tuple[ModelLimit, ...] = ()
    token_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    reasoning: ReasoningStyle = "none"
    images: bool = True
    structured_output: bool = True
    stream_usage: bool = True
    parallel_tool_calls: bool = True
    strip_schema_keys: frozenset[str] = field(default_factory=lambda: frozenset({"$schema"}))
    text_tool_calls: bool = False
    #: Per-model reasoning capabilities, first match per field wins (``ModelReasoning``);
    #: a model none speaks of: ``models.takes_reasoning_effort`` / ``needs_reasoning_history``.
    model_reasoning: tuple[ModelReasoning, ...] = ()
    #: ``<think>`` tags in content: ``auto``, ``on`` or ``off`` (``think_tags``).
    think_tags: ThinkTagMode = "auto"
    #: Models (case-insensitive globs) that take the client's ``cache_control``
    #: breakpoints on content parts (OpenRouter's ``anthropic/*``, Gemini); others get none.
    cache_control_models: tuple[str, ...] = ()
    #: Send ``prompt_cache_key`` (a digest of the session id) when the request has a session.
    prompt_cache_key: bool = False
