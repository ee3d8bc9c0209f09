"""The seams usage, budgets and rate limits stand on: which API key made a request
(``RequestContext.client_id``, never the key), a policy's ``RateLimited`` answered as
Anthropic's 429 with its headers, and Claude Code's telemetry route answered."""

from __future__ import annotations

import json
from types import SimpleNamespace

import aiohttp
import pytest

from lynkr_core import Policy, RateLimited, api_key_id
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving

VALID = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi there"}]}
ALICE = "alice-key-0123456789"
BOB = "bob-key-9876543210"


class Recorder(Policy):
    """Keeps every request's ``client_id``; refuses the ``limited`` model with a 429."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    async def check_request(self, request, context):
        self.seen.append(context.client_id)
        if request.model == "limited":
            raise RateLimited("slow down", retry_after=2.2,
                              headers={"anthropic-ratelimit-requests-limit": "1"})
        context.response_headers["anthropic-ratelimit-requests-limit"] = "10"
        return None


@pytest.fixture
async def server():
    recorder = Recorder()
    app = make_test_app({"MODEL_PROVIDER": "echo", "LYNKR_API_KEYS": f"{ALICE},{BOB}"},
                        plugins=[("recorder", inline_plugin(policies=[recorder]))])
    async with serving(app) as url:
        yield SimpleNamespace(url=url, recorder=recorder)


async def post(url, body, key, path="/v1/messages"):
    async with aiohttp.ClientSession() as http, http.post(url + path, json=body, headers={"x-api-key": key}) as r:
        return r.status, await r.read(), r.headers


def test_a_key_id_is_stable_short_and_not_the_key():
    assert api_key_id(ALICE) == api_key_id(ALICE.encode())
    assert api_key_id(ALICE) != api_key_id(BOB)
    assert api_key_id(ALICE).startswith("key_") and len(api_key_id(ALICE)) == 16
    assert ALICE not in api_key_id(ALICE)


async def test_the_context_names_the_key_that_made_the_request(server):
    for key in (ALICE, BOB, ALICE):
        status, _, headers = await post(server.url, VALID, key)
        assert status == 200
        assert headers["anthropic-ratelimit-requests-limit"] == "10"
    assert server.recorder.seen == [api_key_id(ALICE), api_key_id(BOB), api_key_id(ALICE)]


async def test_without_api_keys_the_client_is_none():
    recorder = Recorder()
    app = make_test_app({"MODEL_PROVIDER": "echo"}, plugins=[("recorder", inline_plugin(policies=[recorder]))])
    async with serving(app) as url:
        status, _, _ = await post(url, VALID, "anything")
    assert status == 200 and recorder.seen == [None]


@pytest.mark.parametrize("stream", [False, True])
async def test_rate_limited_from_a_policy_is_a_429_with_its_headers(server, stream):
    status, body, headers = await post(server.url, {**VALID, "model": "limited", "stream": stream}, ALICE)
    assert status == 429
    assert json.loads(body) == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    assert headers["retry-after"] == "3"
    assert headers["anthropic-ratelimit-requests-limit"] == "1"


async def test_claude_codes_telemetry_is_answered_not_404(server):
    status, body, _ = await post(server.url, {"events": [{"event_type": "x"}]}, ALICE,
                                 path="/api/event_logging/batch")
    assert status == 200 and json.loads(body) == {"success": True}
    status, _, _ = await post(server.url, {"events": []}, "wrong", path="/api/event_logging/batch")
    assert status == 401
