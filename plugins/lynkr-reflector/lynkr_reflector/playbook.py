"""The playbook database: hints per workspace with their evidence, the finished episodes,
and each conversation's cursor. One SQLite file (WAL) through sqlite-utils.

Every update is a delta: a support or a contradiction inserts one evidence row, unique
per hint, episode and direction, and increments the hint's count only when that row is
new, so an episode counts once whatever happens upstream. A hint whose weight
(supports minus contradictions) falls below the pruning threshold is deleted with its
evidence. Nothing is ever rewritten wholesale.

Synchronous: the reflector calls it from one worker thread; ``lynkr reflect report``
opens its own connection.
"""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import sqlite_utils

from lynkr_core import open_sqlite, write_transaction
from lynkr_reflector.records import BAD, GOOD, OPEN, Change, Episode, Thread, Verdict

#: A conversation not seen for this long is forgotten (its cursor and open task).
THREAD_TTL_SECONDS = 30 * 86_400


class Hint(msgspec.Struct, kw_only=True, frozen=True):
    """One line of the playbook."""

    id: int
    key: str
    kind: str
    task_type: str
    text: str
    supports: int
    contradicts: int

    @property
    def weight(self) -> int:
        """Supporting episodes minus contradicting ones."""
        return self.supports - self.contradicts

    def active(self, min_evidence: int) -> bool:
        """Enough distinct supporting episodes, and more supports than contradictions."""
        return self.supports >= min_evidence and self.supports > self.contradicts


class Evidence(msgspec.Struct, kw_only=True, frozen=True):
    """One episode for or against a hint."""

    session_id: str
    thread: str
    turn: int
    support: bool
    note: str
    at: float


@dataclass(slots=True)
class Applied:
    """What a delta did: hints created, supports and contradictions counted (new evidence
    only), hints pruned."""

    created: list[str] = field(default_factory=list)
    supported: list[str] = field(default_factory=list)
    contradicted: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any hint changed."""
        return bool(self.created or self.supported or self.contradicted or self.pruned)


@dataclass(frozen=True, slots=True)
class TaskStats:
    """Episodes of one task type: how many, their median cost, how they ended."""

    task_type: str
    episodes: int
    median_steps: float
    median_tokens: float
    median_seconds: float
    tests_passed: int
    corrected: int


_thread_decoder = msgspec.json.Decoder(Thread)
_encoder = msgspec.json.Encoder()


class Playbook:
    """The database at ``path`` (created with its tables if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite_utils.Database(open_sqlite(path))
        self._create()

    def _create(self) -> None:
        db = self.db
        db["hints"].create(
            {"id": int, "workspace": str, "key": str, "kind": str, "task_type": str, "text": str,
             "supports": int, "contradicts": int, "created": float, "updated": float},
            pk="id", not_null={"workspace", "key", "text"}, defaults={"supports": 0, "contradicts": 0},
            if_not_exists=True,
        )
        db["hints"].create_index(["workspace", "key"], unique=True, if_not_exists=True)
        db["evidence"].create(
            {"hint_id": int, "session_id": str, "thread": str, "turn": int, "support": int,
             "note": str, "at": float},
            pk=("hint_id", "session_id", "thread", "turn", "support"), if_not_exists=True,
        )
        db["episodes"].create(
            {"workspace": str, "session_id": str, "thread": str, "turn": int, "kind": str,
             "prompt": str, "sequence": str, "actions": str, "steps": int, "input_tokens": int,
             "output_tokens": int, "seconds": float, "tests": str, "outcome": str,
             "corrected": str, "at": float},
            pk=("workspace", "session_id", "thread", "turn"), if_not_exists=True,
        )
        db["threads"].create(
            {"workspace": str, "key": str, "session_id": str, "state": str, "updated": float},
            pk=("workspace", "key"), if_not_exists=True,
        )

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction (``BEGIN IMMEDIATE``): all of it or nothing."""
        return write_transaction(self.db.conn)

    # ----------------------------------------------------------------- threads

    def load_thread(self, workspace: str, key: str) -> Thread | None:
        """A conversation's saved state, or ``None`` the first time."""
        row = self.db.execute(
            "SELECT state FROM threads WHERE workspace = ? AND key = ?", [workspace, key]
        ).fetchone()
        if row is None:
            return None
        try:
            return _thread_decoder.decode(row[0])
        except msgspec.DecodeError:
            return None  # written by another version: start the conversation over

    def save_thread(self, workspace: str, thread: Thread, now: float) -> None:
        """Save a conversation's state."""
        self.db.execute(
            "INSERT OR REPLACE INTO threads (workspace, key, session_id, state, updated) "
            "VALUES (?, ?, ?, ?, ?)",
            [workspace, thread.key, thread.session_id, _encoder.encode(thread).decode(), now],
        )

    def forget_threads(self, before: float) -> int:
        """Delete conversations not updated since ``before``; how many."""
        return self.db.execute("DELETE FROM threads WHERE updated < ?", [before]).rowcount

    # ----------------------------------------------------------------- deltas

    def apply(self, workspace: str, changes: list[Change], *, prune_below: float, now: float) -> Applied:
        """Apply ``changes`` in order (call inside ``transaction``)."""
        applied = Applied()
        for change in changes:
            row = self.db.execute(
                "SELECT id, supports, contradicts FROM hints WHERE workspace = ? AND key = ?",
                [workspace, change.key],
            ).fetchone()
            if row is None:
                if not change.support:
                    continue  # nothing to contradict
                hint_id = self.db.execute(
                    "INSERT INTO hints (workspace, key, kind, task_type, text, supports, contradicts,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?)",
                    [workspace, change.key, change.kind, change.task_type, change.text, now, now],
                ).lastrowid
                supports = contradicts = 0
                applied.created.append(change.key)
            else:
                hint_id, supports, contradicts = row
            added = self.db.execute(
                "INSERT OR IGNORE INTO evidence (hint_id, session_id, thread, turn, support, note, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [hint_id, change.session_id, change.thread, change.turn, int(change.support),
                 change.note, now],
            ).rowcount
            if not added:
                continue
            column = "supports" if change.support else "contradicts"
            self.db.execute(
                f"UPDATE hints SET {column} = {column} + 1, updated = ? WHERE id = ?", [now, hint_id]
            )
            if change.support:
                applied.supported.append(change.key)
                continue
            applied.contradicted.append(change.key)
            if supports - (contradicts + 1) < prune_below:
                self.db.execute("DELETE FROM evidence WHERE hint_id = ?", [hint_id])
                self.db.execute("DELETE FROM hints WHERE id = ?", [hint_id])
                applied.pruned.append(change.key)
        return applied

    def record_episodes(self, workspace: str, episodes: list[Episode], now: float) -> None:
        """Keep finished episodes (for the report and the model's summary)."""
        for episode in episodes:
            self.db.execute(
                "INSERT OR REPLACE INTO episodes (workspace, session_id, thread, turn, kind, prompt,"
                " sequence, actions, steps, input_tokens, output_tokens, seconds, tests, outcome,"
                " corrected, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [workspace, episode.session_id, episode.thread, episode.turn, episode.kind,
                 episode.prompt, ">".join(episode.sequence), _encoder.encode(episode.actions).decode(),
                 episode.steps, episode.input_tokens, episode.output_tokens, episode.seconds,
                 episode.tests, episode.outcome, episode.corrected, now],
            )

    def record_verdicts(self, workspace: str, verdicts: list[Verdict]) -> None:
        """The user's verdict on episodes: corrected ones are bad, accepted open ones good."""
        for verdict in verdicts:
            where = [workspace, verdict.session_id, verdict.thread, verdict.turn]
            if verdict.corrected:
                self.db.execute(
                    "UPDATE episodes SET outcome = ?, corrected = ? WHERE workspace = ? AND"
                    " session_id = ? AND thread = ? AND turn = ?", [BAD, verdict.note, *where])
            else:
                self.db.execute(
                    "UPDATE episodes SET outcome = ? WHERE outcome = ? AND workspace = ? AND"
                    " session_id = ? AND thread = ? AND turn = ?", [GOOD, OPEN, *where])

    # ----------------------------------------------------------------- reading

    def hints(self, workspace: str) -> list[Hint]:
        """Every hint of the workspace, strongest first."""
        rows = self.db.execute(
            "SELECT id, key, kind, task_type, text, supports, contradicts FROM hints"
            " WHERE workspace = ? ORDER BY supports - contradicts DESC, supports DESC, id",
            [workspace],
        ).fetchall()
        return [Hint(id=r[0], key=r[1], kind=r[2], task_type=r[3] or "", text=r[4],
                     supports=r[5], contradicts=r[6]) for r in rows]

    def active(self, workspace: str, min_evidence: int) -> list[Hint]:
        """The hints with enough evidence, strongest first."""
        return [hint for hint in self.hints(workspace) if hint.active(min_evidence)]

    def evidence(self, hint_id: int) -> list[Evidence]:
        """A hint's evidence, oldest first."""
        rows = self.db.execute(
            "SELECT session_id, thread, turn, support, note, at FROM evidence WHERE hint_id = ?"
            " ORDER BY at, session_id, turn", [hint_id],
        ).fetchall()
        return [Evidence(session_id=r[0], thread=r[1], turn=r[2], support=bool(r[3]), note=r[4] or "",
                         at=r[5]) for r in rows]

    def task_stats(self, workspace: str) -> list[TaskStats]:
        """Episodes by task type: count, median steps, tokens and seconds, outcomes."""
        rows = self.db.execute(
            "SELECT kind, steps, input_tokens + output_tokens, seconds, tests, outcome, corrected"
            " FROM episodes WHERE workspace = ? ORDER BY kind", [workspace],
        ).fetchall()
        by_type: dict[str, list[tuple]] = {}
        for row in rows:
            by_type.setdefault(row[0], []).append(row)
        return [
            TaskStats(
                task_type=kind, episodes=len(group),
                median_steps=statistics.median(r[1] for r in group),
                median_tokens=statistics.median(r[2] for r in group),
                median_seconds=round(statistics.median(r[3] for r in group), 1),
                tests_passed=sum(1 for r in group if r[4] == "passed"),
                corrected=sum(1 for r in group if r[5] == BAD and r[6]),
            )
            for kind, group in sorted(by_type.items())
        ]

    def episodes(self, workspace: str) -> list[Episode]:
        """Every recorded episode of the workspace, oldest first."""
        rows = self.db.execute(
            "SELECT session_id, thread, turn, kind, prompt, sequence, actions, steps, input_tokens,"
            " output_tokens, seconds, tests, outcome, corrected FROM episodes WHERE workspace = ?"
            " ORDER BY at, session_id, turn", [workspace],
        ).fetchall()
        return [
            Episode(session_id=r[0], thread=r[1], turn=r[2], kind=r[3], prompt=r[4],
                    sequence=[s for s in r[5].split(">") if s], actions=msgspec.json.decode(r[6]),
                    steps=r[7], input_tokens=r[8], output_tokens=r[9], seconds=r[10], tests=r[11],
                    outcome=r[12], corrected=r[13] or "")
            for r in rows
        ]
