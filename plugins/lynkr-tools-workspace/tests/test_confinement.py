"""Hostile paths: every file tool refuses them, and nothing outside the workspace is read or written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SECRET = "TOP SECRET: the outside file"

#: (path, the message the model reads, tools that must refuse it: r=reading tools, w=writing tools)
HOSTILE = [
    ("../x", "'..' is refused", "rw"),
    ("a/../../x", "'..' is refused", "rw"),
    ("/etc/passwd", "absolute paths are refused", "rw"),
    ("~/x", "absolute paths are refused", "rw"),
    ("", "the path is empty", "rw"),
    ("a\x00b", "NUL bytes", "rw"),
    ("link_to_file", "resolves outside the workspace", "rw"),
    ("link_to_dir", "resolves outside the workspace", "rw"),
    ("link_to_dir/secret.txt", "resolves outside the workspace", "rw"),
    ("link_to_dir/new.txt", "resolves outside the workspace", "rw"),
    ("dangling_outside", "resolves outside the workspace", "rw"),
    ("device", "resolves outside the workspace", "rw"),
    ("pipe", "not a regular file", "rw"),
    (".git/hooks/pre-commit", "writing inside .git is refused", "w"),
    ("git_alias/hooks/pre-commit", "writing inside .git is refused", "w"),
]


@pytest.fixture
def hostile_workspace(workspace: Path, tmp_path: Path) -> Path:
    """A workspace with links out of it, a device link, a FIFO and a .git directory; the secret outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    os.utime(outside / "secret.txt", (1_000_000_000, 1_000_000_000))
    (workspace / "link_to_file").symlink_to(outside / "secret.txt")
    (workspace / "link_to_dir").symlink_to(outside)
    (workspace / "dangling_outside").symlink_to(outside / "missing.txt")
    (workspace / "device").symlink_to("/dev/null")
    os.mkfifo(workspace / "pipe")
    (workspace / ".git" / "hooks").mkdir(parents=True)
    (workspace / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\n")
    (workspace / "git_alias").symlink_to(workspace / ".git")
    (workspace / "a").mkdir()
    return outside


def _calls(path: str, kinds: str) -> list[tuple[str, dict]]:
    calls = []
    if "r" in kinds:
        calls += [
            ("workspace_read", {"path": path}),
            ("workspace_read", {"path": path, "offset": 1, "limit": 1}),
            ("workspace_list", {"path": path}),
            ("workspace_glob", {"pattern": "*", "path": path}),
            ("workspace_search", {"pattern": "SECRET", "path": path}),
            ("workspace_test_run", {"paths": [path]}),
        ]
    if "w" in kinds:
        calls += [
            ("workspace_write", {"path": path, "content": "pwned"}),
            ("workspace_edit", {"path": path, "old_string": "TOP", "new_string": "pwned"}),
        ]
    return calls


@pytest.mark.parametrize(("path", "message", "kinds"), HOSTILE, ids=[repr(h[0]) for h in HOSTILE])
async def test_every_file_tool_refuses_the_path(make_bench, hostile_workspace, path, message, kinds):
    bench = make_bench(WORKSPACE_TEST_COMMAND="echo tests ran")
    for name, arguments in _calls(path, kinds):
        result = await bench.call(name, **arguments)
        assert result.is_error, (name, path, result.text)
        assert message in result.text, (name, path, result.text)
        assert SECRET not in result.text
        assert "tests ran" not in result.text


async def test_nothing_outside_was_read_or_written(make_bench, hostile_workspace):
    outside = hostile_workspace
    bench = make_bench(WORKSPACE_TEST_COMMAND="echo tests ran")
    before = sorted(p.name for p in outside.iterdir())
    stamp = (outside / "secret.txt").stat().st_mtime_ns
    texts = []
    for path, _message, kinds in HOSTILE:
        for name, arguments in _calls(path, kinds):
            texts.append((await bench.call(name, **arguments)).text)
    texts.append((await bench.call("workspace_search", pattern="SECRET")).text)
    texts.append((await bench.call("workspace_glob", pattern="**/*")).text)
    texts.append((await bench.call("workspace_list", depth=5)).text)
    assert not any(SECRET in text for text in texts)
    assert (outside / "secret.txt").read_text() == SECRET
    assert (outside / "secret.txt").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in outside.iterdir()) == before
    assert (hostile_workspace.parent / "ws" / ".git" / "hooks" / "pre-commit").read_text() == "#!/bin/sh\n"


async def test_glob_does_not_follow_or_report_links_that_lead_out(bench, hostile_workspace, workspace):
    (workspace / "inside.txt").write_text("x")
    (workspace / "link_inside").symlink_to(workspace / "inside.txt")
    result = await bench.call("workspace_glob", pattern="**/*")
    assert not result.is_error
    listed = result.text.splitlines()[1:]
    assert "inside.txt" in listed and "link_inside" in listed
    for name in ("link_to_file", "link_to_dir", "dangling_outside", "device", "secret.txt"):
        assert not any(name in line for line in listed), result.text


@pytest.mark.parametrize("pattern", ["../*", "a/../../*", "/etc/*", "~/*", "link_to_dir/*", "{a,..}/*"])
async def test_glob_patterns_that_leave_the_workspace_are_refused(bench, hostile_workspace, pattern):
    result = await bench.call("workspace_glob", pattern=pattern)
    assert result.is_error, result.text
    assert SECRET not in result.text


async def test_search_and_list_skip_links_out(bench, hostile_workspace):
    result = await bench.call("workspace_search", pattern="SECRET")
    assert not result.is_error
    assert result.text.startswith("No matches")
    listing = await bench.call("workspace_list")
    assert "link_to_dir  symlink" in listing.text
    assert "pipe  other" in listing.text
    assert ".git" not in listing.text
