"""How long each fuzz target runs: a few hundred examples in CI, or a time budget.

``fuzz_target(*strategies, examples=N)`` turns a property into a pytest test.
In a normal test run it is checked in two quick passes: the failures saved in
the example database (``.hypothesis/examples`` at the repository root) are
replayed, then ``N`` examples are generated from a fixed seed, so CI is
deterministic. When ``LYNKR_FUZZ_SECONDS`` is set (``nox -s fuzz -- --minutes 5``
sets it), the conftest divides that time among the collected targets and each
one runs batches of randomly seeded examples until its share is spent,
saving any failure to the database so that it replays on the next run.

Hypothesis has no time budget of its own; batches are the simplest way to get
one without stopping a run half-way through (which it would treat as a failure).
"""

from __future__ import annotations

import os
import time
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.strategies import SearchStrategy

#: Total seconds for all fuzz targets together; unset in a normal test run.
SECONDS_VARIABLE = "LYNKR_FUZZ_SECONDS"
DATABASE = DirectoryBasedExampleDatabase(
    str(Path(__file__).resolve().parents[2] / ".hypothesis" / "examples")
)
#: Examples in a time-budgeted batch, at most: a batch is never much longer than a few seconds.
MAX_BATCH = 50_000

_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
_REPLAY = settings(_COMMON, database=DATABASE, phases=[Phase.reuse, Phase.shrink])
_CI = settings(_COMMON, derandomize=True)
_LONG = settings(_COMMON, database=DATABASE)


@dataclass
class Budget:
    """The time each target gets (``None``: CI size) and what each target ran."""

    seconds_per_target: float | None = None
    examples: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


BUDGET = Budget()


def total_seconds() -> float | None:
    """The fuzzing time asked for through ``LYNKR_FUZZ_SECONDS``, if any."""
    value = os.environ.get(SECONDS_VARIABLE, "").strip()
    return float(value) if value else None


def fuzz_target(
    *strategies: SearchStrategy[Any], examples: int = 300
) -> Callable[[Callable[..., None]], Callable[[], None]]:
    """A property over ``strategies`` as a test: ``examples`` cases in CI, a time
    share under ``nox -s fuzz``. The property takes no fixtures."""

    def decorate(prop: Callable[..., None]) -> Callable[[], None]:
        name = prop.__name__

        def counted(drawn: tuple[Any, ...]) -> None:
            BUDGET.examples[name] = BUDGET.examples.get(name, 0) + 1
            prop(*drawn)

        counted.__name__ = counted.__qualname__ = name
        counted.__module__ = prop.__module__

        def search() -> Callable[[], None]:
            # a fresh wrapper each time: hypothesis takes one settings per test object
            return given(st.tuples(*strategies))(counted)

        def run() -> None:
            started = time.monotonic()
            try:
                if BUDGET.seconds_per_target is None:
                    _replay(search())
                    settings(_CI, max_examples=examples)(search())()
                else:
                    _run_for(search, BUDGET.seconds_per_target, examples)
            finally:
                BUDGET.seconds[name] = time.monotonic() - started

        run.__name__ = run.__qualname__ = name
        run.__module__ = prop.__module__
        run.__doc__ = prop.__doc__
        return pytest.mark.fuzz(run)

    return decorate


def _replay(test: Callable[[], None]) -> None:
    """The failures saved in the example database, if any (none: nothing runs)."""
    try:
        settings(_REPLAY)(test)()
    except unittest.SkipTest:  # hypothesis's way to say there was nothing to replay
        pass


def _run_for(search: Callable[[], Callable[[], None]], seconds: float, first_batch: int) -> None:
    """Batches of randomly seeded examples until ``seconds`` are spent; each batch
    is sized to take about a third of the time left."""
    deadline = time.monotonic() + seconds
    batch = first_batch
    while (left := deadline - time.monotonic()) > 0:
        started = time.monotonic()
        settings(_LONG, max_examples=batch)(search())()
        per_example = max(time.monotonic() - started, 1e-3) / batch
        left = deadline - time.monotonic()
        batch = max(50, min(MAX_BATCH, int(left / 3 / per_example)))
