"""The ``openrouter`` provider: OpenAI chat format, Bearer key, attribution headers.

OpenRouter reports some failures inside a 200 answer (an ``error`` object in
the body, or in a stream chunk with ``finish_reason: "error"``); the core's
translation turns both into errors the client sees. Its streams carry
``: OPENROUTER PROCESSING`` comments while a model warms up, which SSE
parsing skips.
"""

from __future__ import annotations

from lynkr_core import (
    OpenAIChatProvider,
    RequestContext,
    SettingHelp,
    Settings,
    TargetOptions,
    provider_timeout,
    translate,
)
from lynkr_provider_openrouter.config import SETTINGS_HELP, OpenRouterSettings

#: After ``OPENROUTER_MODEL_REASONING``: every model gets its reasoning back (OpenRouter's
#: ``reasoning_details``, which its docs ask to keep through tool calls).
REASONING_BACK = (translate.ModelReasoning("*", history=True),)


class OpenRouterProvider(OpenAIChatProvider):
    """Chat requests to OpenRouter; thinking goes as its ``reasoning`` object."""

    def __init__(self, settings: OpenRouterSettings, core: Settings) -> None:
        super().__init__(
            "openrouter",
            url=settings.endpoint,
            api_key=settings.api_key,
            model=settings.model,
            options=TargetOptions(
                model="",
                max_output_tokens=settings.max_output_tokens,
                context_window=settings.context_window,
                model_limits=translate.parse_model_limits(settings.model_limits, "OPENROUTER_MODEL_LIMITS"),
                model_reasoning=translate.parse_model_reasoning(settings.model_reasoning, "OPENROUTER_MODEL_REASONING") + REASONING_BACK,
                think_tags=settings.think_tags,
                reasoning="openrouter",
                cache_control_models=tuple(settings.cache_control_models),
            ),
            model_variable="OPENROUTER_MODEL",
            timeout=provider_timeout(core, settings.timeout_ms),
            missing=None if settings.api_key else {"api_key": "OPENROUTER_API_KEY"},
        )
        self.settings = settings

    def settings_help(self) -> list[SettingHelp]:
        """What ``lynkr init`` asks for (``config.settings_help``)."""
        return list(SETTINGS_HELP)

    def extra_headers(self, context: RequestContext) -> dict[str, str]:
        """App attribution: ``HTTP-Referer`` and ``X-Title``."""
        headers = {}
        if self.settings.referer:
            headers["http-referer"] = self.settings.referer
        if self.settings.title:
            headers["x-title"] = self.settings.title
        return headers
