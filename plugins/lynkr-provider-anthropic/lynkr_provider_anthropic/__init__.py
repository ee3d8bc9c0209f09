"""lynkr-provider-anthropic: the Anthropic API and Azure Anthropic as providers."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_anthropic.config import (
    ANTHROPIC_ENV,
    ANTHROPIC_SETTINGS_HELP,
    AZURE_ENV,
    AZURE_SETTINGS_HELP,
    PLUGIN_NAME,
    AnthropicSettings,
    AzureAnthropicSettings,
)
from lynkr_provider_anthropic.provider import AnthropicFormatProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``anthropic`` and ``azure-anthropic``."""
    direct = settings.plugin_config(PLUGIN_NAME, AnthropicSettings, ANTHROPIC_ENV)
    register(
        AnthropicFormatProvider(
            "anthropic",
            url=direct.messages_url(),
            api_key=direct.api_key,
            version=direct.version,
            key_headers=("x-api-key",),
            model_override=direct.model,
            settings_help=ANTHROPIC_SETTINGS_HELP,
        )
    )
    azure = settings.plugin_config(PLUGIN_NAME, AzureAnthropicSettings, AZURE_ENV)
    missing = {field: AZURE_ENV[field] for field in ("endpoint", "api_key") if not getattr(azure, field)}
    register(
        AnthropicFormatProvider(
            "azure-anthropic",
            url=azure.messages_url(),
            api_key=azure.api_key,
            version=azure.version,
            key_headers=("x-api-key", "api-key"),
            model_override=azure.model,
            missing=missing,
            settings_help=AZURE_SETTINGS_HELP,
        )
    )
