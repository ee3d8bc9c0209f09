"""The task tracker: create, update, list, complete; per-workspace rows; persistence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lynkr_tools_workspace.config import WorkspaceSettings


async def test_create_update_list_complete(bench):
    created = await bench.call("workspace_task_create", title="  Write the parser ", description="Tokens first.\nThen AST.")
    assert created.text == "Created task #1 [todo] Write the parser"
    second = await bench.call("workspace_task_create", title="Ship it", status="blocked")
    assert second.text == "Created task #2 [blocked] Ship it"
    updated = await bench.call("workspace_task_update", id=1, status="in_progress", title="Write the lexer")
    assert updated.text == "Updated task #1 [in_progress] Write the lexer (title changed; status todo -> in_progress)"
    third = await bench.call("workspace_task_create", title="Docs")
    assert third.text.startswith("Created task #3")
    listing = (await bench.call("workspace_tasks_list")).text.splitlines()
    assert listing[0] == "3 tasks (1 in_progress, 1 todo, 1 blocked):"
    assert listing[1].startswith("#1 [in_progress] Write the lexer  (updated ")
    assert listing[2] == "    Tokens first.…"
    assert listing[3].startswith("#3 [todo] Docs")
    assert listing[4].startswith("#2 [blocked] Ship it")
    done = await bench.call("workspace_task_complete", id=1)
    assert done.text == "Completed task #1 [done] Write the lexer"
    again = await bench.call("workspace_task_complete", id=1)
    assert not again.is_error and "was already done" in again.text
    only_done = await bench.call("workspace_tasks_list", status="done")
    assert only_done.text.splitlines()[1:2] and only_done.text.splitlines()[1].startswith("#1 [done]")
    assert "#3" not in only_done.text
    none_todo = await bench.call("workspace_tasks_list", status="in_progress")
    assert none_todo.text.startswith("No tasks with status in_progress")


async def test_errors(bench):
    unknown = await bench.call("workspace_task_update", id=99, status="done")
    assert unknown.is_error and "no task #99 in this workspace" in unknown.text
    unknown_done = await bench.call("workspace_task_complete", id=42)
    assert unknown_done.is_error and "no task #42" in unknown_done.text
    await bench.call("workspace_task_create", title="t")
    nothing = await bench.call("workspace_task_update", id=1)
    assert nothing.is_error and "nothing to change" in nothing.text
    bad_status = await bench.call("workspace_task_update", id=1, status="finished")
    assert bad_status.is_error and "status" in bad_status.text
    blank = await bench.call("workspace_task_create", title="   ")
    assert blank.is_error and "title is blank" in blank.text
    empty = await bench.call("workspace_task_create", title="")
    assert empty.is_error and "title" in empty.text
    same = await bench.call("workspace_task_update", id=1, title="t")
    assert same.text.endswith("(nothing changed)")


async def test_workspaces_never_see_each_others_tasks(make_bench, tmp_path):
    other_root = tmp_path / "other"
    other_root.mkdir()
    mine, other = make_bench(), make_bench(other_root)
    await mine.call("workspace_task_create", title="mine")
    await other.call("workspace_task_create", title="theirs")
    assert "theirs" not in (await mine.call("workspace_tasks_list")).text
    assert "mine" not in (await other.call("workspace_tasks_list")).text
    stolen = await other.call("workspace_task_complete", id=1)
    assert stolen.is_error and "no task #1 in this workspace" in stolen.text
    assert "[todo] mine" in (await mine.call("workspace_tasks_list")).text


async def test_tasks_persist_in_lynkr_home_in_wal_mode(make_bench, home):
    await make_bench().call("workspace_task_create", title="remember me")
    assert (home / "tasks.db").is_file()
    later = await make_bench().call("workspace_tasks_list")
    assert "#1 [todo] remember me" in later.text
    with sqlite3.connect(home / "tasks.db") as connection:
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"


async def test_tasks_db_setting(make_bench, tmp_path, home):
    path = tmp_path / "elsewhere" / "t.db"
    bench = make_bench(WORKSPACE_TASKS_DB=str(path))
    await bench.call("workspace_task_create", title="x")
    assert path.is_file() and not (home / "tasks.db").exists()


def test_tasks_path_expands_the_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert WorkspaceSettings().tasks_path("~/.lynkr") == tmp_path / ".lynkr" / "tasks.db"
    assert WorkspaceSettings(tasks_db="~/t.db").tasks_path("/ignored") == tmp_path / "t.db"


async def test_unopenable_database_is_a_clear_error(make_bench, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    bench = make_bench(WORKSPACE_TASKS_DB=str(blocker / "tasks.db"))
    result = await bench.call("workspace_task_create", title="x")
    assert result.is_error and "cannot be opened" in result.text


@pytest.mark.parametrize(
    ("name", "arguments", "actions"),
    [
        ("workspace_task_create", {"title": "t"}, {"tasks.write"}),
        ("workspace_task_update", {"id": 1, "status": "done"}, {"tasks.write"}),
        ("workspace_task_complete", {"id": 1}, {"tasks.write"}),
        ("workspace_tasks_list", {}, set()),
    ],
)
def test_effects(bench, name, arguments, actions):
    tool = bench.tools.get(name)
    effects = tool.effects(tool.parse_input(arguments))
    assert effects.actions == frozenset(actions)
    assert effects.reads == () and effects.writes == ()


def test_many_tasks_are_capped(tmp_path: Path):
    from lynkr_tools_workspace.taskstore import MAX_LISTED, TaskStore

    store = TaskStore(tmp_path / "t.db", "/ws")
    for n in range(MAX_LISTED + 5):
        store.create(f"task {n}", "", "todo")
    listed, counts = store.tasks(None)
    assert len(listed) == MAX_LISTED and counts == {"todo": MAX_LISTED + 5}
