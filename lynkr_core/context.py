"""What travels with one request: ids, the client's headers, plugin state, the steps so far."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lynkr_core.exchange import Attempt, Step

if TYPE_CHECKING:
    import aiohttp
    import structlog

    from lynkr_core.config import Settings
    from lynkr_core.contracts import Provider
    from lynkr_core.wire.anthropic import MessagesRequest


@dataclass(slots=True)
class RequestContext:
    """Per-request facts a provider, policy, preparer or interceptor may need.

    ``http`` is the process's one aiohttp session (pooled connections).
    ``headers`` holds the client's ``anthropic-*`` headers, lower-cased, to be
    passed on where a provider speaks the same API; ``client_headers`` all of
    the client's headers, lower-cased, without credentials (``authorization``,
    ``x-api-key``, cookies, anything named like a key or token).

    ``client_id`` names the API key that made the request without revealing it
    (``api_key_id``: ``key_`` and 12 hex digits of the key's SHA-256, the same in
    every worker and across restarts); ``None`` when ``LYNKR_API_KEYS`` is not set.
    Usage, budgets and rate limits are kept per ``client_id``.

    ``session_id`` is the client's conversation: Claude Code's
    ``x-claude-code-session-id`` header, else derived stably from
    ``metadata.user_id``, else ``None``. ``purpose`` is ``"messages"``,
    ``"count_tokens"``, or what a plugin's own model call said
    (``ModelClient.complete``). ``state`` is a scratch area for plugins (key
    it by your plugin's name): a preparer hands facts to the same plugin's
    interceptor or exchange hook through it.

    ``response_headers`` are added to the client's response: a plugin sets them
    before the answer starts (for a stream: before its first frame, so in the
    first step), e.g. a cache's ``x-lynkr-cache: hit``.

    ``route(request)`` says where routing would send ``request`` (an interceptor
    runs before routing: a cache keys on it); ``provider(name)`` is the registered
    provider a route names, to ask what it can do.

    ``steps`` records every model call as it happens; ``provider_name`` and
    ``model`` are the route of the attempt under way: the provider, and the
    upstream model routing chose for it (empty: the provider's configured
    model). Earlier attempts stay in ``steps``.
    """

    request_id: str
    http: aiohttp.ClientSession
    settings: Settings
    log: structlog.typing.FilteringBoundLogger
    headers: Mapping[str, str] = field(default_factory=dict)
    client_headers: Mapping[str, str] = field(default_factory=dict)
    session_id: str | None = None
    client_id: str | None = None
    purpose: str = "messages"
    state: dict[str, Any] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    router: Callable[[MessagesRequest], list[tuple[str, str]]] | None = None
    #: The registered providers by name (``None``: none known, as in a unit test).
    providers: Callable[[str], Provider | None] | None = None
    provider_name: str = ""
    model: str = ""
    started: float = field(default_factory=time.monotonic)
    #: The HTTP path the client called (``/v1/messages``, ``/v1/chat/completions``...);
    #: empty for a plugin's own model call.
    path: str = ""

    @property
    def anthropic_beta(self) -> str | None:
        """The client's ``anthropic-beta`` header, as sent."""
        return self.headers.get("anthropic-beta")

    @property
    def attempts(self) -> list[Attempt]:
        """Every provider attempt so far, of every step, in order."""
        return [attempt for step in self.steps for attempt in step.attempts]

    def route(self, request: MessagesRequest) -> list[tuple[str, str]]:
        """The ``(provider, upstream model)`` pairs routing would try for ``request``, in order
        (the chosen one, then the fallbacks; an empty model: the provider's configured one)."""
        if self.router is None:
            return [(self.provider_name, self.model)]
        return self.router(request)

    def provider(self, name: str) -> Provider | None:
        """The provider registered as ``name`` (as ``route`` names them), to ask what it can do
        (``Provider.runs_server_tools``); ``None`` when no provider has that name."""
        return None if self.providers is None else self.providers(name)

    def begin_step(self, request: MessagesRequest) -> Step:
        """Record the start of a model call for ``request``."""
        step = Step(index=len(self.steps), request=request)
        self.steps.append(step)
        return step

    def begin_attempt(self, provider: str, model: str) -> Attempt:
        """Record an attempt of the current step at ``provider`` (and upstream ``model``), which
        becomes ``provider_name``/``model``."""
        self.provider_name = provider
        self.model = model
        attempt = Attempt(provider=provider, model=model)
        if self.steps:
            self.steps[-1].attempts.append(attempt)
        return attempt
