"""lynkr OpenTelemetry: traces of every request, step, upstream attempt and tool call over
OTLP/HTTP. Off unless ``LYNKR_OTEL_ENABLED=true``: while off, nothing is registered and
the OpenTelemetry SDK is not even imported (every ``lynkr`` command loads this module)."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import ExchangeObserver, Finding, Settings, hookimpl
from lynkr_otel.config import is_enabled, load_settings, otel_variables
from lynkr_otel.security import security_findings


@hookimpl
def lynkr_register_observers(register: Callable[[ExchangeObserver], None], settings: Settings) -> None:
    """The tracer, when ``LYNKR_OTEL_ENABLED`` is set (and ``OTEL_SDK_DISABLED`` is not)."""
    config = load_settings(settings)
    variables = otel_variables(settings)
    if is_enabled(config, variables):
        from lynkr_otel.tracer import ExchangeTracer  # the SDK, only when tracing

        register(ExchangeTracer(config, variables))


@hookimpl
def lynkr_security_findings(report: Callable[[Finding], None], settings: Settings) -> None:
    """For ``lynkr doctor --security``: traces sent in clear text beyond this machine."""
    for finding in security_findings(settings):
        report(finding)
