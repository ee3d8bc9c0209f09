"""A local upstream that fails on purpose: the fault server of the reliability suite.

`FaultServer` is an aiohttp server on 127.0.0.1 that speaks both wire formats lynkr's
providers use: a POST to `.../v1/messages` is answered as the Anthropic Messages API, a
POST to `.../chat/completions` as OpenAI Chat Completions, with the very frames, JSON
bodies and error envelopes of `fake_anthropic` and `fake_openai` (built with their
functions, so the three servers cannot drift apart). What each request gets is scripted,
one item per request, in order (`Answer()` once the script is used up):

    Answer(text, first_byte_delay)   the complete answer; with a delay, a slow first byte
    Silent()                         read the request, never answer
    HeadersThenStall()               200 and the headers, then nothing
    StallMidStream(after)            `after` frames (JSON: half the body), then nothing
    CutStream(after)                 `after` frames (JSON: half the body), then a clean end
    BadChunk(after)                  `after` frames, then one of invalid JSON (JSON: a broken body)
    HttpError(status, message, retry_after)   the format's error envelope with that status
    ErrorIn200(status, message, as_event)   HTTP 200 whose body (or only event) is an error
    Reset(after)                     a TCP reset before any byte, or after `after` frames

A stalled answer lasts until the client goes away (the request is then marked
`disconnected`) or the server stops. Upstreams that do not answer at all: `closed_port()`
(connection refused), `INVALID_HOST` (a DNS failure), `Blackhole` (a listener whose accept
queue is full, so connecting times out) and `FaultServer(tls=self_signed_tls(dir))` (a
certificate nobody trusts).

The server counts what a leak check needs: `accepted` TCP connections (TLS handshakes
that fail included), `open_connections` right now, and the requests it got (`attempts`).
`pool_state(session)` reads the other side: an aiohttp client session's connections in use
and idle.

    async with FaultServer([HttpError(503, "busy"), Answer("hi")]) as fault:
        ...  # point lynkr's OPENAI_ENDPOINT at fault.base_url + "/v1/chat/completions"
        assert fault.attempts() == 2
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import shutil
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web

from lynkr_core.testing.fake_anthropic import SSE_HEADERS, Reply, sse_frame, stream_events
from lynkr_core.testing.fake_anthropic import ErrorReply as AnthropicError
from lynkr_core.testing.fake_anthropic import _error_body as anthropic_error_body
from lynkr_core.testing.fake_anthropic import _message as anthropic_message
from lynkr_core.testing.fake_anthropic import _usage as anthropic_usage
from lynkr_core.testing.fake_openai import _DIALECT_CLASSES as OPENAI_DIALECTS
from lynkr_core.testing.fake_openai import DONE_FRAME, ChatReply, data_frame
from lynkr_core.testing.fake_openai import _reply_usage as openai_usage
from lynkr_core.testing.fake_openai import _Route as OpenAIRoute
from lynkr_core.testing.fake_openai import _Turn as OpenAITurn
from lynkr_core.testing.fake_openai import _wants_usage as openai_wants_usage
from lynkr_core.testing.scripted import (
    RecordedRequest,
    ScriptedServer,
    dumps,
    new_id,
    retry_after_header,
    wait_while_connected,
)

__all__ = [
    "INVALID_HOST",
    "Answer",
    "BadChunk",
    "Blackhole",
    "CutStream",
    "ErrorIn200",
    "Fault",
    "FaultServer",
    "HeadersThenStall",
    "HttpError",
    "PoolState",
    "Reset",
    "Silent",
    "StallMidStream",
    "WireName",
    "closed_port",
    "eventually",
    "pool_state",
    "self_signed_tls",
]

WireName = Literal["anthropic", "openai"]

INVALID_HOST = "lynkr-fault-server.invalid"
"""A host name that never resolves (``.invalid`` is reserved for that, RFC 6761)."""

#: How long a stalled answer waits for its client to leave: longer than any test.
FOREVER = 3600.0

_TEXT = "The fault server answered this in full."


# --- the script ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The complete answer, `first_byte_delay` seconds after the request (a slow upstream)."""

    text: str = _TEXT
    first_byte_delay: float = 0.0


@dataclass(frozen=True)
class Silent:
    """Accept the connection, read the request, and never answer."""


@dataclass(frozen=True)
class HeadersThenStall:
    """HTTP 200 with the headers of the answer (an event stream, or JSON), then nothing."""


@dataclass(frozen=True)
class StallMidStream:
    """The first `after` frames of the answer, then nothing (JSON: half the body)."""

    after: int = 3


@dataclass(frozen=True)
class CutStream:
    """The first `after` frames, then the body ends cleanly without the final event
    (`message_stop`, or the finish chunk and `[DONE]`); JSON: half the body, then its end."""

    after: int = 3


@dataclass(frozen=True)
class BadChunk:
    """The first `after` frames, then a frame whose data is not JSON, then the rest of the
    stream; a JSON answer is a broken JSON body."""

    after: int = 3


@dataclass(frozen=True)
class HttpError:
    """HTTP `status` with the wire format's error envelope, and `retry-after` when given."""

    status: int
    message: str = "scripted upstream failure"
    retry_after: float | None = None


@dataclass(frozen=True)
class ErrorIn200:
    """HTTP 200 whose body is the format's error envelope for `status`: a JSON body,
    streaming request or not, or (`as_event`, to a streaming request) an event stream
    whose only event is that error (Anthropic's `error` event, OpenAI's error chunk).
    Some proxies, OpenRouter, and Anthropic when overloaded answer like this."""

    status: int = 529
    message: str = "upstream failed after saying 200"
    as_event: bool = False


@dataclass(frozen=True)
class Reset:
    """A TCP reset (RST): before any byte when `after` is None, else after `after` frames
    of a stream (JSON: after half the body)."""

    after: int | None = None


Fault = Answer | Silent | HeadersThenStall | StallMidStream | CutStream | BadChunk | HttpError | ErrorIn200 | Reset


# --- the two wire formats --------------------------------------------------------------


class _Wire:
    """What one wire format answers with: frames of a stream, a JSON body, an error body."""

    name: WireName
    stream_headers: dict[str, str]
    bad_frame: bytes

    def frames(self, body: dict[str, Any], text: str) -> list[bytes]:
        """Every frame of a complete stream answering `body` with `text`."""
        raise NotImplementedError

    def message(self, body: dict[str, Any], text: str) -> bytes:
        """The complete JSON answer."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> bytes:
        """The format's error envelope for `status`."""
        raise NotImplementedError

    def error_frame(self, status: int, message: str) -> bytes:
        """The stream frame that reports an error."""
        raise NotImplementedError


class _AnthropicWire(_Wire):
    """Anthropic's Messages API, as `fake_anthropic` speaks it."""

    name: WireName = "anthropic"
    stream_headers = SSE_HEADERS
    bad_frame = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"no closing brace\n\n'
    )

    def _reply(self, body: dict[str, Any], text: str) -> tuple[Reply, dict[str, Any]]:
        reply = Reply.text(text)
        return reply, anthropic_usage(body, reply)

    def frames(self, body: dict[str, Any], text: str) -> list[bytes]:
        """`message_start` ... `message_stop` of a text answer."""
        reply, usage = self._reply(body, text)
        events = stream_events(reply, message_id=new_id("msg_"), model=body["model"], usage=usage)
        return [sse_frame(name, data) for name, data in events]

    def message(self, body: dict[str, Any], text: str) -> bytes:
        """An Anthropic `message` object."""
        reply, usage = self._reply(body, text)
        message = anthropic_message(
            new_id("msg_"), body["model"], reply.content, reply.final_stop_reason(), usage
        )
        return dumps(message).encode()

    def error(self, status: int, message: str) -> bytes:
        """`{"type": "error", "error": {...}, "request_id": ...}`."""
        error_type = AnthropicError(status).resolved_type()
        return dumps(anthropic_error_body(error_type, message, new_id("req_"))).encode()

    def error_frame(self, status: int, message: str) -> bytes:
        """`event: error` (no request id inside a stream, as Anthropic sends it)."""
        return sse_frame("error", anthropic_error_body(AnthropicError(status).resolved_type(), message))


class _OpenAIWire(_Wire):
    """OpenAI Chat Completions, as `fake_openai`'s "openai" dialect speaks it."""

    name: WireName = "openai"
    bad_frame = b'data: {"id":"chatcmpl-broken","choices":[{"index":0,"delta":{"content":"no closing brace\n\n'

    def __init__(self) -> None:
        self._dialect = OPENAI_DIALECTS["openai"](None, None, None)
        self.stream_headers = {
            "Content-Type": self._dialect.sse_content_type,
            "Cache-Control": "no-cache",
        }

    def _turn(self, body: dict[str, Any], text: str) -> OpenAITurn:
        reply = ChatReply(text, chunk_size=8)
        dialect = self._dialect
        return OpenAITurn(
            reply=reply,
            id=dialect.completion_id(),
            created=int(time.time()),
            model=dialect.response_model(body, OpenAIRoute("chat")),
            usage=openai_usage(body, reply),
            include_usage=openai_wants_usage(body, reply, dialect.name),
            call_ids=[],
        )

    def frames(self, body: dict[str, Any], text: str) -> list[bytes]:
        """The chunks of a text answer, the finish chunk (and usage chunk), `[DONE]`."""
        chunks = self._dialect.chunks(self._turn(body, text))
        return [data_frame(chunk) for chunk in chunks] + [DONE_FRAME]

    def message(self, body: dict[str, Any], text: str) -> bytes:
        """A `chat.completion` object."""
        return dumps(self._dialect.completion(self._turn(body, text))).encode()

    def error(self, status: int, message: str) -> bytes:
        """`{"error": {"message", "type", "param", "code"}}`."""
        return dumps(self._dialect.error_body(status, message)).encode()

    def error_frame(self, status: int, message: str) -> bytes:
        """A data chunk holding the error envelope, as OpenAI-format servers send it."""
        return data_frame(self._dialect.error_body(status, message))


_WIRES: dict[WireName, _Wire] = {"anthropic": _AnthropicWire(), "openai": _OpenAIWire()}


def _wire_of(path: str) -> _Wire | None:
    if path.endswith("/v1/messages"):
        return _WIRES["anthropic"]
    if path.endswith("/chat/completions"):
        return _WIRES["openai"]
    return None


# --- the server ----------------------------------------------------------------------


class FaultServer(ScriptedServer):
    """A scripted, failing upstream on 127.0.0.1 that speaks both wire formats.

    `script` is a sequence of faults, one per request in order (then `Answer()`), or a
    callable from the decoded request body to one (to fail by model, for example). With
    `tls` (an `ssl.SSLContext` for the server side) it serves HTTPS.
    """

    thread_name = "fault-server"

    def __init__(
        self,
        script: Sequence[Fault] | Callable[[Any], Fault] | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(script)
        self.tls = tls
        self.accepted = 0
        self._listener: asyncio.Server | None = None

    def default_item(self) -> Fault:
        """A complete answer once the script is used up."""
        return Answer()

    def attempts(self, wire: WireName | None = None) -> int:
        """How many chat requests arrived (of one wire format, or of both)."""
        return sum(
            1
            for record in self.requests
            if (found := _wire_of(record.path)) is not None and wire in (None, found.name)
        )

    @property
    def open_connections(self) -> int:
        """TCP connections open right now (ones mid-way through a TLS handshake aside)."""
        if self._runner is None or self._runner.server is None:
            return 0
        return len(self._runner.server.connections)

    @property
    def disconnected(self) -> int:
        """Requests whose client went away while their answer was held back or stalled."""
        return sum(1 for record in self.requests if record.disconnected)

    async def start(self) -> str:
        """Serve on a free port of 127.0.0.1 (HTTPS with `tls`); return the base URL.

        The listening socket is the server's own rather than an aiohttp site, so that
        every accepted connection is counted before any TLS handshake.
        """
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        handlers = self._runner.server
        assert handlers is not None

        def accept() -> asyncio.Protocol:
            self.accepted += 1
            return handlers()

        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(accept, "127.0.0.1", 0, ssl=self.tls)
        port = self._listener.sockets[0].getsockname()[1]
        self.base_url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening, then close open connections (stalled answers end)."""
        if self._listener is not None:
            self._listener.close()
        await super().stop()
        if self._listener is not None:
            await self._listener.wait_closed()
            self._listener = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request and answer it with the next fault of the script."""
        record = await self._record(request)
        wire = _wire_of(request.path)
        if request.method != "POST" or wire is None or not isinstance(record.json, dict):
            return web.json_response({"error": f"no such route: {request.method} {request.path}"}, status=404)
        fault = self._next_item(record.json)
        streaming = record.json.get("stream") is True
        answer = _Answerer(request, record, wire, streaming)
        return await answer.fault(fault)


class _Answerer:
    """Answers one request with one fault."""

    def __init__(self, request: web.Request, record: RecordedRequest, wire: _Wire, streaming: bool) -> None:
        self.request = request
        self.record = record
        self.wire = wire
        self.streaming = streaming

    async def fault(self, fault: Fault) -> web.StreamResponse:
        """The answer `fault` describes."""
        body = self.record.json
        match fault:
            case Answer(text=text, first_byte_delay=delay):
                if not await wait_while_connected(self.request, self.record, delay):
                    return web.StreamResponse()
                return await self._send(self._parts(body, text))
            case Silent():
                await self._stall()
                return web.StreamResponse()
            case HeadersThenStall():
                return await self._send([], stall=True)
            case StallMidStream(after=after):
                return await self._send(self._parts(body, _TEXT)[:after] if self.streaming
                                        else [self._half(body)], stall=True)
            case CutStream(after=after):
                if not self.streaming:
                    return await self._send([self._half(body)])
                return await self._send(self._parts(body, _TEXT)[:after])
            case BadChunk(after=after):
                if not self.streaming:
                    return await self._send([self._half(body) + b"}}"])
                parts = self._parts(body, _TEXT)
                return await self._send([*parts[:after], self.wire.bad_frame, *parts[after:]])
            case HttpError(status=status, message=message, retry_after=seconds):
                return web.Response(
                    status=status,
                    body=self.wire.error(status, message),
                    content_type="application/json",
                    headers=retry_after_header(seconds),
                )
            case ErrorIn200(status=status, message=message, as_event=True) if self.streaming:
                return await self._send([self.wire.error_frame(status, message)])
            case ErrorIn200(status=status, message=message):
                return web.Response(body=self.wire.error(status, message), content_type="application/json")
            case Reset(after=None):
                await self._reset()
                return web.StreamResponse()
            case Reset(after=after):
                parts = self._parts(body, _TEXT)[:after] if self.streaming else [self._half(body)]
                return await self._send(parts, reset=True)
        raise TypeError(f"not a fault: {fault!r}")

    def _parts(self, body: dict[str, Any], text: str) -> list[bytes]:
        """The stream's frames, or the JSON answer as one part."""
        if self.streaming:
            return self.wire.frames(body, text)
        return [self.wire.message(body, text)]

    def _half(self, body: dict[str, Any]) -> bytes:
        whole = self.wire.message(body, _TEXT)
        return whole[: len(whole) // 2]

    async def _send(self, parts: list[bytes], *, stall: bool = False, reset: bool = False) -> web.StreamResponse:
        """A 200 with the answer's headers and `parts`, then its end, a stall or a reset."""
        headers = self.wire.stream_headers if self.streaming else {"Content-Type": "application/json"}
        response = web.StreamResponse(headers=headers)
        if not self.streaming and not stall and not reset:
            response.content_length = sum(len(part) for part in parts)
        try:
            await response.prepare(self.request)
            for part in parts:
                await response.write(part)
            if stall:
                await self._stall()
            elif reset:
                await self._reset(after_writing=True)
            else:
                await response.write_eof()
        except ConnectionResetError:
            self.record.disconnected = True
        return response

    async def _stall(self) -> None:
        await wait_while_connected(self.request, self.record, FOREVER)

    async def _reset(self, *, after_writing: bool = False) -> None:
        """Close with RST instead of FIN; after writing, once the client has had what was
        written (a reset makes the receiver drop what it has not read yet)."""
        transport = self.request.transport
        if transport is None:
            return
        if after_writing:
            for _ in range(100):
                if transport.get_write_buffer_size() == 0:
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.05)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


# --- upstreams that do not answer at all ----------------------------------------------


def closed_port() -> int:
    """A port of 127.0.0.1 that refuses connections (nothing listens on it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Blackhole:
    """A listener on 127.0.0.1 that never accepts, its one-place queue already taken: the
    kernel drops further SYNs, so a client's connect hangs until its connect timeout.

        with Blackhole() as port:
            ...  # http://127.0.0.1:{port}/ never connects
    """

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._fillers: list[socket.socket] = []

    def __enter__(self) -> int:
        """Listen, fill the accept queue; the port."""
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        port = self._listener.getsockname()[1]
        for _ in range(4):  # backlog 0 holds one or two, depending on the kernel
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            self._fillers.append(filler)
        return port

    def __exit__(self, *exc_info: object) -> None:
        """Close the listener and the queued connections."""
        for sock in (*self._fillers, self._listener):
            sock.close()


def self_signed_tls(directory: Path) -> ssl.SSLContext:
    """A server-side TLS context with a throwaway self-signed certificate for 127.0.0.1,
    written to `directory` (made with `cryptography` when installed, else `openssl`)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if importlib.util.find_spec("cryptography") is not None:
        _write_cert_with_cryptography(cert, key)
    elif shutil.which("openssl"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
    else:  # pragma: no cover - every CI image has one of the two
        raise RuntimeError("making a test certificate needs the cryptography package or openssl")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _write_cert_with_cryptography(cert: Path, key: Path) -> None:  # pragma: no cover
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


# --- the client side of a leak check ---------------------------------------------------


@dataclass(frozen=True)
class PoolState:
    """An aiohttp client session's connections: handed out to a request, and idle in the pool."""

    acquired: int
    idle: int


def pool_state(session: aiohttp.ClientSession) -> PoolState:
    """How many of `session`'s connections are in use and how many wait idle in its pool.

    aiohttp has no public API for this; it reads the connector's `_acquired` and `_conns`
    (aiohttp 3.14, pinned by uv.lock), in this one place.
    """
    connector: Any = session.connector
    if connector is None or connector.closed:
        return PoolState(0, 0)
    idle = sum(len(entries) for entries in connector._conns.values())
    return PoolState(len(connector._acquired), idle)


async def eventually(check: Callable[[], bool], within: float = 3.0) -> bool:
    """Poll `check` every 10 ms until it holds or `within` seconds pass; its last result."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() >= deadline:
            return check()
        await asyncio.sleep(0.01)
    return True

