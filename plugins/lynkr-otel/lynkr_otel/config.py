"""Settings of lynkr-otel, and the ``OTEL_*`` variables handed to the OpenTelemetry SDK.

lynkr's own switch is ``LYNKR_OTEL_ENABLED``; everything about where and how traces go is
the SDK's standard ``OTEL_*`` variables, read by the SDK itself. Those may be written in
lynkr's ``.env`` or ``lynkr.toml``'s ``[env]`` table like any other setting:
``sdk_environment`` shows the SDK what lynkr's settings hold while it is being built.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import msgspec
from opentelemetry.sdk import environment_variables as sdk_variables

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-otel"

#: Where the OTLP/HTTP exporter sends traces when nothing says otherwise (the SDK's default).
DEFAULT_ENDPOINT = "http://localhost:4318/"
TRACES_PATH = "v1/traces"


class OtelSettings(msgspec.Struct, kw_only=True):
    """Each field's environment variable is in ``ENV``."""

    #: Off unless set: an installed plugin registers nothing and costs nothing.
    enabled: bool = False
    #: How long stopping lynkr waits for the last spans to be exported.
    shutdown_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0


ENV = {"enabled": "LYNKR_OTEL_ENABLED", "shutdown_timeout_seconds": "LYNKR_OTEL_SHUTDOWN_TIMEOUT_SECONDS"}

#: Every ``OTEL_*`` variable the SDK (and its OTLP exporters) reads, by its own list.
SDK_VARIABLES = tuple(sorted(
    value for name, value in vars(sdk_variables).items()
    if name.startswith("OTEL_") and isinstance(value, str)
))


def load_settings(settings: Settings) -> OtelSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, OtelSettings, ENV)


def otel_variables(settings: Settings) -> dict[str, str]:
    """The SDK's ``OTEL_*`` variables lynkr's settings hold (the process environment, then
    ``.env``, then ``lynkr.toml``'s ``[env]``: lynkr's usual precedence)."""
    return {name: value for name in SDK_VARIABLES if (value := settings.get(name)) is not None}


def is_enabled(config: OtelSettings, variables: Mapping[str, str]) -> bool:
    """``LYNKR_OTEL_ENABLED`` is set and the SDK is not switched off (``OTEL_SDK_DISABLED``)."""
    disabled = variables.get(sdk_variables.OTEL_SDK_DISABLED, "").strip().lower() == "true"
    return config.enabled and not disabled


def traces_endpoint(variables: Mapping[str, str]) -> str:
    """Where the OTLP/HTTP exporter sends traces, by the specification's rule: the traces
    endpoint as given, else the base endpoint with ``v1/traces`` appended, else
    ``http://localhost:4318/v1/traces`` (for ``lynkr doctor``; the SDK resolves it itself)."""
    traces = variables.get(sdk_variables.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    if traces:
        return traces
    base = variables.get(sdk_variables.OTEL_EXPORTER_OTLP_ENDPOINT) or DEFAULT_ENDPOINT
    return base.rstrip("/") + "/" + TRACES_PATH


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part, to be shown."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


@contextlib.contextmanager
def sdk_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """The process environment with ``variables`` in it, for as long as the SDK's objects
    are built (they read their settings in their constructors); restored afterwards.

    Synchronous on purpose: nothing else of lynkr's runs on the event loop meanwhile.
    """
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
