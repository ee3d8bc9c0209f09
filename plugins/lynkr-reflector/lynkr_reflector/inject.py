"""Offering the playbook to the model: the few active hints that fit the task at hand,
as one text block after the client's system blocks.

Deterministic: the same hints and the same request give the same bytes, so the prompt
cache upstream keeps working. The client's blocks, and their ``cache_control`` marks,
are left as they came; the added block has no mark of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from lynkr_core import anthropic
from lynkr_reflector import transcript
from lynkr_reflector.playbook import Hint

HEADER = "Lessons from earlier sessions in this workspace (lynkr reflector; advice, not rules):"


def select(hints: Sequence[Hint], task_type: str, limit: int) -> list[Hint]:
    """At most ``limit`` hints for ``task_type`` (or for any task), strongest first, shown
    in the order they were learnt so that a change in weights does not reshuffle them."""
    fitting = [hint for hint in hints if hint.task_type in ("", task_type)]
    strongest = sorted(fitting, key=lambda h: (-h.weight, -h.supports, h.id))[:limit]
    return sorted(strongest, key=lambda h: h.id)


def render(hints: Sequence[Hint]) -> str:
    """The block's text."""
    return "\n".join([HEADER, *(f"- {hint.text}" for hint in hints)])


def inject(
    request: anthropic.MessagesRequest, hints: Sequence[Hint], limit: int
) -> anthropic.MessagesRequest | None:
    """``request`` with the hints for its task appended to the system prompt; ``None`` when
    none fit, or the request is not an agent's turn (no tools: a title or summary request)."""
    if not hints or request.tools is msgspec.UNSET or not request.tools or not request.messages:
        return None
    chosen = select(hints, transcript.current_task_type(request.messages), limit)
    if not chosen:
        return None
    block = anthropic.raw(anthropic.TextBlock(text=render(chosen)))
    if request.system is msgspec.UNSET or (isinstance(request.system, str) and not request.system.strip()):
        system = [block]
    elif isinstance(request.system, str):
        system = [anthropic.raw(anthropic.TextBlock(text=request.system)), block]
    else:
        system = [*request.system, block]
    return request.replace(system=system)
