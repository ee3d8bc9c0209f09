"""workspace_diff: staged, unstaged and both; new, deleted and binary files; filters; the cap."""

from __future__ import annotations

import os

import pytest

from lynkr_core import Policy

STAGED = "## Staged changes (index vs HEAD)"
UNSTAGED = "## Unstaged changes (working tree vs index)"


def git_diff(kit, repo, *args: str) -> str:
    """The git CLI's own diff, for comparison."""
    return kit.git(repo, "diff", "--no-color", "--no-ext-diff", *args)


async def test_unstaged_modification_matches_git_diff(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha\nmore\n")
    text = kit.ok(await bench.call("workspace_diff", scope="unstaged"))
    assert text.startswith(f"{UNSTAGED}: 1 file\n\n")
    body = text.split("\n\n", 1)[1]
    expected = git_diff(kit, repo)
    assert _hunks(body) == _hunks(expected)
    assert "diff --git a/a.txt b/a.txt" in body


async def test_staged_new_and_deleted_files(bench, kit, repo):
    kit.write(repo, "new.txt", "one\ntwo\n")
    kit.git(repo, "add", "new.txt")
    kit.git(repo, "rm", "-q", "b.txt")
    text = kit.ok(await bench.call("workspace_diff", scope="staged"))
    assert text.startswith(f"{STAGED}: 2 files\n\n")
    assert "diff --git a/b.txt b/b.txt\ndeleted file mode 100644\n" in text
    assert "--- a/b.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bravo\n" in text
    assert "diff --git a/new.txt b/new.txt\nnew file mode 100644\n" in text
    assert "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n" in text
    assert _hunks(text) == _hunks(git_diff(kit, repo, "--cached"))


async def test_all_shows_both_sections_staged_first(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha staged\n")
    kit.git(repo, "add", "a.txt")
    kit.write(repo, "a.txt", "alpha staged then edited\n")
    text = kit.ok(await bench.call("workspace_diff"))
    staged, unstaged = text.split(UNSTAGED)
    assert staged.startswith(f"{STAGED}: 1 file")
    assert "-alpha\n+alpha staged\n" in staged
    assert "-alpha staged\n+alpha staged then edited\n" in unstaged


async def test_no_changes(bench):
    text = (await bench.call("workspace_diff")).text
    assert text == f"{STAGED}: no changes\n\n{UNSTAGED}: no changes\n\n"


async def test_binary_files(bench, kit, repo):
    kit.write(repo, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    kit.git(repo, "add", "logo.png")
    kit.write(repo, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00changed")
    text = kit.ok(await bench.call("workspace_diff"))
    assert "Binary files /dev/null and b/logo.png differ" in text
    assert "Binary files a/logo.png and b/logo.png differ" in text
    assert "changed" not in text


async def test_missing_newline_at_end_of_file(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha")
    text = kit.ok(await bench.call("workspace_diff", scope="unstaged"))
    assert "-alpha\n+alpha\n\\ No newline at end of file\n" in text


async def test_deleted_file_not_staged(bench, kit, repo):
    (repo / "b.txt").unlink()
    text = kit.ok(await bench.call("workspace_diff", scope="unstaged"))
    assert "deleted file mode 100644" in text
    assert "-bravo\n" in text


async def test_new_repository_without_head(bench_for, kit, tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    kit.git(root, "init", "-q")
    kit.write(root, "first.txt", "1\n")
    kit.git(root, "add", "first.txt")
    text = kit.ok(await bench_for(root).call("workspace_diff"))
    assert f"{STAGED}: 1 file" in text
    assert "+1\n" in text
    assert f"{UNSTAGED}: no changes" in text


async def test_paths_filter(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.write(repo, "src/app.py", "print('bye')\n")
    text = kit.ok(await bench.call("workspace_diff", paths=["src"]))
    assert "src/app.py" in text
    assert "a.txt" not in text
    text = kit.ok(await bench.call("workspace_diff", paths=["./a.txt"]))
    assert "a/a.txt" in text
    assert "src/app.py" not in text


async def test_untracked_files_are_not_in_the_diff(bench, kit, repo):
    kit.write(repo, "untracked.txt", "u\n")
    text = kit.ok(await bench.call("workspace_diff"))
    assert "untracked.txt" not in text


async def test_output_is_capped_and_says_what_was_cut(bench_for, kit, repo):
    for i in range(6):
        kit.write(repo, f"big{i}.txt", "".join(f"line {n} of file {i}\n" for n in range(200)))
    kit.git(repo, "add", ".")
    bench = bench_for(repo, LYNKR_GIT_MAX_DIFF_BYTES="11000")
    text = kit.ok(await bench.call("workspace_diff", scope="staged"))
    assert len(text.encode()) < 11_000 + 1_000
    assert "[Output capped at 11,000 bytes (LYNKR_GIT_MAX_DIFF_BYTES)." in text
    assert "Cut short: big2.txt." in text
    assert "[... the rest of big2.txt is cut ...]\n" in text
    assert "Not shown (3): big3.txt, big4.txt, big5.txt." in text
    assert "diff --git a/big1.txt" in text
    assert "diff --git a/big3.txt" not in text


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "escape", "escape/passwd", ".git/config"])
async def test_hostile_paths_are_refused(bench, kit, repo, path):
    os.symlink("/etc", repo / "escape")
    text = kit.failed(await bench.call("workspace_diff", paths=[path]))
    assert path in text or repr(path) in text


async def test_diff_reads_the_given_paths(bench):
    tool = bench.tools.get("workspace_diff")
    args = tool.parse_input({"paths": ["src"]})
    assert tool.effects(args).reads == ("src",)
    assert tool.effects(tool.parse_input({})).reads == (".",)
    assert tool.effects(args).read_only


def _hunks(diff: str) -> list[str]:
    """The diff without its ``index`` lines (git abbreviates ids its own way)."""
    return [line for line in diff.splitlines() if not line.startswith(("index ", "##"))
            and line]


async def test_files_too_large_for_a_line_diff(bench, kit, repo, monkeypatch):
    monkeypatch.setattr("lynkr_tools_git.patches.MAX_LINE_DIFF_BYTES", 50)
    kit.write(repo, "a.txt", "x" * 80 + "\n")
    text = kit.ok(await bench.call("workspace_diff", scope="unstaged"))
    assert "File too large for a line diff (old 6 bytes, new 81 bytes)" in text
    assert "xxxx" not in text
    summary = kit.ok(await bench.call("workspace_diff_summary", scope="unstaged"))
    assert "a.txt  too large to count" in summary


class HideDotEnv(Policy):
    """Keeps the content of ``.env`` from the model."""

    name = "hide-dotenv"

    def hides(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == ".env"


async def test_a_file_a_policy_hides_is_named_but_its_content_is_not_shown(bench_for, kit, repo):
    kit.write(repo, ".env", "API_KEY=do-not-show\n")
    kit.git(repo, "add", ".env")
    kit.write(repo, "a.txt", "alpha\nvisible change\n")
    text = kit.ok(await bench_for(repo, policies=[HideDotEnv()]).call("workspace_diff"))
    assert "do-not-show" not in text
    assert ".env: changed; its content is hidden by a policy" in text
    assert "+visible change" in text
