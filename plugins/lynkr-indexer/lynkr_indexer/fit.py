"""The text of a repo map, fitted to a token budget.

A map is a list of entries in rank order (a definition, or a file alone); its text shows
the files by rank, each with its definitions in line order. The budget keeps the longest
prefix of the entries whose text the tokenizer counts within it. Counting is the costly
part of a map, so each line is counted once (lines recur from one map to the next) and
the sum of the lines' counts picks the prefix; the text is then counted to check (and a
longer prefix tried when the lines joined counted fewer tokens than apart).
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

import anthropic_tokenizer


class Entry(NamedTuple):
    """One entry of a map: a definition (``line`` > 0) or a file alone (``line`` 0)."""

    #: The file's rank, rounded (files are shown by rank, then path).
    rank: float
    path: str
    line: int
    signature: str


class LineTokens:
    """Token counts of map lines with their newline, cached (up to ``limit`` lines)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._counts: dict[str, int] = {}
        self._limit = limit

    def __call__(self, line: str) -> int:
        count = self._counts.get(line)
        if count is None:
            if len(self._counts) >= self._limit:
                self._counts.clear()
            count = self._counts[line] = anthropic_tokenizer.count_tokens(line) + 1
        return count


def fit(entries: list[Entry], budget: int, line_tokens: LineTokens) -> str:
    """The text of a prefix of ``entries`` that fits ``budget`` tokens: the longest that
    the lines' token counts allow, or a little longer if it still fits."""
    totals = [0]  # totals[k]: the lines' tokens of the first k entries
    shown: set[str] = set()
    for entry in entries:
        cost = line_tokens(_definition_line(entry.line, entry.signature)) if entry.line else 0
        if entry.path not in shown:
            shown.add(entry.path)
            cost += line_tokens(entry.path + ":" if entry.line else entry.path)
        totals.append(totals[-1] + cost)
    keep = bisect.bisect_right(totals, budget) - 1
    text = render(entries[:keep])
    tokens = anthropic_tokenizer.count_tokens(text)
    if 0 < tokens <= budget and keep < len(entries):
        # lines joined count a little fewer tokens than apart: try the longer run that
        # the measured ratio allows, and keep it if it fits
        longer = bisect.bisect_right(totals, budget * totals[keep] / tokens) - 1
        if longer > keep:
            longer_text = render(entries[:longer])
            if anthropic_tokenizer.count_tokens(longer_text) <= budget:
                return longer_text
    while tokens > budget and keep:  # rare: lines joined counted more than apart
        keep = min(keep - 1, bisect.bisect_right(totals, totals[keep] - (tokens - budget)) - 1)
        text = render(entries[:keep])
        tokens = anthropic_tokenizer.count_tokens(text)
    return text


def render(entries: list[Entry]) -> str:
    """The map of ``entries``: files by rank (then path), each with its lines in order."""
    files: dict[str, tuple[float, list[tuple[int, str]]]] = {}
    for entry in entries:
        _, items = files.setdefault(entry.path, (entry.rank, []))
        if entry.line:
            items.append((entry.line, entry.signature))
    lines = []
    for path, (_, items) in sorted(files.items(), key=lambda item: (-item[1][0], item[0])):
        lines.append(path + ":" if items else path)
        lines.extend(_definition_line(line, signature) for line, signature in sorted(items))
    return "\n".join(lines)


def _definition_line(line: int, signature: str) -> str:
    return f"  {line}: {signature}"
