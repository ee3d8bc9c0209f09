"""The repo map: the most important files and their key definitions, ranked by the
reference graph and fitted to a token budget.

The text is deterministic: the same index, budget and mentioned files give the same
bytes (ties are broken by path and line), so a system prompt that carries it keeps
upstream prompt caches hitting while nothing changes.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

import anthropic_tokenizer

from lynkr_indexer.rank import Graph, build_graph, pagerank, seeded_pagerank, symbol_scores

_MAX_CHARS_PER_TOKEN = 5  # more characters than a budget can hold: the map is then cut to fit
_FILES = 300  # files without a picked definition considered for what room is left
_CANDIDATES = 600  # definitions considered for a map: more than a budget of a few thousand tokens shows
#: The share of PageRank's random jumps that go to the files a text mentions.
MENTION_WEIGHT = 0.5
_MENTION = re.compile(r"[\w./-]+\.[A-Za-z0-9+]+|\b[A-Za-z_][A-Za-z0-9_]{3,}\b")


@dataclass(frozen=True, slots=True)
class RankedGraph:
    """A graph, its unpersonalised rank and definition scores, and the best-scored
    definitions: computed once per index generation."""

    generation: int
    graph: Graph
    rank: dict[int, float]
    scores: dict[tuple[int, str], float]
    top: list[tuple[int, str]]


class RepoMapper:
    """Renders repo maps of one index, keeping the graph of the current generation."""

    def __init__(self) -> None:
        self._ranked: RankedGraph | None = None
        self._rendered: dict[tuple[int, int, tuple[int, ...]], str] = {}

    def ranked(self, connection: sqlite3.Connection, generation: int) -> RankedGraph:
        """The graph and base rank for ``generation`` (rebuilt when it moved on)."""
        if self._ranked is None or self._ranked.generation != generation:
            graph = build_graph(connection)
            rank = pagerank(graph)
            scores = symbol_scores(graph, rank)
            top = [key for key, _ in heapq.nsmallest(
                _CANDIDATES, scores.items(),
                key=lambda item: (-round(item[1], 12), graph.paths.get(item[0][0], ""), item[0][1]))]
            self._ranked = RankedGraph(generation, graph, rank, scores, top)
            self._rendered.clear()
        return self._ranked

    def render(self, connection: sqlite3.Connection, generation: int, *, budget: int,
               mentioned: frozenset[int] = frozenset()) -> str:
        """The map for ``budget`` tokens, personalised toward the ``mentioned`` file ids
        (``MENTION_WEIGHT`` of the random jumps go to them)."""
        key = (generation, budget, tuple(sorted(mentioned)))
        if key not in self._rendered:
            ranked = self.ranked(connection, generation)
            rank, scores = ranked.rank, {k: ranked.scores[k] for k in ranked.top}
            if mentioned:
                # (1 - w) base + w seeded, divided by (1 - w): the same order, fewer updates
                boost = MENTION_WEIGHT / (1 - MENTION_WEIGHT)
                seeded = seeded_pagerank(ranked.graph, sorted(mentioned))
                rank = dict(rank)
                for f, value in seeded.items():
                    rank[f] = rank.get(f, 0.0) + boost * value
                for k, value in symbol_scores(ranked.graph, seeded).items():
                    scores[k] = ranked.scores.get(k, 0.0) + boost * value
            self._rendered[key] = _render(connection, ranked.graph, rank, scores, budget, mentioned)
            if len(self._rendered) > 64:
                self._rendered.pop(next(iter(self._rendered)))
        return self._rendered[key]


def mentioned_files(connection: sqlite3.Connection, text: str, limit: int = 20) -> frozenset[int]:
    """Indexed files the text names: by path, by file name, or by a symbol defined only there."""
    words = set(_MENTION.findall(text))
    if not words:
        return frozenset()
    found: set[int] = set()
    for file_id, path in connection.execute("SELECT id, path FROM files WHERE status = 'indexed'"):
        name = path.rsplit("/", 1)[-1]
        if path in words or (name in words and "." in name):
            found.add(file_id)
    identifiers = sorted(w for w in words if "." not in w and "/" not in w)[:500]
    if identifiers:
        marks = ",".join("?" * len(identifiers))
        for (file_id,) in connection.execute(
                f"""SELECT MIN(file_id) FROM symbols WHERE name IN ({marks}) AND kind != 'constant'
                GROUP BY name HAVING COUNT(DISTINCT file_id) = 1""", identifiers):
            found.add(file_id)
    return frozenset(sorted(found)[:limit])


def _render(connection: sqlite3.Connection, graph: Graph, rank: dict[int, float],
            scores: dict[tuple[int, str], float], budget: int, mentioned: frozenset[int]) -> str:
    # The best-scored definitions (more than any budget can show), then their rows.
    top = heapq.nsmallest(_CANDIDATES, scores.items(),
                          key=lambda item: (-round(item[1], 12), graph.paths.get(item[0][0], ""), item[0][1]))
    wanted = {key: score for key, score in top}
    files = sorted({file_id for file_id, _ in wanted} | set(mentioned))
    names = sorted({name for _, name in wanted})
    definitions: list[tuple[float, int, int, str]] = []
    rows = connection.execute(
        f"""SELECT file_id, name, qualified_name, start_line, signature FROM symbols
        WHERE file_id IN ({",".join("?" * len(files))})
        AND (name IN ({",".join("?" * len(names))}) OR file_id IN ({",".join("?" * len(mentioned))}))""",
        [*files, *names, *sorted(mentioned)]) if files else ()
    for file_id, name, qualified, line, signature in rows:
        if (file_id, name) in wanted or file_id in mentioned:
            score = wanted.get((file_id, name), 0.0) + rank.get(file_id, 0.0) * 1e-3
            definitions.append((score, file_id, line, signature or qualified))
    ranked_defs = sorted(definitions, key=lambda d: (-round(d[0], 12), graph.paths.get(d[1], ""), d[2]))
    picked: list[tuple[int, int, str]] = []  # (file, line, signature) in rank order; line 0: the file alone
    seen_files: set[int] = set()
    length = 0
    limit = budget * _MAX_CHARS_PER_TOKEN
    for _, file_id, line, signature in ranked_defs:
        if file_id in graph.paths and length < limit:
            picked.append((file_id, line, signature))
            length += len(signature) + 10 + (0 if file_id in seen_files else len(graph.paths[file_id]) + 2)
            seen_files.add(file_id)
    ordered_files = heapq.nsmallest(_FILES, graph.files, key=lambda f: (-round(rank.get(f, 0.0), 12), graph.paths[f])) \
        if length < limit else []
    for file_id in ordered_files:  # room left: files with nothing picked, by rank
        if length >= limit:
            break
        if file_id not in seen_files:
            picked.append((file_id, 0, ""))
            length += len(graph.paths[file_id]) + 1
            seen_files.add(file_id)
    # Cut to the budget: count, shorten by the measured characters per token, count again.
    keep = len(picked)
    text = _text(picked[:keep], graph, rank)
    tokens = anthropic_tokenizer.count_tokens(text)
    while tokens > budget and keep:
        target = len(text) * budget / tokens * 0.97
        while keep and len(_text(picked[:keep], graph, rank)) > target:
            keep = max(0, min(keep - 1, int(keep * target / max(1, len(text)))))
        text = _text(picked[:keep], graph, rank)
        tokens = anthropic_tokenizer.count_tokens(text)
    return text


def _text(picked: list[tuple[int, int, str]], graph: Graph, rank: dict[int, float]) -> str:
    """The map of the picked definitions: files by rank, each with its lines in order."""
    chosen: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for file_id, line, signature in picked:
        items = chosen[file_id]
        if line:
            items.append((line, signature))
    lines = []
    for file_id in sorted(chosen, key=lambda f: (-round(rank.get(f, 0.0), 12), graph.paths[f])):
        items = sorted(chosen[file_id])
        lines.append(graph.paths[file_id] + (":" if items else ""))
        lines.extend(f"  {line}: {signature}" for line, signature in items)
    return "\n".join(lines)
