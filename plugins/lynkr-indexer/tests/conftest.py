"""Fixtures: a workspace to index and an index database of its own."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lynkr_indexer.db import connect
from lynkr_indexer.indexer import IndexOptions, IndexReport, index_workspace

from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder (resolved, as WORKSPACE_ROOT is)."""
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def write(workspace: Path) -> Callable[[str, str | bytes], Path]:
    """``write(path, text)``: a file of the workspace, folders created."""

    def write_file(path: str, content: str | bytes) -> Path:
        target = workspace / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return target

    return write_file


@pytest.fixture
def database(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """An empty index database."""
    connection = connect(tmp_path / "index.db")
    yield connection
    connection.close()


@pytest.fixture
def index(database: sqlite3.Connection, workspace: Path) -> Callable[..., IndexReport]:
    """``index(**options)``: bring ``database`` up to date with ``workspace``."""

    def run(**options: object) -> IndexReport:
        return index_workspace(database, workspace, IndexOptions(**options))

    return run
