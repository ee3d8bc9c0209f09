"""``lynkr cache stats`` and ``lynkr cache clear``: the store of ``LYNKR_HOME/lynkr-cache``,
read and emptied from the command line (safe while servers run: diskcache is multi-process)."""

from __future__ import annotations

import argparse
import json

import msgspec

from lynkr_cache.config import cache_dir
from lynkr_cache.store import Store, StoreStats
from lynkr_core import Command, Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``stats [--json]`` and ``clear [--stats]``."""
    actions = parser.add_subparsers(dest="cache_action", required=True)
    stats = actions.add_parser("stats", help="entries, bytes, hits, misses and tokens saved")
    stats.add_argument("--json", action="store_true", help="print JSON")
    clear = actions.add_parser("clear", help="remove every stored answer")
    clear.add_argument("--stats", action="store_true", help="also reset the counters")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``lynkr cache <action>``."""
    directory = cache_dir(settings)
    if args.cache_action == "stats":
        if Store.exists(directory):
            store = Store(directory)
            try:
                stats = store.stats()
            finally:
                store.close()
        else:
            stats = StoreStats(directory=str(directory))
        print(_render(stats, as_json=args.json))
        return 0
    if not Store.exists(directory):
        print(f"lynkr-cache: nothing stored in {directory}")
        return 0
    store = Store(directory)
    try:
        removed = store.clear(counters=args.stats)
    finally:
        store.close()
    also = " and reset the counters" if args.stats else ""
    print(f"lynkr-cache: removed {removed} stored answers from {directory}{also}")
    return 0


def _render(stats: StoreStats, *, as_json: bool) -> str:
    if as_json:
        return json.dumps(msgspec.to_builtins(stats), indent=2)
    lookups = stats.hits + stats.misses
    rate = f" ({stats.hits / lookups:.0%} of lookups)" if lookups else ""
    return "\n".join([
        f"directory: {stats.directory}",
        f"entries: {stats.entries}",
        f"bytes: {stats.bytes}",
        f"hits: {stats.hits}{rate}",
        f"misses: {stats.misses}",
        f"bypassed: {stats.bypassed}",
        f"stored: {stats.stored}",
        f"saved input tokens: {stats.saved_input_tokens}",
        f"saved output tokens: {stats.saved_output_tokens}",
    ])


def cache_command() -> Command:
    """The ``lynkr cache`` command."""
    return Command("cache", "the prompt cache: stats | clear", run, add_arguments)
