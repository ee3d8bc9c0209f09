"""What plugins register: providers, preparers, routes and commands.

Registration hooks hand the core objects of these kinds; the core calls
their async methods on a request's way. Subclass them: the defaults are what
the core does when a plugin has nothing to say. Policies are in
``lynkr_core.policy``, tools in ``lynkr_core.tools``, interceptors in
``lynkr_core.interceptors``; what travels with one request is in
``lynkr_core.context`` and ``lynkr_core.exchange``.
"""

from __future__ import annotations

import abc
import argparse
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lynkr_core.config import Settings
    from lynkr_core.context import RequestContext
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest, ModelInfo


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


class RequestPreparer(abc.ABC):
    """Rewrites a request before it goes upstream (memory, repo context, skills).

    Preparers run in hook order (see ``lynkr_register_preparers``), after the
    policies; each sees the request the previous one returned. They also run
    for ``/v1/messages/count_tokens`` (``context.purpose`` says which), so
    that a count matches what is sent.
    """

    name: str = ""

    @abc.abstractmethod
    async def prepare(self, request: MessagesRequest, context: RequestContext) -> MessagesRequest | None:
        """Return the request to send on, or ``None`` to leave it as it is."""


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
