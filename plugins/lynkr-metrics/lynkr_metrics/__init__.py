"""lynkr metrics: Prometheus metrics at /metrics from the exchange record."""

from __future__ import annotations

import weakref
from collections.abc import Callable

from lynkr_core import ExtraRoute, Finding, RequestPreparer, Settings, hookimpl
from lynkr_metrics.config import load_settings, route_access
from lynkr_metrics.exposition import metrics_endpoint
from lynkr_metrics.recorder import MetricsRecorder
from lynkr_metrics.security import security_findings

#: The recorder of each app being built: its route and its preparer are registered by two
#: hooks, given the same ``Settings``. Weak: it lives as long as the app's settings.
_recorders: weakref.WeakKeyDictionary[Settings, MetricsRecorder] = weakref.WeakKeyDictionary()


def _recorder(settings: Settings) -> MetricsRecorder:
    recorder = _recorders.get(settings)
    if recorder is None:
        recorder = _recorders[settings] = MetricsRecorder(load_settings(settings))
    return recorder


@hookimpl
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """``GET /metrics`` (``METRICS_PATH``); who may read it: ``METRICS_AUTH``."""
    config = load_settings(settings)
    access = route_access(config, settings)
    register(ExtraRoute(config.path, metrics_endpoint(_recorder(settings)), methods=("GET",),
                        name="metrics", admin=access == "admin", public=access == "none"))


@hookimpl
def lynkr_register_preparers(register: Callable[[RequestPreparer], None], settings: Settings) -> None:
    """The recorder: a preparer (streams in progress) that observes every exchange."""
    register(_recorder(settings))


@hookimpl
def lynkr_security_findings(report: Callable[[Finding], None], settings: Settings) -> None:
    """For ``lynkr doctor --security``: metrics served to anyone."""
    for finding in security_findings(settings):
        report(finding)
