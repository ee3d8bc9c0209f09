"""The reflector's records: what it remembers of a conversation between two requests
(``Thread``, ``Task``, ``Action``, ``Pending``), what a finished task looked like
(``Episode``), and one step of a playbook update (``Change``).

msgspec Structs, stored as JSON in the playbook database.
"""

from __future__ import annotations

import msgspec

GOOD, BAD, OPEN = "good", "bad", "open"


class Action(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One tool call of a task. ``ok`` is ``None`` until its result arrives."""

    id: str
    tool: str
    category: str
    sig: str
    target: str = ""
    call: str = ""
    source: str = "client"
    ok: bool | None = None
    error: str = ""


class Task(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the model did for one prompt of the user (a turn, in Claude Code's words),
    and what it cost: exchanges (requests), model calls (steps), tokens, seconds."""

    turn: int
    kind: str
    prompt: str = ""
    actions: list[Action] = []
    exchanges: int = 0
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    interjection: str = ""


class Change(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One delta to the playbook: episode ``(session_id, thread, turn)`` supports
    (``support``) or contradicts the hint ``key``. ``kind``, ``task_type`` and ``text``
    describe the hint should the change create it (only a support creates one)."""

    key: str
    kind: str
    text: str
    support: bool
    session_id: str
    thread: str
    turn: int
    task_type: str = ""
    note: str = ""


class Pending(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A finished task waiting for the user's next prompt, which accepts or corrects it:
    the hints it supported, the changes that wait for that verdict, the files it edited."""

    turn: int
    kind: str
    supported: list[Change] = []
    deferred: list[Change] = []
    edited: list[str] = []


class Thread(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One conversation of a session, between two requests: the fingerprints of the
    messages read so far (``cursor`` of them), the task under way and the finished one
    awaiting its verdict."""

    session_id: str
    key: str
    seen: list[str] = []
    turns: int = 0
    cwd: str = ""
    kind: str = ""
    task: Task | None = None
    pending: Pending | None = None

    @property
    def cursor(self) -> int:
        """How many messages of the conversation were read."""
        return len(self.seen)


class Episode(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A finished task, as the playbook's report and the model see it.

    ``tests``: ``passed``/``failed`` for the last test run after the last edit, ``none``
    without one. ``outcome``: ``good`` (tests passed, or the user went on without a
    correction), ``bad`` (tests failed, or the user corrected it), ``open`` (not known yet).
    """

    session_id: str
    thread: str
    turn: int
    kind: str
    prompt: str = ""
    sequence: list[str] = []
    actions: list[str] = []
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    tests: str = "none"
    outcome: str = OPEN
    corrected: str = ""


class Verdict(msgspec.Struct, kw_only=True):
    """The user's next prompt judged episode ``(session_id, thread, turn)``."""

    session_id: str
    thread: str
    turn: int
    kind: str
    corrected: bool
    note: str = ""
