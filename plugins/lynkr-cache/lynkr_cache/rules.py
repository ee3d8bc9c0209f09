"""Which model calls the cache may answer, and which answers it may keep.

A call is **not looked up and not stored** (``bypass_reason``) when:

- the client says so: ``cache-control: no-store`` or ``x-lynkr-cache: bypass``;
- it asks for variety: ``temperature`` set above 0, unless
  ``PROMPT_CACHE_NONDETERMINISTIC=true``. A request without ``temperature`` is cached:
  Claude Code (and most agent clients) never send one, and a user who put a prompt cache
  in front of them wants a repeated prompt to hit; a client that wants fresh samples says
  so with a temperature;
- an earlier step of the same request ran one of lynkr's tools that may have changed the
  workspace: the next answer depends on files the conversation describes only in part (a
  write's result says "wrote 13 bytes", not what the workspace now holds). A call counts
  as changing unless its declared effects change nothing (``ToolCallRecord.read_only``:
  opaque tools, such as MCP servers', count as changing); a call that was refused never
  ran and does not count; one that failed may have done part of its work and does.

A call is **not looked up but its fresh answer is stored** (``refresh_requested``) when
the client sends ``cache-control: no-cache`` (or ``pragma: no-cache``, or
``x-lynkr-cache: refresh``): as in HTTP, the client wants an answer not served from the
cache, and that answer replaces the stored one.

An answer is **not stored** (``unstorable_reason``) unless it ended normally
(``end_turn``, ``tool_use``, ``stop_sequence``: not ``max_tokens``,
``model_context_window_exceeded``, ``refusal`` or ``pause_turn``), a stream ended with
``message_stop`` and no ``error`` event and every tool input in it parsed, and the
provider and model that routing picks first answered it (not a fallback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lynkr_core import MessageAccumulator, Step, anthropic

#: Stop reasons of an answer worth replaying.
STORABLE_STOPS = frozenset({"end_turn", "tool_use", "stop_sequence"})


def bypass_reason(
    request: anthropic.MessagesRequest,
    headers: Mapping[str, str],
    earlier_steps: Sequence[Step],
    *,
    nondeterministic: bool,
) -> str | None:
    """Why the cache must leave this call alone (``None``: it may answer it)."""
    own = headers.get("x-lynkr-cache", "").strip().lower()
    if own == "bypass":
        return "x-lynkr-cache: bypass"
    if "no-store" in _directives(headers.get("cache-control", "")):
        return "cache-control: no-store"
    temperature = request.temperature
    if not nondeterministic and isinstance(temperature, float) and temperature > 0:
        return f"temperature {temperature:g}"
    changed = workspace_changed_by(earlier_steps)
    if changed is not None:
        return f"after tool {changed}, which may have changed the workspace"
    return None


def refresh_requested(headers: Mapping[str, str]) -> bool:
    """Whether the client wants a fresh answer (which is then stored)."""
    return (
        "no-cache" in _directives(headers.get("cache-control", ""))
        or "no-cache" in _directives(headers.get("pragma", ""))
        or headers.get("x-lynkr-cache", "").strip().lower() == "refresh"
    )


def workspace_changed_by(steps: Sequence[Step]) -> str | None:
    """The first of lynkr's tool calls in ``steps`` that ran and is not known read-only."""
    for step in steps:
        for call in step.tool_calls:
            if not call.refused and not call.read_only:
                return call.name
    return None


def unstorable_reason(
    message: anthropic.MessageResponse | None, step: Step | None, route: tuple[str, str]
) -> str | None:
    """Why ``message``, the answer to the call recorded as ``step``, must not be kept."""
    if message is None:
        return "no complete answer"
    if message.stop_reason not in STORABLE_STOPS:
        return f"stop_reason {message.stop_reason}"
    if step is None or not step.attempts:
        return "not answered by a provider"
    last = step.attempts[-1]
    if (last.provider, last.model) != route:
        return f"answered by fallback {last.provider}"
    return None


def stream_problem(accumulator: MessageAccumulator) -> str | None:
    """What makes a watched stream unfit to replay (``None``: it is complete)."""
    if accumulator.error is not None:
        return f"stream error {accumulator.error.error.type}"
    if not accumulator.stopped:
        return "stream ended without message_stop"
    if accumulator.malformed_inputs:
        return "a tool input did not parse"
    return None


def _directives(value: str) -> set[str]:
    """``Cache-Control`` directive names, lower-cased (``no-cache="x"`` counts as ``no-cache``)."""
    return {part.split("=", 1)[0].strip().lower() for part in value.split(",") if part.strip()}
