"""The surprise score of a candidate memory (novelty, contradiction, specificity, user
emphasis, context switch), weighted, against ``MEMORY_SURPRISE_THRESHOLD``.

Pure: the caller measures each signal against the store and passes it in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lynkr_memory.extract import CONTRADICTION, NEGATION, Candidate

#: Default weights, in the order of ``Signals``' fields (``MEMORY_SURPRISE_WEIGHTS``).
DEFAULT_WEIGHTS = (0.30, 0.40, 0.15, 0.10, 0.05)

_SPECIFIC = re.compile(r"\d|[A-Z][a-z]+[A-Z]|[/_.][\w]|\b[A-Z][\w+#-]+")


@dataclass(frozen=True, slots=True)
class Signals:
    """Each signal in 0..1."""

    novelty: float
    contradiction: float
    specificity: float
    emphasis: float
    context_switch: float

    def score(self, weights: Sequence[float] = DEFAULT_WEIGHTS) -> float:
        """The weighted sum, clamped to 0..1."""
        values = (self.novelty, self.contradiction, self.specificity, self.emphasis, self.context_switch)
        return max(0.0, min(1.0, sum(w * v for w, v in zip(weights, values, strict=True))))


def specificity(candidate: Candidate) -> float:
    """How concrete a statement is: named things, numbers, paths (each adds a quarter)."""
    hits = len(candidate.entities) + len(_SPECIFIC.findall(candidate.content)) // 2
    return min(1.0, 0.25 * hits)


def contradiction(candidate: Candidate, superseding: bool, shares_subject_words: bool) -> float:
    """1 when the candidate replaces a stored memory about its subject; 0.5 for a statement
    that says it changes or negates something a stored memory shares words with; else 0."""
    if superseding:
        return 1.0
    if shares_subject_words and (CONTRADICTION.search(candidate.content) or NEGATION.search(candidate.content)):
        return 0.5
    return 0.0
