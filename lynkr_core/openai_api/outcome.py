"""What an Anthropic answer says, in OpenAI's terms: finish reason, usage, ids."""

from __future__ import annotations

import secrets
import time

import msgspec

from lynkr_core.wire.anthropic import Usage

#: Chat Completions' ``finish_reason`` for each Messages API ``stop_reason``.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str | None) -> str:
    """The ``finish_reason`` of a message that stopped for ``stop_reason``."""
    return FINISH_REASONS.get(stop_reason or "end_turn", "stop")


def new_id(prefix: str) -> str:
    """A fresh id: ``prefix`` and 24 random hex digits (``chatcmpl-``, ``call_``...)."""
    return prefix + secrets.token_hex(12)


def now() -> int:
    """Seconds since the epoch, as OpenAI's ``created``."""
    return int(time.time())


class PromptDetails(msgspec.Struct, kw_only=True):
    """Prompt tokens read from the provider's cache, and written to it (Anthropic's
    ``cache_creation_input_tokens``, OpenAI's ``cache_write_tokens``)."""

    cached_tokens: int = 0
    cache_write_tokens: int = 0


class CompletionDetails(msgspec.Struct, kw_only=True):
    """Output tokens spent on reasoning (not known from an Anthropic answer: 0)."""

    reasoning_tokens: int = 0


class ChatUsage(msgspec.Struct, kw_only=True):
    """Chat Completions' ``usage``."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptDetails
    completion_tokens_details: CompletionDetails


def input_tokens(usage: Usage) -> tuple[int, int]:
    """All input tokens of ``usage`` (fresh, cache read and cache written), and those read
    from the cache."""
    cached = usage.cache_read_input_tokens if isinstance(usage.cache_read_input_tokens, int) else 0
    return usage.input_tokens + cached + cache_write_tokens(usage), cached


def cache_write_tokens(usage: Usage) -> int:
    """The input tokens of ``usage`` written to the provider's cache."""
    written = usage.cache_creation_input_tokens
    return written if isinstance(written, int) else 0


def chat_usage(usage: Usage) -> ChatUsage:
    """``usage`` as Chat Completions reports it."""
    prompt, cached = input_tokens(usage)
    return ChatUsage(
        prompt_tokens=prompt,
        completion_tokens=usage.output_tokens,
        total_tokens=prompt + usage.output_tokens,
        prompt_tokens_details=PromptDetails(
            cached_tokens=cached, cache_write_tokens=cache_write_tokens(usage)
        ),
        completion_tokens_details=CompletionDetails(),
    )
