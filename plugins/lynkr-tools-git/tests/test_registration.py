"""Registration, input schemas, settings and the per-repository lock."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from dulwich.repo import Repo
from lynkr_tools_git.repository import GitRepositories

from lynkr_core import ConfigError, ToolError

TOOL_NAMES = {
    "workspace_git_status", "workspace_diff", "workspace_diff_summary", "workspace_git_stage",
    "workspace_git_unstage", "workspace_git_commit", "workspace_git_push", "workspace_git_pull",
    "workspace_git_log", "workspace_release_notes",
}
SAMPLES = {"string": "x", "array": ["."]}
JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
SCHEMA_KEYWORDS = {
    "type", "description", "properties", "required", "items", "enum", "default", "anyOf",
    "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "title",
}


def test_the_tool_names(bench):
    assert set(bench.tools.names()) == TOOL_NAMES


@pytest.mark.parametrize("name", sorted(TOOL_NAMES))
def test_schemas_are_valid_and_every_property_is_described(bench, name):
    tool = bench.tools.get(name)
    schema = bench.schema(name)
    json.dumps(schema)
    assert schema["type"] == "object"
    assert set(schema["required"]) <= set(schema["properties"])
    for prop, spec in schema["properties"].items():
        assert spec.get("description", "").strip(), f"{name}.{prop} has no description"
        _check_schema(spec, f"{name}.{prop}")
        if "default" in spec:  # the default is a valid value
            properties = schema["properties"]
            required = {field: SAMPLES[properties[field]["type"]] for field in schema["required"]}
            tool.parse_input({**required, prop: spec["default"]})
    assert len(tool.description) > 80
    assert "\n" not in tool.name


def test_stringly_typed_arguments_are_accepted_as_models_send_them(bench):
    tool = bench.tools.get("workspace_git_log")
    assert tool.parse_input({"max_count": "5"}).max_count == 5
    commit = bench.tools.get("workspace_git_commit").parse_input({"message": "x", "all": "true"})
    assert commit.all is True


def test_invalid_settings_are_named(bench_for, repo):
    with pytest.raises(ConfigError, match="LYNKR_GIT_MAX_DIFF_BYTES"):
        bench_for(repo, LYNKR_GIT_MAX_DIFF_BYTES="10")


async def test_operations_on_one_repository_never_overlap(tmp_path):
    (tmp_path / ".git").mkdir()
    repositories = GitRepositories()
    running = 0
    overlaps = []

    def operation(repo):
        nonlocal running
        running += 1
        overlaps.append(running)
        time.sleep(0.02)
        running -= 1
        return "done"

    # an empty .git is not a repository dulwich can open: the operation never runs
    with pytest.raises(ToolError):
        await repositories.run(tmp_path, operation)

    (tmp_path / "real").mkdir()
    Repo.init(str(tmp_path / "real")).close()
    results = await asyncio.gather(*(repositories.run(tmp_path / "real", operation) for _ in range(5)))
    assert results == ["done"] * 5
    assert max(overlaps) == 1


async def test_a_cancelled_wait_keeps_the_lock_until_the_thread_ends(tmp_path):
    Repo.init(str(tmp_path)).close()
    repositories = GitRepositories()
    release = threading.Event()
    order = []

    def slow(repo):
        release.wait(5)
        order.append("slow finished")

    def quick(repo):
        order.append("quick ran")

    slow_task = asyncio.ensure_future(repositories.run(tmp_path, slow))
    await asyncio.sleep(0.05)
    slow_task.cancel()  # a tool timeout: the caller stops waiting, the thread goes on
    quick_task = asyncio.ensure_future(repositories.run(tmp_path, quick))
    await asyncio.sleep(0.05)
    assert order == []  # quick waits for the lock the thread still holds
    release.set()
    await quick_task
    assert order == ["slow finished", "quick ran"]
    with pytest.raises(asyncio.CancelledError):
        await slow_task


def _check_schema(spec, where):
    assert set(spec) <= SCHEMA_KEYWORDS, f"{where}: unknown keywords {set(spec) - SCHEMA_KEYWORDS}"
    if "type" in spec:
        assert spec["type"] in JSON_TYPES, where
    if "anyOf" in spec:
        for option in spec["anyOf"]:
            _check_schema(option, where)
    if "items" in spec:
        _check_schema(spec["items"], where)
    if "enum" in spec:
        assert spec["enum"] and len(set(spec["enum"])) == len(spec["enum"]), where
    assert "type" in spec or "anyOf" in spec or "enum" in spec, f"{where}: no type"


async def test_concurrent_calls_through_the_gateway_all_succeed(bench, kit, repo):
    for i in range(5):
        kit.write(repo, f"f{i}.txt", f"{i}\n")
    calls = [bench.call("workspace_git_stage", paths=[f"f{i}.txt"]) for i in range(5)]
    calls += [bench.call("workspace_git_status"), bench.call("workspace_diff")]
    results = await asyncio.gather(*calls)
    assert all(not result.is_error for result in results), [r.text for r in results]
    assert sorted(kit.porcelain_status(repo)) == [f"A  f{i}.txt" for i in range(5)]
