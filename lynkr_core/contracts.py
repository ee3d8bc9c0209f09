"""What plugins register, and what travels with one request.

Registration hooks hand the core objects of these kinds; the core calls
their async methods on a request's way. Subclass them: the defaults are what
the core does when a plugin has nothing to say.
"""

from __future__ import annotations

import abc
import argparse
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp
    import structlog

    from lynkr_core.config import Settings
    from lynkr_core.errors import LynkrError
    from lynkr_core.tools import ToolCall, ToolContext
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest, ModelInfo


@dataclass(slots=True)
class RequestContext:
    """Per-request facts a provider, policy or preparer may need.

    ``http`` is the process's one aiohttp session (pooled connections);
    ``headers`` holds the client's ``anthropic-*`` headers, lower-cased, to be
    passed on where a provider speaks the same API. ``provider_name`` and
    ``model`` are the route being tried: the provider, and the upstream model
    routing chose for it (empty: the provider's configured model).
    """

    request_id: str
    http: aiohttp.ClientSession
    settings: Settings
    log: structlog.typing.FilteringBoundLogger
    headers: Mapping[str, str] = field(default_factory=dict)
    provider_name: str = ""
    model: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def anthropic_beta(self) -> str | None:
        """The client's ``anthropic-beta`` header, as sent."""
        return self.headers.get("anthropic-beta")


@dataclass(slots=True)
class HealthCheck:
    """The answer of ``Provider.check``: reachable or not, and what was seen."""

    ok: bool
    detail: str


class Provider(abc.ABC):
    """A model provider: takes an Anthropic request, answers in Anthropic format.

    ``complete`` answers a non-streaming request with the whole message;
    ``stream`` yields a Messages API event stream as SSE bytes (whole frames).
    Both raise ``UpstreamError`` for a failure before the answer starts; a
    stream that fails after its first frame raises too, and the core ends the
    client's stream with an ``error`` event.
    """

    #: The name ``MODEL_PROVIDER`` selects, e.g. ``"azure-anthropic"``.
    name: str = ""

    @abc.abstractmethod
    async def complete(self, request: MessagesRequest, context: RequestContext) -> MessageResponse:
        """Answer ``request`` (with ``stream`` false) with a complete message."""

    @abc.abstractmethod
    def stream(self, request: MessagesRequest, context: RequestContext) -> AsyncIterator[bytes]:
        """Answer ``request`` as a stream of SSE frames, ending with ``message_stop``."""

    async def count_tokens(self, request: MessagesRequest, context: RequestContext) -> int | None:
        """Input tokens of ``request`` as the provider counts them; ``None`` lets the core estimate."""
        return None

    async def list_models(self, context: RequestContext) -> list[ModelInfo]:
        """The models this provider serves, for ``GET /v1/models``."""
        return []

    async def check(self, context: RequestContext) -> HealthCheck:
        """Whether the upstream is reachable with the configured credentials (``lynkr doctor``)."""
        return HealthCheck(ok=True, detail="no check implemented")

    def describe(self) -> Mapping[str, str]:
        """Non-secret facts about the configuration (endpoint, model...), for ``lynkr doctor``."""
        return {}


@dataclass(slots=True)
class Denial:
    """A policy's refusal, with the reason the client is told."""

    reason: str
    status: int = 403


@dataclass(slots=True)
class Permit:
    """A policy's explicit yes to a tool call, needed for ``GUARDED_ACTIONS`` (a push)."""

    reason: str


class Policy:
    """Decides whether a request may go upstream, and whether a tool call may run.

    Any denial wins. A call whose effects include a guarded action (see
    ``lynkr_core.tools.GUARDED_ACTIONS``) also needs at least one ``Permit``.
    """

    name: str = ""

    async def check_request(self, request: MessagesRequest, context: RequestContext) -> Denial | None:
        """Return a ``Denial`` to refuse ``request`` (nothing goes upstream), ``None`` to let it through."""
        return None

    async def check_tool(self, call: ToolCall, context: ToolContext) -> Denial | Permit | None:
        """Judge one tool call before it runs: ``Denial`` refuses it (the model reads the
        reason as an error result), ``Permit`` allows a guarded action, ``None`` has no say."""
        return None

    def hides(self, path: str) -> bool:
        """Whether tools that walk the workspace must keep ``path``'s content from the model
        (search skips it, a diff says only that it changed) and may leave its name out
        (listings do). ``path`` is relative to the workspace root, POSIX-style.
        Called for every path met, from worker threads: keep it cheap, pure and synchronous."""
        return False


class RequestPreparer(abc.ABC):
    """Rewrites a request before it goes upstream (memory, repo context, routing).

    Preparers run in registration order; each sees the request the previous
    one returned.
    """

    name: str = ""

    @abc.abstractmethod
    async def prepare(self, request: MessagesRequest, context: RequestContext) -> MessagesRequest | None:
        """Return the request to send on, or ``None`` to leave it as it is."""


@dataclass(slots=True)
class Exchange:
    """One finished request: what was asked, what came back, how it went."""

    request: MessagesRequest
    context: RequestContext
    streamed: bool
    response: MessageResponse | None = None
    error: LynkrError | None = None
    disconnected: bool = False
    duration: float = 0.0


@dataclass(slots=True)
class ExtraRoute:
    """An HTTP route a plugin adds: a Starlette endpoint at ``path``."""

    path: str
    endpoint: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)
    name: str = ""


@dataclass(slots=True)
class Command:
    """A ``lynkr`` sub-command: ``add_arguments`` fills its argparse parser,
    ``run`` gets the parsed arguments and the settings and returns the exit code."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
