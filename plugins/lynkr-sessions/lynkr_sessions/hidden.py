"""What a server-mode exchange hid from its client: the model calls that ran lynkr's tools.

In server mode the client gets one message for the whole agent loop, without lynkr's
``tool_use`` blocks and their results. ``hidden_turns_of`` keeps, per exchange, what
is needed to put them back on a later turn: every step that ran lynkr's tools (the
assistant turn as the model gave it, and the tool results it was answered with), and
where the client's copy of the answer will be in its next history (``position``, the
number of messages the client sent, and a ``fingerprint`` of the answer's content).

A ``HiddenTurns`` is encoded once (``encode``), masked like the rest of the row when
``SESSION_CONTENT=redacted``, and kept in that form both in memory and in the
database, so what is restored is byte for byte the same before and after a restart.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from msgspec import Raw

from lynkr_core import Exchange, Step, anthropic


class HiddenResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One tool result the model read, as lynkr answered the call."""

    tool_use_id: str
    content: str
    is_error: bool = False


class HiddenStep(msgspec.Struct, kw_only=True):
    """One model call that ran lynkr's tools: its whole answer, and the results it got."""

    content: list[Raw]
    results: list[HiddenResult]


class HiddenTurns(msgspec.Struct, kw_only=True):
    """The hidden steps of one exchange, and how to find the client's copy of its answer.

    ``position``: the index the answer takes in the client's next history;
    ``fingerprint``: ``fingerprint`` of the content the client got; ``blocks``: how
    many content blocks that was; ``drop_blocks``/``drop_texts``: how many of those
    blocks (and of its non-empty text blocks) the hidden steps produced, which the
    restored steps now carry.
    """

    position: int
    fingerprint: str
    blocks: int
    drop_blocks: int
    drop_texts: int
    steps: list[HiddenStep]


class _Head(msgspec.Struct):
    type: str = ""
    id: str = ""
    text: str = ""


_head = msgspec.json.Decoder(_Head)
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(HiddenTurns)

#: What a tool result with no text reads (as the agent loop sends it).
NO_OUTPUT = "(no output)"


def encode(turns: HiddenTurns) -> bytes:
    """``turns`` as JSON."""
    return _encoder.encode(turns)


def decode(text: str | bytes) -> HiddenTurns:
    """JSON from ``encode`` back as ``HiddenTurns`` (content blocks byte for byte)."""
    return _decoder.decode(text)


def _heads(content: str | list[Raw]) -> list[_Head]:
    if isinstance(content, str):
        return [_Head(type="text", text=content)]
    return [_head.decode(block) for block in content]


def _visible_text(head: _Head) -> bool:
    return head.type == "text" and bool(head.text.strip())


def is_visible_text(block: Raw) -> bool:
    """Whether a content block is a text block with more than whitespace."""
    return _visible_text(_head.decode(block))


def fingerprint(content: str | list[Raw]) -> str:
    """A digest of an assistant message's text and ``tool_use`` blocks: what a client keeps
    of an answer when it sends it back (thinking, ``cache_control``, whitespace around
    text and empty text blocks do not count)."""
    marks: list[Any] = []
    for head in _heads(content):
        if _visible_text(head):
            marks.append(["text", head.text.strip()])
        elif head.type == "tool_use":
            marks.append(["tool_use", head.id])
    return hashlib.sha256(_encoder.encode(marks)).hexdigest()[:32]


def hidden_turns_of(exchange: Exchange) -> HiddenTurns | None:
    """The hidden steps of a finished exchange, or ``None`` when it has none to restore (no
    tool of lynkr's ran, it failed or the client left, or a step's answer is missing)."""
    steps = [step for step in exchange.steps if step.tool_calls]
    if not steps or exchange.status != 200 or exchange.client_request is None:
        return None
    answer = exchange.response
    if answer is None:
        return None
    hidden: list[HiddenStep] = []
    drop_blocks = drop_texts = 0
    for step in steps:
        kept = _hidden_step(step)
        if kept is None:
            return None
        visible = [head for head in _heads(kept.content) if not _is_ours(head, step)]
        drop_blocks += len(visible)
        drop_texts += sum(_visible_text(head) for head in visible)
        hidden.append(kept)
    if drop_blocks >= len(answer.content):  # nothing of the last step's answer: nothing to keep
        return None
    return HiddenTurns(
        position=len(exchange.client_request.messages), fingerprint=fingerprint(answer.content),
        blocks=len(answer.content), drop_blocks=drop_blocks, drop_texts=drop_texts, steps=hidden,
    )


def _hidden_step(step: Step) -> HiddenStep | None:
    response = step.response
    if response is None:
        return None
    results = [HiddenResult(tool_use_id=call.id, content=call.result or NO_OUTPUT, is_error=call.is_error)
               for call in step.tool_calls]
    return HiddenStep(content=list(response.content), results=results)


def _is_ours(head: _Head, step: Step) -> bool:
    return head.type == "tool_use" and any(call.id == head.id for call in step.tool_calls)


def result_block(result: HiddenResult, content: str | None = None) -> Raw:
    """The ``tool_result`` block the agent loop sent for ``result`` (``content`` instead of
    its text when given), encoded as the loop encodes it."""
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": result.tool_use_id,
                             "content": result.content if content is None else content}
    if result.is_error:
        block["is_error"] = True
    return anthropic.raw(block)
