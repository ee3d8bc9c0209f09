"""Auth: every route but the probes needs one of ``LYNKR_API_KEYS`` (x-api-key or
Authorization: Bearer), compared with ``hmac.compare_digest`` against every configured
key; refused requests never reach the upstream; ``lynkr start`` on a public address
starts once keys are set. (Its refusal without keys is
``tests/test_plugins.py::test_lynkr_start_refuses_a_public_bind_without_keys``.)"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from yarl import URL

from lynkr_core import middleware
from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.server import STARTUP_SECONDS, free_port, make_test_app, serving

KEY = "lynkr-team-key-0123456789abcdef"
OTHER_KEY = "lynkr-ci-key-fedcba9876543210"
VALID = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def gateway():
    """lynkr with two keys (configured with stray spaces) in front of a fake Anthropic API."""
    async with FakeAnthropic() as fake:
        app = make_test_app({
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
            "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream",
            "LYNKR_API_KEYS": f"  {KEY} ,{OTHER_KEY}  ",
            "TOOL_EXECUTION_MODE": "client",
        })
        async with serving(app) as url, aiohttp.ClientSession() as http:
            yield SimpleNamespace(url=url, http=http, fake=fake)


async def post(gateway, headers: dict[str, str], path: str = "/v1/messages") -> tuple[int, dict]:
    async with gateway.http.post(gateway.url + path, json=VALID, headers=headers) as response:
        return response.status, json.loads(await response.read())


async def raw_status(url: str, request_head: str) -> int:
    """Send a hand-written request (exact header bytes) and read the status code."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps(VALID).encode()
    writer.write(request_head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


REFUSED = [
    ({}, "missing API key"),
    ({"x-api-key": ""}, "invalid"),
    ({"x-api-key": "x" * len(KEY)}, "invalid"),  # same length
    ({"x-api-key": KEY[:-1]}, "invalid"),  # a prefix
    ({"x-api-key": KEY + "0"}, "invalid"),  # longer
    ({"x-api-key": "k"}, "invalid"),
    ({"x-api-key": KEY.upper()}, "invalid"),
    ({"x-api-key": f"{KEY},{OTHER_KEY}"}, "invalid"),  # the whole configured list
    ({"x-api-key": KEY[:10] + " " + KEY[10:]}, "invalid"),
    ({"authorization": f"Bearer {KEY[:-1]}"}, "invalid"),
    ({"authorization": KEY}, "missing API key"),  # no scheme
    ({"authorization": f"Basic {KEY}"}, "missing API key"),
    ({"authorization": f"Token {KEY}"}, "missing API key"),
    ({"api-key": KEY}, "missing API key"),  # Azure's header is not lynkr's
]


@pytest.mark.parametrize(("headers", "says"), REFUSED)
async def test_refused_keys_get_401_and_nothing_goes_upstream(gateway, headers, says):
    status, body = await post(gateway, headers)
    assert status == 401
    assert body["error"]["type"] == "authentication_error"
    assert says in body["error"]["message"]
    assert KEY not in json.dumps(body) and OTHER_KEY not in json.dumps(body)
    assert gateway.fake.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": KEY},
        {"x-api-key": OTHER_KEY},
        {"authorization": f"Bearer {KEY}"},
        {"authorization": f"bearer {OTHER_KEY}"},
        {"authorization": f"Bearer    {KEY}"},
    ],
)
async def test_each_configured_key_is_accepted_in_either_header(gateway, headers):
    status, body = await post(gateway, headers)
    assert status == 200, body
    assert len(gateway.fake.message_requests) == 1
    assert gateway.fake.message_requests[0].headers["x-api-key"] == "sk-upstream"  # never the client's


async def test_whitespace_around_a_sent_key_is_ignored(gateway):
    head = "POST /v1/messages HTTP/1.1\r\nhost: lynkr\r\ncontent-type: application/json\r\n"
    assert await raw_status(gateway.url, head + f"x-api-key:    {KEY}   \r\n") == 200
    assert await raw_status(gateway.url, head + f"x-api-key:\t{OTHER_KEY}\t\r\n") == 200
    assert await raw_status(gateway.url, head + f"authorization: Bearer {KEY}  \r\n") == 200
    assert await raw_status(gateway.url, head + f"x-api-key: {KEY[:5]} {KEY[5:]}\r\n") == 401


async def test_every_configured_key_is_compared_with_compare_digest(gateway, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []

    def spying_compare_digest(presented, key):
        calls.append((presented, key))
        return hmac.compare_digest(presented, key)

    monkeypatch.setattr(middleware, "hmac", SimpleNamespace(compare_digest=spying_compare_digest))
    configured = sorted([KEY.encode(), OTHER_KEY.encode()])
    for presented, expected in [(KEY, 200), (OTHER_KEY, 200), ("wrong", 401), (KEY + "x", 401)]:
        calls.clear()
        status, _ = await post(gateway, {"x-api-key": presented})
        assert status == expected
        # all keys, even after a match: the time taken does not tell which one nearly matched
        assert sorted(key for _, key in calls) == configured
        assert {sent for sent, _ in calls} == {presented.encode()}


OPEN = [("GET", "/"), ("HEAD", "/"), ("GET", "/health"), ("GET", "/health/live"), ("GET", "/ready"),
        ("GET", "/health/ready"), ("HEAD", "/health")]
CLOSED = [
    ("POST", "/v1/messages"),
    ("POST", "/v1/messages?beta=true"),
    ("POST", "/v1/messages/count_tokens"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/claude-opus-4-8"),
    ("GET", "/echo/info"),  # a plugin's route
    ("GET", "/v1/no-such-route"),  # 401 before 404: unauthenticated clients learn no routes
    ("GET", "/health/"),
    ("GET", "/HEALTH"),
    ("GET", "/health/../v1/models"),
    ("POST", "/v1/%6Dessages"),  # percent-encoded /v1/messages
]


async def test_only_the_probes_are_open(gateway):
    async with aiohttp.ClientSession() as anonymous:
        for method, path in OPEN:
            async with anonymous.request(method, gateway.url + path) as response:
                assert response.status == 200, (method, path)
        for method, path in CLOSED:
            url = URL(gateway.url + path, encoded=True)
            async with anonymous.request(method, url, json=VALID) as response:
                assert response.status == 401, (method, path)
    assert gateway.fake.requests == []


async def test_without_configured_keys_every_route_is_open():
    app = make_test_app({"MODEL_PROVIDER": "echo"})
    async with serving(app) as url, aiohttp.ClientSession() as anonymous:
        async with anonymous.post(url + "/v1/messages", json=VALID) as response:
            assert response.status == 200


def test_lynkr_start_on_a_public_address_starts_with_keys(tmp_path):
    port = free_port()
    script = Path(sys.executable).with_name("lynkr")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lynkr_core.cli"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MODEL_PROVIDER": "echo", "LYNKR_API_KEYS": KEY}
    process = subprocess.Popen(
        [*command, "start", "--host", "0.0.0.0", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        statuses = asyncio.run(_statuses_once_up(f"http://127.0.0.1:{port}", process))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert statuses == {"/health": 200, "/v1/models": 401, "/v1/models+key": 200}, stderr.decode()


async def _statuses_once_up(url: str, process) -> dict[str, int]:
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + STARTUP_SECONDS  # every plugin loads: slow on a busy machine
        while True:
            assert process.poll() is None, "lynkr exited"
            try:
                async with http.get(url + "/health") as response:
                    health = response.status
                break
            except aiohttp.ClientError:
                assert time.monotonic() < deadline, "lynkr did not listen"
                await asyncio.sleep(0.05)
        async with http.get(url + "/v1/models") as response:
            anonymous = response.status
        async with http.get(url + "/v1/models", headers={"x-api-key": KEY}) as response:
            keyed = response.status
    return {"/health": health, "/v1/models": anonymous, "/v1/models+key": keyed}
