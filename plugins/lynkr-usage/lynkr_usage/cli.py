"""``lynkr usage [--by key|model|session|day] [--since DATE|DAYS] [--key ID] [--json]`` and
``lynkr usage --prices``.

Opens the ledger the server writes with a connection of its own (WAL lets it read while
the server runs); costs come from the price table as it is now.
"""

from __future__ import annotations

import argparse
import sys

import msgspec

from lynkr_core import InvalidRequest, Settings, api_key_id
from lynkr_usage.config import DB_NAME, data_dir, load_settings, prices_path
from lynkr_usage.db import GROUPS, UsageDB
from lynkr_usage.prices import PriceBook
from lynkr_usage.report import UsageReport, build_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options."""
    parser.add_argument("--by", choices=tuple(GROUPS), default="model", help="group by (default model)")
    parser.add_argument("--since", help="from this UTC day (YYYY-MM-DD) or this many days back")
    parser.add_argument("--key", help="only this API key's id (key_...)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--prices", action="store_true", help="print the price table in effect")
    parser.add_argument("--keys", action="store_true",
                        help="print the id of each configured API key (what reports and limits name)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the report (or the prices, or the key ids); 2 for an invalid option."""
    prices = PriceBook(prices_path(load_settings(settings), settings.core.home))
    if args.prices:
        return _print_prices(prices, args.json)
    if args.keys:
        for key in settings.core.api_keys:
            print(f"{api_key_id(key)}  ...{key[-4:]}")
        return 0
    path = data_dir(settings.core.home) / DB_NAME
    db = UsageDB(path) if path.exists() else None
    try:
        report = build_report(db, prices, args.by, args.since, args.key)
    except InvalidRequest as exc:
        print(f"lynkr usage: {exc.message}", file=sys.stderr)
        return 2
    finally:
        if db is not None:
            db.close()
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(report)).decode())
    else:
        print(render(report))
    return 0


def render(report: UsageReport) -> str:
    """The report as a table."""
    header = (report.by, "requests", "input", "output", "cache read", "cache write", f"cost {report.currency}")
    lines = [header]
    for row in [*report.rows, report.total]:
        cost = f"{row.cost:.4f}" + (" +?" if row.unpriced_tokens else "")
        lines.append((row.group, str(row.requests), str(row.input), str(row.output), str(row.cache_read),
                      str(row.cache_write), cost))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]
    text.insert(1, "-" * len(text[0]))
    text.insert(len(text) - 1, "-" * len(text[0]))
    notes = [f"prices as of {report.prices_as_of}"]
    if report.total.unpriced_tokens:
        notes.append(f"+? : {report.total.unpriced_tokens} tokens of models without a price")
    return "\n".join([*text, "", "; ".join(notes)])


def _print_prices(prices: PriceBook, as_json: bool) -> int:
    table = prices.table()
    if as_json:
        print(msgspec.json.format(msgspec.json.encode(table)).decode())
        return 0
    print(f"{table.currency} per million tokens, as of {table.as_of} (your table: {prices.path})")
    for pattern, price in sorted(table.models.items()):
        print(f"  {pattern:24} input {price.input:>8g}  output {price.output:>8g}  "
              f"cache read {price.cache_read:>7g}  cache write {price.cache_write:>7g}")
    return 0
