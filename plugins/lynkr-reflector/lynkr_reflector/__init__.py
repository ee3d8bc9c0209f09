"""lynkr reflector: learns a per-workspace playbook of short hints from finished exchanges,
with evidence, and offers the relevant ones to the model."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Command, RequestPreparer, Settings, hookimpl
from lynkr_reflector import report
from lynkr_reflector.config import load_settings, workspace_of
from lynkr_reflector.reflector import Reflector


@hookimpl
def lynkr_register_preparers(register: Callable[[RequestPreparer], None], settings: Settings) -> None:
    """Register the reflector (unless ``REFLECTOR_ENABLED=false``): a preparer that injects
    hints when ``REFLECTOR_INJECT`` is on, and an ``ExchangeObserver`` (so the core hands it
    every finished exchange) that owns the worker learning them."""
    config = load_settings(settings)
    if config.enabled:
        register(Reflector(config, workspace_of(settings)))


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """``lynkr reflect report``."""
    register(Command("reflect", "the reflector's playbook (lynkr reflect report)", report.run,
                     report.add_arguments))
