"""The memory tools the model may call (server mode): ``memory_search``, ``memory_add``,
``memory_forget``, ``memory_stats``. They reach the memory through the request's state,
where its preparer put it."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_memory.config import PLUGIN_NAME
from lynkr_memory.memory import LongTermMemory

WRITES = ToolEffects(actions=frozenset({"memory.write"}))


def _memory(context: ToolContext) -> LongTermMemory:
    memory = context.request.state.get(PLUGIN_NAME)
    if not isinstance(memory, LongTermMemory):
        raise ToolError("long-term memory is not available for this request")
    return memory


class SearchInput(msgspec.Struct, kw_only=True):
    query: Annotated[str, msgspec.Meta(description="What to look for, in plain words", max_length=4000)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=20, description="How many memories at most")] = 5


class MemorySearch(Tool):
    name = "memory_search"
    description = ("Search long-term memory (what the user said in earlier conversations: preferences, "
                   "decisions, facts) for memories relevant to a query.")
    Input = SearchInput

    def effects(self, args: SearchInput) -> ToolEffects:
        return ToolEffects()

    async def run(self, args: SearchInput, context: ToolContext) -> str:
        found = await _memory(context).search(args.query, context.request.session_id, limit=args.limit)
        if not found:
            return "no memories match"
        return "\n".join(f"[{r.memory.id}] ({r.memory.type}) {r.memory.content}" for r in found)


class AddInput(msgspec.Struct, kw_only=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=1000,
                                         description="One self-contained sentence to remember")]
    type: Literal["preference", "decision", "fact", "relationship"] = "fact"
    scope: Annotated[Literal["global", "session"], msgspec.Meta(
        description="global: every later conversation; session: this conversation only")] = "global"


class MemoryAdd(Tool):
    name = "memory_add"
    description = ("Remember something durable the user told you (a preference, decision or fact) for later "
                   "conversations. A memory that contradicts an earlier one about the same subject replaces it.")
    Input = AddInput

    def effects(self, args: AddInput) -> ToolEffects:
        return WRITES

    async def run(self, args: AddInput, context: ToolContext) -> str:
        memory_id, superseded = await _memory(context).add(args.content, args.type, context.request.session_id,
                                                           args.scope)
        if memory_id is None:
            return "already remembered"
        replaced = f" (replaces {', '.join(str(i) for i in superseded)})" if superseded else ""
        return f"remembered as memory {memory_id}{replaced}"


class ForgetInput(msgspec.Struct, kw_only=True):
    id: Annotated[int, msgspec.Meta(ge=1, description="The memory's id, as memory_search shows it")]


class MemoryForget(Tool):
    name = "memory_forget"
    description = "Forget a memory for good, by its id (as memory_search shows it)."
    Input = ForgetInput

    def effects(self, args: ForgetInput) -> ToolEffects:
        return WRITES

    async def run(self, args: ForgetInput, context: ToolContext) -> str:
        if not await _memory(context).forget(args.id):
            raise ToolError(f"no memory {args.id}")
        return f"forgot memory {args.id}"


class StatsInput(msgspec.Struct, kw_only=True):
    pass


class MemoryStats(Tool):
    name = "memory_stats"
    description = "How many memories are stored, by type."
    Input = StatsInput

    def effects(self, args: StatsInput) -> ToolEffects:
        return ToolEffects()

    async def run(self, args: StatsInput, context: ToolContext) -> str:
        stats = await _memory(context).stats()
        return json.dumps({"active": stats.active, "superseded": stats.superseded, "by_type": stats.by_type})


ALL = (MemorySearch, MemoryAdd, MemoryForget, MemoryStats)
