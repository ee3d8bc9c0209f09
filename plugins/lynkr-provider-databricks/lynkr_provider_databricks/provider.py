"""The ``databricks`` provider: a serving endpoint's ``invocations``, chat format, Bearer token."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import msgspec

from lynkr_core import (
    ContextOverflow,
    OpenAIChatProvider,
    RequestContext,
    SettingHelp,
    Settings,
    TargetOptions,
    UpstreamError,
    anthropic,
    openai,
    provider_timeout,
    translate,
)
from lynkr_provider_databricks.config import SETTINGS_HELP, DatabricksSettings

#: After ``DATABRICKS_MODEL_REASONING``: Claude endpoints get their signed thinking back
#: (Claude thinks on in a tool loop only when its last turn starts with it).
CLAUDE_REASONING = (translate.ModelReasoning("*claude*", history=True),)

_ENDPOINT_NAME = re.compile(r"/serving-endpoints/([^/]+)/invocations/?$")

#: The HTTP status of each Databricks ``error_code`` met inside a stream.
ERROR_CODE_STATUS = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class DatabricksProvider(OpenAIChatProvider):
    """Chat requests to ``<api_base><endpoint_path>``.

    The endpoint name in the path picks the model, so the body carries no
    ``model``. Claude endpoints take Anthropic's ``thinking`` object for
    extended thinking and answer reasoning as ``reasoning`` content parts with
    signatures; GPT endpoints take ``reasoning_effort``.
    """

    def __init__(self, settings: DatabricksSettings, core: Settings) -> None:
        path = "/" + settings.endpoint_path.lstrip("/")
        match = _ENDPOINT_NAME.search(path)
        missing = {
            field: var
            for field, var in (("api_base", "DATABRICKS_API_BASE"), ("api_key", "DATABRICKS_API_KEY"))
            if not getattr(settings, field)
        }
        super().__init__(
            "databricks",
            url=settings.api_base.rstrip("/") + path,
            api_key=settings.api_key,
            model=match.group(1) if match else path.strip("/"),
            options=TargetOptions(
                model="",
                max_output_tokens=settings.max_output_tokens,
                context_window=settings.context_window,
                model_limits=translate.parse_model_limits(settings.model_limits, "DATABRICKS_MODEL_LIMITS"),
                model_reasoning=translate.parse_model_reasoning(settings.model_reasoning, "DATABRICKS_MODEL_REASONING") + CLAUDE_REASONING,
                think_tags=settings.think_tags,
                cache_control_models=tuple(settings.cache_control_models),
            ),
            timeout=provider_timeout(core, settings.timeout_ms),
            missing=missing,
        )
        self.api_base = settings.api_base.rstrip("/")

    def settings_help(self) -> list[SettingHelp]:
        """What ``lynkr init`` asks for (``config.settings_help``)."""
        return list(SETTINGS_HELP)

    def endpoint(self, context: RequestContext) -> str:
        """The configured path, or the routed endpoint's invocations path."""
        if context.model and context.model != self.model:
            return f"{self.api_base}/serving-endpoints/{context.model}/invocations"
        return self.url

    def target(self, request: anthropic.MessagesRequest, context: RequestContext) -> TargetOptions:
        """Claude endpoints think with ``thinking``; other endpoints with an effort, when
        ``DATABRICKS_MODEL_REASONING`` or their names say they take one."""
        target = super().target(request, context)
        if translate.is_claude_model(target.model):
            return dataclasses.replace(target, reasoning="databricks")
        return dataclasses.replace(target, reasoning="effort")

    def decode_chunk(self, data: str) -> openai.ChatCompletionChunk:
        """A stream chunk; a Databricks ``{"error_code", "message"}`` data event raises
        ``UpstreamError`` with its message (the OpenAI chunk shape has no room for it)."""
        if '"error_code"' in data:
            _raise_error_chunk(data)
        return super().decode_chunk(data)

    def encode_body(self, translated: translate.Translated) -> bytes:
        """The chat body without ``model``: the endpoint in the URL is the model."""
        body = openai.to_builtins(translated.request)
        body.pop("model", None)
        body.update(translated.extra)
        return msgspec.json.encode(body)


def _raise_error_chunk(data: str) -> None:
    """Raise the ``UpstreamError`` of a data event that is a Databricks error body."""
    try:
        body: Any = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return
    if not isinstance(body, dict) or "error_code" not in body or "choices" in body:
        return
    code = str(body["error_code"])
    message = f"{code}: {body.get('message') or 'upstream stream failed'}"
    overflow = translate.find_overflow_in_body(data.encode())
    if overflow is not None:  # the prompt is over the window: never retried, reworded by the core
        raise ContextOverflow(message, tokens=overflow.tokens, maximum=overflow.maximum)
    raise UpstreamError(message, status=ERROR_CODE_STATUS.get(code, 502))
