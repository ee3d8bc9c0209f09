"""Fixtures: real repositories made with the git CLI, isolated from the machine's git config,
and a ``ToolBench`` running the git tools against them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import lynkr_tools_git
import pytest

from lynkr_core import Permit, Policy, ToolCall, ToolContext, ToolResult
from lynkr_core.testing.tools import ToolBench

#: The identity the git CLI commits with in these tests.
CLI_IDENTITY = ("-c", "user.name=CLI Tester", "-c", "user.email=cli@example.com")
#: Variables of the process environment that would change what git or dulwich do.
GIT_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_COUNT", "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE", "EMAIL",
)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and XDG_CONFIG_HOME, no system config, no GIT_* variables: neither the git
    CLI nor dulwich sees the machine's git configuration. Returns the fake HOME."""
    home = tmp_path_factory.mktemp("home")
    for name in GIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the git CLI in ``cwd`` (with a test identity) and return its stdout."""
    done = subprocess.run(
        ["git", *CLI_IDENTITY, "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
         *args],
        cwd=cwd, capture_output=True, text=True, env=os.environ.copy(), check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def _write(root: Path, path: str, content: str | bytes) -> Path:
    """Write a file under ``root``, creating its directories."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    return target


def _commit_all(root: Path, message: str) -> str:
    """Stage everything and commit it with the git CLI; returns the new HEAD."""
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", message)
    return _git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit (a.txt, b.txt, src/app.py) and a repository-level
    identity ("Repo Author <repo@example.com>") for the commits the tools make."""
    root = tmp_path / "work"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.name", "Repo Author")
    _git(root, "config", "user.email", "repo@example.com")
    _write(root, "a.txt", "alpha\n")
    _write(root, "b.txt", "bravo\n")
    _write(root, "src/app.py", "print('hello')\n")
    _commit_all(root, "initial commit")
    return root


@pytest.fixture
def remote(tmp_path: Path, repo: Path) -> Path:
    """A bare repository ``origin`` that ``repo``'s main branch is pushed to and tracks."""
    bare = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(repo, "remote", "add", "origin", str(bare))
    _git(repo, "push", "-q", "-u", "origin", "main")
    return bare


@pytest.fixture
def other_clone(tmp_path: Path, remote: Path) -> Path:
    """Somebody else's clone of ``remote``, for commits the workspace does not have."""
    clone = tmp_path / "other"
    _git(tmp_path, "clone", "-q", str(remote), str(clone))
    return clone


class PermitPush(Policy):
    """A policy that permits ``git.push`` (a guarded action) and has no say on anything else."""

    name = "permit-push"

    async def check_tool(self, call: ToolCall, context: ToolContext) -> Permit | None:
        """``Permit`` for a push."""
        return Permit("test") if "git.push" in call.effects.actions else None


BenchFactory = Callable[..., ToolBench]


@pytest.fixture
def bench_for() -> BenchFactory:
    """``bench_for(workspace, policies=(), **env)``: the git tools as the gateway runs them."""

    def make(workspace: Path, policies: Iterable[Policy] = (), **env: str) -> ToolBench:
        return ToolBench(workspace, plugins=[lynkr_tools_git], policies=policies, env=env)

    return make


@pytest.fixture
def bench(bench_for: BenchFactory, repo: Path) -> ToolBench:
    """The git tools on ``repo``, no policy."""
    return bench_for(repo)


def _ok(result: ToolResult) -> str:
    """The text of a successful result (fails the test on an error result)."""
    assert not result.is_error, result.text
    return result.text


def _failed(result: ToolResult) -> str:
    """The text of an error result (fails the test on a success)."""
    assert result.is_error, f"expected an error, got: {result.text}"
    return result.text


def _porcelain_status(root: Path) -> list[str]:
    """``git status --porcelain`` lines (untracked files listed one by one)."""
    return _git(root, "status", "--porcelain", "--untracked-files=all").splitlines()


class Kit:
    """The helpers tests use (a fixture, since test modules cannot import conftest)."""

    git = staticmethod(_git)
    write = staticmethod(_write)
    commit_all = staticmethod(_commit_all)
    ok = staticmethod(_ok)
    failed = staticmethod(_failed)
    porcelain_status = staticmethod(_porcelain_status)
    PermitPush = PermitPush


@pytest.fixture
def kit() -> type[Kit]:
    """``kit.git(cwd, *args)``, ``kit.write``, ``kit.commit_all``, ``kit.ok(result)``,
    ``kit.failed(result)``, ``kit.porcelain_status(root)``, ``kit.PermitPush``."""
    return Kit
