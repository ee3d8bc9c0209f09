"""Prompt caching toward OpenAI-format upstreams.

A provider's prompt cache serves a request's longest prefix it has seen, so what
lynkr sends must start with the same bytes on every turn of a conversation and
in every run of the same task:

- Claude Code's first system block, ``x-anthropic-billing-header: cc_version=...;``,
  changes with every run: it is removed from system prompts translated for a
  non-Anthropic upstream (``without_billing_header``);
- upstreams that cache only where they are told (OpenRouter's ``anthropic/*`` and
  Gemini models) get the client's ``cache_control`` breakpoints on the matching
  content parts (``takes_breakpoints``, ``cache_control``, ``cap_breakpoints``);
- OpenAI routes requests to the server that holds a prefix by ``prompt_cache_key``:
  the session's key is a digest of lynkr's session id (``prompt_cache_key``), never
  the id itself.
"""

from __future__ import annotations

import fnmatch
import hashlib

from msgspec import UNSET

from lynkr_core.translate.options import TargetOptions
from lynkr_core.wire import anthropic, openai

__all__ = [
    "BILLING_HEADER",
    "MAX_BREAKPOINTS",
    "cache_control",
    "cap_breakpoints",
    "prompt_cache_key",
    "system_parts",
    "takes_breakpoints",
    "without_billing_header",
]

#: How Claude Code's per-run attribution line starts.
BILLING_HEADER = "x-anthropic-billing-header:"
#: Anthropic takes at most this many ``cache_control`` breakpoints in a request.
MAX_BREAKPOINTS = 4
#: Domain separation for the session digest: a key says nothing reusable about the id.
_KEY_PREFIX = b"lynkr prompt cache key\x00"


def without_billing_header(text: str) -> str:
    """``text`` without a leading ``x-anthropic-billing-header: ...`` line (``""`` when
    that line is all of it); any other text unchanged."""
    if not text.startswith(BILLING_HEADER):
        return text
    _, _, rest = text.partition("\n")
    return rest


def system_parts(request: anthropic.MessagesRequest, target: TargetOptions) -> list[openai.TextPart]:
    """The system prompt's text blocks as parts, without Claude Code's billing line, with
    their breakpoints when ``target`` takes them (joined by blank lines otherwise, as
    ``MessagesRequest.system_text`` joins them)."""
    if request.system is UNSET:
        return []
    if isinstance(request.system, str):
        text = without_billing_header(request.system)
        return [openai.TextPart(text=text)] if text else []
    breakpoints = takes_breakpoints(target)
    parts = []
    for raw in request.system:
        block = anthropic.decode_block(raw)
        if not isinstance(block, anthropic.TextBlock):
            continue
        text = without_billing_header(block.text)
        if not text and block.text:
            continue  # the billing line was all of it
        marker = cache_control(block) if breakpoints and text else None  # never on empty text
        parts.append(openai.TextPart(text=text, cache_control=marker or UNSET))
    return parts if any(part.text for part in parts) else []


def prompt_cache_key(session_id: str) -> str:
    """The ``prompt_cache_key`` for a session: ``lynkr-`` and 32 hex digits of SHA-256
    (stable across turns and restarts, different per session, 38 characters: under
    OpenAI's 64)."""
    return "lynkr-" + hashlib.sha256(_KEY_PREFIX + session_id.encode()).hexdigest()[:32]


def takes_breakpoints(target: TargetOptions) -> bool:
    """Whether ``target``'s model takes ``cache_control`` breakpoints on content parts
    (its name matches one of ``target.cache_control_models``, case-insensitive globs)."""
    if not target.cache_control_models:
        return False
    model = target.model.lower()
    return any(fnmatch.fnmatchcase(model, pattern.lower()) for pattern in target.cache_control_models)


def cache_control(block: object) -> openai.CacheControl | None:
    """A content block's ``cache_control`` as a part's breakpoint (its ``ttl`` kept);
    ``None`` for a block without one."""
    marker = getattr(block, "cache_control", None)
    if isinstance(block, dict):
        marker = block.get("cache_control")
        if isinstance(marker, dict) and isinstance(marker.get("type"), str):
            ttl = marker.get("ttl")
            return openai.CacheControl(type=marker["type"], ttl=ttl if isinstance(ttl, str) else UNSET)
        return None
    if not isinstance(marker, anthropic.CacheControl):
        return None
    return openai.CacheControl(type=marker.type, ttl=marker.ttl)


def cap_breakpoints(messages: list[openai.ChatMessage]) -> int:
    """Leave at most ``MAX_BREAKPOINTS`` breakpoints in ``messages``: the first three and
    the last (a stable prefix such as the system prompt, and the end of the conversation,
    which moves on each turn). Returns how many were removed."""
    marked = [
        part
        for message in messages
        if isinstance(message.content, list)
        for part in message.content
        if isinstance(part, openai.TextPart) and part.cache_control is not UNSET
    ]
    extra = marked[MAX_BREAKPOINTS - 1 : -1]
    for part in extra:
        part.cache_control = UNSET
    return len(extra)
