"""The real Aider through lynkr's ``/v1/chat/completions`` to an Anthropic-format scripted
upstream: it streams the model's whole-file edit, applies it to a file of a temporary git
repository, and commits it with the commit message the model wrote (a second call)."""

from __future__ import annotations

import subprocess

import pytest

from lynkr_core.testing.aider import run_aider
from lynkr_core.testing.openai_clients import CLIENT_KEY, UPSTREAMS, Turn, lynkr_env
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

EDITED = 'print("hello from lynkr")\n'


def _git(repo, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


def test_aider_edits_a_file_through_lynkr(tmp_path):
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    (repo / "greeting.py").write_text('print("hello")\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "greeting.py")
    _git(repo, "commit", "-qm", "start")
    upstream = UPSTREAMS["anthropic"]
    fake = upstream.make([
        Turn(f"Here is the change:\n\ngreeting.py\n```python\n{EDITED}```\n", chunk_size=7),
        Turn("feat: greet from lynkr"),
    ])
    base = fake.run_in_thread()
    try:
        with serving_in_thread(make_test_app(lynkr_env(upstream, base))) as url:
            result = run_aider(url, repo, home, "make the greeting mention lynkr", "greeting.py",
                               api_key=CLIENT_KEY)
    finally:
        fake.stop_thread()
    sent = upstream.requests(fake)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (repo / "greeting.py").read_text() == EDITED
    assert "feat: greet from lynkr" in _git(repo, "log", "--format=%s", "-1")
    assert sent[0]["stream"] is True  # Aider streams; lynkr translated the chunks back
    assert "make the greeting mention lynkr" in str(sent[0]["messages"])
