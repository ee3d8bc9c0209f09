"""``EndAtShutdown``: a model request the server cancels at the end of the shutdown grace
period still gets a complete answer (the SIGTERM test through ``lynkr start`` is
tests/reliability/test_graceful_shutdown.py)."""

from __future__ import annotations

import asyncio
import json

import pytest

from lynkr_core.draining import EndAtShutdown, ignore_cancelled_connections
from lynkr_core.wire.sse import SSEParser

SSE = [(b"content-type", b"text/event-stream; charset=utf-8")]


def cut_app(*messages: dict):
    """An ASGI app that sends ``messages``, then is cancelled as Hypercorn cancels it."""
    async def app(scope, receive, send):
        for message in messages:
            await send(message)
        raise asyncio.CancelledError

    return app


async def run(app, path: str) -> list[dict]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    with pytest.raises(asyncio.CancelledError):  # the cancellation goes on after the answer
        await EndAtShutdown(app)({"type": "http", "path": path}, receive, send)
    return sent


def body_of(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_a_stream_cut_by_the_shutdown_ends_with_an_overloaded_error_event():
    sent = await run(cut_app({"type": "http.response.start", "status": 200, "headers": SSE},
                             {"type": "http.response.body", "body": b"event: ping\ndata: {}\n\n", "more_body": True}),
                     "/v1/messages")
    frames = SSEParser().feed(body_of(sent))
    assert [f.event for f in frames] == ["ping", "error"]
    assert json.loads(frames[-1].data)["error"]["type"] == "overloaded_error"
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_request_with_no_answer_yet_gets_a_529():
    sent = await run(cut_app(), "/v1/messages")
    assert sent[0]["status"] == 529
    assert (b"retry-after", b"1") in sent[0]["headers"]
    error = json.loads(body_of(sent))
    assert error["type"] == "error" and error["error"]["type"] == "overloaded_error"


async def test_openai_routes_get_openai_shapes():
    sent = await run(cut_app(), "/v1/chat/completions")
    assert sent[0]["status"] == 529
    assert json.loads(body_of(sent))["error"]["type"] == "server_error"
    sent = await run(cut_app({"type": "http.response.start", "status": 200, "headers": SSE}), "/v1/responses")
    assert body_of(sent).startswith(b'data: {"error":')
    assert sent[-1]["more_body"] is False


async def test_a_finished_answer_and_other_routes_are_left_alone():
    done = await run(cut_app({"type": "http.response.start", "status": 200, "headers": SSE},
                             {"type": "http.response.body", "body": b"", "more_body": False}), "/v1/messages")
    assert len(done) == 2
    other = await run(cut_app(), "/v1/models")
    assert other == []


async def test_cancelled_connection_reports_are_dropped_and_others_kept():
    loop = asyncio.get_running_loop()
    seen: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        ignore_cancelled_connections(loop)
        ignore_cancelled_connections(loop)  # a second app in the same loop: no second layer
        loop.call_exception_handler({"message": "cut", "exception": asyncio.CancelledError()})
        loop.call_exception_handler({"message": "real", "exception": ValueError("x")})
    finally:
        loop.set_exception_handler(previous)
    assert [c["message"] for c in seen] == ["real"]
