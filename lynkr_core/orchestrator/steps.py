"""The pieces of one step of the agent loop that both the JSON and the streaming loop use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from msgspec import Raw

from lynkr_core.orchestrator.runner import PendingCall
from lynkr_core.tools import ToolResult
from lynkr_core.wire.anthropic import Message, MessageResponse, raw

_decode = msgspec.json.decode


def is_ours(block: dict[str, Any], ours: frozenset[str]) -> bool:
    """Whether a decoded content block is a call of one of lynkr's tools."""
    return block.get("type") == "tool_use" and block.get("name") in ours


def pending_calls(blocks: Iterable[dict[str, Any]], ours: frozenset[str]) -> list[PendingCall]:
    """The calls of lynkr's tools among ``blocks``, in order."""
    return [
        PendingCall(id=block.get("id", ""), name=block["name"], input=block.get("input", {}))
        for block in blocks
        if is_ours(block, ours)
    ]


def runs_tools(calls: list[PendingCall], stop_reason: str | None, client_calls: int, log: Any) -> bool:
    """Whether the loop runs ``calls`` and goes on: the step stopped for tools
    (``tool_use``) and called none of the client's. Calls left unrun are logged."""
    if calls and stop_reason == "tool_use" and not client_calls:
        return True
    if calls:
        log.info("tool_calls_not_run", tools=[c.name for c in calls],
                 reason="client tool calls in the same step" if client_calls
                 else f"stop_reason {stop_reason}")
    return False


def results_message(calls: list[PendingCall], results: list[ToolResult]) -> Message:
    """The user turn that answers ``calls`` with their ``results``."""
    content = []
    for call, result in zip(calls, results, strict=True):
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": call.id,
            "content": result.blocks or result.text or "(no output)",
        }
        if result.is_error:
            block["is_error"] = True
        content.append(raw(block))
    return Message(role="user", content=content)


def assistant_message(content: list[Raw]) -> Message:
    """The assistant turn of a step, as the model gave it (thinking signatures kept)."""
    return Message(role="assistant", content=list(content))


def step_limit_note(limit: int) -> str:
    """What the client reads when lynkr stopped running tools at the step limit."""
    return (
        f"\n\n[lynkr stopped after {limit} tool steps (POLICY_MAX_STEPS={limit}); "
        "ask again to continue.]"
    )


def decode_blocks(response: MessageResponse) -> list[dict[str, Any]]:
    """A response's content blocks as plain dicts."""
    return [_decode(block) for block in response.content]
