"""The interceptor: Anthropic's web search for upstreams that cannot run it.

For each model call whose provider runs Anthropic's server tools itself
(``Provider.runs_server_tools``: Anthropic-format upstreams) nothing changes. For the
others, a request carrying the ``web_search_20250305`` server tool is answered in
steps: the upstream gets a ``web_search`` function instead; while its answer calls
that function, lynkr runs the searches against the configured backend and calls the
model again with the results; the client gets one message with Anthropic's blocks
(``server_tool_use``, ``web_search_tool_result``), the model's text, and the usage of
every step with ``server_tool_use.web_search_requests``, as JSON or as a stream. Search
blocks the client sends back in its history are turned into tool calls and results the
upstream understands, with or without the tool in the request.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass

from lynkr_core import (
    CompleteNext,
    HealthCheck,
    Interceptor,
    InvalidRequest,
    RequestContext,
    Services,
    StreamNext,
    anthropic,
)
from lynkr_web_search.backends import make_backend
from lynkr_web_search.config import PLUGIN_NAME, WebSearchSettings
from lynkr_web_search.health import LABEL, backend_check
from lynkr_web_search.relay import StepRelay
from lynkr_web_search.rewrite import (
    SearchTool,
    find_search_tool,
    for_upstream,
    has_search_blocks,
    offers_search,
)
from lynkr_web_search.turn import SearchTurn


class Action(enum.Enum):
    """What the interceptor does with a call."""

    PASS = "pass"  # not its business: the call goes on untouched
    HISTORY = "history"  # search blocks in the history only: rewritten, one call
    SEARCH = "search"  # the search tool is offered: lynkr searches


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with a call, and the search tool when lynkr searches."""

    action: Action
    tool: SearchTool | None = None


class WebSearch(Interceptor):
    """Runs Anthropic's web search server tool in lynkr for non-Anthropic upstreams."""

    name = PLUGIN_NAME

    def __init__(self, config: WebSearchSettings) -> None:
        self.config = config
        self.backend = make_backend(config)

    async def health_checks(self, services: Services) -> dict[str, HealthCheck]:
        """For ``lynkr doctor``: whether the configured backend answers."""
        return {LABEL: await backend_check(self.config, self.backend, services.http)}

    # ----------------------------------------------------------------- JSON

    async def complete(
        self, request: anthropic.MessagesRequest, context: RequestContext, call_next: CompleteNext
    ) -> anthropic.MessageResponse:
        """The model's answer with the searches it asked for run in between."""
        plan = self._plan(request, context)
        if plan.action is Action.PASS:
            return await call_next(request)
        if plan.tool is None:
            return await call_next(for_upstream(request, None))
        turn = self._turn(request, plan.tool)
        while True:
            message = await call_next(turn.next_request())
            asked = turn.take(message)
            if not asked.searches:
                return turn.message(message, message.stop_reason)
            await turn.run(asked.searches, context.http)
            if asked.client_calls:
                return turn.message(message, "tool_use")
            if turn.out_of_steps():
                return turn.message(message, "pause_turn")

    # ----------------------------------------------------------------- streams

    def stream(
        self, request: anthropic.MessagesRequest, context: RequestContext, call_next: StreamNext
    ) -> AsyncIterator[bytes]:
        """The model's streamed steps as one message, the search results between them."""
        plan = self._plan(request, context)
        if plan.action is Action.PASS:
            return call_next(request)
        if plan.tool is None:
            return call_next(for_upstream(request, None))
        return self._searching(self._turn(request, plan.tool), context, call_next)

    async def _searching(
        self, turn: SearchTurn, context: RequestContext, call_next: StreamNext
    ) -> AsyncIterator[bytes]:
        relay = StepRelay(turn)
        while True:
            async for frame in relay.step(call_next(turn.next_request())):
                yield frame
            if relay.failed or relay.message is None:
                return  # the upstream's error event ended the stream
            asked = turn.take(relay.message)
            if not asked.searches:
                stop = relay.message.stop_reason
                break
            for frame in relay.whole_blocks(await turn.run(asked.searches, context.http)):
                yield frame
            if asked.client_calls:
                stop = "tool_use"
                break
            if turn.out_of_steps():
                stop = "pause_turn"
                break
        for frame in relay.finish(stop):
            yield frame

    # ----------------------------------------------------------------- deciding

    def _plan(self, request: anthropic.MessagesRequest, context: RequestContext) -> Plan:
        """What to do with this call; ``InvalidRequest`` when it needs a search backend and
        none is configured, or when the search tool's options are malformed."""
        offered, in_history = offers_search(request), has_search_blocks(request)
        if not (offered or in_history) or self._upstream_searches(request, context):
            return Plan(Action.PASS)
        tool = find_search_tool(request) if offered else None
        if tool is None:
            return Plan(Action.HISTORY)
        problem = self.config.unconfigured()
        if problem is not None or self.backend is None:
            raise InvalidRequest(
                f"the {tool.name} tool (Anthropic's web search) cannot run here: the provider "
                f"{_provider_name(request, context)!r} cannot run Anthropic's server tools, and "
                f"lynkr-web-search has no search backend ({problem}). Set WEB_SEARCH_BACKEND=searxng "
                "and WEB_SEARCH_ENDPOINT to a SearXNG /search URL, or WEB_SEARCH_BACKEND=brave or "
                "tavily with WEB_SEARCH_API_KEY; or route this model to an Anthropic-format provider."
            )
        return Plan(Action.SEARCH, tool)

    def _turn(self, request: anthropic.MessagesRequest, tool: SearchTool) -> SearchTurn:
        assert self.backend is not None  # _plan made sure
        return SearchTurn(request, tool, self.config, self.backend)

    @staticmethod
    def _upstream_searches(request: anthropic.MessagesRequest, context: RequestContext) -> bool:
        """Whether the provider routing picks runs Anthropic's server tools itself (an unknown
        provider is left to the core, which says it is missing)."""
        provider = context.provider(_provider_name(request, context))
        return provider is None or provider.runs_server_tools


def _provider_name(request: anthropic.MessagesRequest, context: RequestContext) -> str:
    route = context.route(request)
    return route[0][0] if route else context.provider_name
