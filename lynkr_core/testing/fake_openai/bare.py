"""The base of the dialects of servers without OpenAI's extras (Databricks, llama.cpp)."""

from __future__ import annotations

from typing import Any

from lynkr_core.testing.fake_openai.dialect import _Dialect
from lynkr_core.testing.fake_openai.turn import _Turn


class _Bare(_Dialect):
    """A server without OpenAI's extras: no logprobs, usage details, refusal or annotations,
    no null `usage` in stream chunks, a plain `text/event-stream` content type."""

    sse_content_type = "text/event-stream"
    null_usage_in_chunks = False

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """No logprobs key."""
        return {}

    def usage(self, turn: _Turn) -> dict[str, Any]:
        """Plain usage."""
        return turn.usage

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """No refusal/annotations."""
        return message
