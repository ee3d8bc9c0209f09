"""Deciding what a finished exchange teaches: each extracted candidate is a duplicate
(skipped), not surprising enough (skipped), new, or a contradiction that supersedes the
stored memory about the same subject. Runs on the writer thread, against the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lynkr_memory.config import MemorySettings
from lynkr_memory.extract import CONTRADICTION, Candidate
from lynkr_memory.retrievers import lexical_search
from lynkr_memory.store import Memory, MemoryStore, NewMemory
from lynkr_memory.surprise import Signals, contradiction, specificity
from lynkr_memory.text import keywords, overlap

#: Importance a memory starts with, by type (user emphasis adds up to 0.3).
BASE_IMPORTANCE = {"preference": 0.7, "decision": 0.7, "fact": 0.6, "relationship": 0.5}
#: Stored memories a candidate is compared with (the most similar, by words).
SIMILAR = 16
#: Keyword overlap from which a stored memory says the same thing.
SAME = 0.9
#: Keyword overlap from which a statement that says it changes something targets a memory.
RELATED = 0.34


@dataclass(slots=True)
class Verdict:
    """What to do with one candidate."""

    candidate: Candidate
    action: str  # "add", "duplicate", "unsurprising" ("delete": model mode)
    surprise: float = 0.0
    supersedes: list[int] = field(default_factory=list)
    signals: Signals | None = None


def judge(store: MemoryStore, candidate: Candidate, session_id: str | None, config: MemorySettings,
          previous: Sequence[str] = ()) -> Verdict:
    """The verdict on ``candidate``, said in ``session_id`` after a message whose keywords
    were ``previous`` (empty: the first)."""
    words = keywords(candidate.content)
    for memory in store.recent(session_id, config.dedup_lookback) if session_id and config.dedup_lookback else ():
        if memory.type == candidate.type and _same(words, keywords(memory.content)):
            return Verdict(candidate, "duplicate")

    def visible(memory: Memory) -> bool:
        return memory.scope == "global" or (session_id is not None and memory.session_id == session_id)

    about = [m for m in store.same_subject(candidate.type, candidate.subject) if visible(m)]
    if any(_same(words, keywords(m.content)) for m in about):
        return Verdict(candidate, "duplicate")
    supersedes = [m.id for m in about]
    matches = lexical_search(store, candidate.content, SIMILAR)
    similar = [m for m in store.get(i for i, _ in matches).values() if m.active and visible(m)]
    # novelty is about what the statement is about (its subject and the things it names), not
    # the words a template shares with others ("we decided to use ... for ...")
    gist = keywords(" ".join([candidate.subject, *(name for _, name in candidate.entities)])) or words
    best = max((overlap(gist, keywords(m.content)) for m in similar), default=0.0)
    if not supersedes and any(_same(words, keywords(m.content)) for m in similar):
        return Verdict(candidate, "duplicate")
    if not supersedes and CONTRADICTION.search(candidate.content):
        related = sorted((m for m in similar if m.type == candidate.type),
                         key=lambda m: -overlap(keywords(m.content), words))
        if related and overlap(keywords(related[0].content), words) >= RELATED:
            supersedes = [related[0].id]
    signals = Signals(
        novelty=1.0 - best if not supersedes else max(0.5, 1.0 - best),
        contradiction=contradiction(candidate, bool(supersedes), best > 0),
        specificity=specificity(candidate),
        emphasis=candidate.emphasis,
        context_switch=1.0 - overlap(words, previous) if previous else 0.0,
    )
    surprise = signals.score(config.surprise_weights)
    if surprise < config.surprise_threshold:
        return Verdict(candidate, "unsurprising", surprise, signals=signals)
    return Verdict(candidate, "add", surprise, supersedes, signals)


def _same(left: list[str], right: list[str]) -> bool:
    return overlap(left, right) >= SAME and overlap(right, left) >= SAME


def as_new(verdict: Verdict, session_id: str | None, config: MemorySettings, source: str = "extracted") -> NewMemory:
    """The memory to store for an ``add`` verdict."""
    candidate = verdict.candidate
    importance = min(1.0, BASE_IMPORTANCE.get(candidate.type, 0.5) + 0.3 * candidate.emphasis)
    scope = "global" if candidate.type in config.global_types or session_id is None else "session"
    return NewMemory(content=candidate.content, type=candidate.type, subject=candidate.subject,
                     importance=importance, surprise=verdict.surprise, session_id=session_id, scope=scope,
                     source=source, entities=candidate.entities)
