"""Usage reports: requests, tokens and cost grouped by API key, model, session or day.

Costs are computed here, from the stored tokens and the price table as it is now.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

import msgspec

from lynkr_core import InvalidRequest
from lynkr_usage.db import GROUPS, UsageDB
from lynkr_usage.prices import PriceBook

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")


class UsageRow(msgspec.Struct, kw_only=True):
    """One group's usage. ``cost`` adds up the priced models; ``unpriced_tokens`` counts the
    tokens of models the price table has no entry for."""

    group: str
    requests: int = 0
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost: float = 0.0
    unpriced_tokens: int = 0
    models: list[str] = []
    first: float = 0.0
    last: float = 0.0


class UsageReport(msgspec.Struct, kw_only=True):
    """A report: how it was grouped, since when, the currency and the prices' date."""

    by: str
    since: str | None
    currency: str
    prices_as_of: str
    rows: list[UsageRow]
    total: UsageRow


def parse_since(text: str | None) -> float | None:
    """``YYYY-MM-DD`` (UTC) or a number of days back, as epoch seconds; ``InvalidRequest``
    saying what is expected otherwise."""
    if not text:
        return None
    if text.isdigit():
        return datetime.datetime.now(datetime.UTC).timestamp() - int(text) * 86_400
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"since: expected YYYY-MM-DD or a number of days, got {text!r}") from None
    return float(calendar.timegm(day.timetuple()))


def build_report(db: UsageDB | None, prices: PriceBook, by: str, since: str | None = None,
                 client: str | None = None) -> UsageReport:
    """The report of ``db`` (``None``: nothing recorded yet) grouped ``by`` one of
    ``GROUPS``, from ``since`` on; ``InvalidRequest`` for an unknown group or date."""
    if by not in GROUPS:
        raise InvalidRequest(f"by: expected one of {', '.join(GROUPS)}, got {by!r}")
    start = parse_since(since)
    rows: dict[str, UsageRow] = {}
    total = UsageRow(group="total")
    for part in db.totals(by, start, client) if db is not None else []:
        row = rows.setdefault(part["group"], UsageRow(group=part["group"], first=part["first"]))
        for target in (row, total):
            _add(target, part, prices)
    table = prices.table()
    ordered = sorted(rows.values(), key=lambda r: (r.group if by == "day" else -r.cost, r.group))
    return UsageReport(by=by, since=since, currency=table.currency, prices_as_of=table.as_of,
                       rows=ordered, total=total)


def _add(row: UsageRow, part: dict[str, Any], prices: PriceBook) -> None:
    row.requests += part["requests"]
    for kind in TOKEN_KINDS:
        setattr(row, kind, getattr(row, kind) + part[kind])
    cost = prices.cost(part["model"], *(part[kind] for kind in TOKEN_KINDS))
    if cost is None:
        row.unpriced_tokens += sum(part[kind] for kind in TOKEN_KINDS)
    else:
        row.cost += cost
    if part["model"] not in row.models:
        row.models.append(part["model"])
    row.first = min(row.first or part["first"], part["first"])
    row.last = max(row.last, part["last"])
