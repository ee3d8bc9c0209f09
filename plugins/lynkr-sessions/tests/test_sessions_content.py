"""What is kept of an exchange's content: all of it, with secrets masked, or none."""

from __future__ import annotations

import json

import pytest
from lynkr_sessions.config import db_path, load_settings

from lynkr_core import ConfigError, Services, Settings
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply


async def _one_exchange(gateway, helpers, content: str, *, text: str):
    async with FakeAnthropic([Reply.text(f"you said {text}")]) as fake, \
            gateway(fake, SESSION_CONTENT=content) as (app, url):
        async with helpers.sdk(url) as client:
            await helpers.ask(client, "session-a", text, stream=True)
        store = app.state.services.sessions
        await store.idle()
        [kept] = await store.exchanges("session-a")
        [row] = await store.exchange_rows("session-a")
        [summary] = await store.sessions()
    return kept, row, summary


async def test_redacted_masks_configured_secrets(gateway, helpers):
    text = f"my key is {helpers.upstream_key}, keep it safe"
    kept, row, _ = await _one_exchange(gateway, helpers, "redacted", text=text)
    stored = json.dumps(row)
    assert helpers.upstream_key not in stored
    assert kept.request.messages[0].content == "my key is [redacted], keep it safe"
    assert kept.response.text() == "you said my key is [redacted], keep it safe"
    assert kept.steps[0].response.text() == "you said my key is [redacted], keep it safe"


async def test_full_keeps_the_content_as_it_was(gateway, helpers):
    text = f"my key is {helpers.upstream_key}"
    kept, _, _ = await _one_exchange(gateway, helpers, "full", text=text)
    assert kept.request.messages[0].content == text


async def test_none_keeps_metadata_only(gateway, helpers, lynkr_env):
    kept, row, summary = await _one_exchange(gateway, helpers, "none", text="private words")
    assert (row["request"], row["response"], row["steps"]) == (None, None, None)
    assert (kept.request, kept.response, kept.steps) == (None, None, [])
    assert kept.status == 200 and kept.streamed and kept.model == "claude-sonnet-4-6"
    assert kept.usage.output_tokens > 0
    assert summary.exchanges == 1
    path = db_path(lynkr_env["LYNKR_HOME"])
    files = [path, path.with_name(path.name + "-wal")]
    assert all(b"private words" not in f.read_bytes() for f in files if f.exists())


def test_a_bad_setting_is_named(lynkr_env):
    with pytest.raises(ConfigError, match="SESSION_CONTENT"):
        load_settings(Settings({**lynkr_env, "SESSION_CONTENT": "some"}))
    with pytest.raises(ConfigError, match="SESSION_QUEUE_SIZE"):
        load_settings(Settings({**lynkr_env, "SESSION_QUEUE_SIZE": "0"}))
    config = load_settings(Settings(lynkr_env))
    assert (config.content, config.retention_days, config.max_bytes, config.queue_size) == (
        "full", 30, 512 * 1024 * 1024, 100)


def test_the_command_and_the_server_find_the_same_file(lynkr_env):
    settings = Settings(lynkr_env)
    services = Services(settings=settings, http=None, model=None)  # type: ignore[arg-type]
    assert services.data_dir("lynkr-sessions") / "sessions.db" == db_path(settings.core.home)
