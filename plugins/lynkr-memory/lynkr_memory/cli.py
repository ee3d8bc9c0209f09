"""``lynkr memory search QUERY|add TEXT|forget ID|stats|export``.

Opens the database the server writes (``config.db_path``) with a connection of its own;
WAL lets it read while the server runs. Search uses the FTS5 retriever and the ranking
the server uses (retrievers of other plugins run only in the server).
"""

from __future__ import annotations

import argparse
import json
import sys

from lynkr_core import Settings
from lynkr_memory import extract, learn
from lynkr_memory.config import db_path, load_settings
from lynkr_memory.recall import recall
from lynkr_memory.retrievers import Fts5Retriever
from lynkr_memory.store import MemoryStore, dumps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-commands and their options."""
    actions = parser.add_subparsers(dest="memory_action", required=True)
    search = actions.add_parser("search", help="memories relevant to a query, best first")
    search.add_argument("query")
    search.add_argument("--session", help="also this session's own memories (default: global ones)")
    search.add_argument("--limit", type=int, default=10, help="how many (default 10)")
    search.add_argument("--json", action="store_true", help="print JSON")
    add = actions.add_parser("add", help="remember a sentence")
    add.add_argument("content")
    add.add_argument("--type", choices=extract.TYPES, default="fact")
    add.add_argument("--session", help="the session it belongs to (default: none, global)")
    forget = actions.add_parser("forget", help="forget a memory by id")
    forget.add_argument("id", type=int)
    stats = actions.add_parser("stats", help="counts by type, database size")
    stats.add_argument("--json", action="store_true", help="print JSON")
    export = actions.add_parser("export", help="every memory as JSON lines")
    export.add_argument("--history", action="store_true", help="with superseded memories")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one sub-command; 0, or 1 when a memory is unknown."""
    config = load_settings(settings)
    path = db_path(settings.core.home)
    if not path.exists() and args.memory_action != "add":
        if args.memory_action == "forget":
            print(f"no memory {args.id}: {path} does not exist", file=sys.stderr)
            return 1
        print("[]" if getattr(args, "json", False) else f"no memories yet: {path} does not exist")
        return 0
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = MemoryStore(path)
    try:
        if args.memory_action == "search":
            retriever = Fts5Retriever()
            retriever.use(store)
            found = recall(store, [retriever], args.query, args.session, config, limit=args.limit)
            if args.json:
                print(json.dumps([{**r.memory.as_json(), "score": round(r.score, 4)} for r in found], indent=2))
            else:
                print("\n".join(f"{r.memory.id:>6}  {r.score:.3f}  [{r.memory.type}] {r.memory.content}"
                                for r in found) or "no memories match")
        elif args.memory_action == "add":
            kind = extract.classify(args.content)
            subject = kind[1] if kind is not None and kind[0] == args.type else ""
            candidate = extract.Candidate(args.type, args.content.strip(), subject, extract.entities(args.content), 0.0)
            verdict = learn.judge(store, candidate, args.session, config)
            if verdict.action == "duplicate":
                print("already remembered")
                return 0
            memory_id = store.add(learn.as_new(verdict, args.session, config, source="cli"), supersedes=verdict.supersedes)
            print(f"remembered as memory {memory_id}")
        elif args.memory_action == "forget":
            if not store.forget(args.id):
                print(f"no memory {args.id}", file=sys.stderr)
                return 1
            print(f"forgot memory {args.id}")
        elif args.memory_action == "stats":
            stats = store.stats()
            if args.json:
                print(json.dumps(stats.as_json(), indent=2))
            else:
                types = ", ".join(f"{kind} {count}" for kind, count in stats.by_type.items()) or "none"
                print(f"{stats.active} memories ({types}), {stats.superseded} superseded kept as history, "
                      f"{stats.entities} entities, {stats.sessions} sessions, {stats.bytes} bytes in {path}")
        else:
            for memory in store.all(include_history=args.history):
                print(dumps(memory))
    finally:
        store.close()
    return 0
