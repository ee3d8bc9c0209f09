"""A scripted fake of the Anthropic Messages API, for tests.

`FakeAnthropic` is a small aiohttp server on 127.0.0.1 that speaks Anthropic's wire
format (JSON messages, byte-exact SSE framing, error envelopes, count_tokens, the model
list) and answers `/v1/messages` from a script of `Reply`, `ErrorReply` and `CutStream`
items. Every request it receives is recorded, so a test can check what a client (lynkr,
the official SDK, the real Claude Code CLI) actually sent.

    async with FakeAnthropic([Reply.text("hi")]) as fake:
        client = AsyncAnthropic(base_url=fake.base_url, api_key="k")
        ...
        assert fake.requests[0].json["model"] == "claude-opus-4-8"
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from lynkr_core.testing.scripted import (
    RecordedRequest,
    ScriptedServer,
    count_input_tokens,
    drop_connection,
    dumps,
    estimate_tokens,
    json_response,
    new_id,
    retry_after_header,
    wait_while_connected,
)

__all__ = [
    "CutStream",
    "ErrorReply",
    "FakeAnthropic",
    "RecordedRequest",
    "Reply",
    "count_input_tokens",
    "sse_frame",
    "stream_events",
]

DEFAULT_MODELS = ("claude-opus-4-8", "claude-sonnet-4-5", "claude-haiku-4-5")

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
}

Event = tuple[str, dict[str, Any]]


def _text_content(text: str) -> list[dict[str, Any]]:
    """One text block, as a content list."""
    return [{"type": "text", "text": text}]


@dataclass
class Reply:
    """One scripted model turn, answered as JSON or as an SSE stream.

    `content` holds Anthropic content blocks (text, tool_use, thinking, ...). Text,
    tool input (as JSON) and thinking are streamed in deltas of `chunk_size`
    characters, split mid-token on purpose. `delay` is slept before every SSE event,
    `first_byte_delay` before the response starts at all.
    """

    content: list[dict[str, Any]]
    stop_reason: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    chunk_size: int = 8
    delay: float = 0.0
    first_byte_delay: float = 0.0
    ping: bool = True

    @classmethod
    def text(cls, text: str, **options: Any) -> Reply:
        """A reply with a single text block."""
        return cls(_text_content(text), **options)

    @classmethod
    def tool_use(
        cls, name: str, tool_input: dict[str, Any], *, id: str = "toolu_01", **options: Any
    ) -> Reply:
        """A reply with a single tool_use block (stop_reason defaults to "tool_use")."""
        block = {"type": "tool_use", "id": id, "name": name, "input": tool_input}
        return cls([block], **options)

    def final_stop_reason(self) -> str:
        """`stop_reason`, or "tool_use" if a tool_use block is present, else "end_turn"."""
        if self.stop_reason is not None:
            return self.stop_reason
        has_tool_use = any(block.get("type") == "tool_use" for block in self.content)
        return "tool_use" if has_tool_use else "end_turn"


@dataclass
class ErrorReply:
    """A scripted failure: an HTTP error, or (`in_stream`) an SSE `error` event.

    With `in_stream=True` and a streaming request, the fake answers HTTP 200, sends
    `message_start`, then an `event: error` frame, and closes the stream; for a
    non-streaming request it answers the plain HTTP error.
    """

    status: int
    error_type: str | None = None
    message: str = "scripted failure"
    retry_after: float | None = None
    in_stream: bool = False

    def resolved_type(self) -> str:
        """`error_type`, or the type Anthropic uses for `status`."""
        if self.error_type is not None:
            return self.error_type
        default = "api_error" if self.status >= 500 else "invalid_request_error"
        return ERROR_TYPES.get(self.status, default)


@dataclass
class CutStream:
    """A stream that breaks off: `message_start`, then `deltas` content deltas, no stop.

    With `abort=True` the TCP connection is closed in the middle of the chunked body
    (a client sees an incomplete response); with `abort=False` the HTTP body ends
    cleanly but without `message_delta`/`message_stop`. A non-streaming request
    gets its connection closed without any response.
    """

    content: list[dict[str, Any]] = field(
        default_factory=lambda: _text_content("this answer is cut off mid-way")
    )
    deltas: int = 1
    abort: bool = True
    model: str | None = None
    chunk_size: int = 8
    delay: float = 0.0
    first_byte_delay: float = 0.0

    def as_reply(self) -> Reply:
        """The complete reply this stream is a truncated version of."""
        return Reply(self.content, model=self.model, chunk_size=self.chunk_size)


ScriptItem = Reply | ErrorReply | CutStream
Script = Sequence[ScriptItem] | Callable[[dict[str, Any]], ScriptItem]


# --- wire format ---------------------------------------------------------------


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """Rough input/output token counts for a reply, overridden by `reply.usage`."""
    return {
        "input_tokens": count_input_tokens(body),
        "output_tokens": estimate_tokens(reply.content),
        **(reply.usage or {}),
    }


def sse_frame(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event in Anthropic's framing: `event: X\\ndata: {json}\\n\\n`."""
    return f"event: {event}\ndata: {dumps(data)}\n\n".encode()


def _chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters (none for an empty string)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def _message(
    message_id: str,
    model: str,
    content: list[dict[str, Any]],
    stop_reason: str | None,
    usage: dict[str, Any],
) -> dict[str, Any]:
    """An Anthropic `message` object."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _split_block(block: dict[str, Any], size: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `content_block_start` shell of a block and the deltas that complete it."""
    kind = block.get("type")
    if kind == "text":
        deltas = [{"type": "text_delta", "text": c} for c in _chunks(block["text"], size)]
        return {**block, "text": ""}, deltas
    if kind in ("tool_use", "server_tool_use"):
        pieces = _chunks(dumps(block.get("input", {})), size)
        deltas = [{"type": "input_json_delta", "partial_json": c} for c in pieces]
        return {**block, "input": {}}, deltas
    if kind == "thinking":
        deltas = [
            {"type": "thinking_delta", "thinking": c} for c in _chunks(block["thinking"], size)
        ]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
        shell = {key: value for key, value in block.items() if key != "signature"}
        return {**shell, "thinking": ""}, deltas
    return block, []


def _block_events(index: int, block: dict[str, Any], size: int) -> Iterator[Event]:
    """`content_block_start`, the deltas and `content_block_stop` of one block."""
    shell, deltas = _split_block(block, size)
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": shell},
    )
    for delta in deltas:
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def stream_events(
    reply: Reply, *, message_id: str, model: str, usage: dict[str, Any]
) -> list[Event]:
    """The complete SSE event sequence Anthropic would send for `reply`."""
    start = _message(message_id, model, [], None, {**usage, "output_tokens": 1})
    events: list[Event] = [("message_start", {"type": "message_start", "message": start})]
    if reply.ping:
        events.append(("ping", {"type": "ping"}))
    for index, block in enumerate(reply.content):
        events.extend(_block_events(index, block, reply.chunk_size))
    message_delta = {
        "type": "message_delta",
        "delta": {"stop_reason": reply.final_stop_reason(), "stop_sequence": None},
        "usage": {"output_tokens": usage["output_tokens"]},
    }
    events.append(("message_delta", message_delta))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _cut_events(events: list[Event], deltas: int) -> list[Event]:
    """`events` up to and including the `deltas`-th content delta, never the stop events."""
    kept: list[Event] = []
    seen = 0
    for name, data in events:
        if name in ("message_delta", "message_stop"):
            break
        if name == "content_block_delta":
            if seen == deltas:
                break
            seen += 1
        kept.append((name, data))
    return kept


def _error_body(error_type: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """Anthropic's error envelope; HTTP errors carry a `request_id`, stream errors don't."""
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def _json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with a fresh `request-id` header."""
    return json_response(status, payload, {"request-id": new_id("req_"), **(headers or {})})


def _error_response(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """An Anthropic-shaped HTTP error."""
    request_id = new_id("req_")
    all_headers = {"request-id": request_id, **(headers or {})}
    return _json_response(status, _error_body(error_type, message, request_id), all_headers)


def _field_problem(body: Any, required: dict[str, tuple[type, str]]) -> str | None:
    """The first missing or mistyped field of a request body, as Anthropic words it."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    for name, (kind, kind_name) in required.items():
        if name not in body:
            return f"{name}: Field required"
        value = body[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{name}: Input should be a valid {kind_name}"
    return None


MESSAGES_FIELDS = {
    "model": (str, "string"),
    "messages": (list, "list"),
    "max_tokens": (int, "integer"),
}
COUNT_TOKENS_FIELDS = {"model": (str, "string"), "messages": (list, "list")}


# --- the server ------------------------------------------------------------------


class FakeAnthropic(ScriptedServer):
    """A scripted Anthropic Messages API on 127.0.0.1.

    `script` is either a list of replies, consumed in order by `/v1/messages` calls (a
    plain "ok" text reply once it runs out), or a callable that gets the decoded
    request body and returns the reply. With `api_key`, requests that lack it in the
    `auth_header` header ("x-api-key", or "authorization" with `Bearer <key>`) get
    a 401 authentication_error.

    Routes: POST `.../v1/messages` (so `/anthropic/v1/messages` of Azure too), POST
    `.../v1/messages/count_tokens`, GET `.../v1/models`; anything else is a 404
    not_found_error. Use it with `async with`, `start()`/`stop()`, or
    `run_in_thread()`/`stop_thread()` when the client is synchronous or a subprocess
    (see `ScriptedServer`).
    """

    thread_name = "fake-anthropic"

    def __init__(
        self,
        script: Script | None = None,
        *,
        api_key: str | None = None,
        auth_header: str = "x-api-key",
        models: Sequence[str] = DEFAULT_MODELS,
    ) -> None:
        super().__init__(script)
        self._api_key = api_key
        self._auth_header = auth_header.lower()
        self._models = list(models)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The recorded POSTs to a `/v1/messages` route, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/v1/messages")]

    def default_item(self) -> Reply:
        """A plain "ok" text reply once the script is used up."""
        return Reply.text("ok")

    # dispatch

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request, check auth, and route it."""
        record = await self._record(request)
        route = self._route(request.method, request.path)
        if route is None:
            return _error_response(
                404, "not_found_error", f"Not found: {request.method} {request.path}"
            )
        if not self._authorized(record.headers):
            return _error_response(401, "authentication_error", f"invalid {self._auth_header}")
        return await route(request, record)

    def _route(self, method: str, path: str) -> Callable[..., Any] | None:
        """The handler for a method and path (any prefix before `/v1/`), or None."""
        if method == "POST" and path.endswith("/v1/messages"):
            return self._messages
        if method == "POST" and path.endswith("/v1/messages/count_tokens"):
            return self._count_tokens
        if method == "GET" and path.endswith("/v1/models"):
            return self._list_models
        return None

    def _authorized(self, headers: dict[str, str]) -> bool:
        """Whether the request carries the configured key (always, without one)."""
        if self._api_key is None:
            return True
        expected = self._api_key
        if self._auth_header == "authorization":
            expected = f"Bearer {self._api_key}"
        return headers.get(self._auth_header) == expected

    # routes

    async def _count_tokens(self, request: web.Request, record: RecordedRequest) -> web.Response:
        """POST /v1/messages/count_tokens: `{"input_tokens": N}`."""
        problem = _field_problem(record.json, COUNT_TOKENS_FIELDS)
        if problem:
            return _error_response(400, "invalid_request_error", problem)
        return _json_response(200, {"input_tokens": count_input_tokens(record.json)})

    async def _list_models(self, request: web.Request, record: RecordedRequest) -> web.Response:
        """GET /v1/models: every configured model on one page."""
        data = [
            {
                "type": "model",
                "id": model,
                "display_name": model,
                "created_at": "2025-01-01T00:00:00Z",
            }
            for model in self._models
        ]
        return _json_response(
            200,
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    async def _messages(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        """POST /v1/messages: validate, then answer with the next scripted item."""
        problem = _field_problem(record.json, MESSAGES_FIELDS)
        if problem:
            return _error_response(400, "invalid_request_error", problem)
        item = self._next_item(record.json)
        streaming = record.json.get("stream") is True
        if isinstance(item, ErrorReply):
            return await self._send_error(request, record, item, streaming)
        if isinstance(item, CutStream):
            return await self._send_cut(request, record, item, streaming)
        return await self._send_reply(request, record, item, streaming)

    # answers

    async def _send_reply(
        self,
        request: web.Request,
        record: RecordedRequest,
        reply: Reply,
        streaming: bool,
    ) -> web.StreamResponse:
        """A scripted reply, as JSON or as an SSE stream."""
        if not await wait_while_connected(request, record, reply.first_byte_delay):
            return web.StreamResponse()
        model = reply.model or record.json["model"]
        usage = _usage(record.json, reply)
        message_id = new_id("msg_")
        if not streaming:
            message = _message(message_id, model, reply.content, reply.final_stop_reason(), usage)
            return _json_response(200, message)
        events = stream_events(reply, message_id=message_id, model=model, usage=usage)
        return await self._stream(request, record, events, reply.delay)

    async def _send_error(
        self,
        request: web.Request,
        record: RecordedRequest,
        error: ErrorReply,
        streaming: bool,
    ) -> web.StreamResponse:
        """A scripted failure: an HTTP error, or an `error` event inside a stream."""
        error_type = error.resolved_type()
        if not (error.in_stream and streaming):
            headers = retry_after_header(error.retry_after)
            return _error_response(error.status, error_type, error.message, headers)
        usage = {"input_tokens": count_input_tokens(record.json), "output_tokens": 1}
        start = _message(new_id("msg_"), record.json["model"], [], None, usage)
        events: list[Event] = [
            ("message_start", {"type": "message_start", "message": start}),
            ("error", _error_body(error_type, error.message)),
        ]
        return await self._stream(request, record, events, 0.0)

    async def _send_cut(
        self, request: web.Request, record: RecordedRequest, cut: CutStream, streaming: bool
    ) -> web.StreamResponse:
        """A stream that breaks off before `message_stop` (see `CutStream`)."""
        if not await wait_while_connected(request, record, cut.first_byte_delay):
            return web.StreamResponse()
        if not streaming:
            return drop_connection(request)
        reply = cut.as_reply()
        model = reply.model or record.json["model"]
        usage = _usage(record.json, reply)
        events = stream_events(reply, message_id=new_id("msg_"), model=model, usage=usage)
        return await self._stream(
            request, record, _cut_events(events, cut.deltas), cut.delay, abort=cut.abort
        )

    async def _stream(
        self,
        request: web.Request,
        record: RecordedRequest,
        events: list[Event],
        delay: float,
        *,
        abort: bool = False,
    ) -> web.StreamResponse:
        """Send `events` as SSE, sleeping `delay` before each; close the socket if `abort`."""
        response = web.StreamResponse(headers={**SSE_HEADERS, "request-id": new_id("req_")})
        await response.prepare(request)
        try:
            for name, data in events:
                await asyncio.sleep(delay)
                await response.write(sse_frame(name, data))
            if abort:
                request.transport.close()
            else:
                await response.write_eof()
        except ConnectionResetError:
            record.disconnected = True
        return response
