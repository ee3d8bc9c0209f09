"""Scripted fakes of OpenAI-format chat completion upstreams, for tests.

`FakeOpenAI` is a small aiohttp server on 127.0.0.1 that speaks the Chat Completions
wire format of one provider ("dialect"): OpenAI itself, Azure OpenAI, Databricks model
serving, OpenRouter or llama.cpp's llama-server. Each dialect has its own paths, auth
header, error envelope, ids and stream quirks (Azure's prompt-filter chunk, OpenRouter's
SSE comments and HTTP-200 errors, Databricks' list content, llama.cpp's timings).
Chat calls are answered from a script of `ChatReply`, `ErrorReply` and `CutStream`
items; every request is recorded.

    async with FakeOpenAI([ChatReply("hi")], dialect="openrouter", api_key="k") as fake:
        ...  # POST fake.base_url + "/api/v1/chat/completions"
        assert fake.chat_requests[0].json["model"] == "anthropic/claude-sonnet-4.5"

The server plumbing (lifecycle, recording, script) is `lynkr_core.testing.scripted`'s
`ScriptedServer`, shared with `fake_anthropic` and `fake_ollama`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
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
    pieces,
    retry_after_header,
    send_frames,
    wait_while_connected,
)

__all__ = [
    "DIALECTS",
    "ChatReply",
    "CutStream",
    "ErrorReply",
    "FakeOpenAI",
    "RecordedRequest",
    "ScriptedServer",
    "ToolCallSpec",
    "data_frame",
    "send_frames",
]

DIALECTS = ("openai", "azure", "databricks", "openrouter", "llamacpp")

DONE_FRAME = b"data: [DONE]\n\n"
OPENROUTER_COMMENT = b": OPENROUTER PROCESSING\n\n"


# --- wire frames ------------------------------------------------------------------


def data_frame(payload: Any) -> bytes:
    """One SSE `data: {json}` frame, as OpenAI-format servers send it."""
    return f"data: {dumps(payload)}\n\n".encode()


# --- script items ----------------------------------------------------------------


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


# --- wire building -----------------------------------------------------------------


def _tool_fragments(reply: ChatReply, ids: list[str]) -> list[dict[str, Any]]:
    """Stream fragments of every tool call, in order or round-robin (`interleave`)."""
    per_call: list[list[dict[str, Any]]] = []
    for index, (call, call_id) in enumerate(zip(reply.tool_calls, ids, strict=True)):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        rest = [
            {"index": index, "function": {"arguments": piece}}
            for piece in pieces(call.arguments(), reply.arguments_chunk_size)
        ]
        per_call.append([head, *rest])
    if not reply.interleave:
        return [fragment for fragments in per_call for fragment in fragments]
    rounds = max((len(fragments) for fragments in per_call), default=0)
    return [
        fragments[round_]
        for round_ in range(rounds)
        for fragments in per_call
        if round_ < len(fragments)
    ]


def _databricks_reasoning(text: str, signature: str | None) -> dict[str, Any]:
    """A Databricks `reasoning` content part."""
    summary: dict[str, Any] = {"type": "summary_text", "text": text}
    if signature is not None:
        summary["signature"] = signature
    return {"type": "reasoning", "summary": [summary]}


def stream_deltas(reply: ChatReply, reasoning_field: str, ids: list[str]) -> list[dict[str, Any]]:
    """The `delta` objects of a stream, before the finish chunk."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    reasoning = pieces(reply.reasoning, reply.chunk_size)
    for number, piece in enumerate(reasoning, start=1):
        if reply.databricks_reasoning:
            signature = reply.signature if number == len(reasoning) else None
            deltas.append({"content": [_databricks_reasoning(piece, signature)]})
        else:
            deltas.append({reasoning_field: piece})
    for piece in pieces(reply.content, reply.chunk_size):
        if reply.databricks_reasoning:
            deltas.append({"content": [{"type": "text", "text": piece}]})
        else:
            deltas.append({"content": piece})
    deltas.extend({"tool_calls": [fragment]} for fragment in _tool_fragments(reply, ids))
    return deltas


def completion_message(reply: ChatReply, reasoning_field: str, ids: list[str]) -> dict[str, Any]:
    """The assistant `message` of a non-stream completion (content None if only tool calls)."""
    content: Any = reply.content or None
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reply.databricks_reasoning:
        parts = [_databricks_reasoning(reply.reasoning, reply.signature)] if reply.reasoning else []
        if reply.content:
            parts.append({"type": "text", "text": reply.content})
        message["content"] = parts or None
    elif reply.reasoning:
        message[reasoning_field] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments()},
            }
            for call, call_id in zip(reply.tool_calls, ids, strict=True)
        ]
    return message


def usage_object(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    """OpenAI's `usage` object."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def _reply_usage(body: dict[str, Any], reply: ChatReply) -> dict[str, Any]:
    """The scripted usage, or deterministic estimates from the request and the reply."""
    if reply.usage is not None:
        return usage_object(*reply.usage)
    calls = [(call.name, call.arguments()) for call in reply.tool_calls]
    return usage_object(
        count_input_tokens(body), estimate_tokens([reply.content, reply.reasoning, calls])
    )


def _wants_usage(body: dict[str, Any], reply: ChatReply, dialect: str) -> bool:
    """Whether a stream ends with the choices-less usage chunk."""
    if reply.include_usage_chunk is not None:
        return reply.include_usage_chunk
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return True
    usage = body.get("usage")
    return dialect == "openrouter" and isinstance(usage, dict) and usage.get("include") is True


@dataclass
class _Route:
    """Where a request goes: `chat`, `models` or `health`, and the endpoint/deployment named."""

    kind: str
    endpoint: str | None = None
    endpoint_in_body: bool = False
    public: bool = False


@dataclass
class _Turn:
    """Everything a dialect needs to render one scripted reply."""

    reply: ChatReply
    id: str
    created: int
    model: str
    usage: dict[str, Any]
    include_usage: bool
    call_ids: list[str]


_FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def _azure_filter(filtered: bool = False) -> dict[str, Any]:
    """Azure's per-choice `content_filter_results` (violence marked when `filtered`)."""
    results = {name: {"filtered": False, "severity": "safe"} for name in _FILTER_CATEGORIES}
    if filtered:
        results["violence"] = {"filtered": True, "severity": "high"}
    return results


def _azure_prompt_filter() -> list[dict[str, Any]]:
    """Azure's `prompt_filter_results`."""
    results: dict[str, Any] = _azure_filter()
    results["jailbreak"] = {"filtered": False, "detected": False}
    return [{"prompt_index": 0, "content_filter_results": results}]


@dataclass
class _Error:
    """An error to put in a dialect's envelope: HTTP status, message, optional details."""

    status: int
    message: str
    code: str | int | None = None
    param: str | None = None
    metadata: dict[str, Any] | None = None


# --- dialects --------------------------------------------------------------------------


class _Dialect:
    """OpenAI's own wire format; subclasses override what their provider does differently."""

    name = "openai"
    default_model = "gpt-4o-mini"
    reasoning_key = "reasoning_content"
    sse_content_type = "text/event-stream; charset=utf-8"
    owned_by = "fake"
    null_usage_in_chunks = True

    def __init__(self, api_key: str | None, deployment: str | None, model: str | None) -> None:
        self.api_key = api_key
        self.deployment = deployment
        self.model = model

    # routing and checks

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """The route of a request, an immediate error response, or None (not found)."""
        if method == "POST" and path.endswith("/chat/completions"):
            return _Route("chat")
        if method == "GET" and path.endswith("/models"):
            return _Route("models")
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """The answer to an unknown route."""
        return self.error(404, f"Invalid URL ({method} {path})")

    def authorized(self, headers: dict[str, str]) -> bool:
        """Whether the request carries the key (always, without one)."""
        return self.api_key is None or headers.get("authorization") == f"Bearer {self.api_key}"

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """The 401 for a missing or wrong key."""
        if "authorization" not in headers:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return self.error(401, message)
        key = headers["authorization"].removeprefix("Bearer ")
        masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 7 else "***"
        message = (
            f"Incorrect API key provided: {masked}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        return self.error(401, message, code="invalid_api_key")

    def body_problem(self, body: Any) -> web.Response | None:
        """A 400 for a body that is not JSON or lacks what the service requires."""
        if not isinstance(body, dict):
            message = (
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)"
            )
            return self.error(400, message)
        if not isinstance(body.get("model"), str):
            return self.error(400, "you must provide a model parameter")
        if not isinstance(body.get("messages"), list):
            return self.error(
                400,
                "Missing required parameter: 'messages'.",
                code="missing_required_parameter",
                param="messages",
            )
        return None

    def endpoint_problem(self, endpoint: str | None) -> web.Response | None:
        """A 404 when the named deployment/endpoint is not the configured one."""
        return None

    # errors

    def error_type(self, status: int) -> str:
        """OpenAI's error `type` for a status."""
        if status == 429:
            return "requests"
        return "server_error" if status >= 500 else "invalid_request_error"

    def error_body(
        self,
        status: int,
        message: str,
        *,
        code: str | int | None = None,
        param: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The dialect's error envelope (see `envelope`)."""
        return self.envelope(_Error(status, message, code, param, metadata))

    def scripted_error_body(self, error: ErrorReply) -> dict[str, Any]:
        """The dialect's error envelope for a scripted `ErrorReply`."""
        return self.error_body(
            error.status, error.message, code=error.code, metadata=error.metadata
        )

    def error(self, status: int, message: str, **details: Any) -> web.Response:
        """An HTTP `status` answer with the dialect's error envelope."""
        return json_response(status, self.error_body(status, message, **details))

    def envelope(self, error: _Error) -> dict[str, Any]:
        """OpenAI's `{"error": {"message", "type", "param", "code"}}`."""
        code = error.code
        if code is None and error.status == 429:
            code = "rate_limit_exceeded"
        return {
            "error": {
                "message": error.message,
                "type": self.error_type(error.status),
                "param": error.param,
                "code": code,
            }
        }

    def stream_error_frames(self, error: ErrorReply, turn: _Turn) -> list[bytes]:
        """The data frame(s) that report an error inside a started stream."""
        return [data_frame(self.scripted_error_body(error))]

    def late_error_body(self, error: ErrorReply) -> dict[str, Any] | None:
        """The HTTP-200 body of an error after a non-stream answer started (None: plain HTTP)."""
        return None

    def headers(self) -> dict[str, str]:
        """Extra headers on every answer."""
        return {"x-request-id": "req_" + uuid.uuid4().hex, "openai-processing-ms": "1"}

    def error_headers(self, error: ErrorReply) -> dict[str, str]:
        """Headers of a scripted HTTP error."""
        return {**self.headers(), **retry_after_header(error.retry_after)}

    # models and health

    def models(self) -> web.Response:
        """GET .../models."""
        model = self.model or self.default_model
        data = [{"id": model, "object": "model", "created": 0, "owned_by": self.owned_by}]
        return json_response(200, {"object": "list", "data": data}, self.headers())

    def health(self, loading: bool) -> web.Response:
        """GET /health (llama.cpp only)."""
        return self.not_found("GET", "/health")

    # replies

    def completion_id(self) -> str:
        """A completion id."""
        return new_id("chatcmpl-")

    def call_id(self) -> str:
        """A tool call id."""
        return new_id("call_")

    def response_model(self, body: dict[str, Any], route: _Route) -> str:
        """The `model` reported in answers."""
        return self.model or body.get("model") or route.endpoint or self.default_model

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """The top-level fields of a completion or chunk (`kind` is the `object`)."""
        return {
            "id": turn.id,
            "object": kind,
            "created": turn.created,
            "model": turn.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """Extra keys of a choice (`delta` is None for a non-stream choice)."""
        return {"logprobs": None}

    def usage(self, turn: _Turn) -> dict[str, Any]:
        """The usage object of a turn."""
        return {**turn.usage, "completion_tokens_details": {"reasoning_tokens": 0}}

    def completion(self, turn: _Turn) -> dict[str, Any]:
        """A complete `chat.completion` body."""
        reply = turn.reply
        message = completion_message(reply, self.reasoning_field(reply), turn.call_ids)
        message = self.decorate_message(message)
        finish = reply.final_finish_reason()
        choice = {
            "index": 0,
            "message": message,
            **self.choice_extras(turn, None, finish),
            "finish_reason": finish,
        }
        return {
            **self.head(turn, "chat.completion"),
            "choices": [choice],
            "usage": self.usage(turn),
        }

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Provider-specific keys of a non-stream message."""
        return {**message, "refusal": None, "annotations": []}

    def reasoning_field(self, reply: ChatReply) -> str:
        """The message/delta key that carries reasoning text."""
        return reply.reasoning_field or self.reasoning_key

    def chunk(
        self, turn: _Turn, delta: dict[str, Any], finish: str | None = None
    ) -> dict[str, Any]:
        """One `chat.completion.chunk` with a single choice."""
        choice = {
            "index": 0,
            "delta": delta,
            **self.choice_extras(turn, delta, finish),
            "finish_reason": finish,
        }
        chunk = {**self.head(turn, "chat.completion.chunk"), "choices": [choice]}
        if turn.include_usage and self.null_usage_in_chunks:
            chunk["usage"] = None
        return chunk

    def finish_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The chunk with an empty delta and the finish reason."""
        return self.chunk(turn, {}, turn.reply.final_finish_reason())

    def usage_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The final chunk with no choices and the usage."""
        return {
            **self.head(turn, "chat.completion.chunk"),
            "choices": [],
            "usage": self.usage(turn),
        }

    def prefix_frames(self) -> list[bytes]:
        """Frames sent before the first chunk."""
        return []

    def gap_frame(self) -> bytes | None:
        """A frame sent after each scripted delay between chunks."""
        return None

    def chunks(self, turn: _Turn) -> list[dict[str, Any]]:
        """The data chunks of a stream, without prefix frames or `[DONE]`."""
        reply = turn.reply
        deltas = stream_deltas(reply, self.reasoning_field(reply), turn.call_ids)
        chunks = [self.chunk(turn, delta) for delta in deltas]
        if not reply.omit_finish:
            chunks.append(self.finish_chunk(turn))
        if turn.include_usage:
            chunks.append(self.usage_chunk(turn))
        return chunks


class _Azure(_Dialect):
    """Azure OpenAI: deployment paths, `api-key`, string error codes, content filter results."""

    name = "azure"
    default_model = "gpt-4o-2024-11-20"

    _DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)/chat/completions")

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """Deployment-scoped path (api-version required) or the v1 GA path."""
        match = self._DEPLOYMENT.fullmatch(path)
        if match and method == "POST":
            if "api-version" not in query:
                return self._resource_not_found()
            return _Route("chat", match[1])
        if method == "POST" and path == "/openai/v1/chat/completions":
            return _Route("chat", endpoint_in_body=True)
        return None

    def _resource_not_found(self) -> web.Response:
        """Azure's bare 404."""
        return json_response(404, {"error": {"code": "404", "message": "Resource not found"}})

    def not_found(self, method: str, path: str) -> web.Response:
        """Unknown routes get Azure's bare 404."""
        return self._resource_not_found()

    def authorized(self, headers: dict[str, str]) -> bool:
        """`api-key: <key>`, or `Authorization: Bearer <key>` (as Entra tokens are sent)."""
        if self.api_key is None:
            return True
        return self.api_key in (
            headers.get("api-key"),
            headers.get("authorization", "").removeprefix("Bearer "),
        )

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """Azure's 401."""
        message = (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
            "to provide a valid key for an active subscription and use a correct regional "
            "API endpoint for your resource."
        )
        return json_response(401, {"error": {"code": "401", "message": message}})

    def body_problem(self, body: Any) -> web.Response | None:
        """Azure requires JSON with `messages` (the model is the deployment)."""
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON body")
        if not isinstance(body.get("messages"), list):
            return self.error(400, "'messages' is a required property", param="messages")
        return None

    def endpoint_problem(self, endpoint: str | None) -> web.Response | None:
        """DeploymentNotFound for any deployment but the configured one."""
        if self.deployment is None or endpoint == self.deployment:
            return None
        message = (
            "The API deployment for this resource does not exist. If you created the "
            "deployment within the last 5 minutes, please wait a moment and try again."
        )
        return json_response(404, {"error": {"code": "DeploymentNotFound", "message": message}})

    def envelope(self, error: _Error) -> dict[str, Any]:
        """400s look like OpenAI's; the others are `{"code": "<status>", "message"}`."""
        if error.status == 400:
            return super().envelope(error)
        code = error.code if error.code is not None else error.status
        return {"error": {"code": str(code), "message": error.message}}

    def headers(self) -> dict[str, str]:
        """Azure's request id headers."""
        request_id = str(uuid.uuid4())
        return {"apim-request-id": request_id, "x-request-id": request_id}

    def error_headers(self, error: ErrorReply) -> dict[str, str]:
        """Azure sends `retry-after-ms` beside `retry-after`."""
        headers = super().error_headers(error)
        if error.retry_after is not None:
            headers["retry-after-ms"] = str(int(error.retry_after * 1000))
        return headers

    def response_model(self, body: dict[str, Any], route: _Route) -> str:
        """Azure reports the deployed model's name, not the deployment's."""
        return self.model or self.default_model

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """Azure has no service_tier."""
        head = super().head(turn, kind)
        del head["service_tier"]
        return head

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """Content filter results on text and final choices; empty on the other chunks."""
        filtered = turn.reply.content_filter and finish == "content_filter"
        if delta is None or filtered or (delta.get("content") and "role" not in delta):
            results: dict[str, Any] = _azure_filter(filtered)
        else:
            results = {}
        return {"content_filter_results": results, "logprobs": None}

    def completion(self, turn: _Turn) -> dict[str, Any]:
        """Non-stream bodies carry `prompt_filter_results`."""
        return {**super().completion(turn), "prompt_filter_results": _azure_prompt_filter()}

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Azure messages have `refusal` but no `annotations`."""
        return {**message, "refusal": None}

    def prefix_frames(self) -> list[bytes]:
        """Azure streams open with a choices-less prompt-filter chunk with empty ids."""
        chunk = {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": _azure_prompt_filter(),
        }
        return [data_frame(chunk)]


DATABRICKS_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


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


class _Databricks(_Bare):
    """Databricks model serving: `/serving-endpoints/{name}/invocations`, `error_code` bodies."""

    name = "databricks"
    default_model = "databricks-claude-sonnet-4"

    _INVOCATIONS = re.compile(r"/serving-endpoints/([^/]+)/invocations")

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """The invocations path, or the OpenAI-client path with the endpoint as `model`."""
        if method != "POST":
            return None
        match = self._INVOCATIONS.fullmatch(path)
        if match:
            return _Route("chat", match[1])
        if path == "/serving-endpoints/chat/completions":
            return _Route("chat", endpoint_in_body=True)
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """Databricks' answer to an unknown API path."""
        body = {
            "error_code": "ENDPOINT_NOT_FOUND",
            "message": f"No API found for '{method} {path}'",
        }
        return json_response(404, body)

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """Databricks' 401."""
        if "authorization" not in headers:
            message = "Credential was not sent or was of an unsupported type for this API."
        else:
            message = "Invalid access token."
        return self.error(401, message)

    def body_problem(self, body: Any) -> web.Response | None:
        """JSON with `messages` is required."""
        if not isinstance(body, dict):
            message = "Invalid JSON in request body."
            return self.error(400, message, code="INVALID_PARAMETER_VALUE")
        if not isinstance(body.get("messages"), list):
            return self.error(400, "Missing required field: messages")
        return None

    def endpoint_problem(self, endpoint: str | None) -> web.Response | None:
        """RESOURCE_DOES_NOT_EXIST for any endpoint but the configured one."""
        if self.deployment is None or endpoint == self.deployment:
            return None
        message = f"Endpoint with name '{endpoint}' does not exist."
        return self.error(404, message)

    def envelope(self, error: _Error) -> dict[str, Any]:
        """`{"error_code": "...", "message": "..."}`."""
        code = error.code
        if code is None:
            default = "INTERNAL_ERROR" if error.status >= 500 else "BAD_REQUEST"
            code = DATABRICKS_ERROR_CODES.get(error.status, default)
        return {"error_code": str(code), "message": error.message}

    def headers(self) -> dict[str, str]:
        """Databricks' request id header."""
        return {"x-request-id": str(uuid.uuid4())}

    def completion_id(self) -> str:
        """Databricks completion ids."""
        return "chatcmpl_" + str(uuid.uuid4())

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """No service tier or fingerprint."""
        return {"id": turn.id, "object": kind, "created": turn.created, "model": turn.model}


class _OpenRouter(_Dialect):
    """OpenRouter: `/api/v1`, SSE comments, int error codes with metadata, 200-errors."""

    name = "openrouter"
    default_model = "openrouter/auto"
    reasoning_key = "reasoning"
    null_usage_in_chunks = False
    owned_by = "openrouter"

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """POST /api/v1/chat/completions, GET /api/v1/models."""
        if method == "POST" and path == "/api/v1/chat/completions":
            return _Route("chat")
        if method == "GET" and path == "/api/v1/models":
            return _Route("models", public=True)
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """OpenRouter's 404."""
        return json_response(404, {"error": {"message": "Not Found", "code": 404}})

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """OpenRouter's 401s (no metadata)."""
        known = "authorization" in headers
        message = "User not found." if known else "No auth credentials found"
        return json_response(401, {"error": {"message": message, "code": 401}})

    def body_problem(self, body: Any) -> web.Response | None:
        """`messages` (or `prompt`) is required."""
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            message = 'Input required: specify "prompt" or "messages"'
            return json_response(400, {"error": {"message": message, "code": 400}})
        return None

    def envelope(self, error: _Error) -> dict[str, Any]:
        """`{"error": {"code": <int>, "message", "metadata"}}`."""
        metadata = error.metadata
        if metadata is None:
            metadata = {"provider_name": "Fake", "raw": error.message}
        code = error.code if error.code is not None else error.status
        return {"error": {"code": code, "message": error.message, "metadata": metadata}}

    def stream_error_frames(self, error: ErrorReply, turn: _Turn) -> list[bytes]:
        """A chunk with a top-level `error` and finish_reason "error"."""
        body = self.scripted_error_body(error)
        chunk = {
            "id": turn.id,
            "object": "chat.completion.chunk",
            "created": turn.created,
            "model": turn.model,
            "provider": "Fake",
            **body,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": ""},
                    "finish_reason": "error",
                    "native_finish_reason": "error",
                }
            ],
        }
        return [data_frame(chunk)]

    def late_error_body(self, error: ErrorReply) -> dict[str, Any] | None:
        """OpenRouter answers HTTP 200 with the error body once it has started."""
        return self.scripted_error_body(error)

    def headers(self) -> dict[str, str]:
        """No particular headers."""
        return {}

    def models(self) -> web.Response:
        """GET /api/v1/models: OpenRouter's model objects."""
        model = self.model or self.default_model
        data = [
            {
                "id": model,
                "name": model,
                "created": 0,
                "context_length": 200000,
                "pricing": {"prompt": "0", "completion": "0"},
                "supported_parameters": ["tools", "tool_choice", "reasoning", "max_tokens"],
            }
        ]
        return json_response(200, {"data": data})

    def completion_id(self) -> str:
        """OpenRouter generation ids."""
        return new_id("gen-")

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """OpenRouter names the provider that served the call."""
        return {
            "id": turn.id,
            "provider": "Fake",
            "model": turn.model,
            "object": kind,
            "created": turn.created,
        }

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """`native_finish_reason` beside `finish_reason`."""
        return {"native_finish_reason": finish, "logprobs": None}

    def usage(self, turn: _Turn) -> dict[str, Any]:
        """OpenRouter adds the cost."""
        return {**turn.usage, "cost": 0}

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """OpenRouter messages carry `refusal`."""
        return {**message, "refusal": None}

    def prefix_frames(self) -> list[bytes]:
        """The keep-alive comment before the first chunk."""
        return [OPENROUTER_COMMENT]

    def gap_frame(self) -> bytes | None:
        """The keep-alive comment, repeated while a scripted delay passes."""
        return OPENROUTER_COMMENT


LLAMACPP_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    501: "not_supported_error",
    503: "unavailable_error",
}


class _LlamaCpp(_Bare):
    """llama-server: `/v1/chat/completions`, `/health`, typed int-coded errors, timings."""

    name = "llamacpp"
    default_model = "llama"
    owned_by = "llamacpp"

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """Chat with or without `/v1`; `/health` and the model list need no key."""
        if method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            return _Route("chat")
        if method == "GET" and path in ("/health", "/v1/health"):
            return _Route("health", public=True)
        if method == "GET" and path in ("/v1/models", "/models"):
            return _Route("models", public=True)
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """llama-server's 404."""
        return self.error(404, "File Not Found")

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """llama-server's 401."""
        return self.error(401, "Invalid API Key")

    def body_problem(self, body: Any) -> web.Response | None:
        """JSON with a `messages` array is required."""
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON")
        if not isinstance(body.get("messages"), list):
            return self.error(400, "Expected 'messages' to be an array")
        return None

    def envelope(self, error: _Error) -> dict[str, Any]:
        """`{"error": {"code": <int>, "message", "type"}}`."""
        default = "server_error" if error.status >= 500 else "invalid_request_error"
        error_type = LLAMACPP_ERROR_TYPES.get(error.status, default)
        if error.code is not None:
            error_type = str(error.code)
        return {"error": {"code": error.status, "message": error.message, "type": error_type}}

    def headers(self) -> dict[str, str]:
        """No particular headers."""
        return {}

    def health(self, loading: bool) -> web.Response:
        """`{"status": "ok"}`, or 503 while loading."""
        if loading:
            return self.error(503, "Loading model")
        return json_response(200, {"status": "ok"})

    def call_id(self) -> str:
        """llama.cpp tool call ids (random alphanumerics)."""
        return new_id("")

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """A build fingerprint, no service tier."""
        return {
            "id": turn.id,
            "object": kind,
            "created": turn.created,
            "model": turn.model,
            "system_fingerprint": "b6000-fake",
        }

    def timings(self, turn: _Turn) -> dict[str, Any]:
        """llama.cpp's `timings` (clients ignore them)."""
        prompt, predicted = turn.usage["prompt_tokens"], turn.usage["completion_tokens"]
        return {
            "prompt_n": prompt,
            "prompt_ms": 1.0,
            "prompt_per_token_ms": 1.0 / max(prompt, 1),
            "prompt_per_second": 1000.0 * prompt,
            "predicted_n": predicted,
            "predicted_ms": 1.0,
            "predicted_per_token_ms": 1.0 / max(predicted, 1),
            "predicted_per_second": 1000.0 * predicted,
        }

    def completion(self, turn: _Turn) -> dict[str, Any]:
        """Non-stream bodies carry timings."""
        return {**super().completion(turn), "timings": self.timings(turn)}

    def finish_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The finish chunk carries usage and timings unless a usage chunk follows."""
        chunk = super().finish_chunk(turn)
        if not turn.include_usage:
            chunk.update(usage=self.usage(turn), timings=self.timings(turn))
        return chunk

    def usage_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The usage chunk carries timings too."""
        return {**super().usage_chunk(turn), "timings": self.timings(turn)}


_DIALECT_CLASSES: dict[str, type[_Dialect]] = {
    "openai": _Dialect,
    "azure": _Azure,
    "databricks": _Databricks,
    "openrouter": _OpenRouter,
    "llamacpp": _LlamaCpp,
}


# --- the server ----------------------------------------------------------------------


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
