"""The dashboard's routes, after real requests through lynkr (the anthropic SDK against a
scripted upstream): the page is public and holds no data; the data needs the admin key."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import anthropic
import pytest

from lynkr_core import Interceptor
from lynkr_core import anthropic as lynkr_anthropic
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving

# The keys conftest.py configures (its ``keys`` fixture); test modules cannot import it.
ADMIN_KEY = "admin-key-for-the-dashboard-0123"
CLIENT_KEY = "client-key-for-the-sdk-0123"


async def get(url: str, path: str, key: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"x-api-key": key} if key else {}
    async with aiohttp.ClientSession() as http, http.get(url + path, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


async def turns(url: str) -> None:
    """A JSON turn and a streamed turn in session s-1, and one that fails upstream."""
    async with anthropic.AsyncAnthropic(base_url=url, api_key=CLIENT_KEY, max_retries=0) as client:
        session = {"x-claude-code-session-id": "s-1"}
        await client.messages.create(model="claude-sonnet-4-6", max_tokens=32, extra_headers=session,
                                     messages=[{"role": "user", "content": "hello"}])
        async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=32, extra_headers=session,
                                          messages=[{"role": "user", "content": "again"}]) as events:
            await events.get_final_message()
        with pytest.raises(anthropic.InternalServerError):
            await client.messages.create(model="claude-sonnet-4-6", max_tokens=32,
                                         messages=[{"role": "user", "content": "fail"}])


SCRIPT = [
    Reply.text("first answer", usage={"input_tokens": 11, "output_tokens": 3, "cache_read_input_tokens": 5}),
    Reply.text("second answer", usage={"input_tokens": 13, "output_tokens": 4}),
    ErrorReply(500, message="upstream broke"),
]


async def overview_after_turns(gateway: Any) -> tuple[int, dict[str, Any]]:
    async with FakeAnthropic(list(SCRIPT)) as fake, gateway(fake) as (app, url):
        await turns(url)
        await app.state.services.sessions.idle()
        status, _, body = await get(url, "/v1/dashboard/overview", ADMIN_KEY)
    return status, json.loads(body)


async def test_the_overview_shows_requests_providers_series_and_plugins(gateway):
    status, overview = await overview_after_turns(gateway)

    assert status == 200
    assert overview["total_requests"] == 3
    newest, second, first = overview["requests"]
    assert [first["status"], second["status"], newest["status"]] == [200, 200, 500]
    assert [first["streamed"], second["streamed"]] == [False, True]
    assert first["session_id"] == "s-1" and newest["session_id"] is None
    assert first["tokens"] == {"input": 11, "output": 3, "cache_read": 5, "cache_creation": 0}
    assert first["provider"] == "anthropic" and first["model"] == "claude-sonnet-4-6"
    assert second["time_to_first_token"] is not None
    assert "upstream broke" in newest["error"]
    [provider] = overview["providers"]
    assert provider["name"] == "anthropic"
    assert (provider["attempts"], provider["failures"], provider["recent"]) == (3, 1, [200, 200, 500])
    [circuit] = overview["circuits"]
    assert circuit["target"].startswith("anthropic") and circuit["state"] == "closed"
    assert circuit["failures"] == 1  # the upstream's 500, the last attempt
    [bucket] = overview["series"]["buckets"]
    assert (bucket["requests"], bucket["errors"], bucket["tokens"]["input"]) == (3, 1, 24)
    plugins = {row["name"]: row for row in overview["plugins"]}
    assert plugins["lynkr-dashboard"]["enabled"] and plugins["lynkr-sessions"]["enabled"]
    assert plugins["lynkr-cache"]["enabled"] is False
    assert plugins["lynkr-cache"]["reason"] == "not in LYNKR_PLUGINS"
    assert "/v1/sessions" in overview["routes"] and "/v1/usage" not in overview["routes"]
    assert overview["server"]["provider"] == "anthropic" and overview["server"]["sessions_store"]
    [sessions_queue] = [queue for queue in overview["queues"] if queue["name"] == "sessions"]
    assert {name: sessions_queue[name] for name in ("size", "dropped", "failed")} == {
        "size": 100, "dropped": 0, "failed": 0}
    assert 0 <= sessions_queue["waiting"] <= 3  # written off the request path: it may still hold turns


async def test_the_status_route_tallies_a_session_for_local_clients(gateway):
    async with FakeAnthropic(list(SCRIPT)) as fake, gateway(fake) as (_, url):
        await turns(url)
        status, _, body = await get(url, "/v1/dashboard/status?session_id=s-1", CLIENT_KEY)
        _, _, unknown = await get(url, "/v1/dashboard/status?session_id=nobody", CLIENT_KEY)
        refused, _, _ = await get(url, "/v1/dashboard/status?session_id=s-1")

    assert status == 200
    answer = json.loads(body)
    assert answer["provider"] == "anthropic"
    session = answer["session"]
    assert (session["requests"], session["provider"], session["model"]) == (2, "anthropic", "claude-sonnet-4-6")
    assert session["tokens"] == {"input": 24, "output": 7, "cache_read": 5, "cache_creation": 0}
    assert session["cache_hits"] == 0
    assert json.loads(unknown)["session"] is None
    assert refused == 401  # behind the API key like any other route


async def test_the_page_is_public_and_strict_and_the_data_needs_the_admin_key(gateway):
    async with FakeAnthropic([]) as fake, gateway(fake) as (_, url):
        page_status, page_headers, page = await get(url, "/dashboard")
        script_status, script_headers, _ = await get(url, "/dashboard/assets/app.js")
        missing, _, _ = await get(url, "/dashboard/assets/secrets.txt")
        traversal, _, _ = await get(url, "/dashboard/assets/..%2F__init__.py")
        anonymous, _, _ = await get(url, "/v1/dashboard/overview")
        client, _, _ = await get(url, "/v1/dashboard/overview", CLIENT_KEY)

    assert page_status == 200 and page_headers["Content-Type"].startswith("text/html")
    assert b"/dashboard/assets/app.js" in page and b"<script>" not in page  # no inline script
    assert "script-src 'self'" in page_headers["Content-Security-Policy"]
    assert page_headers["Referrer-Policy"] == "no-referrer"
    assert script_status == 200 and script_headers["Content-Type"].startswith("text/javascript")
    assert missing == 404
    assert traversal == 401  # not a public path: nothing outside the asset list is served
    assert (anonymous, client) == (401, 401)


async def test_without_an_admin_key_configured_the_data_is_refused(gateway):
    async with FakeAnthropic([]) as fake, gateway(fake, LYNKR_ADMIN_KEYS="") as (_, url):
        status, _, body = await get(url, "/v1/dashboard/overview", CLIENT_KEY)
    assert status == 403
    assert "LYNKR_ADMIN_KEYS" in json.loads(body)["error"]["message"]


async def test_a_bad_setting_names_its_variable(gateway):
    from lynkr_dashboard.config import load_settings

    from lynkr_core import ConfigError, Settings

    with pytest.raises(ConfigError, match="DASHBOARD_RECENT_REQUESTS"):
        load_settings(Settings({"DASHBOARD_RECENT_REQUESTS": "0"}))
    assert load_settings(Settings({"DASHBOARD_BUCKET_SECONDS": "10"})).bucket_seconds == 10


class AnswersHellos(Interceptor):
    """A cache stand-in: answers requests for the model "cached" itself (no upstream call)
    and names itself."""

    name = "answers-hellos"

    async def complete(self, request, context, call_next):
        if request.model != "cached":
            return await call_next(request)
        context.steps[-1].answered_by = self.name
        return lynkr_anthropic.decode_response(json.dumps({
            "id": "msg_cached", "type": "message", "role": "assistant", "model": request.model,
            "content": [{"type": "text", "text": "from the cache"}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 40, "output_tokens": 8},
        }).encode())


async def test_a_session_counts_what_an_interceptor_answered_as_saved(lynkr_env, keys, gateway_settings):
    async with FakeAnthropic([Reply.text("fresh", usage={"input_tokens": 7, "output_tokens": 2})]) as fake:
        settings = gateway_settings(lynkr_env, fake)
        settings["LYNKR_PLUGINS"] += ",cache-standin"
        app = make_test_app(settings,
                            plugins=[("cache-standin", inline_plugin(interceptors=[AnswersHellos()]))])
        async with serving(app) as url:
            async with anthropic.AsyncAnthropic(base_url=url, api_key=keys.client, max_retries=0) as client:
                for model in ("cached", "claude-sonnet-4-6", "cached"):
                    await client.messages.create(model=model, max_tokens=32,
                                                 extra_headers={"x-claude-code-session-id": "s-2"},
                                                 messages=[{"role": "user", "content": "hello"}])
            _, _, body = await get(url, "/v1/dashboard/status?session_id=s-2", keys.client)
            _, _, overview = await get(url, "/v1/dashboard/overview", keys.admin)

    session = json.loads(body)["session"]
    assert (session["requests"], session["cache_hits"]) == (3, 2)
    assert session["saved"]["input"] == 80 and session["saved"]["output"] == 16
    assert session["tokens"]["input"] == 7
    rows = json.loads(overview)["requests"]
    assert [row["answered_by"] for row in rows] == ["answers-hellos", None, "answers-hellos"]
    assert [row["provider"] for row in rows] == [None, "anthropic", None]
    assert len(fake.message_requests) == 1
