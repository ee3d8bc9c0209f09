"""Which provider (and upstream model) answers a request, and what to try next.

A route target is written ``provider`` or ``provider:model`` (split at the
first colon, so ``ollama:qwen2.5-coder:7b`` is provider ``ollama``, model
``qwen2.5-coder:7b``). Rules, first match wins:

1. ``LYNKR_LONG_CONTEXT_ROUTE`` when the request's estimated input tokens
   reach ``LYNKR_LONG_CONTEXT_TOKENS``;
2. ``LYNKR_MODEL_ROUTES``, a list of ``pattern=target``: ``pattern`` is a
   glob on the model name the client sent (``claude-sonnet-4-*``), or one of
   the family words ``haiku``, ``sonnet``, ``opus``, which match any version
   of that family (Claude Code's background calls use a haiku-class model);
3. ``MODEL_PROVIDER`` with the provider's configured model.

The chosen target is followed by ``FALLBACK_PROVIDER`` (a list of targets),
tried in order when the ones before fail with a retryable error before the
answer started; ``FALLBACK_ENABLED=false`` turns that off.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lynkr_core.config import ConfigError, CoreSettings

FAMILIES = ("haiku", "sonnet", "opus")


@dataclass(frozen=True, slots=True)
class Target:
    """A provider by its registered name, and the upstream model to ask for
    (empty: the provider's configured model)."""

    provider: str
    model: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        """``provider`` or ``provider:model``."""
        provider, _, model = text.strip().partition(":")
        if not provider:
            raise ConfigError(f"route target {text!r} names no provider (write provider[:model])")
        return cls(provider.strip(), model.strip())

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """``pattern=target``: requests for a matching model go to ``target``."""

    pattern: str
    target: Target

    @classmethod
    def parse(cls, text: str) -> ModelRoute:
        """``pattern=provider[:model]``."""
        pattern, sep, target = text.partition("=")
        if not sep or not pattern.strip():
            raise ConfigError(
                f"LYNKR_MODEL_ROUTES entry {text!r} is not pattern=provider[:model]"
            )
        return cls(pattern.strip().lower(), Target.parse(target))

    def matches(self, model: str) -> bool:
        """Whether the client's ``model`` falls under this route."""
        model = model.lower()
        if self.pattern in FAMILIES:
            return self.pattern in model
        return fnmatch.fnmatchcase(model, self.pattern)


class Router:
    """Turns a request's model and size into the targets to try, in order."""

    def __init__(
        self,
        default: Target,
        routes: Iterable[ModelRoute] = (),
        *,
        long_context: Target | None = None,
        long_context_tokens: int = 0,
        fallbacks: Iterable[Target] = (),
    ) -> None:
        self.default = default
        self.routes = tuple(routes)
        self.long_context = long_context
        self.long_context_tokens = long_context_tokens
        self.fallbacks = tuple(fallbacks)

    @classmethod
    def from_settings(cls, core: CoreSettings) -> Router:
        """The router ``core`` settings describe; ``ConfigError`` on a malformed entry."""
        return cls(
            Target(core.model_provider),
            [ModelRoute.parse(entry) for entry in core.model_routes],
            long_context=Target.parse(core.long_context_route) if core.long_context_route else None,
            long_context_tokens=core.long_context_tokens,
            fallbacks=[Target.parse(t) for t in core.fallback_provider] if core.fallback_enabled else (),
        )

    def named(self) -> list[tuple[str, str]]:
        """``(setting, provider)`` for each provider a rule may send a request to, by the
        setting that names it: ``MODEL_PROVIDER`` first, then the routes, then the fallbacks."""
        named = [("MODEL_PROVIDER", self.default.provider)]
        if self.long_context is not None:
            named.append(("LYNKR_LONG_CONTEXT_ROUTE", self.long_context.provider))
        named += [("LYNKR_MODEL_ROUTES", route.target.provider) for route in self.routes]
        named += [("FALLBACK_PROVIDER", target.provider) for target in self.fallbacks]
        return named

    @property
    def needs_size(self) -> bool:
        """Whether routing looks at the request's estimated size."""
        return self.long_context is not None

    def targets(self, model: str, input_tokens: Callable[[], int] | None = None) -> list[Target]:
        """The targets for a request for ``model``: the chosen one, then the fallbacks.

        ``input_tokens`` estimates the request's size; it is only called when a
        long-context route is configured.
        """
        chosen = self.choose(model, input_tokens)
        chain = [chosen]
        for fallback in self.fallbacks:
            if fallback not in chain:
                chain.append(fallback)
        return chain

    def choose(self, model: str, input_tokens: Callable[[], int] | None = None) -> Target:
        """The first rule's target that applies to ``model``."""
        if self.long_context is not None and input_tokens is not None:
            if input_tokens() >= self.long_context_tokens:
                return self.long_context
        for route in self.routes:
            if route.matches(model):
                return route.target
        return self.default
