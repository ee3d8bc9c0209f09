"""The benchmark's upstream: a scripted model server cheap enough not to be the bottleneck.

A raw asyncio HTTP/1.1 server (keep-alive, Content-Length or chunked request
bodies) answering, from frames encoded once per configuration:

- ``POST /v1/chat/completions`` (OpenAI): a completion, or with ``"stream": true``
  an SSE stream of ``chunks`` data frames, the finish chunk, a usage chunk when
  ``stream_options.include_usage`` is set, and ``data: [DONE]``;
- ``POST /v1/messages`` (Anthropic): a message, or the SSE events
  message_start, content_block_start, ping, ``chunks`` content_block_delta,
  content_block_stop, message_delta, message_stop;
- ``GET /health``; ``GET|POST /_config`` (read or change the script: ``chunks``,
  ``delay_ms`` before each streamed chunk, ``tool`` for one ``Write`` tool call whose
  arguments come in ``chunks`` fragments instead of text); ``GET /_stats`` (counters).

The answer's content is `Script.text()` (or `Script.tool_input()`), which is
what `bench.load` checks every response against.

    python -m bench.upstream --port 8200 [--chunks 50] [--delay-ms 0] [--tool]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
from typing import Any

import msgspec

encode = msgspec.json.encode

WORDS = "The quick brown fox jumps over the lazy dog while the gateway streams".split()
# Escapes and non-ASCII, so a proxy that mangles encoding fails validation.
SUFFIXES = [" ", " ", "\n", ' "q" ', " é ", "\t", " ✓ "]
TOOL_NAME = "Write"
TOOL_PATH = "/tmp/bench/hello.txt"
MODEL = "gpt-4o"
CREATED = 1_700_000_000
MAX_HEAD = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Script:
    """What every answer holds: ``chunks`` text pieces (or tool-argument fragments)."""

    chunks: int = 50
    delay_ms: float = 0.0
    tool: bool = False

    def pieces(self) -> list[str]:
        """The text, piece by piece: what each streamed text chunk carries."""
        return [
            f"{WORDS[i % len(WORDS)]}{i}{SUFFIXES[i % len(SUFFIXES)]}" for i in range(self.chunks)
        ]

    def text(self) -> str:
        """The whole text of an answer."""
        return "".join(self.pieces())

    def tool_input(self) -> dict[str, str]:
        """The input of the tool call (tool mode)."""
        return {"file_path": TOOL_PATH, "content": self.text()}

    def fragments(self) -> list[str]:
        """The tool call's JSON arguments in ``chunks`` fragments (tool mode)."""
        arguments = encode(self.tool_input()).decode()
        size = -(-len(arguments) // max(1, self.chunks))
        return [arguments[i : i + size] for i in range(0, len(arguments), size)]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _Body(msgspec.Struct):
    """The only fields the upstream reads; the rest is skipped (but must be valid JSON)."""

    messages: list[msgspec.Raw]
    stream: bool = False
    stream_options: dict[str, Any] | None = None


_decode_body = msgspec.json.Decoder(_Body).decode


def _response(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 "
        + status.encode()
        + b"\r\ncontent-type: "
        + content_type
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def _chunk(frame: bytes) -> bytes:
    """One frame in chunked transfer encoding."""
    return b"%x\r\n%s\r\n" % (len(frame), frame)


def _data(payload: Any) -> bytes:
    return _chunk(b"data: " + encode(payload) + b"\n\n")


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return _chunk(
        b"event: " + kind.encode() + b"\ndata: " + encode({"type": kind, **payload}) + b"\n\n"
    )


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
STREAM_END = b"0\r\n\r\n"


@dataclasses.dataclass
class Frames:
    """Every answer of one script, encoded once."""

    openai_json: bytes
    openai_stream: list[bytes]  # role chunk, content chunks, finish chunk
    openai_usage: bytes
    openai_done: bytes
    anthropic_json: bytes
    anthropic_stream: list[bytes]

    @classmethod
    def build(cls, script: Script) -> Frames:
        usage = {
            "prompt_tokens": 5000,
            "completion_tokens": script.chunks,
            "total_tokens": 5000 + script.chunks,
            "prompt_tokens_details": {"cached_tokens": 0},
        }
        base = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": "fp_bench",
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _data({**base, "choices": [choice]})

        call_id, tool_id = "call_bench_1", "toolu_bench_1"
        if script.tool:
            head = {
                "index": 0,
                "id": call_id,
                "type": "function",
                "function": {"name": TOOL_NAME, "arguments": ""},
            }
            stream = [chunk({"role": "assistant", "content": None, "tool_calls": [head]})]
            stream += [
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]})
                for f in script.fragments()
            ]
            finish = "tool_calls"
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": TOOL_NAME, "arguments": "".join(script.fragments())},
                    }
                ],
            }
        else:
            stream = [chunk({"role": "assistant", "content": "", "refusal": None})]
            stream += [chunk({"content": piece}) for piece in script.pieces()]
            finish = "stop"
            message = {"role": "assistant", "content": script.text(), "refusal": None}
        stream.append(chunk({}, finish))
        completion = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": usage,
            "system_fingerprint": "fp_bench",
        }

        a_usage = {
            "input_tokens": 5000,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": script.chunks,
        }
        stop = "tool_use" if script.tool else "end_turn"
        if script.tool:
            block = {"type": "tool_use", "id": tool_id, "name": TOOL_NAME, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": f} for f in script.fragments()]
            content = [
                {"type": "tool_use", "id": tool_id, "name": TOOL_NAME, "input": script.tool_input()}
            ]
        else:
            block = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in script.pieces()]
            content = [{"type": "text", "text": script.text()}]
        message_shell = {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**a_usage, "output_tokens": 1},
        }
        a_stream = [
            _event("message_start", {"message": message_shell}),
            _event("content_block_start", {"index": 0, "content_block": block}),
            _event("ping", {}),
            *(_event("content_block_delta", {"index": 0, "delta": delta}) for delta in deltas),
            _event("content_block_stop", {"index": 0}),
            _event(
                "message_delta",
                {
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": script.chunks},
                },
            ),
            _event("message_stop", {}),
        ]
        a_message = {**message_shell, "content": content, "stop_reason": stop, "usage": a_usage}
        return cls(
            openai_json=_response("200 OK", encode(completion)),
            openai_stream=stream,
            openai_usage=_data({**base, "choices": [], "usage": usage}),
            openai_done=_chunk(b"data: [DONE]\n\n"),
            anthropic_json=_response("200 OK", encode(a_message)),
            anthropic_stream=a_stream,
        )


class Upstream:
    """The server's state: the script, its frames and the counters."""

    def __init__(self, script: Script) -> None:
        self.configure(script)
        self.stats = {"chat": 0, "messages": 0, "bad": 0, "streams": 0, "bytes_in": 0}

    def configure(self, script: Script) -> None:
        self.script = script
        self.frames = Frames.build(script)

    def control(self, method: str, path: str, body: bytes) -> bytes:
        """``/health``, ``/_config``, ``/_stats`` and 404s."""
        if path == "/health" and method in ("GET", "HEAD"):
            return _response("200 OK", b'{"status":"ok"}')
        if path == "/_stats" and method == "GET":
            return _response("200 OK", encode(self.stats))
        if path == "/_config" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    changes = msgspec.json.decode(body) if body else {}
                    self.configure(dataclasses.replace(self.script, **changes))
                except (msgspec.DecodeError, TypeError) as exc:
                    return _response("400 Bad Request", encode({"error": str(exc)}))
            return _response("200 OK", encode(self.script.as_dict()))
        return _response("404 Not Found", encode({"error": f"no route {method} {path}"}))


def _bad_request(message: str, anthropic: bool) -> bytes:
    if anthropic:
        body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    else:
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
    return _response("400 Bad Request", encode(body))


def _chunked_body(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a chunked request starting at ``start``, and where it ends; None if incomplete."""
    parts, at = [], start
    while True:
        eol = buffer.find(b"\r\n", at)
        if eol < 0:
            return None
        size = int(bytes(buffer[at:eol]).split(b";")[0], 16)
        if size == 0:
            end = buffer.find(b"\r\n\r\n", eol)  # no trailers expected: "0\r\n\r\n"
            return (b"".join(parts), end + 4) if end >= 0 else None
        if len(buffer) < eol + 2 + size + 2:
            return None
        parts.append(bytes(buffer[eol + 2 : eol + 2 + size]))
        at = eol + 2 + size + 2


class UpstreamProtocol(asyncio.Protocol):
    """One client connection: parse requests, write the pre-encoded answers."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a delayed stream is being written; later requests wait

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._process()

    def _process(self) -> None:
        while not self.busy and self.transport is not None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            head = bytes(self.buffer[:head_end]).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            try:
                method, target, version = request_line.split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                found = _chunked_body(self.buffer, head_end + 4)
                if found is None:
                    return
                body, end = found
            else:
                end = head_end + 4 + int(headers.get("content-length") or 0)
                if len(self.buffer) < end:
                    return
                body = bytes(self.buffer[head_end + 4 : end])
            del self.buffer[:end]
            keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            self._answer(method, target.partition("?")[0], body, keep_alive)

    def _answer(self, method: str, path: str, body: bytes, keep_alive: bool) -> None:
        upstream, transport = self.upstream, self.transport
        assert transport is not None
        upstream.stats["bytes_in"] += len(body)
        anthropic = path == "/v1/messages"
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/messages"):
            self._finish(upstream.control(method, path, body), keep_alive)
            return
        upstream.stats["messages" if anthropic else "chat"] += 1
        try:
            request = _decode_body(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            upstream.stats["bad"] += 1
            self._finish(_bad_request(f"bad body: {exc}", anthropic), keep_alive)
            return
        frames = upstream.frames
        if not request.stream:
            self._finish(frames.anthropic_json if anthropic else frames.openai_json, keep_alive)
            return
        upstream.stats["streams"] += 1
        if anthropic:
            stream = frames.anthropic_stream
        else:
            usage = bool((request.stream_options or {}).get("include_usage"))
            stream = [
                *frames.openai_stream,
                *([frames.openai_usage] if usage else []),
                frames.openai_done,
            ]
        delay = upstream.script.delay_ms / 1000
        if delay <= 0:
            transport.write(STREAM_HEAD)
            for frame in stream:  # one write (one send) per chunk, as a model server does
                transport.write(frame)
            self._finish(STREAM_END, keep_alive)
            return
        self.busy = True
        asyncio.get_running_loop().create_task(self._paced(stream, delay, keep_alive))

    async def _paced(self, stream: list[bytes], delay: float, keep_alive: bool) -> None:
        """A stream with ``delay`` seconds before each chunk after the first."""
        transport = self.transport
        if transport is None:
            return
        transport.write(STREAM_HEAD + stream[0])
        for frame in stream[1:]:
            await asyncio.sleep(delay)
            if transport.is_closing():
                return
            transport.write(frame)
        self.busy = False
        self._finish(STREAM_END, keep_alive)
        self._process()

    def _finish(self, data: bytes, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if not keep_alive:
            transport.close()


async def serve(host: str, port: int, script: Script) -> None:
    """Serve until SIGTERM or SIGINT."""
    upstream = Upstream(script)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: UpstreamProtocol(upstream), host, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=50, help="streamed chunks per answer")
    parser.add_argument(
        "--delay-ms", type=float, default=0.0, help="pause before each streamed chunk"
    )
    parser.add_argument("--tool", action="store_true", help="answer with a tool call, not text")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, Script(args.chunks, args.delay_ms, args.tool)))


if __name__ == "__main__":
    main()
