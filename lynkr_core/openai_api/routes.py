"""The HTTP endpoints of the OpenAI-format routes.

Each translates the client's request into the core's Messages request, runs
it through ``Pipeline.complete`` or ``Pipeline.stream`` (the same way as
``/v1/messages``), and translates the answer back. Every error, before or
instead of an answer, reaches the client in OpenAI's shape with its status.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import Response

from lynkr_core.context import RequestContext
from lynkr_core.disconnect import CancelOnDisconnect, ClientDisconnected
from lynkr_core.endpoints import request_context
from lynkr_core.errors import LynkrError
from lynkr_core.event_stream import CLIENT_CLOSED, EventStreamResponse
from lynkr_core.openai_api.chat_request import decode_chat_request, to_messages_request
from lynkr_core.openai_api.chat_response import chat_completion
from lynkr_core.openai_api.chat_stream import DONE_FRAME, ChunkTranslator
from lynkr_core.openai_api.embeddings import (
    decode_embeddings_request,
    embedding_provider,
    embedding_request,
    embeddings_answer,
)
from lynkr_core.openai_api.errors import OpenAIErrors, openai_error_response
from lynkr_core.openai_api.events import anthropic_events
from lynkr_core.openai_api.previous import PreviousTurns, previous_turns, response_id_for
from lynkr_core.openai_api.responses_request import (
    decode_responses_request,
    function_namespaces,
    response_echo,
)
from lynkr_core.openai_api.responses_request import to_messages_request as to_responses_messages
from lynkr_core.openai_api.responses_stream import ResponseBuilder, sse_frame
from lynkr_core.pipeline import Pipeline
from lynkr_core.streams import message_events
from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest, encode
from lynkr_core.wire.events import StreamEvent

JSON = "application/json"
#: A session id taken from a client's header as it is (anything else is not used).
_SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def _pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def context_for(request: Request, parsed: MessagesRequest) -> RequestContext:
    """A fresh request context, with the client's session and API key as ``/v1/messages``
    finds them."""
    return request_context(request, parsed)


def json_response(payload: object, context: RequestContext | None = None) -> Response:
    """``payload`` as JSON, with the headers plugins set for the client."""
    response = Response(encode(payload), media_type=JSON)
    if context is not None and context.response_headers:
        response.headers.update(context.response_headers)
    return response


async def run_complete(request: Request, parsed: MessagesRequest, context: RequestContext) -> MessageResponse | Response:
    """The pipeline's complete answer; a 499 response when the client left first."""
    try:
        async with CancelOnDisconnect(request.receive):
            return await _pipeline(request).complete(parsed, context)
    except ClientDisconnected:
        context.log.info("client_disconnected")
        return Response(status_code=CLIENT_CLOSED)


def stream_response(
    request: Request,
    parsed: MessagesRequest,
    context: RequestContext,
    translate: Callable[[AsyncIterator[StreamEvent]], AsyncIterator[bytes]],
) -> Response:
    """The pipeline's stream, its events translated by ``translate`` into the client's frames."""
    pipeline = _pipeline(request)
    frames = translate(anthropic_events(pipeline.stream(parsed, context)))
    response = EventStreamResponse(
        frames, on_disconnect=lambda: context.log.info("client_disconnected"),
        extra_headers=context.response_headers,
    )
    return OpenAIErrors(response, pipeline.redactor)  # type: ignore[return-value]


def _errors_as_openai(endpoint: Callable) -> Callable:
    """``endpoint`` with a ``LynkrError`` answered in OpenAI's shape."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except LynkrError as exc:
            return openai_error_response(exc, _pipeline(request).redactor)

    wrapped.__name__ = endpoint.__name__
    wrapped.__doc__ = endpoint.__doc__
    return wrapped


# --------------------------------------------------------------------------- #
# Chat Completions


@_errors_as_openai
async def chat_completions(request: Request) -> Response:
    """``POST /v1/chat/completions``: a ``chat.completion``, or a stream of chunks."""
    body = await request.body()
    pipeline = _pipeline(request)
    pipeline.refuse_if_unavailable()
    client = decode_chat_request(body)
    parsed = to_messages_request(client)
    context = context_for(request, parsed)
    if parsed.is_streaming:
        return stream_response(request, parsed, context, lambda events: _chat_chunks(
            events, ChunkTranslator(client.model, include_usage=client.include_usage)))
    answer = await run_complete(request, parsed, context)
    if isinstance(answer, Response):
        return answer
    return json_response(chat_completion(answer, client.model), context)


async def _chat_chunks(events: AsyncIterator[StreamEvent], translator: ChunkTranslator) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            for frame in translator.feed(event):
                yield frame
        if not translator.finished:
            yield DONE_FRAME
    finally:
        await events.aclose()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# Responses


@_errors_as_openai
async def create_response(request: Request) -> Response:
    """``POST /v1/responses``: a ``response`` object, or a stream of Responses events."""
    body = await request.body()
    pipeline = _pipeline(request)
    pipeline.refuse_if_unavailable()
    client = decode_responses_request(body)
    previous = None
    if client.previous_response_id:
        previous = await previous_turns(pipeline.observers.sessions, client.previous_response_id)
    parsed = to_responses_messages(client, previous.messages if previous else None)
    context = context_for(request, parsed)
    response_id = response_id_for(context.request_id)
    context.session_id = _responses_session(request, client.stored, previous, context.session_id, response_id)
    builder = ResponseBuilder(response_id, client.model, response_echo(client), function_namespaces(client))
    if parsed.is_streaming:
        return stream_response(request, parsed, context, lambda events: _response_events(events, builder))
    answer = await run_complete(request, parsed, context)
    if isinstance(answer, Response):
        return answer
    for event in message_events(answer):
        builder.feed(event)
    return json_response(builder.response(), context)


def _responses_session(request: Request, stored: bool, previous: PreviousTurns | None,
                       found: str | None, response_id: str) -> str | None:
    """The session a response is recorded under: none with ``store: false``; else the
    client's ``session-id`` (Codex) or ``session_id`` header, the previous response's session,
    the one ``/v1/messages`` would find, or a new one named after this response."""
    if not stored:
        return None
    header = request.headers.get("session-id") or request.headers.get("session_id")
    if header and _SAFE_ID.fullmatch(header):
        return header
    if previous is not None:
        return previous.session_id
    return found or response_id


async def _response_events(events: AsyncIterator[StreamEvent], builder: ResponseBuilder) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            for out in builder.feed(event):
                yield sse_frame(out)
        if not builder.finished:
            for out in builder.fail("api_error", "the answer ended before it was complete"):
                yield sse_frame(out)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# Embeddings


@_errors_as_openai
async def create_embeddings(request: Request) -> Response:
    """``POST /v1/embeddings``: vectors from the provider that embeds."""
    body = await request.body()
    pipeline = _pipeline(request)
    client = decode_embeddings_request(body)
    provider = embedding_provider(pipeline)
    context = request_context(request)
    context.purpose = "embeddings"
    context.provider_name = provider.name
    embeddings = await provider.embed(embedding_request(client), context)
    context.log.info("embeddings", provider=provider.name, inputs=len(embeddings.vectors),
                     input_tokens=embeddings.input_tokens)
    return json_response(embeddings_answer(embeddings, client.encoding_format, client.model))
