"""Offering memories to the model: one text block, placed after everything the client
may have marked for its prompt cache.

``system``: appended to the system prompt, after the client's blocks (whose
``cache_control`` marks stay where they are). ``assistant_preamble``: appended to the
latest user turn, after its blocks: the system prompt and the whole conversation before it
stay byte-identical to what the client sent. Either way the block has no mark of its own,
and the same memories give the same bytes (shown in the order they were learnt).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import msgspec

from lynkr_core import anthropic
from lynkr_memory.store import Memory

HEADER = "Memories from earlier conversations with this user (lynkr memory; use them where they apply):"


def render(memories: Sequence[Memory], style: str = "compact") -> str:
    """The block's text: a header and one line per memory, oldest first."""
    lines = [HEADER]
    for memory in sorted(memories, key=lambda m: m.id):
        if style == "detailed":
            day = datetime.datetime.fromtimestamp(memory.created_at, datetime.UTC).date().isoformat()
            lines.append(f"- [{memory.type}, {day}, importance {memory.importance:.1f}] {memory.content}")
        else:
            lines.append(f"- [{memory.type}] {memory.content}")
    return "\n".join(lines)


def inject(request: anthropic.MessagesRequest, text: str, where: str) -> anthropic.MessagesRequest:
    """``request`` with ``text`` added as one block, in the system prompt or the latest user turn."""
    block = anthropic.raw(anthropic.TextBlock(text=text))
    if where == "assistant_preamble" and request.messages and request.messages[-1].role == "user":
        last = request.messages[-1]
        content = last.content
        blocks = [anthropic.raw(anthropic.TextBlock(text=content))] if isinstance(content, str) else list(content)
        messages = [*request.messages[:-1], msgspec.structs.replace(last, content=[*blocks, block])]
        return request.replace(messages=messages)
    if request.system is msgspec.UNSET or (isinstance(request.system, str) and not request.system.strip()):
        system = [block]
    elif isinstance(request.system, str):
        system = [anthropic.raw(anthropic.TextBlock(text=request.system)), block]
    else:
        system = [*request.system, block]
    return request.replace(system=system)
