"""The dialect-neutral wire pieces of a reply: SSE data frames, stream deltas, the
non-stream message and the usage object.
"""

from __future__ import annotations

from typing import Any

from lynkr_core.testing.fake_openai.replies import ChatReply
from lynkr_core.testing.scripted import dumps, pieces

DONE_FRAME = b"data: [DONE]\n\n"


def data_frame(payload: Any) -> bytes:
    """One SSE `data: {json}` frame, as OpenAI-format servers send it."""
    return f"data: {dumps(payload)}\n\n".encode()


def _tool_fragments(reply: ChatReply, ids: list[str]) -> list[dict[str, Any]]:
    """Stream fragments of every tool call, in order or round-robin (`interleave`)."""
    per_call: list[list[dict[str, Any]]] = []
    for index, (call, call_id) in enumerate(zip(reply.tool_calls, ids, strict=True)):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        rest = [
            {"index": index, "function": {"arguments": piece}}
            for piece in pieces(call.arguments(), reply.arguments_chunk_size)
        ]
        per_call.append([head, *rest])
    if not reply.interleave:
        return [fragment for fragments in per_call for fragment in fragments]
    rounds = max((len(fragments) for fragments in per_call), default=0)
    return [
        fragments[round_]
        for round_ in range(rounds)
        for fragments in per_call
        if round_ < len(fragments)
    ]


def _databricks_reasoning(text: str, signature: str | None) -> dict[str, Any]:
    """A Databricks `reasoning` content part."""
    summary: dict[str, Any] = {"type": "summary_text", "text": text}
    if signature is not None:
        summary["signature"] = signature
    return {"type": "reasoning", "summary": [summary]}


def stream_deltas(reply: ChatReply, reasoning_field: str, ids: list[str]) -> list[dict[str, Any]]:
    """The `delta` objects of a stream, before the finish chunk."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    reasoning = pieces(reply.reasoning, reply.chunk_size)
    for number, piece in enumerate(reasoning, start=1):
        if reply.databricks_reasoning:
            signature = reply.signature if number == len(reasoning) else None
            deltas.append({"content": [_databricks_reasoning(piece, signature)]})
        else:
            deltas.append({reasoning_field: piece})
    for piece in pieces(reply.content, reply.chunk_size):
        if reply.databricks_reasoning:
            deltas.append({"content": [{"type": "text", "text": piece}]})
        else:
            deltas.append({"content": piece})
    deltas.extend({"tool_calls": [fragment]} for fragment in _tool_fragments(reply, ids))
    return deltas


def completion_message(reply: ChatReply, reasoning_field: str, ids: list[str]) -> dict[str, Any]:
    """The assistant `message` of a non-stream completion (content None if only tool calls)."""
    content: Any = reply.content or None
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reply.databricks_reasoning:
        parts = [_databricks_reasoning(reply.reasoning, reply.signature)] if reply.reasoning else []
        if reply.content:
            parts.append({"type": "text", "text": reply.content})
        message["content"] = parts or None
    elif reply.reasoning:
        message[reasoning_field] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments()},
            }
            for call, call_id in zip(reply.tool_calls, ids, strict=True)
        ]
    return message


def usage_object(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    """OpenAI's `usage` object."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }
