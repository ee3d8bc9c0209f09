"""A stored answer, as the client gets it on a hit.

The content, model and stop are the stored answer's. The ``id`` is new: ids are unique per
answer, and clients key their transcripts by it. The ``usage`` is what the client is billed
upstream for this call, nothing: zero input and output tokens and no
``cache_read_input_tokens`` (which would claim an Anthropic prompt-cache read that never
happened). The tokens the hit saved, the stored usage, go to the cache's own statistics
(``lynkr cache stats``). Claude Code's cost line therefore shows a hit as free, which it is.

A stream is ``message_frames`` of that message with a ``ping`` after ``message_start``,
as Anthropic sends it; text comes in one delta per block, sent in two chunks.
"""

from __future__ import annotations

import secrets

import msgspec

from lynkr_core import anthropic, events, message_frames

PING = events.event_frame(events.Ping())


def hit_message(stored: anthropic.MessageResponse) -> anthropic.MessageResponse:
    """``stored`` with a new id and nothing billed (fields lynkr has no type for kept)."""
    message = msgspec.structs.replace(
        stored, id=f"msg_{secrets.token_hex(12)}", content=list(stored.content), usage=anthropic.Usage()
    )
    if stored.extra_fields:
        message.__dict__["_extra_fields"] = stored.extra_fields
    return message


def hit_chunks(message: anthropic.MessageResponse) -> list[bytes]:
    """The SSE bytes of ``message``: ``message_start`` and a ``ping``, then the rest."""
    frames = message_frames(message)
    return [frames[0] + PING, b"".join(frames[1:])]


def saved_tokens(stored: anthropic.MessageResponse) -> tuple[int, int]:
    """The input tokens (every kind) and output tokens the stored answer cost."""
    usage = stored.usage
    cached = sum(
        value
        for value in (usage.cache_creation_input_tokens, usage.cache_read_input_tokens)
        if isinstance(value, int)
    )
    return usage.input_tokens + cached, usage.output_tokens


def encode(message: anthropic.MessageResponse) -> bytes:
    """``message`` as stored (its unknown fields kept)."""
    return anthropic.encode(message)


def decode(value: bytes) -> anthropic.MessageResponse:
    """A stored message (``msgspec.MsgspecError`` when it does not decode)."""
    return anthropic.decode_response(value)
