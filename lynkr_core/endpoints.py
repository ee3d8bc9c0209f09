"""The core's HTTP endpoints: the Messages API, models, health."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from lynkr_core import __version__
from lynkr_core.client_headers import read_headers, session_id_for
from lynkr_core.context import RequestContext
from lynkr_core.disconnect import CancelOnDisconnect, ClientDisconnected
from lynkr_core.errors import InvalidRequest, NotFound
from lynkr_core.event_stream import CLIENT_CLOSED, EventStreamResponse
from lynkr_core.openai_api.models import model_for_both, models_for_both
from lynkr_core.pipeline import Pipeline
from lynkr_core.wire.anthropic import (
    DECODE_ERRORS,
    MessagesRequest,
    ModelList,
    TokenCount,
    decode_request,
    encode,
    request_problem,
)

JSON = "application/json"


def _pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def request_context(request: Request, parsed: MessagesRequest | None = None) -> RequestContext:
    """A fresh context for ``request``: its id, forwarded and visible headers, the session
    of ``parsed`` and the API key that made it (read straight from the ASGI scope, without
    building Starlette's Headers per request)."""
    forwarded, visible = read_headers(request.scope["headers"])
    context = _pipeline(request).context(
        request.scope["state"]["request_id"],
        forwarded,
        client_headers=visible,
        session_id=session_id_for(visible, parsed) if parsed is not None else None,
    )
    context.client_id = request.scope["state"].get("client_id")
    context.path = request.scope["path"]
    return context


def parse_messages_request(body: bytes, *, require_max_tokens: bool) -> MessagesRequest:
    """Decode and check a Messages API body; ``InvalidRequest`` says what is wrong and where."""
    if not body.strip():
        raise InvalidRequest("request body is empty; expected a JSON object")
    try:
        parsed = decode_request(body)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(_explain(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"request body is not valid UTF-8 (byte {exc.start} of a string)") from None
    except RecursionError:
        raise InvalidRequest("request body is nested too deeply") from None
    if not parsed.model.strip():
        raise InvalidRequest("model: must not be empty")
    if require_max_tokens:
        if parsed.max_tokens is msgspec.UNSET:
            raise InvalidRequest("max_tokens: Field required")
        if parsed.max_tokens < 1:
            raise InvalidRequest("max_tokens: must be at least 1")
    return parsed


def _explain(message: str) -> str:
    # msgspec says "Expected `int`, got `str` - at `$.max_tokens`"; put the location first.
    text, _, where = message.rpartition(" - at ")
    if not text:
        return message
    return f"{where.strip('`').removeprefix('$.')}: {text}"


def _json(payload: object, status: int = 200) -> Response:
    return Response(encode(payload), status_code=status, media_type=JSON)


async def create_message(request: Request) -> Response:
    """``POST /v1/messages``: a complete message as JSON, or an SSE stream."""
    body = await request.body()
    pipeline = _pipeline(request)
    pipeline.refuse_if_unavailable()
    parsed = parse_messages_request(body, require_max_tokens=True)
    context = request_context(request, parsed)
    if parsed.is_streaming:
        return EventStreamResponse(
            pipeline.stream(parsed, context),
            on_disconnect=lambda: context.log.info("client_disconnected"),
            extra_headers=context.response_headers,
        )
    try:
        async with CancelOnDisconnect(request.receive):
            message = await pipeline.complete(parsed, context)
    except ClientDisconnected:
        context.log.info("client_disconnected")
        return Response(status_code=CLIENT_CLOSED)
    response = _json(message)
    if context.response_headers:
        response.headers.update(context.response_headers)
    return response


async def count_tokens(request: Request) -> Response:
    """``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``."""
    body = await request.body()
    _pipeline(request).refuse_if_unavailable()
    parsed = parse_messages_request(body, require_max_tokens=False)
    try:
        tokens = await _pipeline(request).count_tokens(parsed, request_context(request, parsed))
    except DECODE_ERRORS:
        # Counting decodes every block; a malformed one is the client's error, not ours.
        problem = request_problem(parsed)
        if problem is None:
            raise
        raise InvalidRequest(problem) from None
    return _json(TokenCount(input_tokens=tokens))


async def list_models(request: Request) -> Response:
    """``GET /v1/models``: the models the configured provider serves."""
    _pipeline(request).refuse_if_unavailable()
    context = request_context(request)
    provider = _pipeline(request).provider_named(context.provider_name)
    models = await provider.list_models(context)
    listing = ModelList(
        data=models,
        first_id=models[0].id if models else None,
        last_id=models[-1].id if models else None,
    )
    return _json(models_for_both(listing, provider.name))  # Anthropic's and OpenAI's clients


async def get_model(request: Request) -> Response:
    """``GET /v1/models/{model_id}``."""
    _pipeline(request).refuse_if_unavailable()
    context = request_context(request)
    provider = _pipeline(request).provider_named(context.provider_name)
    wanted = request.path_params["model_id"]
    for model in await provider.list_models(context):
        if model.id == wanted:
            return _json(model_for_both(model, provider.name))
    raise NotFound(f"model: {wanted}")


async def root(request: Request) -> Response:
    """``GET /`` and ``HEAD /`` (the Claude Code CLI's warm-up)."""
    return _json({"name": "lynkr", "version": __version__})


async def event_logging(request: Request) -> Response:
    """``POST /api/event_logging/batch``: Claude Code's telemetry, read and dropped
    (answered so that the client does not log a 404 for every batch)."""
    await request.body()
    return Response(b'{"success":true}', media_type=JSON)


async def admin_reload(request: Request) -> Response:
    """``POST /v1/admin/reload`` (admin key): read ``.env`` and ``lynkr.toml`` again and put
    the new configuration in force in this worker (``lynkr_core.reload``). The answer names
    what changed and what needs a restart, never a value; a configuration that does not
    hold is refused with a 400 naming the setting and its file, and the old one is kept."""
    report = await request.app.state.reloader.reload(trigger="admin")
    if report.status == "refused":
        raise InvalidRequest(f"reload refused, the configuration in force is kept: {report.reason}")
    return Response(msgspec.json.encode(report), media_type=JSON)


async def health(request: Request) -> Response:
    """Liveness: the process answers."""
    return _json({"status": "ok"})


async def ready(request: Request) -> Response:
    """Readiness: started, and the configured provider registered and configured
    (otherwise 503, with the reason)."""
    pipeline = _pipeline(request)
    name = pipeline.settings.core.model_provider
    problem = pipeline.not_ready()
    if problem is not None:
        return _json({"status": "not_configured", "provider": name, "reason": problem}, status=503)
    if pipeline.http is None:
        return _json({"status": "starting", "provider": name}, status=503)
    return _json({"status": "ready", "provider": name, "plugins": pipeline.pm.enabled_names()})
