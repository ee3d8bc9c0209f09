"""workspace_git_log and workspace_release_notes."""

from __future__ import annotations

import pytest
from lynkr_tools_git.conventional import parse_message


def commit(kit, repo, path: str, message: str) -> str:
    """Change ``path`` and commit it with ``message``; returns the commit id."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as handle:
        handle.write(f"{message}\n")
    return kit.commit_all(repo, message)


async def test_log_lines_match_git(bench, kit, repo):
    for i in range(3):
        commit(kit, repo, "a.txt", f"change {i}")
    text = kit.ok(await bench.call("workspace_git_log"))
    expected = kit.git(repo, "log", "--format=%h %aI %an: %s", "--abbrev=7")
    assert text == expected


async def test_log_max_count_path_and_ref(bench, kit, repo):
    commit(kit, repo, "docs/readme.md", "docs: readme")
    kit.git(repo, "tag", "v1")
    commit(kit, repo, "a.txt", "fix: a")
    commit(kit, repo, "docs/readme.md", "docs: more")
    text = kit.ok(await bench.call("workspace_git_log", max_count=2))
    assert [line.split(": ", 1)[1] for line in text.splitlines()] == ["docs: more", "fix: a"]
    text = kit.ok(await bench.call("workspace_git_log", path="docs"))
    assert [line.split(": ", 1)[1] for line in text.splitlines()] == ["docs: more", "docs: readme"]
    text = kit.ok(await bench.call("workspace_git_log", ref="v1"))
    assert [line.split(": ", 1)[1] for line in text.splitlines()] == ["docs: readme", "initial commit"]


async def test_log_limits_and_errors(bench, kit, repo):
    assert "max_count" in kit.failed(await bench.call("workspace_git_log", max_count=201))
    assert "does not name a commit" in kit.failed(await bench.call("workspace_git_log", ref="nope"))
    assert "'../x'" in kit.failed(await bench.call("workspace_git_log", path="../x"))
    assert kit.ok(await bench.call("workspace_git_log", path="never-existed")) == (
        "No commits touch 'never-existed'.\n"
    )


async def test_log_of_a_repository_without_commits(bench_for, kit, tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    kit.git(root, "init", "-q")
    assert kit.ok(await bench_for(root).call("workspace_git_log")) == "No commits yet.\n"


async def test_release_notes_since_the_latest_tag(bench, kit, repo):
    commit(kit, repo, "a.txt", "feat: before the release")
    kit.git(repo, "tag", "-a", "v1.0.0", "-m", "release 1.0.0")
    ids = {
        message: commit(kit, repo, "a.txt", message)
        for message in (
            "feat(api): add search",
            "fix: handle empty input",
            "perf: faster index",
            "docs: explain setup",
            "refactor: split module",
            "test: cover parser",
            "chore: bump deps",
            "ci: cache wheels",
            "build: use hatch",
            "feat!: drop python 3.10",
            "Update README",
        )
    }
    ids["breaking footer"] = commit(
        kit, repo, "a.txt", "fix(config): rename option\n\nBREAKING CHANGE: PORT is now LYNKR_PORT"
    )
    text = kit.ok(await bench.call("workspace_release_notes"))
    short = {message: sha[:7] for message, sha in ids.items()}
    assert text.startswith("## Changes since v1.0.0\n\n12 commits up to")
    sections = [line for line in text.splitlines() if line.startswith("### ")]
    assert sections == [
        "### Breaking changes", "### Features", "### Fixes", "### Performance",
        "### Documentation", "### Refactoring", "### Tests", "### Maintenance", "### Other changes",
    ]
    breaking = text.split("### Breaking changes\n\n")[1].split("\n\n")[0].splitlines()
    assert sorted(breaking) == [
        f"- **config:** rename option (PORT is now LYNKR_PORT) ({short['breaking footer']})",
        f"- drop python 3.10 ({short['feat!: drop python 3.10']})",
    ]
    assert f"### Features\n\n- **api:** add search ({short['feat(api): add search']})\n" in text
    maintenance = text.split("### Maintenance\n\n")[1].split("\n\n")[0].splitlines()
    assert len(maintenance) == 3
    assert f"### Other changes\n\n- Update README ({short['Update README']})\n" in text
    assert "before the release" not in text


async def test_release_notes_with_an_explicit_tag_and_without_tags(bench, kit, repo):
    text = kit.ok(await bench.call("workspace_release_notes"))
    assert text.startswith("## All changes (no tag found)\n\n1 commit up to")
    assert "### Other changes\n\n- initial commit (" in text
    kit.git(repo, "tag", "v0.1")
    commit(kit, repo, "a.txt", "feat: one")
    kit.git(repo, "tag", "v0.2")
    commit(kit, repo, "a.txt", "fix: two")
    text = kit.ok(await bench.call("workspace_release_notes", since_tag="v0.1"))
    assert "## Changes since v0.1" in text and "- one (" in text and "- two (" in text
    text = kit.ok(await bench.call("workspace_release_notes"))
    assert "## Changes since v0.2" in text and "- one (" not in text


async def test_release_notes_unknown_tag(bench, kit, repo):
    kit.git(repo, "tag", "v1")
    text = kit.failed(await bench.call("workspace_release_notes", since_tag="v9"))
    assert "there is no tag 'v9' (tags: v1)" in text


async def test_release_notes_leave_out_merges(bench, kit, repo):
    kit.git(repo, "tag", "v1")
    kit.git(repo, "checkout", "-q", "-b", "topic")
    commit(kit, repo, "t.txt", "feat: topic work")
    kit.git(repo, "checkout", "-q", "main")
    commit(kit, repo, "m.txt", "fix: main work")
    kit.git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'topic'", "topic")
    text = kit.ok(await bench.call("workspace_release_notes"))
    assert "Merge branch" not in text
    assert "_1 merge commit left out._" in text
    assert "- topic work (" in text and "- main work (" in text


@pytest.mark.parametrize(
    ("message", "section"),
    [
        ("feat: x", "Features"), ("FIX: x", "Fixes"), ("feat(scope)!: x", "Breaking changes"),
        ("chore(deps): x", "Maintenance"), ("wip", "Other changes"), ("feat:x", "Other changes"),
        ("docs: x\n\nBREAKING-CHANGE: gone", "Breaking changes"),
    ],
)
def test_conventional_sections(message, section):
    assert parse_message(message).section == section
