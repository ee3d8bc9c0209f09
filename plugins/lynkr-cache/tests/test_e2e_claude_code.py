"""The real Claude Code CLI: the same ``-p`` prompt run twice, the second answered by the cache.

Each run is a new session (a new session id in ``metadata.user_id`` and the
``x-claude-code-session-id`` header), which the key leaves out, so the second run hits.
"""

from __future__ import annotations

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
ANSWER = "The capital of France is Paris."


@pytest.fixture
def upstream():
    fake = FakeAnthropic([Reply.text(ANSWER)])  # then "ok": a second call upstream would show
    fake.run_in_thread()
    yield fake
    fake.stop_thread()


def test_a_repeated_claude_code_prompt_is_answered_from_the_cache(tmp_path, upstream, env_for):
    workdir, home = tmp_path / "work", tmp_path / "claude-home"
    workdir.mkdir()
    home.mkdir()
    exchanges = []

    def lynkr_exchange_finished(exchange):
        exchanges.append(exchange)

    observer = inline_plugin(hooks={"lynkr_exchange_finished": lynkr_exchange_finished})
    env = env_for(upstream.base_url, tmp_path / "lynkr-home", extra_plugins=("observer",),
                  LYNKR_API_KEYS=CLIENT_KEY)
    app = make_test_app(env, plugins=[("observer", observer)])
    with serving_in_thread(app) as url:
        runs = [
            run_claude(url, workdir, home, "What is the capital of France?", api_key=CLIENT_KEY)
            for _ in range(2)
        ]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert ANSWER in run.stdout
    first_run_calls = len(upstream.message_requests)
    assert first_run_calls >= 1
    assert [e.steps[0].answered_by for e in exchanges] == [None] * first_run_calls + ["lynkr-cache"] * (
        len(exchanges) - first_run_calls
    )
    assert len(exchanges) > first_run_calls  # the second run's calls all hit
    sessions = {e.session_id for e in exchanges}
    assert len(sessions) == 2  # two runs, two sessions: metadata is not in the key
