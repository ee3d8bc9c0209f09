"""What registered objects report to ``lynkr doctor``.

Any registered object (a tool source, a store, a preparer...) may have
``health_checks(services)``, plain or async, returning a mapping of labels to
``HealthCheck``s: one line each in ``lynkr doctor``'s output (``mcp server github:
FAILED: ...``). The object is not started for it: it checks what it needs on its own
(connects, probes, reads a file) and leaves nothing running. A ``health_checks`` that
raises is reported as a failed check named after its plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from lynkr_core.contracts import HealthCheck
from lynkr_core.plugins import await_maybe

if TYPE_CHECKING:
    from lynkr_core.registered import Registered
    from lynkr_core.services import Services

log = structlog.get_logger("lynkr.health")


@dataclass(frozen=True, slots=True)
class Reported:
    """One check an object reported, with the plugin that registered the object."""

    plugin: str
    label: str
    check: HealthCheck


async def health_reports(registered: Registered, services: Services) -> list[Reported]:
    """Every check of every registered object that has ``health_checks``, in registration
    order (each object once)."""
    reports: list[Reported] = []
    seen: set[int] = set()
    for kind, registry in registered.registries().items():
        for owner, name, item in registry.owned():
            method = getattr(item, "health_checks", None)
            if id(item) in seen or not callable(method):
                continue
            seen.add(id(item))
            try:
                checks: Mapping[str, HealthCheck] = await await_maybe(method(services))
            except Exception as exc:
                log.exception("health_checks_failed", plugin=owner, kind=kind, name=name)
                reports.append(Reported(owner, f"{kind} {name}",
                                        HealthCheck(False, f"health check raised {type(exc).__name__}: {exc}")))
                continue
            reports.extend(Reported(owner, label, check) for label, check in checks.items())
    return reports
