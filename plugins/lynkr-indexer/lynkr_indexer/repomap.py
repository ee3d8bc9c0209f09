"""The repo map: the most important files and their key definitions, ranked by the
reference graph and fitted to a token budget.

The text is deterministic: the same index, budget and mentioned files give the same
bytes (ties are broken by path, line and signature), so a system prompt that carries it keeps
upstream prompt caches hitting while nothing changed.

What does not depend on the mentioned files is computed once per index generation (the
graph, its rank, the best definitions and files, their rows); a personalised map then
costs a forward push from the mentioned files and the definitions it reaches.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import sqlite3
import threading
from collections.abc import Set
from dataclasses import dataclass
from typing import NamedTuple

from lynkr_indexer.definitions import DefinitionRows, Key
from lynkr_indexer.fit import Entry, LineTokens, fit
from lynkr_indexer.rank import Graph, build_graph, pagerank, seeded_pagerank, symbol_scores

_MAX_CHARS_PER_TOKEN = 5  # more characters than a budget can hold: the map is then cut to fit
_FILES = 300  # files without a picked definition considered for what room is left
_CANDIDATES = 600  # definitions considered for a map: more than a budget of a few thousand tokens shows
_RENDERED = 64  # maps kept per generation
#: The share of PageRank's random jumps that go to the files a text mentions.
MENTION_WEIGHT = 0.5
_BOOST = MENTION_WEIGHT / (1 - MENTION_WEIGHT)
_MENTION = re.compile(r"[\w./-]+\.[A-Za-z0-9+]+|\b[A-Za-z_][A-Za-z0-9_]{3,}\b")


class Scored(NamedTuple):
    """A definition's score, sorting as maps list them: best first, then by path and name."""

    #: Minus the score rounded to 12 places (floating-point noise does not reorder).
    order: float
    path: str
    name: str
    file_id: int
    score: float

    @property
    def key(self) -> Key:
        """(file id, name)."""
        return (self.file_id, self.name)


#: A map line of a definition as it sorts: (order, path, line, signature, file id).
Listed = tuple[float, str, int, str, int]


@dataclass(frozen=True, slots=True)
class RankedGraph:
    """A graph and what every map of its index generation starts from: computed once
    per generation (in the server, by the indexing thread, right after indexing)."""

    generation: int
    graph: Graph
    #: The unpersonalised PageRank of each file, and the rank flowing to each definition.
    rank: dict[int, float]
    scores: dict[Key, float]
    #: The best-scored definitions, best first, and the rounded score of the last one:
    #: personalising only raises scores, so a definition below it never makes the cut.
    top: list[Scored]
    floor: float
    #: The lines of the best definitions as they sort without mentions.
    listed: dict[Key, list[Listed]]
    #: The best-ranked files, best first (personalising only raises the files it reaches).
    top_files: list[int]
    #: Indexed files by path, and by file name (names with a dot).
    names: dict[str, tuple[int, ...]]
    #: The rows of definitions read so far (the best ones from the start).
    definitions: DefinitionRows


@dataclass(frozen=True, slots=True)
class Ranking:
    """The ranks of one map: the generation's, raised toward the mentioned files."""

    ranked: RankedGraph
    #: The files whose rank the mentions raised, with their new rank.
    raised: dict[int, float]
    #: The best-scored definitions, best first, and those whose score the mentions raised.
    top: list[Scored]
    rescored: Set[Key]

    def file_rank(self, file_id: int) -> float:
        """A file's rank in this map."""
        rank = self.raised.get(file_id)
        return self.ranked.rank.get(file_id, 0.0) if rank is None else rank

    def best_files(self) -> list[int]:
        """The ``_FILES`` best-ranked files, best first."""
        if not self.raised:
            return self.ranked.top_files
        paths = self.ranked.graph.paths
        candidates = set(self.ranked.top_files) | self.raised.keys()
        return [file_id for *_, file_id in heapq.nsmallest(
            _FILES, ((-round(self.file_rank(f), 12), paths[f], f) for f in candidates))]


class RepoMapper:
    """Renders repo maps of one index, keeping the ranked graph of the newest generation
    and the maps rendered from it. Safe to share between threads: a graph is built once
    per generation (a thread asking for one being built waits for it), outside the lock
    that maps are rendered under."""

    def __init__(self) -> None:
        self._ranked: RankedGraph | None = None
        self._building: set[int] = set()
        self._rendered: dict[tuple[int, int, tuple[int, ...]], str] = {}
        self._line_tokens = LineTokens()
        self._lock = threading.Lock()
        self._built = threading.Condition(self._lock)

    def ranked(self, connection: sqlite3.Connection, generation: int) -> RankedGraph:
        """The graph and base rank for ``generation`` (built when it moved on). Generations
        only grow, so a graph of an older one than kept is built but not kept."""
        with self._lock:
            while True:
                if self._ranked is not None and self._ranked.generation == generation:
                    return self._ranked
                if generation not in self._building:
                    self._building.add(generation)
                    break
                self._built.wait()
        try:
            ranked = rank_graph(connection, generation)
        except BaseException:
            self._built_one(generation, None)
            raise
        self._built_one(generation, ranked)
        return ranked

    def _built_one(self, generation: int, ranked: RankedGraph | None) -> None:
        """Keep ``ranked`` if it is the newest, and wake the threads waiting for it."""
        with self._lock:
            self._building.discard(generation)
            if ranked is not None and (self._ranked is None or self._ranked.generation < generation):
                self._ranked = ranked
                self._rendered.clear()
            self._built.notify_all()

    def render(self, connection: sqlite3.Connection, generation: int, *, budget: int,
               mentioned: frozenset[int] = frozenset()) -> str:
        """The map for ``budget`` tokens, personalised toward the ``mentioned`` file ids
        (``MENTION_WEIGHT`` of the random jumps go to them)."""
        key = (generation, budget, tuple(sorted(mentioned)))
        with self._lock:
            text = self._rendered.get(key)
        if text is None:
            ranked = self.ranked(connection, generation)
            with self._lock:
                text = self._rendered.get(key)
                if text is None:
                    entries = _entries(connection, personalise(ranked, mentioned), mentioned,
                                       budget * _MAX_CHARS_PER_TOKEN)
                    text = self._rendered[key] = fit(entries, budget, self._line_tokens)
                    if len(self._rendered) > _RENDERED:
                        self._rendered.pop(next(iter(self._rendered)))
        return text

    def mentioned_files(self, connection: sqlite3.Connection, generation: int, text: str,
                        limit: int = 20) -> frozenset[int]:
        """``mentioned_files``, with the file names of the generation kept in memory."""
        return _mentioned(connection, text, limit, self.ranked(connection, generation).names)


def rank_graph(connection: sqlite3.Connection, generation: int) -> RankedGraph:
    """Build the graph of the index, rank it and read the best definitions' rows."""
    graph = build_graph(connection)
    rank = pagerank(graph)
    scores = symbol_scores(graph, rank)
    paths = graph.paths
    top = heapq.nsmallest(_CANDIDATES, (Scored(-round(score, 12), paths.get(file_id, ""), name, file_id, score)
                                        for (file_id, name), score in scores.items()))
    floor = -top[-1].order if len(top) == _CANDIDATES else -math.inf
    top_files = [file_id for *_, file_id in heapq.nsmallest(
        _FILES, ((-round(rank.get(f, 0.0), 12), paths[f], f) for f in graph.files))]
    definitions = DefinitionRows()
    rows = definitions.for_keys(connection, [scored.key for scored in top])
    listed = {scored.key: _listed(scored, scored.score + rank.get(scored.file_id, 0.0) * 1e-3, rows[scored.key])
              for scored in top}
    return RankedGraph(generation, graph, rank, scores, top, floor, listed, top_files, _file_names(paths),
                       definitions)


def personalise(ranked: RankedGraph, mentioned: frozenset[int]) -> Ranking:
    """The ranks of a map personalised toward ``mentioned``: by PageRank's linearity,
    (1 - w) base + w seeded, divided by (1 - w) (the same order)."""
    if not mentioned:
        return Ranking(ranked, {}, ranked.top, frozenset())
    graph, base = ranked.graph, ranked.rank
    seeded = seeded_pagerank(graph, sorted(mentioned))
    raised = {file_id: base.get(file_id, 0.0) + _BOOST * value for file_id, value in seeded.items()}
    rescored: dict[Key, float] = {}
    floor = ranked.floor - 1e-12  # below it even the rounded score is under the cut
    for key, value in symbol_scores(graph, seeded).items():
        score = ranked.scores.get(key, 0.0) + _BOOST * value
        if score >= floor:
            rescored[key] = score
    # the definitions the mentions did not reach keep their order: merge the others in
    paths = graph.paths
    kept = [scored for scored in ranked.top if (scored.file_id, scored.name) not in rescored]
    moved = sorted(Scored(-round(score, 12), paths.get(file_id, ""), name, file_id, score)
                   for (file_id, name), score in rescored.items())
    top = list(itertools.islice(heapq.merge(kept, moved), _CANDIDATES))
    return Ranking(ranked, raised, top, rescored.keys())


def mentioned_files(connection: sqlite3.Connection, text: str, limit: int = 20) -> frozenset[int]:
    """Indexed files the text names: by path, by file name, or by a symbol defined only there."""
    paths = dict(connection.execute("SELECT id, path FROM files WHERE status = 'indexed'").fetchall())
    return _mentioned(connection, text, limit, _file_names(paths))


def _mentioned(connection: sqlite3.Connection, text: str, limit: int, names: dict[str, tuple[int, ...]]) -> frozenset[int]:
    words = set(_MENTION.findall(text))
    found: set[int] = set()
    for word in words:
        found.update(names.get(word, ()))
    identifiers = sorted(w for w in words if "." not in w and "/" not in w)[:500]
    if identifiers:
        # through the case-insensitive index of names, then the exact names
        exact = set(identifiers)
        definers: dict[str, set[int]] = {}
        for name, file_id in connection.execute(
                f"""SELECT name, file_id FROM symbols WHERE name COLLATE NOCASE IN ({",".join("?" * len(identifiers))})
                AND kind != 'constant'""", identifiers):
            if name in exact:
                definers.setdefault(name, set()).add(file_id)
        found.update(next(iter(files)) for files in definers.values() if len(files) == 1)
    return frozenset(sorted(found)[:limit])


def _listed(scored: Scored, score: float, lines: list[tuple[int, str]]) -> list[Listed]:
    """The map lines of a definition with ``score`` (its own and a thousandth of its file's rank)."""
    order = -round(score, 12)
    return [(order, scored.path, line, signature, scored.file_id) for line, signature in lines]


def _file_names(paths: dict[int, str]) -> dict[str, tuple[int, ...]]:
    """Files by path and by file name (names with a dot), for finding mentions."""
    names: dict[str, list[int]] = {}
    for file_id, path in paths.items():
        names.setdefault(path, []).append(file_id)
        name = path.rsplit("/", 1)[-1]
        if "." in name and name != path:
            names.setdefault(name, []).append(file_id)
    return {word: tuple(ids) for word, ids in names.items()}


def _entries(connection: sqlite3.Connection, ranking: Ranking, mentioned: frozenset[int], limit: int) -> list[Entry]:
    """The map's entries in rank order, about ``limit`` characters of them: the best
    definitions (all those of the mentioned files among them), then files by rank."""
    ranked = ranking.ranked
    paths = ranked.graph.paths
    rescored, raised = ranking.rescored, ranking.raised
    definitions: list[Listed] = []
    moved: list[tuple[Scored, Key]] = []  # the definitions whose lines sort anew
    for scored in ranking.top:
        file_id = scored.file_id
        if file_id not in mentioned:  # (all of a mentioned file's definitions come below)
            key = (file_id, scored.name)
            listed = ranked.listed.get(key)
            if listed is None or key in rescored or file_id in raised:
                moved.append((scored, key))
            else:
                definitions.extend(listed)
    rows = ranked.definitions.for_keys(connection, [key for _, key in moved])
    for scored, key in moved:
        definitions.extend(_listed(scored, scored.score + ranking.file_rank(scored.file_id) * 1e-3, rows[key]))
    scores = {(scored.file_id, scored.name): scored.score for scored in ranking.top if scored.file_id in mentioned}
    for file_id in sorted(mentioned):
        if file_id in paths:
            file_score = ranking.file_rank(file_id) * 1e-3
            definitions.extend((-round(scores.get((file_id, name), 0.0) + file_score, 12), paths[file_id], line,
                                signature, file_id)
                               for name, line, signature in ranked.definitions.in_file(connection, file_id))
    definitions.sort()
    entries: list[Entry] = []
    shown: set[int] = set()
    length = 0
    for _, path, line, signature, file_id in definitions:
        if length >= limit:
            break
        entries.append(Entry(round(ranking.file_rank(file_id), 12), path, line, signature))
        length += len(signature) + 10 + (0 if file_id in shown else len(path) + 2)
        shown.add(file_id)
    if length < limit:  # room left: files with nothing picked, by rank
        for file_id in ranking.best_files():
            if length >= limit:
                break
            if file_id not in shown:
                entries.append(Entry(round(ranking.file_rank(file_id), 12), paths[file_id], 0, ""))
                length += len(paths[file_id]) + 1
                shown.add(file_id)
    return entries
