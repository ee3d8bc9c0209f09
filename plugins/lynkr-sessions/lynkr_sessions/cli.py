"""``lynkr sessions list|show ID|export ID --format jsonl|md|delete ID``.

Opens the database the server writes (``config.db_path``) with a connection of its own;
WAL lets it read while the server runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Any

from lynkr_core import Settings
from lynkr_sessions import records
from lynkr_sessions.config import db_path
from lynkr_sessions.db import SessionDB


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-commands and their options."""
    actions = parser.add_subparsers(dest="sessions_action", required=True)
    listing = actions.add_parser("list", help="the most recently updated sessions first")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="one session and its exchanges")
    show.add_argument("session_id")
    show.add_argument("--json", action="store_true", help="print JSON, content as stored")
    export = actions.add_parser("export", help="a session's exchanges as JSON lines or Markdown")
    export.add_argument("session_id")
    export.add_argument("--format", choices=("jsonl", "md"), default="jsonl")
    delete = actions.add_parser("delete", help="forget a session")
    delete.add_argument("session_id")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one sub-command; 0, or 1 when the session is unknown."""
    path = db_path(settings.core.home)
    if not path.exists():
        if args.sessions_action == "list":
            print("[]" if args.json else f"no sessions yet: {path} does not exist")
            return 0
        print(f"no session {args.session_id!r}: {path} does not exist", file=sys.stderr)
        return 1
    db = SessionDB(path)
    try:
        return _ACTIONS[args.sessions_action](db, args)
    finally:
        db.close()


def _list(db: SessionDB, args: argparse.Namespace) -> int:
    sessions = db.sessions(args.limit)
    if args.json:
        print(json.dumps([{"id": s.id, "started": s.started, "updated": s.updated,
                           "exchanges": s.exchanges, "models": s.models} for s in sessions], indent=2))
        return 0
    if not sessions:
        print("no sessions")
        return 0
    rows = [[s.id, _when(s.updated), str(s.exchanges), ",".join(s.models)] for s in sessions]
    print(_table(["SESSION", "UPDATED", "EXCHANGES", "MODELS"], rows))
    return 0


def _show(db: SessionDB, args: argparse.Namespace) -> int:
    summary = db.session(args.session_id)
    if summary is None:
        return _unknown(args.session_id)
    rows = [records.row_as_json(row) for row in db.exchange_rows(args.session_id)]
    if args.json:
        print(json.dumps({"session": {"id": summary.id, "started": summary.started,
                                      "updated": summary.updated, "exchanges": summary.exchanges,
                                      "models": summary.models}, "exchanges": rows}, indent=2))
        return 0
    print(f"session {summary.id}: {summary.exchanges} exchanges, {_when(summary.started)} to "
          f"{_when(summary.updated)}, models {', '.join(summary.models)}")
    table = [[r["request_id"], _when(r["finished"]), "stream" if r["streamed"] else "json",
              str(r["status"]), r["provider"], r["model"], f"{r['duration']:.2f}s",
              f"{r['usage'].get('input_tokens', 0)}/{r['usage'].get('output_tokens', 0)}"] for r in rows]
    print(_table(["REQUEST", "FINISHED", "KIND", "STATUS", "PROVIDER", "MODEL", "TIME", "TOKENS IN/OUT"],
                 table))
    return 0


def _export(db: SessionDB, args: argparse.Namespace) -> int:
    summary = db.session(args.session_id)
    if summary is None:
        return _unknown(args.session_id)
    rows = [records.row_as_json(row) for row in db.exchange_rows(args.session_id)]
    if args.format == "jsonl":
        for row in rows:
            print(json.dumps(row, separators=(",", ":")))
    else:
        print(markdown(summary.id, rows))
    return 0


def _delete(db: SessionDB, args: argparse.Namespace) -> int:
    if not db.delete(args.session_id):
        return _unknown(args.session_id)
    print(f"deleted session {args.session_id}")
    return 0


_ACTIONS = {"list": _list, "show": _show, "export": _export, "delete": _delete}


def _unknown(session_id: str) -> int:
    print(f"no session {session_id!r}", file=sys.stderr)
    return 1


def _when(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def markdown(session_id: str, rows: list[dict[str, Any]]) -> str:
    """A session as Markdown: per exchange, its metadata, the last message sent and the answer."""
    lines = [f"# Session {session_id}", ""]
    for number, row in enumerate(rows, 1):
        usage = row["usage"] or {}
        lines += [f"## Exchange {number}: {row['request_id']}", "",
                  f"- finished: {_when(row['finished'])} UTC",
                  f"- {'streamed' if row['streamed'] else 'JSON'}, status {row['status']}, "
                  f"{row['provider']} / {row['model']}, {row['duration']:.2f}s",
                  f"- tokens: {usage.get('input_tokens', 0)} in, {usage.get('output_tokens', 0)} out", ""]
        request = row["request"]
        if request is None:
            lines += ["_content not kept_", ""]
            continue
        if request.get("messages"):
            last = request["messages"][-1]
            lines += [f"### {last['role']}", "", _content_text(last["content"]), ""]
        response = row["response"]
        if response is not None:
            lines += ["### assistant", "", _content_text(response["content"]), ""]
        for step in row["steps"] or []:
            for call in step["tool_calls"]:
                lines += [f"- tool `{call['name']}`: {json.dumps(call['input'])}"
                          f"{' (refused)' if call['refused'] else ''}"]
    return "\n".join(lines).rstrip() + "\n"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            parts.append(block["text"])
        elif kind == "tool_use":
            parts.append(f"`{block['name']}` {json.dumps(block.get('input'))}")
        elif kind == "tool_result":
            inner = block.get("content")
            parts.append("result: " + (_content_text(inner) if inner is not None else ""))
        else:
            parts.append(f"[{kind}]")
    return "\n\n".join(parts)
