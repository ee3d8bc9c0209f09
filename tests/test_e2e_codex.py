"""The real Codex CLI (``codex exec``, Responses API) through lynkr to a scripted upstream of
each format: the model runs ``exec_command`` to write a file, Codex runs it and sends the
output back as a ``function_call_output``, and the model's last answer ends the task."""

from __future__ import annotations

import pytest

from lynkr_core.testing.codex import run_codex
from lynkr_core.testing.openai_clients import CLIENT_KEY, UPSTREAMS, Turn, lynkr_env
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CONTENT = "written by codex through lynkr"


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
def test_codex_writes_a_file_through_lynkr(tmp_path, kind):
    workdir, home = tmp_path / "work", tmp_path / "codex-home"
    workdir.mkdir()
    command = {"cmd": f"printf '{CONTENT}' > hello.txt && echo wrote-it"}
    upstream = UPSTREAMS[kind]
    fake = upstream.make([
        Turn("I'll write the file.", calls=[("call_codex_1", "exec_command", command)], chunk_size=5),
        Turn("hello.txt is written", chunk_size=3),
    ])
    base = fake.run_in_thread()
    try:
        app = make_test_app(lynkr_env(upstream, base))
        with serving_in_thread(app) as url:
            result = run_codex(url, workdir, home, "create hello.txt", api_key=CLIENT_KEY)
    finally:
        fake.stop_thread()
    sent = upstream.requests(fake)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (workdir / "hello.txt").read_text() == CONTENT
    assert "hello.txt is written" in result.stdout
    assert len(sent) == 2
    assert "wrote-it" in str(sent[1]["messages"])  # the command's output went back to the model
