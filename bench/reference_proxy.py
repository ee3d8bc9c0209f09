"""The floor: a minimal Anthropic -> OpenAI translating proxy on lynkr's own stack.

Starlette on Hypercorn, one aiohttp session, msgspec for JSON; no plugins, no
validation beyond what translation needs, no logging. It translates the
system prompt, text, tool_use / tool_result and tools, and streams text and
tool calls back as Anthropic events. lynkr's figures are ratios against it.

    python -m bench.reference_proxy --port 8100 --upstream http://127.0.0.1:8200/v1/chat/completions
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid

import aiohttp
import msgspec
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

decode, encode = msgspec.json.decode, msgspec.json.encode
STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def to_openai(body: dict) -> dict:
    """The Chat Completions body for an Anthropic Messages body."""
    system = body.get("system") or ""
    if isinstance(system, list):
        system = "\n\n".join(b["text"] for b in system if b.get("type") == "text")
    messages = [{"role": "system", "content": system}] if system else []
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, str):
            messages.append({"role": message["role"], "content": content})
            continue
        texts = [b["text"] for b in content if b["type"] == "text"]
        calls = [
            {"id": b["id"], "type": "function",
             "function": {"name": b["name"], "arguments": encode(b["input"]).decode()}}
            for b in content if b["type"] == "tool_use"
        ]
        for b in content:
            if b["type"] == "tool_result":
                result = b.get("content", "")
                if isinstance(result, list):
                    result = "\n".join(part.get("text", "") for part in result)
                messages.append({"role": "tool", "tool_call_id": b["tool_use_id"], "content": result})
        if calls:
            messages.append({"role": "assistant", "content": "".join(texts) or None, "tool_calls": calls})
        elif texts:
            messages.append({"role": message["role"], "content": "".join(texts)})
    request = {"model": "gpt-4o", "messages": messages, "max_tokens": min(body["max_tokens"], 16384)}
    if body.get("tools"):
        request["tools"] = [
            {"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                              "parameters": t["input_schema"]}}
            for t in body["tools"]
        ]
    if body.get("stream"):
        request.update(stream=True, stream_options={"include_usage": True})
    return request


def frame(kind: str, data: dict) -> bytes:
    """One SSE event."""
    return b"event: " + kind.encode() + b"\ndata: " + encode({"type": kind, **data}) + b"\n\n"


async def events(response: aiohttp.ClientResponse, model: str):
    """Anthropic events for an OpenAI stream: text and tool calls, block by block."""
    message = {"id": "msg_" + uuid.uuid4().hex, "type": "message", "role": "assistant", "model": model,
               "content": [], "stop_reason": None, "usage": {"input_tokens": 0, "output_tokens": 0}}
    yield frame("message_start", {"message": message})
    index, kind, stop, usage, buffer = -1, None, "end_turn", {}, b""
    async for piece in response.content.iter_any():
        buffer += piece
        *lines, buffer = buffer.split(b"\n\n")
        for line in lines:
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = decode(line[6:])
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    if kind != "text":
                        if kind:
                            yield frame("content_block_stop", {"index": index})
                        index, kind = index + 1, "text"
                        yield frame("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
                    yield frame("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": delta["content"]}})
                for call in delta.get("tool_calls") or ():
                    if call.get("id"):
                        if kind:
                            yield frame("content_block_stop", {"index": index})
                        index, kind = index + 1, "tool"
                        block = {"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": {}}
                        yield frame("content_block_start", {"index": index, "content_block": block})
                    if call["function"].get("arguments"):
                        yield frame("content_block_delta", {"index": index, "delta": {
                            "type": "input_json_delta", "partial_json": call["function"]["arguments"]}})
                if choice.get("finish_reason"):
                    stop = STOP.get(choice["finish_reason"], "end_turn")
    if kind:
        yield frame("content_block_stop", {"index": index})
    yield frame("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                  "usage": {"output_tokens": usage.get("completion_tokens", 0)}})
    yield frame("message_stop", {})


def to_anthropic(completion: dict, model: str) -> dict:
    """The Anthropic message for a complete OpenAI answer."""
    choice = completion["choices"][0]
    content = [{"type": "text", "text": choice["message"]["content"]}] if choice["message"].get("content") else []
    for call in choice["message"].get("tool_calls") or ():
        content.append({"type": "tool_use", "id": call["id"], "name": call["function"]["name"],
                        "input": decode(call["function"]["arguments"] or "{}")})
    usage = completion.get("usage") or {}
    return {"id": "msg_" + uuid.uuid4().hex, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": STOP.get(choice.get("finish_reason"), "end_turn"),
            "stop_sequence": None, "usage": {"input_tokens": usage.get("prompt_tokens", 0),
                                              "output_tokens": usage.get("completion_tokens", 0)}}


def create_app(upstream: str) -> Starlette:
    """The proxy: ``POST /v1/messages`` and ``GET /health``."""
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        state["http"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await state["http"].close()

    async def messages(request: Request) -> Response:
        body = decode(await request.body())
        upstream_response = await state["http"].post(upstream, data=encode(to_openai(body)),
                                                     headers={"content-type": "application/json"})
        if not body.get("stream"):
            async with upstream_response:
                answer = to_anthropic(decode(await upstream_response.read()), body["model"])
            return Response(encode(answer), media_type="application/json")

        async def stream():
            async with upstream_response:
                async for event in events(upstream_response, body["model"]):
                    yield event

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [Route("/v1/messages", messages, methods=["POST"]), Route("/health", health)]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    """Serve the reference proxy on loopback."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the upstream's chat-completions URL")
    args = parser.parse_args()
    config = Config()
    config.bind = [f"127.0.0.1:{args.port}"]
    config.accesslog = None
    config.errorlog = None
    asyncio.run(serve(create_app(args.upstream), config))


if __name__ == "__main__":
    main()
