"""An exchange as a database row, and a row back as a ``StoredExchange``.

The request (as sent upstream) and the response are encoded with the wire module, so
their unknown fields survive; the steps are plain dicts built here (``Step``,
``Attempt`` and ``ToolCallRecord`` are dataclasses). A step's request is kept only when
it differs from the exchange's (a later step of a server-mode tool loop); the first
step's is the exchange's own. ``redact`` masks secrets in the JSON text, so what is
kept still decodes; ``none`` keeps no content at all.

The request's JSON comes in parts (``RequestJSON``: what precedes the messages, each
message, what follows), so that the database can keep only the messages an exchange
adds to its session's previous one (``db``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal, NamedTuple

import msgspec

from lynkr_core import Attempt, Exchange, Step, StoredExchange, ToolCallRecord, anthropic

Content = Literal["full", "redacted", "none"]

MASK = "[redacted]"

_usage_decoder = msgspec.json.Decoder(anthropic.Usage)
_encode = msgspec.json.Encoder().encode


class RequestJSON(NamedTuple):
    """A request's JSON in parts: ``head`` (``{"model":...,"messages":[``), each message's
    JSON, and ``tail`` (``]`` and the fields after the messages). ``messages`` is ``None``
    when the request did not encode in that shape: then ``head`` is all of it."""

    head: str
    messages: list[str] | None
    tail: str

    def text(self) -> str:
        """The request's JSON, whole."""
        return self.head + ",".join(self.messages or ()) + self.tail

    def masked(self, secrets: list[str]) -> RequestJSON:
        """Every part with ``secrets`` masked (``mask``)."""
        return RequestJSON(mask(self.head, secrets),
                           None if self.messages is None else [mask(m, secrets) for m in self.messages],
                           mask(self.tail, secrets))


def request_json(request: anthropic.MessagesRequest) -> RequestJSON:
    """``request``'s JSON (``anthropic.encode``) in parts."""
    whole = anthropic.encode(request)
    head = b'{"model":' + _encode(request.model) + b',"messages":['
    messages = [_encode(message) for message in request.messages]
    joined = b",".join(messages)
    start, end = len(head), len(head) + len(joined)
    if not (whole.startswith(head) and whole[start:end] == joined and whole[end:end + 1] == b"]"):
        return RequestJSON(whole.decode(), None, "")
    return RequestJSON(head.decode(), [message.decode() for message in messages], whole[end:].decode())


def mask(text: str, secrets: list[str]) -> str:
    """``text`` (JSON) with every secret, as it appears in a JSON string, replaced by ``MASK``;
    the longest first, so that a secret containing another is masked whole."""
    for secret in sorted(secrets, key=len, reverse=True):
        escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
        text = text.replace(escaped, MASK)
        ascii_escaped = json.dumps(secret)[1:-1]
        if ascii_escaped != escaped:
            text = text.replace(ascii_escaped, MASK)
    return text


def _step(step: Step, exchange: Exchange, exchange_request: RequestJSON) -> dict[str, Any]:
    # the first step's request is usually the exchange's own object: nothing to encode
    request = None
    if step.request is not exchange.request:
        encoded = anthropic.encode(step.request)
        if encoded != exchange_request.text().encode():
            request = msgspec.Raw(encoded)
    return {
        "index": step.index,
        "request": request,
        "response": None if step.response is None else msgspec.Raw(anthropic.encode(step.response)),
        "attempts": [dataclasses.asdict(attempt) for attempt in step.attempts],
        "tool_calls": [dataclasses.asdict(call) for call in step.tool_calls],
        "duration": step.duration,
        "error": step.error,
        "answered_by": step.answered_by,
    }


def to_row(exchange: Exchange, finished: float, content: Content, secrets: list[str],
           hidden_turns: str | None = None) -> dict[str, Any]:
    """The ``exchanges`` row of ``exchange`` (which has a session id; its ``request`` a
    ``RequestJSON``, made text by the database); ``hidden_turns``: its hidden tool turns as
    the store encoded (and masked) them, kept unless ``content`` is none."""
    context = exchange.context
    attempts = exchange.attempts
    provider = context.provider_name or (attempts[-1].provider if attempts else "")
    request: RequestJSON | None = None
    response = steps = None
    if content != "none":
        request = request_json(exchange.request)
        if exchange.response is not None:
            response = anthropic.encode(exchange.response).decode()
        steps = msgspec.json.encode([_step(step, exchange, request) for step in exchange.steps]).decode()
        if content == "redacted" and secrets:
            request = request.masked(secrets)
            response = None if response is None else mask(response, secrets)
            steps = mask(steps, secrets)
    return {
        "request_id": context.request_id,
        "session_id": exchange.session_id,
        "finished": finished,
        "streamed": int(exchange.streamed),
        "status": exchange.status,
        "provider": provider,
        "model": exchange.request.model,
        "usage": msgspec.json.encode(exchange.usage()).decode(),
        "duration": exchange.duration,
        "request": request,
        "response": response,
        "steps": steps,
        "hidden_turns": None if content == "none" else hidden_turns,
    }


def from_row(row: dict[str, Any]) -> StoredExchange:
    """A stored row back as the core's ``StoredExchange`` (content decoded when kept)."""
    request = None if row["request"] is None else anthropic.decode_request(row["request"].encode())
    response = None if row["response"] is None else anthropic.decode_response(row["response"].encode())
    steps: list[Step] = []
    if row["steps"] is not None and request is not None:
        for item in json.loads(row["steps"]):
            step_request = request if item["request"] is None else anthropic.decode_request(
                json.dumps(item["request"]).encode())
            step_response = None if item["response"] is None else anthropic.decode_response(
                json.dumps(item["response"]).encode())
            steps.append(Step(
                index=item["index"], request=step_request, response=step_response,
                attempts=[Attempt(**attempt) for attempt in item["attempts"]],
                tool_calls=[ToolCallRecord(**call) for call in item["tool_calls"]],
                duration=item["duration"], error=item["error"], answered_by=item["answered_by"],
            ))
    return StoredExchange(
        request_id=row["request_id"], session_id=row["session_id"], finished=row["finished"],
        streamed=bool(row["streamed"]), status=row["status"], provider=row["provider"],
        model=row["model"], usage=_usage_decoder.decode(row["usage"]), duration=row["duration"],
        request=request, response=response, steps=steps,
    )


def row_as_json(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as plain JSON data, content as stored (for the CLI and the admin routes)."""
    def loaded(value: str | None) -> Any:
        return None if value is None else json.loads(value)

    return {
        "request_id": row["request_id"], "session_id": row["session_id"], "finished": row["finished"],
        "streamed": bool(row["streamed"]), "status": row["status"], "provider": row["provider"],
        "model": row["model"], "usage": loaded(row["usage"]), "duration": row["duration"],
        "request": loaded(row["request"]), "response": loaded(row["response"]),
        "steps": loaded(row["steps"]),
    }
