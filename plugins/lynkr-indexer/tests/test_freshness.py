"""Keeping the index fresh while the server runs: the watcher re-indexes a changed file in
the background; with ``request`` freshness a tool call sees the change at once."""

from __future__ import annotations

import asyncio

import structlog.testing
from lynkr_indexer.config import IndexerSettings
from lynkr_indexer.db import search_symbols
from lynkr_indexer.workspace import WorkspaceIndex


async def found(index: WorkspaceIndex, name: str) -> list[str]:
    rows = await index.read(lambda c: search_symbols(c, name))
    return [row.path for row in rows if row.name == name]


async def eventually_found(index: WorkspaceIndex, name: str, seconds: float = 60) -> list[str]:
    """``found`` once it finds something, or after ``seconds`` (a bound for a loaded
    machine, not a timing assertion)."""
    for _ in range(int(seconds / 0.1)):
        if paths := await found(index, name):
            return paths
        await asyncio.sleep(0.1)
    return await found(index, name)


async def test_the_watcher_indexes_a_new_file_in_the_background(write, workspace, tmp_path):
    write("app/main.py", "def main():\n    pass\n")
    index = WorkspaceIndex(workspace, str(tmp_path / "home"), IndexerSettings(freshness="watch", auto_index=True))
    await index.start()
    try:
        assert await eventually_found(index, "main") == ["app/main.py"]
        # The watcher starts in the background and says nothing when it is ready: a change
        # made before it would go unseen, so change the file again until one is seen
        # (bounded; any change seen re-indexes everything that changed).
        for attempt in range(60):
            write("app/added.py", f"def added_later():\n    pass\n# {attempt}\n")
            if await eventually_found(index, "added_later", seconds=2):
                break
        assert await found(index, "added_later") == ["app/added.py"]
    finally:
        await index.close()


async def test_without_an_index_nothing_is_built_until_a_tool_needs_it(write, workspace, tmp_path):
    write("app/main.py", "def main():\n    pass\n")
    index = WorkspaceIndex(workspace, str(tmp_path / "home"), IndexerSettings(freshness="off"))
    with structlog.testing.capture_logs() as logs:
        await index.start()
    try:
        hints = [entry for entry in logs if entry["event"] == "workspace_not_indexed"]
        assert [entry["root"] for entry in hints] == [str(workspace)]
        assert "lynkr index" in hints[0]["hint"]
        assert not index.path.exists()  # nothing created at start-up
        assert await index.read(index.generation) == 0
        await index.ensure_fresh()  # a tool's first call builds it, whatever the freshness
        assert await found(index, "main") == ["app/main.py"]
    finally:
        await index.close()


async def test_request_freshness_sees_a_change_before_answering(write, workspace, tmp_path):
    index = WorkspaceIndex(workspace, str(tmp_path / "home"),
                           IndexerSettings(freshness="request", auto_index=False))
    await index.start()
    try:
        await index.ensure_fresh()
        assert await found(index, "later") == []
        write("later.py", "def later():\n    pass\n")
        await index.ensure_fresh()
        assert await found(index, "later") == ["later.py"]
    finally:
        await index.close()
