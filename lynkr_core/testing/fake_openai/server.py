"""`FakeOpenAI`: the scripted server, answering each chat call in its dialect."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from lynkr_core.testing.fake_openai.frames import DONE_FRAME, data_frame, stream_deltas
from lynkr_core.testing.fake_openai.registry import _DIALECT_CLASSES, DIALECTS
from lynkr_core.testing.fake_openai.replies import ChatReply, CutStream, ErrorReply, ScriptItem
from lynkr_core.testing.fake_openai.turn import _reply_usage, _Route, _Turn, _wants_usage
from lynkr_core.testing.scripted import (
    RecordedRequest,
    ScriptedServer,
    drop_connection,
    json_response,
    send_frames,
    wait_while_connected,
)


class FakeOpenAI(ScriptedServer):
    """A scripted OpenAI-format chat completions upstream on 127.0.0.1.

    `dialect` is one of `DIALECTS`. `api_key` turns on the dialect's auth (Bearer;
    Azure's `api-key`); `deployment` is the only Azure deployment / Databricks serving
    endpoint that exists (any, when None); `model` is the model name reported in
    answers and model lists; `loading` makes llama.cpp answer 503 "Loading model".
    `script` is a list of `ChatReply`/`ErrorReply`/`CutStream` (then `ChatReply("ok")`)
    or a callable from the decoded body to one.
    """

    thread_name = "fake-openai"

    def __init__(
        self,
        script: Sequence[ScriptItem] | Callable[[dict[str, Any]], ScriptItem] | None = None,
        *,
        dialect: str = "openai",
        api_key: str | None = None,
        deployment: str | None = None,
        model: str | None = None,
        loading: bool = False,
    ) -> None:
        if dialect not in _DIALECT_CLASSES:
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
        super().__init__(script)
        self.dialect = dialect
        self.loading = loading
        self._dialect = _DIALECT_CLASSES[dialect](api_key, deployment, model)
        self._chat_requests: list[RecordedRequest] = []

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded chat completion calls, in order."""
        return list(self._chat_requests)

    def default_item(self) -> ChatReply:
        """A plain "ok" once the script is used up."""
        return ChatReply("ok")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request, route it, check auth, body and endpoint, then answer."""
        record = await self._record(request)
        dialect = self._dialect
        route = dialect.route(request.method, request.path, record.query)
        if route is None:
            return dialect.not_found(request.method, request.path)
        if isinstance(route, web.StreamResponse):
            return route
        if route.kind == "chat":
            self._chat_requests.append(record)
        if not route.public and not dialect.authorized(record.headers):
            return dialect.unauthorized(record.headers)
        if route.kind == "health":
            return dialect.health(self.loading)
        if route.kind == "models":
            return dialect.models()
        if self.loading:
            return dialect.error(503, "Loading model")
        problem = dialect.body_problem(record.json)
        if problem is not None:
            return problem
        endpoint = record.json.get("model") if route.endpoint_in_body else route.endpoint
        problem = dialect.endpoint_problem(endpoint)
        if problem is not None:
            return problem
        item = self._next_item(record.json)
        streaming = record.json.get("stream") is True
        turn = self._turn(item, record.json, route)
        if isinstance(item, ErrorReply):
            return await self._send_error(request, record, item, turn, streaming)
        if isinstance(item, CutStream):
            return await self._send_cut(request, record, item, turn, streaming)
        return await self._send_reply(request, record, turn, streaming)

    def _turn(self, item: ScriptItem, body: dict[str, Any], route: _Route) -> _Turn:
        """Ids, model and usage for answering `item`."""
        if isinstance(item, CutStream):
            reply = item.reply
        elif isinstance(item, ErrorReply):
            reply = ChatReply(item.partial, include_usage_chunk=False)
        else:
            reply = item
        dialect = self._dialect
        return _Turn(
            reply=reply,
            id=dialect.completion_id(),
            created=int(time.time()),
            model=reply.model or dialect.response_model(body, route),
            usage=_reply_usage(body, reply),
            include_usage=_wants_usage(body, reply, dialect.name),
            call_ids=[call.id or dialect.call_id() for call in reply.tool_calls],
        )

    def _sse_headers(self) -> dict[str, str]:
        """Headers of a stream."""
        return {
            "Content-Type": self._dialect.sse_content_type,
            "Cache-Control": "no-cache",
            **self._dialect.headers(),
        }

    def _frames(self, turn: _Turn) -> list[bytes]:
        """Every frame of a complete stream."""
        frames = self._dialect.prefix_frames()
        frames.extend(data_frame(chunk) for chunk in self._dialect.chunks(turn))
        if not turn.reply.omit_done:
            frames.append(DONE_FRAME)
        return frames

    async def _send_reply(
        self, request: web.Request, record: RecordedRequest, turn: _Turn, streaming: bool
    ) -> web.StreamResponse:
        """A scripted reply, as JSON or as an SSE stream."""
        reply = turn.reply
        if not await wait_while_connected(request, record, reply.first_byte_delay):
            return web.StreamResponse()
        if not streaming:
            return json_response(200, self._dialect.completion(turn), self._dialect.headers())
        return await self._stream(request, record, turn, self._frames(turn))

    async def _send_error(
        self,
        request: web.Request,
        record: RecordedRequest,
        error: ErrorReply,
        turn: _Turn,
        streaming: bool,
    ) -> web.StreamResponse:
        """A scripted failure: HTTP error, 200-error body, or an error chunk mid-stream."""
        dialect = self._dialect
        if error.in_stream and streaming:
            frames = dialect.prefix_frames()
            deltas = stream_deltas(turn.reply, dialect.reasoning_field(turn.reply), [])
            frames.extend(data_frame(dialect.chunk(turn, delta)) for delta in deltas)
            frames.extend(dialect.stream_error_frames(error, turn))
            return await self._stream(request, record, turn, frames)
        late = dialect.late_error_body(error) if error.in_stream else None
        if late is not None:
            return json_response(200, late, dialect.headers())
        body = dialect.scripted_error_body(error)
        return json_response(error.status, body, dialect.error_headers(error))

    async def _send_cut(
        self,
        request: web.Request,
        record: RecordedRequest,
        cut: CutStream,
        turn: _Turn,
        streaming: bool,
    ) -> web.StreamResponse:
        """A stream that breaks off after `cut.after_chunks` data chunks."""
        if not await wait_while_connected(request, record, turn.reply.first_byte_delay):
            return web.StreamResponse()
        if not streaming:
            return drop_connection(request)
        chunks = self._dialect.chunks(turn)[: cut.after_chunks]
        frames = self._dialect.prefix_frames() + [data_frame(chunk) for chunk in chunks]
        return await self._stream(request, record, turn, frames, abort=cut.abort)

    async def _stream(
        self,
        request: web.Request,
        record: RecordedRequest,
        turn: _Turn,
        frames: list[bytes],
        *,
        abort: bool = False,
    ) -> web.StreamResponse:
        """Send `frames` as the dialect's SSE stream, `turn.reply.delay` seconds apart."""
        return await send_frames(
            request,
            record,
            frames,
            headers=self._sse_headers(),
            delay=turn.reply.delay,
            gap_frame=self._dialect.gap_frame(),
            abort=abort,
        )
