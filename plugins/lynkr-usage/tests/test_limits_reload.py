"""Limits changed by a hot reload (``POST /v1/admin/reload``, the ledger's
``prepare_reload``): a key's new limit applies to its next request, and a limit that
does not hold is refused with its reason while the old one stays in force."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anthropic
import pytest

from lynkr_core import api_key_id
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

ALICE = "alice-key-for-reload-0123"
ADMIN = "admin-key-for-reload-0123"


@contextlib.asynccontextmanager
async def lynkr(tmp_path: Path, fake: FakeAnthropic, **env: str) -> AsyncIterator[str]:
    """lynkr with lynkr-usage, configured by ``tmp_path/.env`` and ``lynkr.toml`` (read again
    on reload), with the process environment a fixed mapping."""
    environ = {"LYNKR_HOME": str(tmp_path / "home"), "LYNKR_ADMIN_KEYS": ADMIN, "LYNKR_API_KEYS": ALICE,
               "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-usage", "LYNKR_RELOAD_WATCH": "false",
               "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
               "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream-secret", "LYNKR_UPSTREAM_RETRIES": "0", **env}
    app = make_test_app(environ, env_file=tmp_path / ".env", toml_file=tmp_path / "lynkr.toml")
    async with serving(app) as url:
        yield url


async def ask(url: str) -> int:
    """The status lynkr answers a request of Alice's with."""
    async with anthropic.AsyncAnthropic(base_url=url, api_key=ALICE, max_retries=0) as client:
        try:
            await client.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                         messages=[{"role": "user", "content": "hi"}])
        except anthropic.RateLimitError:
            return 429
    return 200


async def reload(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.post(
            url + "/v1/admin/reload", headers={"x-api-key": ADMIN}) as response:
        return response.status, await response.json()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / ".env").write_text("RATE_LIMIT_REQUESTS_PER_MINUTE=1\n", encoding="utf-8")
    (tmp_path / "lynkr.toml").write_text("", encoding="utf-8")
    return tmp_path


async def test_a_reloaded_limit_applies_to_the_next_request(files):
    async with FakeAnthropic(lambda body: Reply.text("ok")) as fake, lynkr(files, fake) as url:
        assert [await ask(url), await ask(url)] == [200, 429]
        (files / "lynkr.toml").write_text(
            f'[plugins.lynkr-usage.keys.{api_key_id(ALICE)}]\nrequests_per_minute = 3\n', encoding="utf-8")
        status, report = await reload(url)
        # 3 a minute: the first request counts, the refused one does not
        assert [await ask(url), await ask(url), await ask(url)] == [200, 200, 429]
    assert status == 200 and report["status"] == "reloaded"
    assert report["changed"] == ["[plugins.lynkr-usage] keys"] and report["plugins_keeping_settings"] == []


async def test_a_limit_that_does_not_hold_is_refused_and_the_old_one_kept(files):
    async with FakeAnthropic(lambda body: Reply.text("ok")) as fake, lynkr(files, fake) as url:
        (files / ".env").write_text("RATE_LIMIT_REQUESTS_PER_MINUTE=-5\n", encoding="utf-8")
        status, body = await reload(url)
        assert [await ask(url), await ask(url)] == [200, 429]  # still 1 a minute
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    message = body["error"]["message"]
    assert "lynkr-usage" in message and "RATE_LIMIT_REQUESTS_PER_MINUTE" in message
    assert str(files / ".env") in message
