"""workspace_git_stage, workspace_git_unstage and workspace_git_commit, checked with the git CLI."""

from __future__ import annotations

import os

import pytest


async def test_stage_files_and_a_deletion(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.write(repo, "new.txt", "new\n")
    (repo / "b.txt").unlink()
    text = kit.ok(await bench.call("workspace_git_stage", paths=["a.txt", "new.txt", "b.txt"]))
    assert "modified: a.txt" in text and "added: new.txt" in text and "deleted: b.txt" in text
    assert sorted(kit.porcelain_status(repo)) == ["A  new.txt", "D  b.txt", "M  a.txt"]


async def test_stage_dot_stages_everything_including_deletions(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.write(repo, "docs/guide.md", "guide\n")
    (repo / "b.txt").unlink()
    (repo / "src" / "app.py").unlink()
    kit.ok(await bench.call("workspace_git_stage", paths=["."]))
    assert sorted(kit.porcelain_status(repo)) == [
        "A  docs/guide.md", "D  b.txt", "D  src/app.py", "M  a.txt",
    ]


async def test_stage_a_directory_and_a_deleted_directory(bench, kit, repo):
    kit.write(repo, "src/lib/util.py", "x = 1\n")
    kit.write(repo, "a.txt", "not staged\n")
    kit.ok(await bench.call("workspace_git_stage", paths=["src/lib"]))
    assert sorted(kit.porcelain_status(repo)) == [" M a.txt", "A  src/lib/util.py"]
    (repo / "src" / "app.py").unlink()
    (repo / "src" / "lib" / "util.py").unlink()
    (repo / "src" / "lib").rmdir()
    (repo / "src").rmdir()
    text = kit.ok(await bench.call("workspace_git_stage", paths=["src"]))
    assert "deleted: src/app.py" in text
    assert sorted(kit.porcelain_status(repo)) == [" M a.txt", "D  src/app.py"]


async def test_stage_reports_ignored_files(bench, kit, repo):
    kit.write(repo, ".gitignore", "*.log\n")
    kit.write(repo, "debug.log", "noise\n")
    text = kit.ok(await bench.call("workspace_git_stage", paths=["debug.log", ".gitignore"]))
    assert "Not staged, ignored by .gitignore: debug.log" in text
    assert kit.porcelain_status(repo) == ["A  .gitignore"]


async def test_tracked_files_are_staged_even_when_gitignore_matches_them(bench, kit, repo):
    kit.write(repo, ".gitignore", "*.txt\n")
    kit.commit_all(repo, "chore: ignore txt")
    kit.write(repo, "a.txt", "tracked, ignored pattern, modified\n")
    kit.write(repo, "new.txt", "untracked and ignored\n")
    text = kit.ok(await bench.call("workspace_git_stage", paths=["a.txt", "new.txt"]))
    assert "modified: a.txt" in text
    assert "Not staged, ignored by .gitignore: new.txt" in text
    assert kit.porcelain_status(repo) == ["M  a.txt"]
    kit.git(repo, "reset", "-q")
    kit.ok(await bench.call("workspace_git_stage", paths=["."]))
    assert kit.porcelain_status(repo) == ["M  a.txt"]


async def test_stage_a_path_that_matches_nothing(bench, kit):
    text = kit.failed(await bench.call("workspace_git_stage", paths=["nothing-here.txt"]))
    assert "did not match any file" in text


async def test_stage_needs_at_least_one_path(bench, kit):
    text = kit.failed(await bench.call("workspace_git_stage", paths=[]))
    assert "paths" in text


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "escape", "escape/passwd", ".git/config", "~/x"]
)
async def test_stage_refuses_hostile_paths(bench, kit, repo, path):
    os.symlink("/etc", repo / "escape")
    kit.write(repo, "a.txt", "changed\n")
    text = kit.failed(await bench.call("workspace_git_stage", paths=["a.txt", path]))
    assert repr(path) in text
    assert kit.porcelain_status(repo) == [" M a.txt", "?? escape"]


async def test_a_symlink_inside_the_repository_is_staged_as_a_link(bench, kit, repo):
    os.symlink("a.txt", repo / "link")
    kit.ok(await bench.call("workspace_git_stage", paths=["link"]))
    assert kit.git(repo, "ls-files", "-s", "link").startswith("120000 ")


async def test_unstage_restores_head_and_removes_new_files(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.write(repo, "new.txt", "new\n")
    kit.git(repo, "add", "a.txt", "new.txt")
    kit.git(repo, "rm", "-q", "--cached", "b.txt")
    text = kit.ok(await bench.call("workspace_git_unstage", paths=["a.txt", "new.txt", "b.txt"]))
    assert "Unstaged (3)" in text
    assert sorted(kit.porcelain_status(repo)) == [" M a.txt", "?? new.txt"]
    assert (repo / "a.txt").read_text() == "alpha 2\n"
    assert kit.git(repo, "diff", "--cached") == ""


async def test_unstage_dot_and_directories(bench, kit, repo):
    kit.write(repo, "src/app.py", "print('changed')\n")
    kit.write(repo, "src/new.py", "new\n")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "-A")
    kit.ok(await bench.call("workspace_git_unstage", paths=["src"]))
    assert sorted(kit.porcelain_status(repo)) == [" M src/app.py", "?? src/new.py", "M  a.txt"]
    kit.ok(await bench.call("workspace_git_unstage", paths=["."]))
    assert sorted(kit.porcelain_status(repo)) == [" M a.txt", " M src/app.py", "?? src/new.py"]
    assert "Nothing was staged" in kit.ok(await bench.call("workspace_git_unstage", paths=["."]))


async def test_unstage_in_a_repository_without_commits(bench_for, kit, tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    kit.git(root, "init", "-q")
    kit.write(root, "first.txt", "1\n")
    kit.git(root, "add", "first.txt")
    kit.ok(await bench_for(root).call("workspace_git_unstage", paths=["."]))
    assert kit.porcelain_status(root) == ["?? first.txt"]


async def test_commit_with_the_repository_config_identity(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.write(repo, "new.txt", "new\n")
    kit.git(repo, "add", "a.txt", "new.txt")
    text = kit.ok(await bench.call("workspace_git_commit", message="feat: add new.txt\n\nBody."))
    head = kit.git(repo, "rev-parse", "HEAD").strip()
    assert text.startswith(f"Committed {head[:7]} on main: feat: add new.txt\n")
    assert f"Commit id: {head}" in text
    assert "Files changed (2):\n  modified: a.txt\n  added: new.txt\n" in text
    shown = kit.git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B")
    assert shown == (
        "Repo Author <repo@example.com>|Repo Author <repo@example.com>|"
        "feat: add new.txt\n\nBody.\n\n"
    )
    assert kit.porcelain_status(repo) == []
    kit.git(repo, "fsck", "--strict")


async def test_commit_identity_from_the_global_config(bench, kit, repo, isolated_git):
    kit.git(repo, "config", "--unset", "user.name")
    kit.git(repo, "config", "--unset", "user.email")
    (isolated_git / ".gitconfig").write_text(
        "[user]\n\tname = Global Person\n\temail = global@example.com\n"
    )
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    kit.ok(await bench.call("workspace_git_commit", message="fix: global"))
    assert kit.git(repo, "log", "-1", "--format=%an <%ae>") == "Global Person <global@example.com>\n"


async def test_commit_identity_from_lynkr_git_author(bench_for, kit, repo):
    kit.git(repo, "config", "--unset", "user.name")
    kit.git(repo, "config", "--unset", "user.email")
    bench = bench_for(repo, LYNKR_GIT_AUTHOR="Lynkr Bot <bot@example.com>")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    kit.ok(await bench.call("workspace_git_commit", message="chore: by the bot"))
    assert kit.git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Lynkr Bot <bot@example.com>|Lynkr Bot <bot@example.com>\n"
    )
    kit.git(repo, "fsck", "--strict")


async def test_git_environment_variables_come_before_lynkr_git_author(bench_for, kit, repo):
    kit.git(repo, "config", "--unset", "user.name")
    kit.git(repo, "config", "--unset", "user.email")
    bench = bench_for(
        repo, LYNKR_GIT_AUTHOR="Lynkr Bot <bot@example.com>",
        GIT_AUTHOR_NAME="Env Author", GIT_AUTHOR_EMAIL="env@example.com",
        GIT_COMMITTER_NAME="Env Committer", GIT_COMMITTER_EMAIL="committer@example.com",
    )
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    kit.ok(await bench.call("workspace_git_commit", message="chore: env"))
    assert kit.git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Env Author <env@example.com>|Env Committer <committer@example.com>\n"
    )


async def test_commit_without_any_identity_is_refused(bench_for, kit, repo, monkeypatch, tmp_path):
    empty = tmp_path / "empty-home"
    empty.mkdir()
    monkeypatch.setenv("HOME", str(empty))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(empty / ".config"))
    kit.git(repo, "config", "--unset", "user.name")
    kit.git(repo, "config", "--unset", "user.email")
    before = kit.git(repo, "rev-parse", "HEAD")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    text = kit.failed(await bench_for(repo).call("workspace_git_commit", message="fix: nobody"))
    assert "no commit author is configured" in text
    settings = ("user.name", "user.email", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "LYNKR_GIT_AUTHOR")
    for setting in settings:
        assert setting in text
    assert kit.git(repo, "rev-parse", "HEAD") == before
    assert kit.porcelain_status(repo) == ["M  a.txt"]


async def test_a_malformed_lynkr_git_author_is_named(bench_for, kit, repo):
    kit.git(repo, "config", "--unset", "user.name")
    kit.git(repo, "config", "--unset", "user.email")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    bench = bench_for(repo, LYNKR_GIT_AUTHOR="just a name")
    text = kit.failed(await bench.call("workspace_git_commit", message="fix: x"))
    assert "LYNKR_GIT_AUTHOR='just a name' is not of the form" in text


async def test_empty_commit_is_refused(bench, kit, repo):
    before = kit.git(repo, "rev-parse", "HEAD")
    kit.write(repo, "a.txt", "changed but not staged\n")
    text = kit.failed(await bench.call("workspace_git_commit", message="fix: nothing"))
    assert "nothing to commit" in text
    assert "all=true" in text
    assert kit.git(repo, "rev-parse", "HEAD") == before


@pytest.mark.parametrize("message", ["", "   \n\n  "])
async def test_an_empty_message_is_refused(bench, kit, repo, message):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    kit.failed(await bench.call("workspace_git_commit", message=message))
    assert kit.git(repo, "log", "--format=%s") == "initial commit\n"


async def test_commit_all_stages_tracked_changes_but_not_new_files(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    (repo / "b.txt").unlink()
    kit.write(repo, "untracked.txt", "u\n")
    text = kit.ok(await bench.call("workspace_git_commit", message="refactor: tidy", all=True))
    assert "Files changed (2):\n  modified: a.txt\n  deleted: b.txt\n" in text
    assert kit.porcelain_status(repo) == ["?? untracked.txt"]
    assert kit.git(repo, "show", "--name-status", "--format=", "HEAD").split() == [
        "M", "a.txt", "D", "b.txt",
    ]
    kit.git(repo, "fsck", "--strict")


async def test_commit_all_with_nothing_to_commit_is_refused(bench, kit):
    text = kit.failed(await bench.call("workspace_git_commit", message="fix: x", all=True))
    assert "nothing to commit" in text


async def test_first_commit_in_a_new_repository(bench_for, kit, tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    kit.git(root, "init", "-q")
    kit.write(root, "first.txt", "1\n")
    bench = bench_for(root, LYNKR_GIT_AUTHOR="Lynkr Bot <bot@example.com>")
    kit.ok(await bench.call("workspace_git_stage", paths=["."]))
    text = kit.ok(await bench.call("workspace_git_commit", message="feat: first"))
    assert "Files changed (1):\n  added: first.txt" in text
    assert kit.git(root, "log", "--format=%s") == "feat: first\n"
    kit.git(root, "fsck", "--strict")


async def test_message_whitespace_is_cleaned_like_git(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    kit.ok(await bench.call("workspace_git_commit", message="\n\nfix: trim   \n\n\n\nbody  \n\n"))
    assert kit.git(repo, "log", "-1", "--format=%B") == "fix: trim\n\nbody\n\n"


async def test_write_tools_declare_their_actions(bench):
    expected = {
        "workspace_git_stage": ({"paths": ["."]}, {"git.stage"}),
        "workspace_git_unstage": ({"paths": ["."]}, {"git.stage"}),
        "workspace_git_commit": ({"message": "x"}, {"git.commit"}),
        "workspace_git_push": ({}, {"git.push"}),
        "workspace_git_pull": ({}, {"git.pull"}),
    }
    for name, (arguments, actions) in expected.items():
        tool = bench.tools.get(name)
        effects = tool.effects(tool.parse_input(arguments))
        assert effects.actions == actions, name
        assert not effects.read_only
    commit = bench.tools.get("workspace_git_commit").parse_input({"message": "fix: x"})
    assert commit.message == "fix: x"


async def test_a_failing_pre_commit_hook_refuses_the_commit(bench, kit, repo):
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    before = kit.git(repo, "rev-parse", "HEAD")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    text = kit.failed(await bench.call("workspace_git_commit", message="fix: blocked"))
    assert text.startswith("the commit was refused:")
    assert "pre-commit" in text
    assert kit.git(repo, "rev-parse", "HEAD") == before
    assert kit.porcelain_status(repo) == ["M  a.txt"]


async def test_the_git_config_comes_before_git_environment_variables(bench_for, kit, repo):
    bench = bench_for(repo, GIT_AUTHOR_NAME="Env Author", GIT_AUTHOR_EMAIL="env@example.com")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.git(repo, "add", "a.txt")
    kit.ok(await bench.call("workspace_git_commit", message="chore: config wins"))
    assert kit.git(repo, "log", "-1", "--format=%an <%ae>") == "Repo Author <repo@example.com>\n"
