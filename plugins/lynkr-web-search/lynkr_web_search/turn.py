"""One client model call answered with searches in between: the blocks the client gets,
the searches run, the usage added up, and the request for the model's next step.

The model calls the stand-in function; each call becomes a ``server_tool_use`` block
(a ``srvtoolu_`` id of its own) followed, once the search ran, by its
``web_search_tool_result``. ``max_uses`` counts every search asked for: one past it gets
the ``max_uses_exceeded`` error result, as Anthropic gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
import structlog

from lynkr_core import anthropic
from lynkr_web_search.backends import SearchBackend, SearchFailed
from lynkr_web_search.blocks import error_block, new_server_tool_id, results_block
from lynkr_web_search.config import PLUGIN_NAME, WebSearchSettings
from lynkr_web_search.domains import admitted
from lynkr_web_search.rewrite import SearchTool, for_upstream

log = structlog.get_logger(PLUGIN_NAME)

#: The ``tool_choice`` of the steps after a forced search.
AUTO = anthropic.raw({"type": "auto"})
#: How many results to ask a backend for when domain filters will drop some.
FILTERED_COUNT = 20
#: Longest query passed to a backend (longer: ``query_too_long``).
MAX_QUERY_CHARS = 1000
#: Model calls beyond ``max_uses`` before the turn ends with ``pause_turn``: one to be told
#: that ``max_uses`` is reached, one to answer.
EXTRA_STEPS = 2


@dataclass(frozen=True, slots=True)
class SearchCall:
    """A search the model asked for: its ``srvtoolu_`` id and its input."""

    id: str
    input: Any


@dataclass(frozen=True, slots=True)
class Asked:
    """What one step of the model asks for: searches, and whether client tools too."""

    searches: list[SearchCall]
    client_calls: bool


class SearchTurn:
    """The state of one client model call while lynkr searches for it."""

    def __init__(self, request: anthropic.MessagesRequest, tool: SearchTool, config: WebSearchSettings,
                 backend: SearchBackend) -> None:
        self.request = request
        self.tool = tool
        self.config = config
        self.backend = backend
        self.max_uses = tool.max_uses or config.max_uses
        self.content: list[msgspec.Raw] = []
        self.usage = anthropic.Usage()
        self.uses = 0
        self.searches = 0
        self.steps = 0
        self.first: anthropic.MessageResponse | None = None
        self._ids: dict[tuple[int, str], str] = {}

    # ----------------------------------------------------------------- the model's steps

    def next_request(self) -> anthropic.MessagesRequest:
        """The request for the model's next step: the client's, with what was said and
        found so far, in the form the upstream takes."""
        if not self.content:
            return for_upstream(self.request, self.tool)
        messages = [*self.request.messages, anthropic.Message(role="assistant", content=list(self.content))]
        changes: dict[str, Any] = {"messages": messages}
        if isinstance(self.request.tool_choice_config(), anthropic.ToolChoiceAny | anthropic.ToolChoiceTool):
            changes["tool_choice"] = AUTO  # a forced call was made; forcing again would never end
        return for_upstream(self.request.replace(**changes), self.tool)

    def server_id(self, upstream_id: str) -> str:
        """The ``srvtoolu_`` id standing for the upstream's call ``upstream_id`` in the step
        under way (the same for the same call; local servers reuse ids across steps)."""
        return self._ids.setdefault((self.steps, upstream_id), new_server_tool_id())

    def is_search(self, block: Any) -> bool:
        """Whether a plain block is a call of the search function."""
        return (
            isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") == self.tool.name
        )

    def take(self, message: anthropic.MessageResponse) -> Asked:
        """Add one step's answer: its blocks (searches as ``server_tool_use``) and usage;
        what it asks for."""
        if self.first is None:
            self.first = message
        anthropic.add_usage(self.usage, message.usage)
        calls: list[SearchCall] = []
        client_calls = False
        for raw_block in message.content:
            block = msgspec.json.decode(raw_block)
            if self.is_search(block):
                call = SearchCall(self.server_id(str(block.get("id"))), block.get("input"))
                calls.append(call)
                block = {"type": "server_tool_use", "id": call.id, "name": self.tool.name,
                         "input": call.input}
                raw_block = anthropic.raw(block)
            elif isinstance(block, dict) and block.get("type") == "tool_use":
                client_calls = True
            self.content.append(raw_block)
        self.steps += 1
        return Asked(calls, client_calls)

    def out_of_steps(self) -> bool:
        """Whether the model has had all its steps (``max_uses`` and ``EXTRA_STEPS`` more)."""
        return self.steps >= self.max_uses + EXTRA_STEPS

    # ----------------------------------------------------------------- the searches

    async def run(self, calls: list[SearchCall], http: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """Run ``calls`` in order, each within ``max_uses``; their result blocks, also added
        to the content."""
        results = [await self._run_one(call, http) for call in calls]
        self.content.extend(anthropic.raw(block) for block in results)
        return results

    async def _run_one(self, call: SearchCall, http: aiohttp.ClientSession) -> dict[str, Any]:
        self.uses += 1
        if self.uses > self.max_uses:
            return error_block(call.id, "max_uses_exceeded")
        query = call.input.get("query") if isinstance(call.input, dict) else None
        if not isinstance(query, str) or not query.strip():
            return error_block(call.id, "invalid_input")
        if len(query) > MAX_QUERY_CHARS:
            return error_block(call.id, "query_too_long")
        filtered = bool(self.tool.allowed_domains or self.tool.blocked_domains)
        try:
            hits = await self.backend.search(
                http, query, count=max(self.config.max_results, FILTERED_COUNT if filtered else 0),
                allowed=self.tool.allowed_domains, blocked=self.tool.blocked_domains,
            )
        except SearchFailed as failure:
            log.warning("web_search_failed", backend=self.backend.name, code=failure.code,
                        reason=failure.reason)
            return error_block(call.id, failure.code)
        self.searches += 1
        admissible = [h for h in hits if admitted(h.url, self.tool.allowed_domains, self.tool.blocked_domains)]
        kept = admissible[: self.config.max_results]
        log.info("web_search", backend=self.backend.name, results=len(kept),
                 filtered=len(hits) - len(admissible))
        return results_block(call.id, kept)

    # ----------------------------------------------------------------- the answer

    def final_usage(self) -> anthropic.Usage:
        """Every step's tokens added up, with ``server_tool_use.web_search_requests``."""
        return msgspec.structs.replace(
            self.usage, server_tool_use=anthropic.raw({"web_search_requests": self.searches, "web_fetch_requests": 0})
        )

    def message(self, last: anthropic.MessageResponse, stop_reason: str | None) -> anthropic.MessageResponse:
        """The one message the client gets: every block, the last step's stop, the usage."""
        first = self.first or last
        return msgspec.structs.replace(
            last, id=first.id, content=list(self.content), stop_reason=stop_reason,
            usage=self.final_usage(),
        )
