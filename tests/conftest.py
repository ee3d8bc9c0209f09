"""Fixtures shared by the core's tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest


@pytest.fixture
async def after_test() -> AsyncIterator[contextlib.AsyncExitStack]:
    """An ``AsyncExitStack`` unwound when the test ends: fake servers entered on it are
    stopped then, and callbacks pushed on it (a client's ``close``) are run, last first."""
    async with contextlib.AsyncExitStack() as stack:
        yield stack
