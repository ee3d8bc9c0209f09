"""The script items `FakeOpenAI` answers chat calls with: `ChatReply` (with its
`ToolCallSpec`s), `ErrorReply` and `CutStream`.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from lynkr_core.testing.scripted import dumps


@dataclass
class ToolCallSpec:
    """One function call of a scripted reply; `arguments_json` is a JSON string (or a dict)."""

    name: str
    arguments_json: str | dict[str, Any] = "{}"
    id: str | None = None

    def arguments(self) -> str:
        """The arguments as the JSON string the wire carries."""
        if isinstance(self.arguments_json, str):
            return self.arguments_json
        return dumps(self.arguments_json)


@dataclass
class ChatReply:
    """One scripted assistant turn, answered as a JSON completion or an SSE stream.

    Streams carry `reasoning`, then `content`, then tool call fragments, in pieces of
    `chunk_size` / `arguments_chunk_size` characters (whole when None). `usage` is
    `(prompt, completion[, cached])`; without it the counts are rough estimates.
    `include_usage_chunk=None` sends the choices-less usage chunk iff the request asked
    for it (`stream_options.include_usage`; OpenRouter's `usage.include` too).
    `databricks_reasoning` gives reasoning as Databricks' list content; `content_filter`
    ends with finish_reason "content_filter" (Azure marks the choice filtered);
    `reasoning_field` overrides the dialect's delta key for reasoning.
    """

    content: str = ""
    _: KW_ONLY
    reasoning: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    finish_reason: str | None = None
    usage: tuple[int, ...] | None = None
    chunk_size: int | None = None
    arguments_chunk_size: int | None = None
    interleave: bool = False
    delay: float = 0.0
    first_byte_delay: float = 0.0
    include_usage_chunk: bool | None = None
    omit_finish: bool = False
    omit_done: bool = False
    model: str | None = None
    databricks_reasoning: bool = False
    signature: str = "fake-signature"
    content_filter: bool = False
    reasoning_field: str | None = None

    def final_finish_reason(self) -> str:
        """`finish_reason`, else "content_filter"/"tool_calls"/"stop" as the reply implies."""
        if self.finish_reason is not None:
            return self.finish_reason
        if self.content_filter:
            return "content_filter"
        return "tool_calls" if self.tool_calls else "stop"


@dataclass
class ErrorReply:
    """A scripted failure in the dialect's error envelope.

    A plain HTTP error, or (`in_stream` with a streaming request) HTTP 200 then an error
    data chunk after `partial` text. On OpenRouter `in_stream` also turns a non-stream
    answer into HTTP 200 with the error body, as OpenRouter does once it has started.
    `code` overrides the dialect's code (OpenAI `code`, Azure `code`, Databricks
    `error_code`); `metadata` is OpenRouter's error metadata.
    """

    status: int
    message: str = "scripted failure"
    retry_after: float | None = None
    in_stream: bool = False
    code: str | int | None = None
    metadata: dict[str, Any] | None = None
    partial: str = ""


@dataclass
class CutStream:
    """A stream whose connection drops after `after_chunks` data chunks of `reply`.

    With `abort=False` the body ends cleanly instead (no finish, no `[DONE]`). A
    non-streaming request gets its connection closed without any response.
    """

    after_chunks: int = 1
    reply: ChatReply = field(
        default_factory=lambda: ChatReply("this answer is cut off mid-way", chunk_size=8)
    )
    abort: bool = True


ScriptItem = ChatReply | ErrorReply | CutStream
