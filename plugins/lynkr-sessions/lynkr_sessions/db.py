"""The session database: one SQLite file (WAL) through sqlite-utils.

``sessions`` has one row per session (first and last exchange, how many, the models
asked for); ``exchanges`` one row per finished exchange, its content as JSON text.
Every write is one ``BEGIN IMMEDIATE`` transaction: the exchanges and their sessions'
rows together, or none of them. Synchronous: the store calls it from its one worker thread;
``lynkr sessions`` opens its own connection.

Claude Code sends the whole conversation with every turn, so each request repeats the
last one's messages and adds a few: kept whole, a session's requests add up to the
square of its length (200 turns of a conversation growing to 300 KB: about 30 MB). An
exchange's ``request`` therefore holds only the messages after those it shares with
the session's previous exchange (its ``base_seq``; ``base_messages``: how many of the
base's messages come first), with ``messages_at`` and ``message_lengths`` saying where
its own messages are in the text. Reading puts the request back together, byte for
byte. Every ``MAX_CHAIN``-th exchange of a chain, the first after a restart and one
that shares nothing is kept whole, so one exchange reads at most that many rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils
import structlog

from lynkr_core import SessionSummary, insert_rows, open_sqlite, write_transaction
from lynkr_sessions.records import RequestJSON

log = structlog.get_logger("lynkr-sessions")

#: Bytes counted for a row besides its content, when guessing what deleting it frees.
ROW_OVERHEAD = 256

_EXCHANGE_COLUMNS = ("request_id", "session_id", "finished", "streamed", "status", "provider",
                     "model", "usage", "duration", "request", "response", "steps", "hidden_turns")
#: Where a request's own messages are in its text, and what it shares with its base.
_CHAIN_COLUMNS = ("base_seq", "base_messages", "messages_at", "message_lengths")
#: Exchanges in a chain of shared messages before one is kept whole again.
MAX_CHAIN = 32
#: Sessions whose last exchange the writer remembers (to share its messages).
REMEMBERED_SESSIONS = 256


_SELECTED = ", ".join(("seq", *_EXCHANGE_COLUMNS, *_CHAIN_COLUMNS))


class _Last(NamedTuple):
    """A session's last exchange written by this connection: its row, request id, a digest
    of each of its messages, and how far down its chain it is."""

    seq: int
    request_id: str
    digests: list[bytes]
    depth: int


class SessionDB:
    """The database at ``path`` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite_utils.Database(open_sqlite(path))
        if not self.db.table_names():
            # lets retention give freed pages back to the disk; WAL mode has already written
            # the file's header, so it takes a VACUUM (of an empty file: instant) to apply
            self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self.db.execute("VACUUM")
        self.db.execute("PRAGMA foreign_keys = ON")
        with self.transaction():  # processes opening it at once queue for the lock
            self._create()
        self._last: OrderedDict[str, _Last] = OrderedDict()

    def _create(self) -> None:
        db = self.db
        db["sessions"].create(
            {"id": str, "started": float, "updated": float, "exchanges": int, "models": str},
            pk="id", not_null={"started", "updated"}, defaults={"exchanges": 0, "models": "[]"},
            if_not_exists=True,
        )
        db["sessions"].create_index(["updated"], if_not_exists=True)
        db["exchanges"].create(
            {"seq": int, "request_id": str, "session_id": str, "finished": float, "streamed": int,
             "status": int, "provider": str, "model": str, "usage": str, "duration": float,
             "request": str, "response": str, "steps": str, "hidden_turns": str},
            pk="seq", not_null={"request_id", "session_id", "finished"},
            foreign_keys=[("session_id", "sessions", "id")], if_not_exists=True,
        )
        db["exchanges"].create_index(["session_id", "seq"], if_not_exists=True)
        columns = db["exchanges"].columns_dict
        if "hidden_turns" not in columns:  # a database from before it
            db["exchanges"].add_column("hidden_turns", str)
        for name, kind in (("base_seq", int), ("base_messages", int), ("messages_at", int),
                           ("message_lengths", str)):
            if name not in columns:  # a database from before requests shared their messages
                db["exchanges"].add_column(name, kind)

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction (``BEGIN IMMEDIATE``): all of it or nothing."""
        return write_transaction(self.db.conn)

    # ----------------------------------------------------------------- writes

    def write(self, row: dict[str, Any]) -> None:
        """Keep one exchange row and update its session, in one transaction."""
        self.write_many([row])

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        """Keep exchange rows, in order, and update their sessions, in one transaction of a
        few statements whatever the number of rows (each statement costs the writer thread a
        wait for the GIL: see ``lynkr_core.insert_rows``)."""
        if not rows:
            return
        db = self.db
        by_session: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_session.setdefault(row["session_id"], []).append(row)
        columns = ("seq", *_EXCHANGE_COLUMNS, *_CHAIN_COLUMNS)
        with self.transaction():
            for session_id, session_rows in by_session.items():
                self._count_exchanges(session_id, session_rows)
            self._forget_vanished(by_session)
            seq = db.execute("SELECT coalesce(max(seq), 0) FROM exchanges").fetchone()[0]
            values = []
            for row in rows:
                seq += 1
                chain = self._chain(seq, row)
                values.append([seq, *(chain["request"] if name == "request" else row[name]
                                      for name in _EXCHANGE_COLUMNS), *(chain[name] for name in _CHAIN_COLUMNS)])
            insert_rows(db.conn, "exchanges", columns, values)

    def _forget_vanished(self, sessions: dict[str, list[dict[str, Any]]]) -> None:
        """Forget the remembered last exchange of these sessions where its row is gone (the
        session deleted by another process, as ``lynkr sessions delete`` does)."""
        for session_id in sessions:
            last = self._last.get(session_id)
            if last is not None and self.db.execute(
                    "SELECT 1 FROM exchanges WHERE seq = ? AND request_id = ?", [last.seq, last.request_id]
            ).fetchone() is None:
                del self._last[session_id]

    def _chain(self, seq: int, row: dict[str, Any]) -> dict[str, Any]:
        """The stored ``request`` of the exchange row ``row`` about to be written as ``seq``,
        with its chain columns: only the messages after those it shares with its session's
        last exchange, or all of them (a request given as text is kept as it is)."""
        request: RequestJSON | str | None = row["request"]
        session_id = row["session_id"]
        if not isinstance(request, RequestJSON) or request.messages is None:  # kept as it is
            self._last.pop(session_id, None)
            text = request.text() if isinstance(request, RequestJSON) else request
            return {"request": text, "base_seq": None, "base_messages": None, "messages_at": None,
                    "message_lengths": None}
        messages = request.messages
        digests = [hashlib.blake2b(message.encode(), digest_size=16).digest() for message in messages]
        last = self._last.pop(session_id, None)
        shared = 0
        if last is not None and last.depth + 1 < MAX_CHAIN:
            for before, now in zip(last.digests, digests, strict=False):  # the shorter decides
                if before != now:
                    break
                shared += 1
        own = RequestJSON(request.head, messages[shared:], request.tail)
        self._last[session_id] = _Last(seq, row["request_id"], digests, last.depth + 1 if shared else 0)
        if len(self._last) > REMEMBERED_SESSIONS:
            self._last.popitem(last=False)
        return {"request": own.text(), "base_seq": last.seq if shared else None,
                "base_messages": shared if shared else None, "messages_at": len(request.head),
                "message_lengths": json.dumps([len(message) for message in own.messages])}

    def _count_exchanges(self, session_id: str, rows: list[dict[str, Any]]) -> None:
        """Create or update ``session_id``'s row for its new exchanges ``rows``."""
        db = self.db
        found = db.execute("SELECT models FROM sessions WHERE id = ?", [session_id]).fetchone()
        models = [] if found is None else json.loads(found[0])
        for row in rows:
            if row["model"] not in models:
                models.append(row["model"])
        finished = [row["finished"] for row in rows]
        if found is None:
            db.execute("INSERT INTO sessions (id, started, updated, exchanges, models) VALUES (?, ?, ?, ?, ?)",
                       [session_id, min(finished), max(finished), len(rows), json.dumps(models)])
        else:
            db.execute("UPDATE sessions SET updated = max(updated, ?), exchanges = exchanges + ?, "
                       "models = ? WHERE id = ?", [max(finished), len(rows), json.dumps(models), session_id])

    def delete(self, session_id: str) -> bool:
        """Forget a session and its exchanges; ``False`` when there was none."""
        with self.transaction():
            deleted = self._delete(session_id)
        return deleted

    def _delete(self, session_id: str) -> bool:
        self.db.execute("DELETE FROM exchanges WHERE session_id = ?", [session_id])
        return self.db.execute("DELETE FROM sessions WHERE id = ?", [session_id]).rowcount > 0

    # ----------------------------------------------------------------- reads

    def sessions(self, limit: int | None = 50) -> list[SessionSummary]:
        """The most recently updated sessions first."""
        rows = self.db.execute(
            "SELECT id, started, updated, exchanges, models FROM sessions ORDER BY updated DESC, id "
            "LIMIT ?", [-1 if limit is None else limit]).fetchall()
        return [SessionSummary(id=r[0], started=r[1], updated=r[2], exchanges=r[3], models=json.loads(r[4]))
                for r in rows]

    def session(self, session_id: str) -> SessionSummary | None:
        """One session's summary, or ``None``."""
        row = self.db.execute("SELECT id, started, updated, exchanges, models FROM sessions WHERE id = ?",
                              [session_id]).fetchone()
        if row is None:
            return None
        return SessionSummary(id=row[0], started=row[1], updated=row[2], exchanges=row[3],
                              models=json.loads(row[4]))

    def exchange_rows(self, session_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """A session's exchange rows, oldest first (the last ``limit`` when given), each
        request whole."""
        return self._whole(self._rows(
            f"SELECT * FROM (SELECT {_SELECTED} FROM exchanges WHERE session_id = ? ORDER BY seq DESC "
            "LIMIT ?) ORDER BY seq", [session_id, -1 if limit is None else limit]))

    def exchange_row(self, request_id: str) -> dict[str, Any] | None:
        """The exchange row of ``request_id`` with its request whole, or ``None``."""
        rows = self._whole(self._rows(f"SELECT {_SELECTED} FROM exchanges WHERE request_id = ?", [request_id]))
        return rows[0] if rows else None

    def _rows(self, sql: str, parameters: list[Any]) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, parameters)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _whole(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` with their requests put back together from the rows they share messages
        with (read as needed), and without the chain columns."""
        known = {row["seq"]: row for row in rows}
        wanted = {row["base_seq"] for row in rows if row["base_seq"] is not None}
        while missing := sorted(wanted - known.keys()):
            found = self._rows(f"SELECT {_SELECTED} FROM exchanges WHERE seq IN ({', '.join('?' * len(missing))})",
                               missing)
            if not found:
                break
            known.update((row["seq"], row) for row in found)
            wanted |= {row["base_seq"] for row in found if row["base_seq"] is not None}
        messages: dict[int, list[str]] = {}
        for seq in sorted(known):  # a base is always written before the rows that share it
            row = known[seq]
            if row["messages_at"] is None:
                continue
            own = _own_messages(row)
            base = row["base_seq"]
            if base is not None:
                if base not in messages:
                    log.warning("sessions_base_missing", request_id=row["request_id"], base_seq=base)
                    row["request"] = None  # its own messages alone would pass for the whole request
                    continue
                head = row["request"][:row["messages_at"]]
                tail = row["request"][row["messages_at"] + len(",".join(own)):]
                own = messages[base][:row["base_messages"]] + own
                row["request"] = RequestJSON(head, own, tail).text()
            if seq in wanted:
                messages[seq] = own
        for row in rows:
            for name in _CHAIN_COLUMNS:
                del row[name]
        return rows

    def hidden_turns(self, session_id: str) -> list[tuple[str, str]]:
        """``(request_id, hidden_turns)`` of a session's exchanges that hid tool turns, oldest first."""
        return read_hidden_turns(self.db.conn, session_id)

    # ----------------------------------------------------------------- retention

    def used_bytes(self) -> int:
        """Bytes of the pages in use (the file less its free pages)."""
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self.db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def prune(self, *, older_than: float | None, max_bytes: int | None) -> list[str]:
        """Delete the sessions last updated before ``older_than``, then the oldest others
        until what is used fits ``max_bytes`` (the newest session is always kept); the
        deleted ids, oldest first."""
        deleted: list[str] = []
        with self.transaction():
            if older_than is not None:
                old = [r[0] for r in self.db.execute(
                    "SELECT id FROM sessions WHERE updated < ? ORDER BY updated", [older_than])]
                for session_id in old:
                    self._delete(session_id)
                deleted += old
            if max_bytes:
                used = self.used_bytes()
                if used > max_bytes:
                    sizes = self.db.execute(
                        "SELECT s.id, coalesce(sum(length(coalesce(e.request, '')) + length(coalesce(e.response, '')) "
                        "+ length(coalesce(e.steps, '')) + length(coalesce(e.hidden_turns, '')) + length(e.usage)), 0) + count(e.seq) * ? "
                        "FROM sessions s LEFT JOIN exchanges e ON e.session_id = s.id "
                        "GROUP BY s.id ORDER BY s.updated, s.id", [ROW_OVERHEAD]).fetchall()
                    for session_id, size in sizes[:-1]:
                        if used <= max_bytes:
                            break
                        self._delete(session_id)
                        deleted.append(session_id)
                        used -= size
        if deleted:
            # every free page back to the disk: a plain execute would step once (one page)
            self.db.conn.executescript("PRAGMA incremental_vacuum;")
        return deleted


def _own_messages(row: dict[str, Any]) -> list[str]:
    """The messages a row's request holds itself, cut from its text by their lengths."""
    text, at, own = row["request"], row["messages_at"], []
    for length in json.loads(row["message_lengths"]):
        own.append(text[at:at + length])
        at += length + 1  # and the comma
    return own


def read_hidden_turns(connection: sqlite3.Connection, session_id: str) -> list[tuple[str, str]]:
    """``(request_id, hidden_turns)`` of a session's exchanges that hid tool turns, oldest first."""
    return connection.execute(
        "SELECT request_id, hidden_turns FROM exchanges WHERE session_id = ? AND hidden_turns IS NOT NULL "
        "ORDER BY seq", [session_id]).fetchall()


def load_hidden_turns(path: Path, session_id: str) -> list[tuple[str, str]]:
    """``read_hidden_turns`` through a connection of its own, opened and closed here: for a
    thread other than the writer's (WAL lets it read while the writer writes)."""
    connection = open_sqlite(path)
    try:
        return read_hidden_turns(connection, session_id)
    finally:
        connection.close()
