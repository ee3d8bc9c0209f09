"""workspace_diff_summary: counts that agree with git, totals, and risk notes."""

from __future__ import annotations

import re

import pytest
from lynkr_tools_git.risk import LARGE_CHANGE_FILES, LARGE_CHANGE_LINES, sensitive_reason


async def test_counts_match_git_numstat(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha\nadded 1\nadded 2\n")
    kit.write(repo, "src/app.py", "print('bye')\nprint('again')\n")
    kit.git(repo, "add", "src/app.py")
    text = kit.ok(await bench.call("workspace_diff_summary"))
    staged = kit.git(repo, "diff", "--cached", "--numstat").split()
    unstaged = kit.git(repo, "diff", "--numstat").split()
    assert staged == ["2", "1", "src/app.py"]
    assert unstaged == ["2", "0", "a.txt"]
    assert "## Staged changes (index vs HEAD): 1 file, +2 -1\n  M  src/app.py  +2 -1\n" in text
    assert "## Unstaged changes (working tree vs index): 1 file, +2 -0\n  M  a.txt  +2 -0\n" in text
    assert "Total: 2 files, +4 -1\n" in text
    assert text.endswith("Risk notes: none.\n")


async def test_scope_and_paths(bench, kit, repo):
    kit.write(repo, "a.txt", "alpha 2\n")
    kit.write(repo, "src/app.py", "x\n")
    kit.git(repo, "add", "a.txt")
    text = kit.ok(await bench.call("workspace_diff_summary", scope="unstaged"))
    assert "Staged" not in text and "src/app.py" in text and "a.txt" not in text
    text = kit.ok(await bench.call("workspace_diff_summary", paths=["a.txt"]))
    assert "src/app.py" not in text and "a.txt" in text


async def test_risk_notes_for_deleted_binary_and_sensitive_files(bench, kit, repo):
    (repo / "b.txt").unlink()
    kit.write(repo, ".env", "TOKEN=x\n")
    kit.write(repo, ".github/workflows/ci.yml", "on: push\n")
    kit.write(repo, "certs/server.pem", "-----BEGIN CERTIFICATE-----\n")
    kit.write(repo, "assets/logo.png", b"\x89PNG\x00\x00")
    kit.git(repo, "add", "-A")
    text = kit.ok(await bench.call("workspace_diff_summary", scope="staged"))
    assert "  D  b.txt" in text
    assert re.search(r"\n  A  assets/logo\.png +binary\n", text)
    assert "- Sensitive path: .env (environment file (may hold secrets))." in text
    assert "- Sensitive path: .github/workflows/ci.yml (CI configuration)." in text
    assert "- Sensitive path: certs/server.pem (key or certificate)." in text
    assert "- Deleted files (1): b.txt." in text
    assert "- Binary files (1), not reviewable as text: assets/logo.png." in text
    assert "Large change" not in text


async def test_large_change_by_lines(bench, kit, repo):
    kit.write(repo, "big.txt", "".join(f"{i}\n" for i in range(LARGE_CHANGE_LINES + 1)))
    text = kit.ok(await bench.call("workspace_diff_summary"))
    assert "Large change" not in text  # untracked: not part of the diff
    kit.git(repo, "add", "big.txt")
    text = kit.ok(await bench.call("workspace_diff_summary"))
    assert f"- Large change: {LARGE_CHANGE_LINES + 1} changed lines in 1 files" in text


async def test_large_change_by_files(bench, kit, repo):
    for i in range(LARGE_CHANGE_FILES + 1):
        kit.write(repo, f"many/f{i}.txt", "x\n")
    kit.git(repo, "add", "many")
    text = kit.ok(await bench.call("workspace_diff_summary"))
    assert f"in {LARGE_CHANGE_FILES + 1} files" in text


@pytest.mark.parametrize(
    ("path", "sensitive"),
    [
        (".env", True), ("config/.env.production", True), ("deploy/prod.env", True),
        ("id_rsa", True), ("keys/deploy.key", True), ("client_secret.json", True),
        ("aws/credentials", True), ("secrets.yaml", True), (".gitlab-ci.yml", True),
        ("Dockerfile", True), ("docker/Dockerfile.dev", True), ("docker-compose.yml", True),
        ("uv.lock", True), ("package-lock.json", True), ("go.sum", True),
        ("db/migrations/0001_init.py", True), ("src/auth/login.py", True), ("app/oauth2.py", True),
        ("src/app.py", False), ("README.md", False), ("tokenizer.py", False),
        ("src/author.py", False), ("docs/environment.md", False),
    ],
)
def test_sensitive_paths(path, sensitive):
    assert (sensitive_reason(path) is not None) is sensitive
