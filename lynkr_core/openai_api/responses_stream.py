"""A Messages event stream as the Responses API's events, and the response they add up to.

``ResponseBuilder`` takes the core's events one by one and returns the
Responses events to send (``response.created``, ``response.output_item.added``,
``response.output_text.delta``, ``response.function_call_arguments.delta``,
``response.reasoning_summary_text.delta``, ..., ``response.completed``), each
with its ``sequence_number``; ``response()`` is the response object so far.
A complete (non-streaming) answer is built by feeding it the events of the
whole message (``lynkr_core.streams.message_events``), so both add up to the
same response.

Thinking becomes a ``reasoning`` item: its text as the summary, its signature
as ``encrypted_content`` (sent back as input, it becomes thinking again).
"""

from __future__ import annotations

from typing import Any

import msgspec

from lynkr_core.openai_api.outcome import cache_write_tokens, input_tokens, new_id, now
from lynkr_core.wire.anthropic import Usage
from lynkr_core.wire.events import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    ErrorEvent,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)

Event = dict[str, Any]
_INCOMPLETE = {"max_tokens": "max_output_tokens", "model_context_window_exceeded": "max_output_tokens",
               "refusal": "content_filter"}


class ResponseBuilder:
    """One response's translation. ``echo`` holds the request fields the response object
    repeats (``instructions``, ``tools``, ``previous_response_id``, ``store``...);
    ``namespaces`` the tool group of functions offered inside one (their calls name it)."""

    def __init__(self, response_id: str, model: str, echo: dict[str, Any],
                 namespaces: dict[str, str] | None = None) -> None:
        self.id = response_id
        #: The namespace of each function offered inside a tool group, by function name.
        self.namespaces = namespaces or {}
        self.model = model
        self.created_at = now()
        self.echo = echo
        self.status = "in_progress"
        self.output: list[dict[str, Any]] = []
        self.usage = Usage()
        self.error: dict[str, Any] | None = None
        self.incomplete: str | None = None
        self._sequence = 0
        self._items: dict[int, int] = {}  # block index -> output index
        self._started = False
        #: Whether the response has ended (completed, incomplete or failed).
        self.finished = False

    # ------------------------------------------------------------------ the object

    def response(self) -> dict[str, Any]:
        """The response object as it stands."""
        prompt, cached = input_tokens(self.usage)
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": self.status,
            "model": self.model,
            "output": self.output,
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {
                    "cached_tokens": cached,
                    "cache_write_tokens": cache_write_tokens(self.usage),
                },
                "output_tokens": self.usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + self.usage.output_tokens,
            },
            "error": self.error,
            "incomplete_details": {"reason": self.incomplete} if self.incomplete else None,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "text": {"format": {"type": "text"}},
            "truncation": "disabled",
            "metadata": {},
            **self.echo,
        }

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    # ------------------------------------------------------------------ events

    def feed(self, event: StreamEvent) -> list[Event]:
        """The Responses events for ``event`` (often none)."""
        if isinstance(event, MessageStart):
            return self._start(event)
        if isinstance(event, ContentBlockStart):
            return self._block_start(event)
        if isinstance(event, ContentBlockDelta):
            return self._delta(event)
        if isinstance(event, ContentBlockStop):
            return self._block_stop(event.index)
        if isinstance(event, MessageDelta):
            self._message_delta(event)
            return []
        if isinstance(event, MessageStop):
            return self._complete()
        if isinstance(event, ErrorEvent):
            return self.fail(event.error.type, event.error.message)
        return []

    def fail(self, code: str, message: str) -> list[Event]:
        """End the response as failed: an ``error`` event, then ``response.failed``."""
        if self.finished:
            return []
        self.finished = True
        self.status = "failed"
        self.error = {"code": code, "message": message}
        return [
            self._event("error", code=code, message=message, param=None),
            self._event("response.failed", response=self.response()),
        ]

    def _start(self, event: MessageStart) -> list[Event]:
        if self._started:
            return []
        self._started = True
        usage = event.message.usage
        self.usage.input_tokens = usage.input_tokens
        self.usage.cache_read_input_tokens = usage.cache_read_input_tokens
        self.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens
        return [
            self._event("response.created", response=self.response()),
            self._event("response.in_progress", response=self.response()),
        ]

    def _block_start(self, event: ContentBlockStart) -> list[Event]:
        block = msgspec.json.decode(event.content_block)
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            item: dict[str, Any] = {"type": "message", "id": new_id("msg_"), "status": "in_progress",
                                    "role": "assistant", "content": []}
        elif kind == "thinking":
            item = {"type": "reasoning", "id": new_id("rs_"), "summary": [], "status": "in_progress"}
        elif kind == "tool_use":
            item = {"type": "function_call", "id": new_id("fc_"), "call_id": block.get("id") or new_id("call_"),
                    "name": block.get("name", ""), "arguments": "", "status": "in_progress"}
            if item["name"] in self.namespaces:
                item["namespace"] = self.namespaces[item["name"]]
        else:
            return []
        index = self._items[event.index] = len(self.output)
        self.output.append(item)
        events = [self._event("response.output_item.added", output_index=index, item=_copy(item))]
        if kind == "text":
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            item["content"].append(part)
            events.append(self._event("response.content_part.added", item_id=item["id"], output_index=index,
                                      content_index=0, part=_copy(part)))
        elif kind == "thinking":
            part = {"type": "summary_text", "text": ""}
            item["summary"].append(part)
            events.append(self._event("response.reasoning_summary_part.added", item_id=item["id"],
                                      output_index=index, summary_index=0, part=_copy(part)))
        return events

    def _delta(self, event: ContentBlockDelta) -> list[Event]:
        index = self._items.get(event.index)
        if index is None:
            return []
        item, delta = self.output[index], event.delta
        if isinstance(delta, TextDelta) and item["type"] == "message":
            item["content"][0]["text"] += delta.text
            return [self._event("response.output_text.delta", item_id=item["id"], output_index=index,
                                content_index=0, delta=delta.text, logprobs=[])]
        if isinstance(delta, ThinkingDelta) and item["type"] == "reasoning":
            item["summary"][0]["text"] += delta.thinking
            return [self._event("response.reasoning_summary_text.delta", item_id=item["id"], output_index=index,
                                summary_index=0, delta=delta.thinking)]
        if isinstance(delta, SignatureDelta) and item["type"] == "reasoning":
            item["encrypted_content"] = delta.signature
            return []
        if isinstance(delta, InputJsonDelta) and item["type"] == "function_call":
            item["arguments"] += delta.partial_json
            return [self._event("response.function_call_arguments.delta", item_id=item["id"],
                                output_index=index, delta=delta.partial_json)]
        return []

    def _block_stop(self, block_index: int) -> list[Event]:
        index = self._items.pop(block_index, None)
        if index is None:
            return []
        item = self.output[index]
        item["status"] = "completed"
        events = []
        if item["type"] == "message":
            part = item["content"][0]
            events.append(self._event("response.output_text.done", item_id=item["id"], output_index=index,
                                      content_index=0, text=part["text"], logprobs=[]))
            events.append(self._event("response.content_part.done", item_id=item["id"], output_index=index,
                                      content_index=0, part=_copy(part)))
        elif item["type"] == "reasoning":
            part = item["summary"][0]
            events.append(self._event("response.reasoning_summary_text.done", item_id=item["id"],
                                      output_index=index, summary_index=0, text=part["text"]))
            events.append(self._event("response.reasoning_summary_part.done", item_id=item["id"],
                                      output_index=index, summary_index=0, part=_copy(part)))
        else:
            if not item["arguments"].strip():
                item["arguments"] = "{}"
            events.append(self._event("response.function_call_arguments.done", item_id=item["id"],
                                      output_index=index, name=item["name"], arguments=item["arguments"]))
        events.append(self._event("response.output_item.done", output_index=index, item=_copy(item)))
        return events

    def _message_delta(self, event: MessageDelta) -> None:
        self.usage.output_tokens = event.usage.output_tokens
        for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            value = getattr(event.usage, name)
            if isinstance(value, int):
                setattr(self.usage, name, value)
        self.incomplete = _INCOMPLETE.get(event.delta.stop_reason or "")

    def _complete(self) -> list[Event]:
        if self.finished:
            return []
        events = [e for index in list(self._items) for e in self._block_stop(index)]
        self.finished = True
        if self.incomplete:
            self.status = "incomplete"
            return [*events, self._event("response.incomplete", response=self.response())]
        self.status = "completed"
        return [*events, self._event("response.completed", response=self.response())]


def sse_frame(event: Event) -> bytes:
    """One Responses event as an SSE frame named by its type."""
    return b"event: " + event["type"].encode() + b"\ndata: " + _encoder.encode(event) + b"\n\n"


_encoder = msgspec.json.Encoder()


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of an item or part (the builder keeps filling the original)."""
    return msgspec.json.decode(msgspec.json.encode(value))
