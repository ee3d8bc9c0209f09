"""``GET /v1/usage`` (admin): the report of ``lynkr usage`` as JSON.

``?by=key|model|session|day`` (default ``model``), ``?since=YYYY-MM-DD`` or a number of
days, ``?key=<key id>``. Reads the ledger with a connection of its own, on a thread.
"""

from __future__ import annotations

import asyncio

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from lynkr_core import ConfigError, LynkrError, Settings
from lynkr_usage.config import DB_NAME, data_dir, load_settings, prices_path
from lynkr_usage.db import UsageDB
from lynkr_usage.prices import PriceBook
from lynkr_usage.report import UsageReport, build_report


def read_report(settings: Settings, by: str, since: str | None, key: str | None) -> UsageReport:
    """The report from the ledger under ``LYNKR_HOME`` (empty when there is none yet)."""
    prices = PriceBook(prices_path(load_settings(settings), settings.core.home))
    path = data_dir(settings.core.home) / DB_NAME
    db = UsageDB(path) if path.exists() else None
    try:
        return build_report(db, prices, by, since, key)
    finally:
        if db is not None:
            db.close()


async def usage(request: Request) -> Response:
    """The usage report as JSON; a 400 naming the parameter when one is invalid."""
    params = request.query_params
    try:
        report = await asyncio.to_thread(read_report, request.app.state.services.settings,
                                         params.get("by", "model"), params.get("since"), params.get("key"))
    except ConfigError as exc:  # the price table: the message names the file and the entry
        raise LynkrError(str(exc), status=500) from None
    return Response(msgspec.json.encode(report), media_type="application/json")
