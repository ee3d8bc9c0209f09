"""lynkr usage: usage and cost per key, session and model, budgets and rate limits per API key."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Command, ExtraRoute, Policy, Settings, hookimpl
from lynkr_usage import cli, routes
from lynkr_usage.config import load_settings
from lynkr_usage.ledger import UsageLedger


@hookimpl(trylast=True)
def lynkr_register_policies(register: Callable[[Policy], None], settings: Settings) -> None:
    """The ledger: the last policy to judge (a request another policy refuses uses none of
    the key's limits), and an observer recording every finished exchange."""
    register(UsageLedger(load_settings(settings)))


@hookimpl
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """``GET /v1/usage``, for admin keys only."""
    register(ExtraRoute("/v1/usage", routes.usage, methods=("GET",), name="usage", admin=True))


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """``lynkr usage``."""
    register(Command("usage", "usage and cost by API key, model, session or day (lynkr usage --by ...)",
                     cli.run, cli.add_arguments))
