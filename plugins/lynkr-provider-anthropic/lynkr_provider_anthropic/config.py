"""Settings of the two Anthropic-format providers, with the original project's variable names."""

from __future__ import annotations

import msgspec

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
