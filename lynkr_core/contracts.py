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
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from lynkr_core.config import Settings
    from lynkr_core.context import RequestContext
    from lynkr_core.exchange import Exchange
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest, ModelInfo


@dataclass(slots=True)
class HealthCheck:
    """The answer of ``Provider.check``: reachable or not, and what was seen."""

    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One risky setting, for ``lynkr doctor --security`` (``lynkr_security_findings``):
    what is set (the setting as the operator writes it, ``POLICY_GIT_ALLOW_PUSH=true``),
    why it matters, and how to close it."""

    setting: str
    risk: str
    fix: str


@dataclass(frozen=True, slots=True)
class SettingHelp:
    """One setting a provider reads, as ``lynkr init`` asks for it and writes it to ``.env``.

    ``name`` is the environment variable; ``help`` one line saying what it is;
    ``required``: the provider cannot answer while it is unset (it is then among
    ``Provider.missing_settings``); ``secret``: never echoed or printed back;
    ``default``: the value used when it is unset, as written in ``.env`` (``None``: none).
    """

    name: str
    help: str
    required: bool = False
    secret: bool = False
    default: str | None = None

    @classmethod
    def from_struct(
        cls,
        struct: type,
        env: Mapping[str, str],
        helps: Mapping[str, str],
        *,
        required: Collection[str] = (),
        secret: Collection[str] = (),
    ) -> list[SettingHelp]:
        """One ``SettingHelp`` per field of ``env`` (field name to variable, as
        ``Settings.plugin_config`` takes it), in ``env``'s order: its line from ``helps``, its
        default from the msgspec ``struct``; ``required`` and ``secret`` name fields."""
        defaults = {f.name: f.default for f in msgspec.structs.fields(struct)}
        return [
            cls(var, helps[field], field in required, field in secret, _env_text(defaults.get(field)))
            for field, var in env.items()
        ]


def _env_text(value: object) -> str | None:
    """A default as ``.env`` would spell it; ``None`` for no default or an empty one."""
    if value is None or value == "" or value is msgspec.NODEFAULT:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(slots=True)
class EmbeddingRequest:
    """Texts to embed (``POST /v1/embeddings``). ``model`` is the client's model name (empty:
    the provider's configured embedding model); ``dimensions`` asks for shorter vectors."""

    inputs: list[str]
    model: str = ""
    dimensions: int | None = None


@dataclass(slots=True)
class Embeddings:
    """One vector per input, in order; the model that made them and the input tokens used."""

    vectors: list[list[float]]
    model: str
    input_tokens: int = 0


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
    #: Whether the upstream runs Anthropic's server tools (``web_search_20250305``...) itself,
    #: as one that speaks the Messages API does. ``OpenAIChatProvider`` says no (its translation
    #: refuses them with a 400); a plugin may then run them in lynkr instead (lynkr-web-search does).
    runs_server_tools: bool = True

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

    def can_embed(self) -> bool:
        """Whether ``embed`` is implemented: ``/v1/embeddings`` (and ``EMBEDDINGS_PROVIDER``)
        use only providers that say so."""
        return False

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> Embeddings:
        """Embed ``request.inputs``. Raises ``UpstreamError`` for a failed upstream call; the
        default raises ``NotImplementedError`` (a provider that cannot embed)."""
        raise NotImplementedError(f"provider {self.name!r} cannot embed")

    async def check(self, context: RequestContext) -> HealthCheck:
        """Whether the upstream is reachable with the configured credentials (``lynkr doctor``)."""
        return HealthCheck(ok=True, detail="no check implemented")

    def describe(self) -> Mapping[str, str]:
        """Non-secret facts about the configuration (endpoint, model...), for ``lynkr doctor``."""
        return {}

    def missing_settings(self) -> list[str]:
        """The environment variables that must be set before this provider can answer;
        empty when none are missing. The core says so at start and answers every request
        for this provider with a 500 naming them, before calling ``complete`` or ``stream``."""
        return []

    def settings_help(self) -> list[SettingHelp]:
        """Every setting this provider reads, for ``lynkr init``; empty: none to ask for."""
        return []


class ExchangeObserver(abc.ABC):
    """Sees every finished ``/v1/messages`` exchange, off the request path: a session
    store's companion, memory extraction, metrics, reflection.

    The core calls ``exchange_finished`` in a task of its own after the session store
    recorded the exchange and before the ``lynkr_exchange_finished`` hook, observers in
    hook order; an exception is logged and the others still run. Unlike that hook, an
    observer is an object: it keeps its own state, and the same object may also be
    registered as a preparer or an interceptor (it is started and closed once).

    ``exchange_finished`` may be a plain function instead of a coroutine, for in-memory
    bookkeeping or queueing that never waits (counters, a batch another task writes):
    when every observer is one and nothing else needs a task (the session store's
    ``record`` plain too, no hook implementation), they are called from the event loop
    soon after the exchange, with no task made for it.
    """

    name: str = ""

    @abc.abstractmethod
    def exchange_finished(self, exchange: Exchange) -> Awaitable[None] | None:
        """Look at a finished exchange (every step, attempt and tool call). Return quickly or
        hand the work to a task of your own: other observers wait for you. An ``async
        def``, or a plain ``def`` that never blocks."""


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
    """An HTTP route a plugin adds: a Starlette endpoint at ``path``.

    ``admin`` routes (session browsers, dashboards, cache control) answer only
    a key of ``LYNKR_ADMIN_KEYS`` (in ``x-api-key`` or ``Authorization:
    Bearer``); a client's API key is not an admin key, and with no admin key
    configured they answer 403 to everyone. ``public`` routes answer without any
    key, like ``/health``: only for what carries no data (a dashboard's static page,
    which then asks for the admin key and sends it from the browser); a route cannot
    be both.
    """

    path: str
    endpoint: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)
    name: str = ""
    admin: bool = False
    public: bool = False

    def __post_init__(self) -> None:
        if self.admin and self.public:
            raise ValueError(f"route {self.path}: an admin route cannot be public")


@dataclass(slots=True)
class Command:
    """A ``lynkr`` sub-command: ``add_arguments`` fills its argparse parser,
    ``run`` gets the parsed arguments and the settings and returns the exit code."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
