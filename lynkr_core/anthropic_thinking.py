"""Thinking blocks an Anthropic-format upstream would refuse, taken out before sending.

Anthropic checks the ``signature`` of every thinking block in the history and
answers 400 (``messages.1.content.0: Invalid `signature` in `thinking` block``)
for one it did not make. After a failover from an OpenAI-format provider, the
history holds thinking blocks lynkr signed (``translate.thinking``), or with no
signature at all: those are removed. Blocks with any other signature are
Anthropic's own as far as lynkr can tell, and stay, as does redacted thinking.

With thinking on, Anthropic also refuses a tool loop whose last assistant turn
does not start with thinking; when a removal leaves it so, the request goes
without ``thinking`` (Anthropic's own advice: "to avoid this requirement,
disable thinking").
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET

from lynkr_core.translate.thinking import SIGNATURE_PREFIX, is_lynkr_signature
from lynkr_core.wire import anthropic

__all__ = ["without_foreign_thinking"]

_THINKING_TYPES = ("thinking", "redacted_thinking")
_TYPE_FIRST = b'{"type":"'
_THINKING_FIRST = b'{"type":"thinking"'
_PREFIX = SIGNATURE_PREFIX.encode()


def without_foreign_thinking(request: anthropic.MessagesRequest) -> anthropic.MessagesRequest:
    """``request`` without the thinking blocks an Anthropic upstream cannot verify (signed
    by lynkr, or unsigned), and without ``thinking`` when that leaves a tool loop's last
    assistant turn without its thinking. The same object when there is nothing to remove."""
    messages: list[anthropic.Message] = []
    removed = False
    for message in request.messages:
        if message.role != "assistant" or isinstance(message.content, str):
            messages.append(message)
            continue
        kept = [raw for raw in message.content if not _unverifiable(raw)]
        if len(kept) == len(message.content):
            messages.append(message)
            continue
        removed = True
        if kept:  # an assistant turn left empty goes: Anthropic joins the user turns around it
            messages.append(anthropic.Message(role=message.role, content=kept))
    if not removed:
        return request
    changed = request.replace(messages=messages)
    if request.thinking is not UNSET and _tool_loop_without_thinking(messages):
        changed = changed.replace(thinking=UNSET)
    return changed


def _unverifiable(raw: msgspec.Raw) -> bool:
    """Whether a raw block is a thinking block with lynkr's signature or none.

    Most blocks are told apart by their bytes alone (a long history has hundreds:
    decoding each would cost milliseconds): only a thinking block that may carry
    lynkr's signature, an empty one or none is decoded.
    """
    view = memoryview(raw)
    head = view[:20].tobytes()
    if head.startswith(_TYPE_FIRST):  # as clients write blocks: the type first
        if not head.startswith(_THINKING_FIRST):
            return False
        data = view.tobytes()
    else:
        data = view.tobytes()
        if b'"thinking"' not in data:
            return False
    if b'"signature"' in data and _PREFIX not in data and b'""' not in data:
        return False
    try:
        if anthropic.block_type(raw) != "thinking":
            return False
        block = anthropic.decode_block(raw)
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return False  # not ours to judge: it goes as it came
    if not isinstance(block, anthropic.ThinkingBlock):
        return False
    return not block.signature or is_lynkr_signature(block.signature)


def _tool_loop_without_thinking(messages: list[anthropic.Message]) -> bool:
    """Whether the conversation ends in tool results answering an assistant turn that
    does not start with a thinking block."""
    if not messages or messages[-1].role != "user" or isinstance(messages[-1].content, str):
        return False
    if not any(_type(raw) == "tool_result" for raw in messages[-1].content):
        return False
    last = next((m for m in reversed(messages) if m.role == "assistant"), None)
    if last is None or isinstance(last.content, str) or not last.content:
        return last is not None
    return _type(last.content[0]) not in _THINKING_TYPES


def _type(raw: msgspec.Raw) -> str:
    try:
        return anthropic.block_type(raw)
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return ""
