"""The reference graph of the workspace and its PageRank.

Nodes are files; an edge goes from a file to each file defining a name it refers to,
weighted by the square root of how often it refers to that name and shared among the
name's definitions (a name defined in five files gives each a fifth). Ranking is a few
lines of power iteration over that graph, personalised toward the files a conversation
mentions; no graph library is needed for a graph this size (a few thousand nodes).
"""

from __future__ import annotations

import collections
import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

#: An unresolved name defined in more files than this says nothing about which one is
#: meant (``get``, ``init``, a macro every header defines): it adds no edge.
MAX_DEFINERS = 12


@dataclass(frozen=True, slots=True)
class Graph:
    """Files (ids in path order) and their edges, with weights normalised per source."""

    files: list[int]
    paths: dict[int, str]
    #: For each file (by position in ``files``): (target position, share of its out-weight).
    out: list[list[tuple[int, float]]]
    #: (defining file id, name) -> (referring file position, share of its out-weight).
    name_edges: dict[tuple[int, str], list[tuple[int, float]]]
    #: The same edges by referring file position: ((defining file id, name), share).
    source_keys: list[list[tuple[tuple[int, str], float]]]
    #: File id -> position in ``files``.
    position: dict[int, int]

    @property
    def edges(self) -> dict[int, dict[int, float]]:
        """The edges by file id (for tests and debugging)."""
        return {self.files[s]: {self.files[t]: w for t, w in targets} for s, targets in enumerate(self.out) if targets}


def build_graph(connection: sqlite3.Connection) -> Graph:
    """The reference graph of the indexed files."""
    paths = dict(connection.execute("SELECT id, path FROM files WHERE status = 'indexed' ORDER BY path").fetchall())
    files = list(paths)
    position = {file_id: n for n, file_id in enumerate(files)}
    definers: dict[str, list[int]] = defaultdict(list)  # of the names some reference leaves unresolved
    for name, file_id in connection.execute(
            """SELECT DISTINCT name, file_id FROM symbols WHERE name IN (SELECT name FROM refs WHERE target_id IS NULL)
            ORDER BY name, file_id"""):
        definers[name].append(file_id)
    weights: list[dict[int, float]] = [{} for _ in files]
    by_name: dict[tuple[int, str], list[tuple[int, float]]] = defaultdict(list)
    for file_id, name, count, target_file in connection.execute(
            """SELECT r.file_id, r.name, COUNT(*), s.file_id FROM refs r LEFT JOIN symbols s ON s.id = r.target_id
            GROUP BY r.file_id, r.name, s.file_id ORDER BY r.file_id, r.name"""):
        source = position.get(file_id)
        targets = [target_file] if target_file is not None else definers.get(name, ())
        if source is None or not targets or len(targets) > MAX_DEFINERS:
            continue
        weight = math.sqrt(count) / len(targets)
        for target in targets:
            if target != file_id and target in position:
                row = weights[source]
                row[position[target]] = row.get(position[target], 0.0) + weight
                by_name[(target, name)].append((source, weight))
    totals = [sum(row.values()) for row in weights]
    out = [sorted((t, w / totals[s]) for t, w in row.items()) for s, row in enumerate(weights)]
    name_edges = {key: [(s, w / totals[s]) for s, w in sources] for key, sources in by_name.items()}
    source_keys: list[list[tuple[tuple[int, str], float]]] = [[] for _ in files]
    for key, sources in name_edges.items():
        for source, share in sources:
            source_keys[source].append((key, share))
    return Graph(files, paths, out, name_edges, source_keys, position)


def pagerank(
    graph: Graph, personal: dict[int, float] | None = None, *, damping: float = 0.85,
    iterations: int = 50, tolerance: float = 1e-7, start: dict[int, float] | None = None,
) -> dict[int, float]:
    """PageRank of every file (by id); ``personal`` (by file id) biases the random jumps
    and the dangling files' rank toward some files; ``start`` warms the iteration up."""
    files = graph.files
    count = len(files)
    if not count:
        return {}
    if personal:
        total = sum(personal.get(f, 0.0) for f in files)
        jump = [personal.get(f, 0.0) / total for f in files]
    else:
        jump = [1.0 / count] * count
    rank = [start.get(f, 0.0) for f in files] if start else list(jump)
    dangling = [n for n, targets in enumerate(graph.out) if not targets]
    out = graph.out
    for _ in range(iterations):
        lost = damping * sum(rank[n] for n in dangling) + (1 - damping)
        new = [lost * j for j in jump]
        for source, targets in enumerate(out):
            share = damping * rank[source]
            if share:
                for target, weight in targets:
                    new[target] += share * weight
        change = sum(abs(a - b) for a, b in zip(new, rank, strict=True))
        rank = new
        if change < tolerance:
            break
    return dict(zip(files, rank, strict=True))


def seeded_pagerank(graph: Graph, seeds: list[int], *, damping: float = 0.85, epsilon: float = 2e-4) -> dict[int, float]:
    """PageRank whose random jumps all go to ``seeds`` (file ids), by forward push: only the
    seeds' neighbourhood is touched, so it costs little however large the graph is. With
    the ordinary PageRank it gives any mix of the two by linearity:
    PR(jump = (1 - w) uniform + w seeds) = (1 - w) PR + w seeded."""
    position = graph.position
    starts = [position[s] for s in seeds if s in position]
    if not starts:
        return {}
    residual: dict[int, float] = dict.fromkeys(starts, 1.0 / len(starts))
    mass: dict[int, float] = {}
    out = graph.out
    back = [(start, 1.0 / len(starts)) for start in starts]  # a dangling file jumps back to the seeds
    queue = collections.deque(starts)
    while queue:
        node = queue.popleft()
        amount = residual.get(node, 0.0)
        targets = out[node] or back
        if amount < epsilon * len(targets):
            continue
        residual[node] = 0.0
        mass[node] = mass.get(node, 0.0) + (1 - damping) * amount
        spread = damping * amount
        for target, weight in targets:
            before = residual.get(target, 0.0)
            after = residual[target] = before + spread * weight
            threshold = epsilon * len(out[target] or back)
            if before < threshold <= after:
                queue.append(target)
    return {graph.files[n]: value for n, value in mass.items()}


def symbol_scores(graph: Graph, rank: dict[int, float]) -> dict[tuple[int, str], float]:
    """How much rank flows to each (file, name) definition: the referring files' rank,
    shared in proportion to the weight of their references. Only files with rank count,
    so a sparse ``rank`` (a seeded one) is cheap."""
    position = graph.position if len(rank) < len(graph.files) else None
    scores: dict[tuple[int, str], float] = {}
    items = ((position[f], value) for f, value in rank.items() if f in position) if position is not None \
        else enumerate(rank.get(f, 0.0) for f in graph.files)
    for source, value in items:
        if value:
            for key, share in graph.source_keys[source]:
                scores[key] = scores.get(key, 0.0) + value * share
    return scores
