"""lynkr-example-echo: a complete third-party plugin, to copy.

It registers a provider named ``echo`` that answers every request with the
text of the last user message (streamed word by word), and a route
``GET /echo/info`` that shows its settings. Select it with
``MODEL_PROVIDER=echo``; set ``ECHO_PREFIX`` (or ``prefix`` under
``[plugins.lynkr-example-echo]`` in ``lynkr.toml``) to prefix every answer.
"""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import ExtraRoute, Provider, Settings, hookimpl
from lynkr_example_echo.provider import EchoProvider, EchoSettings, info_endpoint

PLUGIN_NAME = "lynkr-example-echo"
ENV = {"prefix": "ECHO_PREFIX"}


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register the ``echo`` provider."""
    register(EchoProvider(settings.plugin_config(PLUGIN_NAME, EchoSettings, ENV)))


@hookimpl
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """Register ``GET /echo/info``."""
    config = settings.plugin_config(PLUGIN_NAME, EchoSettings, ENV)
    register(ExtraRoute("/echo/info", info_endpoint(config), methods=("GET",), name="echo-info"))
