"""The ``openai`` provider: Chat Completions at a configured URL, Bearer auth."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from lynkr_core import (
    OpenAIChatProvider,
    RequestContext,
    SettingHelp,
    Settings,
    TargetOptions,
    anthropic,
    provider_timeout,
    translate,
)
from lynkr_provider_openai.config import SETTINGS_HELP, OpenAISettings


class OpenAIProvider(OpenAIChatProvider):
    """OpenAI itself, or any server that speaks its Chat Completions API.

    OpenAI's own API gets ``max_completion_tokens`` (``max_tokens`` is
    deprecated there and refused by reasoning models); other servers get
    ``max_tokens``, which they all know. ``reasoning_effort`` goes only to
    models that take it (``OPENAI_MODEL_REASONING``, else o-series, gpt-5, gpt-oss).
    """

    def __init__(self, settings: OpenAISettings, core: Settings) -> None:
        is_openai = urlsplit(settings.endpoint).hostname == "api.openai.com"
        super().__init__(
            "openai",
            url=settings.endpoint,
            api_key=settings.api_key,
            model=settings.model,
            options=TargetOptions(
                model="",
                max_output_tokens=settings.max_output_tokens,
                context_window=settings.context_window,
                model_limits=translate.parse_model_limits(settings.model_limits, "OPENAI_MODEL_LIMITS"),
                reasoning="effort",
                model_reasoning=translate.parse_model_reasoning(settings.model_reasoning, "OPENAI_MODEL_REASONING"),
                think_tags=settings.think_tags,
                token_field="max_completion_tokens" if is_openai else "max_tokens",
                text_tool_calls=settings.text_tool_calls,
                prompt_cache_key=is_openai if settings.prompt_cache_key is None else settings.prompt_cache_key,
                cache_control_models=tuple(settings.cache_control_models),
            ),
            model_variable="OPENAI_MODEL",
            timeout=provider_timeout(core, settings.timeout_ms),
            missing={"api_key": "OPENAI_API_KEY"} if is_openai and not settings.api_key else None,
        )
        self.organization = settings.organization

    def settings_help(self) -> list[SettingHelp]:
        """What ``lynkr init`` asks for (``config.settings_help``)."""
        return list(SETTINGS_HELP)

    def extra_headers(self, context: RequestContext) -> dict[str, str]:
        """``OpenAI-Organization`` when one is configured."""
        return {"openai-organization": self.organization} if self.organization else {}

    def target(self, request: anthropic.MessagesRequest, context: RequestContext) -> TargetOptions:
        """OpenAI's reasoning models take ``max_completion_tokens`` (``reasoning_effort`` goes
        to the models that take it, see ``translate.takes_reasoning_effort``)."""
        target = super().target(request, context)
        if translate.is_reasoning_model(target.model):
            return dataclasses.replace(target, token_field="max_completion_tokens")
        return target

