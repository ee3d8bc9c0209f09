"""The admin routes: only a key of ``LYNKR_ADMIN_KEYS`` is answered."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply

ADMIN_KEY = "admin-key-0123456789"
CLIENT_KEY = "client-key-0123456789"


class Answer:
    """A response read whole: ``status_code`` and ``json()``."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        async with self.session.get(self.url + path, headers=headers or {}) as response:
            return Answer(response.status, await response.read())


@contextlib.asynccontextmanager
async def http_client(url: str) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession() as session:
        yield Http(session, url.rstrip("/"))


async def test_without_an_admin_key_configured_everyone_is_refused(gateway):
    async with FakeAnthropic([]) as fake, gateway(fake) as (_, url):
        async with http_client(url) as http:
            response = await http.get("/v1/sessions")
            assert response.status_code == 403
            response = await http.get("/v1/sessions/x", headers={"x-api-key": ADMIN_KEY})
            assert response.status_code == 403


async def test_an_admin_key_lists_and_shows_sessions(gateway, helpers):
    env = {"LYNKR_ADMIN_KEYS": ADMIN_KEY, "LYNKR_API_KEYS": CLIENT_KEY}
    replies = [Reply.text("one"), Reply.text("two"), Reply.text("three")]
    async with FakeAnthropic(replies) as fake, gateway(fake, **env) as (app, url):
        async with helpers.sdk(url, api_key=CLIENT_KEY) as client:
            await helpers.ask(client, "session-a", "hello a")
            await helpers.ask(client, "session-b", "hello b", stream=True)
            await helpers.ask(client, "session-a", "again a", stream=True)
        await app.state.services.sessions.idle()
        async with http_client(url) as http:
            refused = await http.get("/v1/sessions", headers={"x-api-key": CLIENT_KEY})
            anonymous = await http.get("/v1/sessions")
            listed = await http.get("/v1/sessions", headers={"x-api-key": ADMIN_KEY})
            limited = await http.get("/v1/sessions?limit=1",
                                     headers={"authorization": f"Bearer {ADMIN_KEY}"})
            shown = await http.get("/v1/sessions/session-a", headers={"x-api-key": ADMIN_KEY})
            last = await http.get("/v1/sessions/session-a?limit=1", headers={"x-api-key": ADMIN_KEY})
            unknown = await http.get("/v1/sessions/nobody", headers={"x-api-key": ADMIN_KEY})
            bad = await http.get("/v1/sessions?limit=lots", headers={"x-api-key": ADMIN_KEY})

    assert refused.status_code == 401
    assert anonymous.status_code == 401
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["sessions"]] == ["session-a", "session-b"]
    assert [s["id"] for s in limited.json()["sessions"]] == ["session-a"]
    assert shown.status_code == 200
    body = shown.json()
    assert body["session"]["exchanges"] == 2
    assert [e["streamed"] for e in body["exchanges"]] == [False, True]
    assert body["exchanges"][0]["request"]["messages"][0]["content"] == "hello a"
    assert body["exchanges"][1]["response"]["content"][0]["text"] == "three"
    assert body["exchanges"][1]["steps"][0]["attempts"][0]["status"] == 200
    assert [e["request"]["messages"][0]["content"] for e in last.json()["exchanges"]] == ["again a"]
    assert unknown.status_code == 404 and unknown.json()["type"] == "error"
    assert bad.status_code == 400
