"""The agent loop for a JSON (non-streaming) answer.

Each step asks the model; when it answers with calls of lynkr's tools only
(``stop_reason`` ``tool_use``), lynkr runs them, appends the assistant turn
and the results, and asks again, until a final answer or the step limit.
The client gets one message: the content of every step, without lynkr's own
tool calls, with the usage of all steps added up. A step that also calls a
client tool goes back to the client as it is, minus lynkr's calls, which
are not run (the client can only answer its own; the model asks again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from msgspec import Raw

from lynkr_core.config import Settings
from lynkr_core.context import RequestContext
from lynkr_core.orchestrator.advertise import ToolCatalog, ToolOffer, relaxed_tool_choice
from lynkr_core.orchestrator.runner import ToolRunner
from lynkr_core.orchestrator.steps import (
    assistant_message,
    decode_blocks,
    is_ours,
    pending_calls,
    results_message,
    runs_tools,
    step_limit_note,
)
from lynkr_core.orchestrator.stream import OpenStep, stream_steps
from lynkr_core.policy import Policy
from lynkr_core.registry import Registry
from lynkr_core.tools import Tool, ToolSource
from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest, Usage, add_usage, raw

CallModel = Callable[[MessagesRequest], Awaitable[MessageResponse]]


class AgentLoop:
    """Runs lynkr's tools between model calls for one app (``TOOL_EXECUTION_MODE=server``)."""

    def __init__(
        self,
        settings: Settings,
        tools: Registry[Tool],
        policies: Registry[Policy],
        sources: Registry[ToolSource] | None = None,
    ) -> None:
        self.catalog = ToolCatalog(tools, list(sources or ()))
        self.runner = ToolRunner(settings, self.catalog.get, policies)
        self.enabled = settings.core.tool_execution_mode == "server" and (
            bool(self.catalog) or bool(self.catalog.sources)
        )
        self.max_steps = max(1, settings.core.max_tool_steps)
        #: Seconds between ``ping`` events while tools run during a stream.
        self.ping_interval = 10.0

    async def offer(self, request: MessagesRequest) -> ToolOffer | None:
        """``request`` with lynkr's tools added, or ``None`` when lynkr runs no tool for it
        (client/passthrough mode, no tool installed, every name taken by a client tool).
        A tool source's announced change is picked up first."""
        if not self.enabled:
            return None
        if self.catalog.stale:
            await self.catalog.refresh()
        offer = self.catalog.offer(request)
        return offer if offer.ours else None

    def stream(self, offer: ToolOffer, context: RequestContext, open_step: OpenStep) -> AsyncIterator[bytes]:
        """Answer ``offer.request`` as one SSE stream, running lynkr's tools between model calls."""
        return stream_steps(
            offer, self.runner.context(context), self.runner, open_step,
            max_steps=self.max_steps, ping_interval=self.ping_interval,
        )

    async def complete(
        self, offer: ToolOffer, context: RequestContext, call_model: CallModel
    ) -> MessageResponse:
        """Answer ``offer.request`` as one message, running lynkr's tools between model calls."""
        tools = self.runner.context(context)
        history = list(offer.request.messages)
        step_request = offer.request
        content: list[Raw] = []
        usage = Usage()
        first: MessageResponse | None = None
        while True:
            response = await call_model(step_request)
            first = first or response
            tools.ledger.steps += 1
            add_usage(usage, response.usage)
            blocks = decode_blocks(response)
            calls = pending_calls(blocks, offer.ours)
            content.extend(r for r, b in zip(response.content, blocks, strict=True) if not is_ours(b, offer.ours))
            if tools.ledger.steps == 1 and not calls:
                return response
            client_calls = sum(b.get("type") == "tool_use" and not is_ours(b, offer.ours) for b in blocks)
            if not runs_tools(calls, response.stop_reason, client_calls, context.log):
                return _merged(first, response, content, usage, response.stop_reason)
            if tools.ledger.steps >= self.max_steps:
                context.log.warning("tool_step_limit", steps=tools.ledger.steps)
                content.append(raw({"type": "text", "text": step_limit_note(self.max_steps)}))
                return _merged(first, response, content, usage, "end_turn")
            results = await self.runner.run_all(calls, tools)
            history += [assistant_message(response.content), results_message(calls, results)]
            step_request = offer.request.replace(
                messages=list(history), tool_choice=relaxed_tool_choice(offer.request, offer.ours)
            )


def _merged(
    first: MessageResponse, last: MessageResponse, content: list[Raw], usage: Usage, stop_reason: str | None
) -> MessageResponse:
    merged = msgspec.structs.replace(
        first, content=content, stop_reason=stop_reason, stop_sequence=last.stop_sequence, usage=usage
    )
    if first.extra_fields:
        merged.__dict__["_extra_fields"] = first.extra_fields
    return merged
