"""The ``azure-openai`` provider: a deployment's chat completions, ``api-key`` header."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import quote, unquote, urlsplit

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
from lynkr_provider_azure_openai.config import SETTINGS_HELP, AzureOpenAISettings

_DEPLOYMENT = re.compile(r"/openai/deployments/([^/?#]+)/chat/completions")


def url_deployment(endpoint: str) -> str | None:
    """The deployment a full chat-completions URL names, ``None`` for other endpoints."""
    match = _DEPLOYMENT.search(urlsplit(endpoint).path)
    return unquote(match.group(1)) if match else None


def chat_url(endpoint: str, deployment: str, api_version: str) -> str:
    """The chat-completions URL for ``deployment``.

    A full URL is taken as it is (its deployment replaced by ``deployment``
    when it names another; ``api-version`` added when it has none);
    ``.../openai/v1`` gets ``/chat/completions`` (the deployment goes in the
    body); a resource URL gets the deployment path.
    """
    base = endpoint.rstrip("/")
    if "/chat/completions" in base:
        if url_deployment(base) not in (None, deployment):
            path = f"/openai/deployments/{quote(deployment, safe='')}/chat/completions"
            base = _DEPLOYMENT.sub(lambda _: path, base, count=1)
        if "/openai/v1/" in base or "api-version=" in base:
            return base
        return f"{base}{'&' if '?' in base else '?'}api-version={api_version}"
    if base.endswith("/openai/v1"):
        return base + "/chat/completions"
    root = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}" if "/openai" in base else base
    return f"{root}/openai/deployments/{quote(deployment, safe='')}/chat/completions?api-version={api_version}"


class AzureOpenAIProvider(OpenAIChatProvider):
    """Chat requests to an Azure OpenAI deployment; a routed model names another deployment."""

    def __init__(self, settings: AzureOpenAISettings, core: Settings) -> None:
        missing = {
            field: var
            for field, var in (("endpoint", "AZURE_OPENAI_ENDPOINT"), ("api_key", "AZURE_OPENAI_API_KEY"))
            if not getattr(settings, field)
        }
        # a full deployment URL names the deployment itself
        deployment = url_deployment(settings.endpoint) or settings.deployment
        super().__init__(
            "azure-openai",
            url=(
                chat_url(settings.endpoint, deployment, settings.api_version)
                if settings.endpoint
                else ""
            ),
            api_key=settings.api_key,
            model=deployment,
            options=TargetOptions(
                model="",
                max_output_tokens=settings.max_output_tokens,
                context_window=settings.context_window,
                model_limits=translate.parse_model_limits(settings.model_limits, "AZURE_OPENAI_MODEL_LIMITS"),
                reasoning="effort",
                model_reasoning=translate.parse_model_reasoning(settings.model_reasoning, "AZURE_OPENAI_MODEL_REASONING"),
                think_tags=settings.think_tags,
                prompt_cache_key=settings.prompt_cache_key,
            ),
            model_variable="AZURE_OPENAI_DEPLOYMENT",
            timeout=provider_timeout(core, settings.timeout_ms),
            missing=missing,
        )
        self.settings = settings

    def settings_help(self) -> list[SettingHelp]:
        """What ``lynkr init`` asks for (``config.settings_help``)."""
        return list(SETTINGS_HELP)

    def endpoint(self, context: RequestContext) -> str:
        """The configured deployment's URL, or the routed deployment's."""
        if context.model and context.model != self.model:
            return chat_url(self.settings.endpoint, context.model, self.settings.api_version)
        return self.url

    def auth_headers(self) -> dict[str, str]:
        """Azure's ``api-key`` header."""
        return {"api-key": self._api_key}

    def target(self, request: anthropic.MessagesRequest, context: RequestContext) -> TargetOptions:
        """Reasoning deployments (o-series, gpt-5) take ``max_completion_tokens``; ``reasoning_effort``
        goes to those ``AZURE_OPENAI_MODEL_REASONING`` or their names say take it."""
        target = super().target(request, context)
        if translate.is_reasoning_model(target.model):
            return dataclasses.replace(target, token_field="max_completion_tokens")
        return target
