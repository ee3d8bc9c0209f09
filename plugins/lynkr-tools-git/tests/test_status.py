"""workspace_git_status in every state of a repository, and the not-a-repository error."""

from __future__ import annotations

from pathlib import Path

import pytest

TOOLS_AND_ARGUMENTS = [
    ("workspace_git_status", {}),
    ("workspace_diff", {}),
    ("workspace_diff_summary", {}),
    ("workspace_git_stage", {"paths": ["."]}),
    ("workspace_git_unstage", {"paths": ["."]}),
    ("workspace_git_commit", {"message": "x"}),
    ("workspace_git_pull", {}),
    ("workspace_git_log", {}),
    ("workspace_release_notes", {}),
]


async def test_clean_repository(bench, kit, repo):
    text = kit.ok(await bench.call("workspace_git_status"))
    head = kit.git(repo, "rev-parse", "--short=7", "HEAD").strip()
    assert text.splitlines()[0] == f"On branch main, HEAD {head}"
    assert "Nothing to commit" in text


async def test_staged_unstaged_and_untracked_files(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha changed\n")
    kit.write(repo, "new.txt", "new\n")
    kit.git(repo, "add", "a.txt", "new.txt")
    kit.git(repo, "rm", "-q", "b.txt")
    kit.write(repo, "a.txt", "alpha changed twice\n")  # staged and unstaged
    (repo / "src" / "app.py").unlink()  # deleted, not staged
    kit.write(repo, "notes.md", "untracked\n")
    kit.write(repo, "build/out/x.o", "untracked dir\n")
    text = kit.ok(await bench.call("workspace_git_status"))
    assert (
        "Staged (will be in the next commit) (3):\n"
        "  modified: a.txt\n  deleted: b.txt\n  added: new.txt\n"
    ) in text
    assert "Not staged (2):\n  modified: a.txt\n  deleted: src/app.py\n" in text
    assert "Untracked (2):\n  build/\n  notes.md\n" in text
    assert "Nothing to commit" not in text


async def test_new_repository_without_commits(bench_for, kit, tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    kit.git(root, "init", "-q")
    kit.write(root, "first.txt", "1\n")
    bench = bench_for(root)
    text = kit.ok(await bench.call("workspace_git_status"))
    assert text.startswith("On branch main (no commits yet)\n")
    assert "Untracked (1):\n  first.txt" in text
    kit.git(root, "add", "first.txt")
    text = kit.ok(await bench.call("workspace_git_status"))
    assert "Staged (will be in the next commit) (1):\n  added: first.txt" in text


async def test_detached_head(bench, kit, repo):
    kit.write(repo, "c.txt", "c\n")
    head = kit.commit_all(repo, "second")
    kit.git(repo, "checkout", "-q", "--detach", head)
    text = kit.ok(await bench.call("workspace_git_status"))
    assert text.startswith(f"HEAD detached at {head[:7]}\n")


async def test_ahead_and_behind_the_upstream(bench, kit, repo, remote, other_clone):
    kit.write(other_clone, "theirs.txt", "theirs\n")
    kit.commit_all(other_clone, "their change")
    kit.git(other_clone, "push", "-q")
    kit.git(repo, "fetch", "-q")
    kit.write(repo, "mine.txt", "mine\n")
    kit.commit_all(repo, "my change 1")
    kit.write(repo, "mine.txt", "mine 2\n")
    kit.commit_all(repo, "my change 2")
    text = kit.ok(await bench.call("workspace_git_status"))
    assert "Upstream origin/main: ahead 2, behind 1" in text
    expected = kit.git(repo, "rev-list", "--left-right", "--count", "main...origin/main").split()
    assert expected == ["2", "1"]


async def test_no_upstream_line_without_a_tracking_branch(bench):
    text = (await bench.call("workspace_git_status")).text
    assert "Upstream" not in text


async def test_long_listings_are_capped(bench_for, kit, repo):
    for i in range(7):
        kit.write(repo, f"many/f{i}.txt", "x\n")
    bench = bench_for(repo, LYNKR_GIT_MAX_LISTED_PATHS="3")
    kit.git(repo, "add", "many")
    text = kit.ok(await bench.call("workspace_git_status"))
    assert "Staged (will be in the next commit) (7):" in text
    assert "  ... and 4 more (LYNKR_GIT_MAX_LISTED_PATHS=3)" in text
    assert "many/f3.txt" not in text


@pytest.mark.parametrize(("name", "arguments"), TOOLS_AND_ARGUMENTS)
async def test_every_tool_refuses_a_workspace_that_is_not_a_repository_root(
    bench_for, kit, repo: Path, name, arguments
):
    # a subdirectory of a repository is not its root either
    text = kit.failed(await bench_for(repo / "src").call_raw(name, arguments))
    assert "WORKSPACE_ROOT" in text
    assert "is not the root of a git repository" in text


async def test_push_also_refuses_a_workspace_that_is_not_a_repository(bench_for, kit, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    bench = bench_for(plain, policies=[kit.PermitPush()])
    assert "not the root of a git repository" in kit.failed(await bench.call("workspace_git_push"))
