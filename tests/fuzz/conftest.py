"""The fuzz targets' time budget: ``LYNKR_FUZZ_SECONDS`` shared among the collected
targets, and a summary of how many examples each ran."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.fuzz.budget import BUDGET, SECONDS_VARIABLE, total_seconds


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: a hypothesis fuzz target (tests/fuzz)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = total_seconds()
    targets = [item for item in items if item.get_closest_marker("fuzz")]
    if seconds is not None and targets:
        BUDGET.seconds_per_target = seconds / len(targets)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not BUDGET.examples:
        return
    mode = (
        f"{SECONDS_VARIABLE}: {BUDGET.seconds_per_target:.0f} s per target"
        if BUDGET.seconds_per_target is not None
        else "CI size"
    )
    terminalreporter.section(f"fuzz targets ({mode})")
    for name, count in sorted(BUDGET.examples.items()):
        seconds = BUDGET.seconds.get(name, 0.0)
        terminalreporter.write_line(f"{name}: {count} examples in {seconds:.1f} s")


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """Keep the translators' debug lines (thousands per target) out of the output."""
    with structlog.testing.capture_logs():
        yield
