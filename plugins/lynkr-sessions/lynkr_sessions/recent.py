"""The hidden turns of recent sessions, in memory, bounded by bytes.

The next turn of a session can arrive before the store's worker has written the
exchange before it, and the request path must not read SQLite on every request: the
store remembers each exchange's ``HiddenTurns`` here when it records it. Each session
knows up to which index of its client's history every answer is accounted for
(``known_until``); a history with an answer beyond it (after a restart, an eviction,
or a turn another worker process answered) makes the store read the database, once.
The least recently used sessions go first when the bound is passed; the session just
used is always kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from lynkr_sessions.hidden import HiddenTurns

#: Bytes counted for a session besides its turns (so that the bound also bounds how many).
SESSION_OVERHEAD = 256


class SessionTurns:
    """One session's hidden turns, by the index their answer takes in the client's history."""

    __slots__ = ("by_position", "known_until", "request_ids", "size")

    def __init__(self) -> None:
        #: Newest first at each position: a later exchange answering at the same place wins.
        self.by_position: dict[int, list[HiddenTurns]] = {}
        self.request_ids: set[str] = set()
        #: Every answer at an index below it is accounted for (recorded here, or read).
        self.known_until = 0
        self.size = SESSION_OVERHEAD

    def add(self, request_id: str, turns: HiddenTurns, size: int, *, newest: bool = True) -> int:
        """Keep ``turns`` (as the newest, or as older than every one kept); the bytes added."""
        if request_id in self.request_ids:
            return 0
        self.request_ids.add(request_id)
        kept = self.by_position.setdefault(turns.position, [])
        if newest:
            kept.insert(0, turns)
        else:
            kept.append(turns)
        self.size += size
        return size

    def at(self, position: int) -> list[HiddenTurns]:
        """The turns whose answer is at ``position``, newest first."""
        return self.by_position.get(position, [])

    def __bool__(self) -> bool:
        return bool(self.by_position)


class RecentTurns:
    """Sessions' hidden turns, least recently used evicted past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.total = 0
        #: Sessions evicted to stay under the bound.
        self.evicted = 0
        self._sessions: OrderedDict[str, SessionTurns] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> SessionTurns | None:
        """A session's turns (now the most recently used), or ``None`` when not in memory."""
        session = self._sessions.get(session_id)
        if session is not None:
            self._sessions.move_to_end(session_id)
        return session

    def remember(self, session_id: str, request_id: str, turns: HiddenTurns | None, size: int, *,
                 position: int, began_here: bool) -> None:
        """Note an exchange of ``session_id`` whose answer takes index ``position`` (and its
        hidden turns, if any). ``began_here``: its history held no answer."""
        session = self._session(session_id)
        if began_here or session.known_until >= position:  # every earlier answer is known
            session.known_until = max(session.known_until, position + 1)
        if turns is not None:
            self.total += session.add(request_id, turns, size)
            self._evict()

    def loaded(self, session_id: str, stored: Iterable[tuple[str, HiddenTurns, int]], until: int) -> SessionTurns:
        """Add what the database holds for ``session_id`` (oldest first) as older than what
        memory has; every answer below ``until`` is then accounted for."""
        session = self._session(session_id)
        for request_id, turns, size in reversed(list(stored)):
            self.total += session.add(request_id, turns, size, newest=False)
        session.known_until = max(session.known_until, until)
        self._evict()
        return session

    def forget(self, session_ids: Iterable[str]) -> None:
        """Drop sessions (deleted, or pruned by retention)."""
        for session_id in session_ids:
            session = self._sessions.pop(session_id, None)
            if session is not None:
                self.total -= session.size

    def _session(self, session_id: str) -> SessionTurns:
        session = self.get(session_id)
        if session is None:
            session = self._sessions[session_id] = SessionTurns()
            self.total += session.size
        return session

    def _evict(self) -> None:
        while self.total > self.max_bytes and len(self._sessions) > 1:
            _, session = self._sessions.popitem(last=False)
            self.total -= session.size
            self.evicted += 1
