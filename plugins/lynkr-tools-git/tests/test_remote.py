"""workspace_git_push and workspace_git_pull against a local bare remote."""

from __future__ import annotations


def remote_head(kit, remote, branch: str = "main") -> str:
    """Where ``branch`` of the bare remote points, read with the git CLI."""
    return kit.git(remote, "rev-parse", f"refs/heads/{branch}").strip()


async def test_push_is_refused_without_a_permitting_policy(bench, kit, repo, remote):
    before = remote_head(kit, remote)
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.commit_all(repo, "fix: local")
    text = kit.failed(await bench.call("workspace_git_push"))
    assert "git.push needs an explicit permission from a policy" in text
    assert remote_head(kit, remote) == before


async def test_push_fast_forward(bench_for, kit, repo, remote):
    bench = bench_for(repo, policies=[kit.PermitPush()])
    old = remote_head(kit, remote)
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.commit_all(repo, "fix: one")
    kit.write(repo, "a.txt", "alpha 3\n")
    new = kit.commit_all(repo, "fix: two")
    text = kit.ok(await bench.call("workspace_git_push"))
    assert text == f"Pushed main to origin/main ({remote}): {old[:7]}..{new[:7]}, 2 commits.\n"
    assert remote_head(kit, remote) == new
    assert kit.git(repo, "rev-parse", "origin/main").strip() == new  # tracking ref updated
    kit.git(remote, "fsck", "--strict")
    text = kit.ok(await bench.call("workspace_git_push"))
    assert text.startswith("Everything up to date: origin/main is already at")


async def test_push_a_new_branch(bench_for, kit, repo, remote):
    bench = bench_for(repo, policies=[kit.PermitPush()])
    kit.git(repo, "checkout", "-q", "-b", "feature")
    kit.write(repo, "f.txt", "feature\n")
    new = kit.commit_all(repo, "feat: feature")
    kit.git(repo, "checkout", "-q", "main")
    text = kit.ok(await bench.call("workspace_git_push", branch="feature"))
    assert f"(new branch)..{new[:7]}" in text
    assert remote_head(kit, remote, "feature") == new


async def test_push_non_fast_forward_is_rejected(bench_for, kit, repo, remote, other_clone):
    bench = bench_for(repo, policies=[kit.PermitPush()])
    kit.write(other_clone, "theirs.txt", "theirs\n")
    theirs = kit.commit_all(other_clone, "feat: theirs")
    kit.git(other_clone, "push", "-q")
    kit.write(repo, "mine.txt", "mine\n")
    kit.commit_all(repo, "feat: mine")
    text = kit.failed(await bench.call("workspace_git_push"))
    assert "push rejected (non-fast-forward)" in text
    assert "workspace_git_pull" in text
    assert remote_head(kit, remote) == theirs


async def test_push_to_an_unknown_remote_or_a_url_is_refused(bench_for, kit, repo, remote, tmp_path):
    bench = bench_for(repo, policies=[kit.PermitPush()])
    text = kit.failed(await bench.call("workspace_git_push", remote=str(tmp_path / "elsewhere.git")))
    assert "is not a configured remote" in text
    assert "remotes: origin" in text


async def test_push_to_an_unreachable_remote(bench_for, kit, repo, remote, tmp_path):
    kit.git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    bench = bench_for(repo, policies=[kit.PermitPush()])
    text = kit.failed(await bench.call("workspace_git_push"))
    assert text.startswith(f"reading origin ({tmp_path / 'gone.git'}) failed:")


async def test_push_an_invalid_or_missing_branch(bench_for, kit, repo, remote):
    bench = bench_for(repo, policies=[kit.PermitPush()])
    assert "not a valid branch name" in kit.failed(
        await bench.call("workspace_git_push", branch="main:refs/heads/other")
    )
    assert "no local branch 'nope'" in kit.failed(await bench.call("workspace_git_push", branch="nope"))


async def test_pull_fast_forward_keeps_unrelated_local_changes(bench, kit, repo, remote, other_clone):
    old = kit.git(repo, "rev-parse", "HEAD").strip()
    kit.write(other_clone, "a.txt", "alpha from them\n")
    kit.write(other_clone, "added.txt", "added\n")
    new = kit.commit_all(other_clone, "feat: theirs")
    kit.git(other_clone, "push", "-q")
    kit.write(repo, "b.txt", "bravo, edited locally\n")
    kit.write(repo, "local-only.txt", "untracked\n")
    kit.write(repo, "staged.txt", "staged\n")
    kit.git(repo, "add", "staged.txt")
    text = kit.ok(await bench.call("workspace_git_pull"))
    assert text.startswith(f"Fast-forwarded main to origin/main: {old[:7]}..{new[:7]}, 1 commit.\n")
    assert "Files changed (2):\n  modified: a.txt\n  added: added.txt\n" in text
    assert kit.git(repo, "rev-parse", "HEAD").strip() == new
    assert (repo / "a.txt").read_text() == "alpha from them\n"
    assert (repo / "b.txt").read_text() == "bravo, edited locally\n"
    assert sorted(kit.porcelain_status(repo)) == [" M b.txt", "?? local-only.txt", "A  staged.txt"]
    kit.git(repo, "fsck", "--strict")


async def test_pull_when_up_to_date_or_ahead(bench, kit, repo, remote):
    text = kit.ok(await bench.call("workspace_git_pull"))
    assert text.startswith("Already up to date with origin/main")
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.commit_all(repo, "fix: local")
    text = kit.ok(await bench.call("workspace_git_pull"))
    assert "main is ahead of origin/main by 1 commit" in text


async def test_pull_refuses_diverged_histories(bench, kit, repo, remote, other_clone):
    kit.write(other_clone, "theirs.txt", "theirs\n")
    kit.commit_all(other_clone, "feat: theirs")
    kit.git(other_clone, "push", "-q")
    kit.write(repo, "mine.txt", "mine\n")
    mine = kit.commit_all(repo, "feat: mine")
    text = kit.failed(await bench.call("workspace_git_pull"))
    assert "have diverged" in text
    assert "does not merge or rebase" in text
    assert kit.git(repo, "rev-parse", "HEAD").strip() == mine
    assert not (repo / "theirs.txt").exists()
    assert kit.porcelain_status(repo) == []


async def test_pull_refuses_to_overwrite_local_changes(bench, kit, repo, remote, other_clone):
    before = kit.git(repo, "rev-parse", "HEAD").strip()
    kit.write(other_clone, "a.txt", "alpha from them\n")
    kit.write(other_clone, "new.txt", "their new file\n")
    kit.commit_all(other_clone, "feat: theirs")
    kit.git(other_clone, "push", "-q")
    kit.write(repo, "a.txt", "alpha, mine\n")
    kit.write(repo, "new.txt", "my untracked file\n")
    text = kit.failed(await bench.call("workspace_git_pull"))
    assert "would overwrite local changes to a.txt, new.txt" in text
    assert kit.git(repo, "rev-parse", "HEAD").strip() == before
    assert (repo / "a.txt").read_text() == "alpha, mine\n"
    assert (repo / "new.txt").read_text() == "my untracked file\n"


async def test_pull_a_missing_remote_branch(bench, kit, repo, remote):
    text = kit.failed(await bench.call("workspace_git_pull", branch="nope"))
    assert "has no branch 'nope'" in text


async def test_push_refuses_a_mirror_remote(bench_for, kit, repo, remote):
    kit.git(repo, "config", "remote.origin.mirror", "true")
    before = remote_head(kit, remote)
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.commit_all(repo, "fix: local")
    bench = bench_for(repo, policies=[kit.PermitPush()])
    assert "configured as a mirror" in kit.failed(await bench.call("workspace_git_push"))
    assert remote_head(kit, remote) == before
