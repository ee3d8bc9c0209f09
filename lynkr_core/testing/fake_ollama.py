"""A scripted fake of Ollama's native API, for tests.

`FakeOllama` is a small aiohttp server on 127.0.0.1 that speaks Ollama's own wire
format: `POST /api/chat` answered as NDJSON lines (streaming is the default when the
body has no `"stream"`) or as one JSON object, tool calls whole with `arguments` as an
object, Go-style `{"error": "..."}` bodies, plus `/api/tags`, `/api/show`,
`/api/version` and `GET|HEAD /`. Chat calls are answered from a script of
`OllamaReply`, `OllamaError` and `OllamaCut` items; every request is recorded.

    async with FakeOllama([OllamaReply("hi")]) as fake:
        ...  # POST fake.base_url + "/api/chat"
        assert fake.chat_requests[0].json["options"]["num_predict"] == 1024
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from lynkr_core.testing.scripted import (
    RecordedRequest,
    ScriptedServer,
    drop_connection,
    dumps,
    json_response,
    pieces,
    send_frames,
    wait_while_connected,
)

__all__ = [
    "OLLAMA_VERSION",
    "FakeOllama",
    "OllamaCut",
    "OllamaError",
    "OllamaReply",
    "RecordedRequest",
    "chat_response",
    "decode_ndjson",
    "stream_lines",
    "validate_chat_body",
]

OLLAMA_VERSION = "0.12.0"
NDJSON_TYPE = "application/x-ndjson"


# --- script items ----------------------------------------------------------------


@dataclass
class OllamaReply:
    """One scripted assistant turn.

    Streams send `thinking`, then `content`, in pieces of `chunk_size` characters (whole
    when None), then one line with every tool call, then the final `done` line.
    `tool_calls` are `(name, arguments_dict)` pairs. `delay` is slept between lines,
    `first_byte_delay` before the response starts.
    """

    content: str = ""
    _: KW_ONLY
    thinking: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    done_reason: str = "stop"
    prompt_eval_count: int = 10
    eval_count: int = 5
    chunk_size: int | None = None
    delay: float = 0.0
    first_byte_delay: float = 0.0
    model: str | None = None


@dataclass
class OllamaError:
    """A scripted failure: HTTP `status` with `{"error": message}`, or (`in_stream` with a
    streaming request) HTTP 200, `partial` content lines, then an `{"error": ...}` line."""

    status: int
    message: str = "scripted failure"
    in_stream: bool = False
    partial: str = ""


@dataclass
class OllamaCut:
    """A stream whose connection drops after `after_lines` lines of `reply`.

    With `abort=False` the body ends cleanly instead, without the `done` line. A
    non-streaming request gets its connection closed without any response.
    """

    after_lines: int = 1
    reply: OllamaReply = field(
        default_factory=lambda: OllamaReply("this answer is cut off mid-way", chunk_size=8)
    )
    abort: bool = True


OllamaItem = OllamaReply | OllamaError | OllamaCut


# --- wire format -------------------------------------------------------------------


def _line(payload: dict[str, Any]) -> bytes:
    """One NDJSON line."""
    return (dumps(payload) + "\n").encode()


def _now() -> str:
    """An RFC 3339 UTC timestamp with nanoseconds, as Ollama writes `created_at`."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}000Z"


def _tool_calls(reply: OllamaReply) -> list[dict[str, Any]]:
    """Ollama's `tool_calls`: whole calls, `arguments` an object."""
    return [
        {"function": {"index": index, "name": name, "arguments": arguments}}
        for index, (name, arguments) in enumerate(reply.tool_calls)
    ]


def _final_fields(reply: OllamaReply) -> dict[str, Any]:
    """The `done` fields: reason, durations (ns) and token counts."""
    return {
        "done": True,
        "done_reason": reply.done_reason,
        "total_duration": 1_500_000_000,
        "load_duration": 50_000_000,
        "prompt_eval_count": reply.prompt_eval_count,
        "prompt_eval_duration": 200_000_000,
        "eval_count": reply.eval_count,
        "eval_duration": 1_200_000_000,
    }


def stream_lines(reply: OllamaReply, model: str) -> list[dict[str, Any]]:
    """Every line of a streamed `/api/chat` answer."""

    def line(message: dict[str, Any]) -> dict[str, Any]:
        full = {"role": "assistant", "content": "", **message}
        return {"model": model, "created_at": _now(), "message": full, "done": False}

    lines = [line({"thinking": piece}) for piece in pieces(reply.thinking, reply.chunk_size)]
    lines.extend(line({"content": piece}) for piece in pieces(reply.content, reply.chunk_size))
    if reply.tool_calls:
        lines.append(line({"tool_calls": _tool_calls(reply)}))
    final = {"role": "assistant", "content": ""}
    lines.append({"model": model, "created_at": _now(), "message": final, **_final_fields(reply)})
    return lines


def chat_response(reply: OllamaReply, model: str) -> dict[str, Any]:
    """The single object of a non-streamed `/api/chat` answer."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.thinking:
        message["thinking"] = reply.thinking
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply)
    return {"model": model, "created_at": _now(), "message": message, **_final_fields(reply)}


def _go_type(value: Any) -> str:
    """The JSON kind Go's decoder names in its unmarshal errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _unmarshal(value: Any, where: str, go_type: str) -> str:
    """Go's encoding/json error for a mistyped field."""
    return (
        f"json: cannot unmarshal {_go_type(value)} into Go struct field {where} of type {go_type}"
    )


def _message_problem(message: Any) -> str | None:
    """Why one chat message would not decode into Ollama's `api.Message`."""
    if not isinstance(message, dict):
        return _unmarshal(message, "ChatRequest.messages", "api.Message")
    for key in ("role", "content", "thinking", "tool_name"):
        if key in message and not isinstance(message[key], str):
            return _unmarshal(message[key], f"Message.messages.{key}", "string")
    images = message.get("images", [])
    if not isinstance(images, list) or not all(isinstance(image, str) for image in images):
        return _unmarshal(images, "Message.messages.images", "api.ImageData")
    calls = message.get("tool_calls", [])
    if not isinstance(calls, list):
        return _unmarshal(calls, "Message.messages.tool_calls", "[]api.ToolCall")
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments", {}) if isinstance(function, dict) else None
        if not isinstance(arguments, dict):
            return _unmarshal(
                arguments,
                "ToolCallFunction.messages.tool_calls.function.arguments",
                "api.ToolCallFunctionArguments",
            )
    return None


def validate_chat_body(body: Any) -> str | None:
    """Why Ollama would reject an `/api/chat` body with 400 (None when it is fine)."""
    if not isinstance(body, dict):
        if body is None:
            return "invalid character looking for beginning of value"
        return f"json: cannot unmarshal {_go_type(body)} into Go value of type api.ChatRequest"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model is required"
    checks = {
        "messages": (list, "[]api.Message"),
        "tools": (list, "api.Tools"),
        "options": (dict, "map[string]interface {}"),
        "stream": (bool, "bool"),
    }
    for key, (kind, go_type) in checks.items():
        if key in body and body[key] is not None and not isinstance(body[key], kind):
            return _unmarshal(body[key], f"ChatRequest.{key}", go_type)
    for message in body.get("messages") or []:
        problem = _message_problem(message)
        if problem:
            return problem
    think = body.get("think")
    if think is not None and not isinstance(think, bool) and think not in ("low", "medium", "high"):
        return f'invalid think value: {think!r} (must be "high", "medium", "low", true, or false)'
    return None


def _full_name(model: str) -> str:
    """`name` as Ollama resolves it (`:latest` when no tag is given)."""
    return model if ":" in model.rsplit("/", 1)[-1] else model + ":latest"


def _error(status: int, message: str) -> web.Response:
    """Ollama's `{"error": "..."}` body."""
    return json_response(status, {"error": message}, charset="utf-8")


def _json(payload: Any) -> web.Response:
    """A 200 JSON answer."""
    return json_response(200, payload, charset="utf-8")


# --- the server ----------------------------------------------------------------------


class FakeOllama(ScriptedServer):
    """A scripted Ollama server on 127.0.0.1.

    `models` are the pulled models (others get Ollama's 404 "not found, try pulling it
    first"). `thinking_models` / `tool_models`, when given, are the models that support
    `think` / `tools`; other models get Ollama's 400 "does not support ..." (None: all do).
    `script` is a list of `OllamaReply`/`OllamaError`/`OllamaCut` items (then
    `OllamaReply("ok")`) or a callable from the decoded body to one.
    """

    thread_name = "fake-ollama"

    def __init__(
        self,
        script: Sequence[OllamaItem] | Callable[[dict[str, Any]], OllamaItem] | None = None,
        *,
        models: Sequence[str] = ("qwen2.5-coder:7b",),
        thinking_models: Sequence[str] | None = None,
        tool_models: Sequence[str] | None = None,
    ) -> None:
        super().__init__(script)
        self.models = [_full_name(model) for model in models]
        self._thinking = (
            None if thinking_models is None else {_full_name(m) for m in thinking_models}
        )
        self._tools = None if tool_models is None else {_full_name(m) for m in tool_models}

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded `POST /api/chat` calls, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/api/chat"]

    def default_item(self) -> OllamaReply:
        """A plain "ok" once the script is used up."""
        return OllamaReply("ok")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request and route it; unknown routes get Go's plain-text 404."""
        record = await self._record(request)
        method, path = request.method, request.path
        if path == "/" and method in ("GET", "HEAD"):
            return web.Response(text="Ollama is running")
        if method == "GET" and path == "/api/version":
            return _json({"version": OLLAMA_VERSION})
        if method == "GET" and path == "/api/tags":
            return _json({"models": [self._tag(model) for model in self.models]})
        if method == "POST" and path == "/api/show":
            return self._show(record.json)
        if method == "POST" and path == "/api/chat":
            return await self._chat(request, record)
        return web.Response(status=404, text="404 page not found")

    # routes

    def _tag(self, model: str) -> dict[str, Any]:
        """One `/api/tags` entry."""
        return {
            "name": model,
            "model": model,
            "modified_at": "2025-09-01T12:00:00.000000000Z",
            "size": 4_683_087_332,
            "digest": hashlib.sha256(model.encode()).hexdigest(),
            "details": self._details(),
        }

    def _details(self) -> dict[str, Any]:
        """A model's `details`."""
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "qwen2",
            "families": ["qwen2"],
            "parameter_size": "7.6B",
            "quantization_level": "Q4_K_M",
        }

    def _capabilities(self, model: str) -> list[str]:
        """What a model supports, as `/api/show` lists it."""
        capabilities = ["completion"]
        if self._tools is None or model in self._tools:
            capabilities.append("tools")
        if self._thinking is None or model in self._thinking:
            capabilities.append("thinking")
        return capabilities

    def _show(self, body: Any) -> web.Response:
        """POST /api/show: details, context length and capabilities of a pulled model."""
        name = body.get("model") or body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            return _error(400, "model is required")
        model = _full_name(name)
        if model not in self.models:
            return _error(404, f"model '{name}' not found")
        return _json(
            {
                "modelfile": f"FROM {model}\n",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": self._details(),
                "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768},
                "capabilities": self._capabilities(model),
                "modified_at": "2025-09-01T12:00:00.000000000Z",
            }
        )

    def _chat_problem(self, body: Any) -> web.Response | None:
        """Ollama's 400/404 for a body it would refuse."""
        problem = validate_chat_body(body)
        if problem:
            return _error(400, problem)
        name = body["model"]
        model = _full_name(name)
        if model not in self.models:
            return _error(404, f'model "{name}" not found, try pulling it first')
        if body.get("think") and self._thinking is not None and model not in self._thinking:
            return _error(400, f'"{name}" does not support thinking')
        if body.get("tools") and self._tools is not None and model not in self._tools:
            return _error(400, f"registry.ollama.ai/library/{model} does not support tools")
        return None

    async def _chat(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        """POST /api/chat: validate, then answer with the next scripted item."""
        problem = self._chat_problem(record.json)
        if problem is not None:
            return problem
        body = record.json
        streaming = body.get("stream") is not False
        if not body.get("messages"):
            return self._loaded(body["model"], streaming)
        item = self._next_item(body)
        if isinstance(item, OllamaError):
            return await self._send_error(request, record, item, streaming)
        reply = item.reply if isinstance(item, OllamaCut) else item
        if not await wait_while_connected(request, record, reply.first_byte_delay):
            return web.StreamResponse()
        model = reply.model or body["model"]
        if isinstance(item, OllamaCut):
            if not streaming:
                return drop_connection(request)
            lines = stream_lines(reply, model)[: item.after_lines]
            return await self._stream(request, record, lines, reply.delay, abort=item.abort)
        if not streaming:
            return _json(chat_response(reply, model))
        return await self._stream(request, record, stream_lines(reply, model), reply.delay)

    def _loaded(self, model: str, streaming: bool) -> web.Response:
        """An empty `messages` only loads the model: one `done_reason: "load"` object."""
        payload = {
            "model": model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done_reason": "load",
            "done": True,
        }
        if streaming:
            return web.Response(body=_line(payload), content_type=NDJSON_TYPE)
        return _json(payload)

    async def _send_error(
        self, request: web.Request, record: RecordedRequest, error: OllamaError, streaming: bool
    ) -> web.StreamResponse:
        """An HTTP error, or (in a stream) partial lines then an `{"error": ...}` line."""
        if not (error.in_stream and streaming):
            return _error(error.status, error.message)
        partial = OllamaReply(error.partial)
        lines = stream_lines(partial, record.json["model"])[:-1]
        lines.append({"error": error.message})
        return await self._stream(request, record, lines, 0.0)

    async def _stream(
        self,
        request: web.Request,
        record: RecordedRequest,
        lines: list[dict[str, Any]],
        delay: float,
        *,
        abort: bool = False,
    ) -> web.StreamResponse:
        """Send `lines` as NDJSON, `delay` seconds apart."""
        headers = {"Content-Type": NDJSON_TYPE}
        frames = [_line(line) for line in lines]
        return await send_frames(request, record, frames, headers=headers, delay=delay, abort=abort)


def decode_ndjson(raw: bytes) -> list[dict[str, Any]]:
    """Split an NDJSON body into objects (a helper for tests)."""
    return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
