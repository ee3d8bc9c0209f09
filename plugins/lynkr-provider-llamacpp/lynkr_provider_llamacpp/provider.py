"""The ``llamacpp`` provider: llama-server's OpenAI-compatible chat API and its ``/health``."""

from __future__ import annotations

import aiohttp
import msgspec

from lynkr_core import (
    HealthCheck,
    OpenAIChatProvider,
    RequestContext,
    SettingHelp,
    Settings,
    TargetOptions,
    provider_timeout,
    translate,
)
from lynkr_provider_llamacpp.config import SETTINGS_HELP, LlamaCppSettings


def chat_url(endpoint: str) -> str:
    """``<endpoint>/v1/chat/completions``, unless ``endpoint`` already is one."""
    base = endpoint.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


class LlamaCppProvider(OpenAIChatProvider):
    """Chat requests to llama-server.

    Models run without a tool-call template often print calls as text; those
    are turned into real tool calls unless ``LLAMACPP_TEXT_TOOL_CALLS=false``.
    """

    def __init__(self, settings: LlamaCppSettings, core: Settings) -> None:
        super().__init__(
            "llamacpp",
            url=chat_url(settings.endpoint),
            api_key=settings.api_key,
            model=settings.model,
            options=TargetOptions(
                model="",
                max_output_tokens=settings.max_output_tokens,
                context_window=settings.context_window,
                model_limits=translate.parse_model_limits(settings.model_limits, "LLAMACPP_MODEL_LIMITS"),
                reasoning="effort",
                model_reasoning=translate.parse_model_reasoning(settings.model_reasoning, "LLAMACPP_MODEL_REASONING"),
                think_tags=settings.think_tags,
                text_tool_calls=settings.text_tool_calls,
            ),
            model_variable="LLAMACPP_MODEL",
            timeout=provider_timeout(core, settings.timeout_ms),
            missing=None if settings.endpoint.strip() else {"endpoint": "LLAMACPP_ENDPOINT"},
        )
        base = settings.endpoint.rstrip("/").removesuffix("/chat/completions").removesuffix("/v1")
        self.health_url = base + "/health"

    def settings_help(self) -> list[SettingHelp]:
        """What ``lynkr init`` asks for (``config.settings_help``)."""
        return list(SETTINGS_HELP)

    async def check(self, context: RequestContext) -> HealthCheck:
        """llama-server's ``/health``: 200 once the model is loaded, 503 while loading."""
        missing = [*self._missing.values(), *([] if self.model else ["LLAMACPP_MODEL"])]
        if missing:
            return HealthCheck(ok=False, detail="missing settings: " + ", ".join(missing))
        try:
            async with context.http.get(self.health_url, headers=self.auth_headers()) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return HealthCheck(ok=False, detail=f"{self.health_url}: {type(exc).__name__}: {exc}")
        if response.status == 200:
            return HealthCheck(ok=True, detail=f"{self.health_url}: ok")
        try:
            detail = msgspec.json.decode(body)["error"]["message"]
        except (msgspec.DecodeError, KeyError, TypeError):
            detail = body[:200].decode("utf-8", errors="replace")
        return HealthCheck(ok=False, detail=f"{self.health_url}: HTTP {response.status} {detail}")
