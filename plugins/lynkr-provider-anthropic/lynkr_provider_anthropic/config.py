"""Settings of the two Anthropic-format providers, with the original project's variable names."""

from __future__ import annotations

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-anthropic"
DEFAULT_VERSION = "2023-06-01"


class AnthropicSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=anthropic``: the Anthropic API, or any server that speaks it."""

    base_url: str = "https://api.anthropic.com"
    api_key: str = ""
    version: str = DEFAULT_VERSION
    model: str = ""

    def messages_url(self) -> str:
        """The full ``/v1/messages`` URL."""
        return self.base_url.rstrip("/") + "/v1/messages"


ANTHROPIC_ENV = {
    "base_url": "ANTHROPIC_UPSTREAM_BASE_URL",
    "api_key": "ANTHROPIC_UPSTREAM_API_KEY",
    "version": "ANTHROPIC_UPSTREAM_VERSION",
    "model": "ANTHROPIC_UPSTREAM_MODEL",
}


class AzureAnthropicSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=azure-anthropic``: Claude in Microsoft Foundry.

    ``endpoint`` is the full messages URL as the original project takes it,
    ``https://<resource>.services.ai.azure.com/anthropic/v1/messages``; a base
    ending in ``/anthropic`` is completed. ``model`` (``MODEL_DEFAULT``), when
    set, replaces the model the client asked for, as in the original.
    """

    endpoint: str = ""
    api_key: str = ""
    version: str = DEFAULT_VERSION
    model: str = ""

    def messages_url(self) -> str:
        """The full messages URL."""
        url = self.endpoint.rstrip("/")
        if url and not url.endswith("/v1/messages"):
            url += "/v1/messages"
        return url


AZURE_ENV = {
    "endpoint": "AZURE_ANTHROPIC_ENDPOINT",
    "api_key": "AZURE_ANTHROPIC_API_KEY",
    "version": "AZURE_ANTHROPIC_VERSION",
    "model": "MODEL_DEFAULT",
}

ANTHROPIC_HELP = {
    "base_url": "base URL of the Anthropic API, or of any server that speaks it",
    "api_key": "API key, sent as x-api-key",
    "version": "anthropic-version sent when the client sends none",
    "model": "model to use instead of the client's (empty: the client's)",
}

AZURE_HELP = {
    "endpoint": "Foundry messages URL, https://<resource>.services.ai.azure.com/anthropic/v1/messages",
    "api_key": "the resource's API key",
    "version": "anthropic-version sent when the client sends none",
    "model": "model to use instead of the client's (empty: the client's)",
}

#: What ``lynkr init`` asks for ``anthropic``, with this module's defaults.
ANTHROPIC_SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    AnthropicSettings, ANTHROPIC_ENV, ANTHROPIC_HELP, secret={"api_key"}
)

#: What ``lynkr init`` asks for ``azure-anthropic``, with this module's defaults.
AZURE_SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    AzureAnthropicSettings,
    AZURE_ENV,
    AZURE_HELP,
    required={"endpoint", "api_key"},
    secret={"api_key"},
)
