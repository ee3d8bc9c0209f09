"""The hook lynkr-memory defines for other plugins (named by ``lynkr_hookspecs`` in the
package, so the core adds it before any plugin registers).

A plugin implementing it marks the implementation ``@hookimpl(optionalhook=True)``, so that
it still loads when lynkr-memory is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lynkr_core import Settings, hookspec


@hookspec
def lynkr_register_memory_retrievers(register: Callable[[Any], None], settings: Settings) -> None:
    """Register memory retrievers: objects that find the memories relevant to a request's
    text, blended by lynkr-memory with the others' scores (weighted by each one's
    ``weight``) and with recency and importance. Called once when lynkr-memory starts,
    in hook order. lynkr-memory registers its FTS5 retriever through this hook too.

    A retriever is any object with (all sync, each called on one of lynkr-memory's threads):

    - ``name: str`` and ``weight: float`` (its share of the relevance blend);
    - ``open(directory: pathlib.Path) -> None``: once, before anything else;
      ``directory`` is lynkr-memory's data directory (keep your files there);
    - ``indexed() -> set[int]``: the memory ids it holds, so that lynkr-memory can hand
      it what it misses (``index``) and what it should drop (``remove``) at start;
    - ``index(memories: list[tuple[int, str]]) -> None``: new memories, ``(id, text)``;
    - ``remove(ids: list[int]) -> None``: memories superseded, forgotten or pruned;
    - ``search(text: str, limit: int, session_id: str | None, include_global: bool)
      -> list[tuple[int, float]]``: up to ``limit`` memory ids with a score in 0..1,
      best first, for a request's text (raw user text: quote it yourself for any query
      language). Called on the request path: keep it well under a millisecond or two.
      Returning memories the session may not see is harmless (they are filtered);
    - ``close() -> None``: when lynkr-memory stops.

    ``index``, ``remove`` and ``open`` run on lynkr-memory's writer thread, ``search`` on its
    reader thread: make state shared between them safe (replace, don't mutate). An
    exception in ``search`` leaves that retriever out of one request (logged).
    """
