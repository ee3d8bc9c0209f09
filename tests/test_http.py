"""The HTTP surface: every malformed input gets its Anthropic error and status, and the
server keeps serving; auth; body limits; the CLI's quirks (HEAD /, ?beta=true)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import aiohttp
import pytest

from lynkr_core import Denial, LynkrError, Policy, Provider, hookimpl
from lynkr_core.testing.server import make_test_app, serving
from lynkr_core.wire.anthropic import MessageResponse, Usage, decode_block

VALID = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi there"}]}
KEY = "test-key-0123456789"


class Crashing(Provider):
    """A provider with a bug: the client must get a plain 500, never a traceback."""

    name = "crashing"

    async def complete(self, request, context):
        raise ZeroDivisionError("secret internal detail")

    async def stream(self, request, context):
        raise ZeroDivisionError("secret internal detail")
        yield b""


class BlockDecoding(Provider):
    """A provider that decodes every content block itself, as third-party ones may."""

    name = "block-decoding"

    async def complete(self, request, context):
        for message in request.messages:
            if isinstance(message.content, list):
                [decode_block(raw) for raw in message.content]
        return MessageResponse(id="msg_1", model=request.model, content=[], stop_reason="end_turn",
                               usage=Usage(input_tokens=1, output_tokens=1))

    async def stream(self, request, context):
        await self.complete(request, context)
        yield b""


class NoTools(Policy):
    name = "no-tools"

    async def check_request(self, request, context):
        if request.tools:
            return Denial("tools are not allowed here")
        return None


def third_party_plugin():
    @hookimpl
    def lynkr_register_providers(register, settings):
        register(Crashing())
        register(BlockDecoding())

    @hookimpl
    def lynkr_register_policies(register, settings):
        register(NoTools())

    return SimpleNamespace(
        lynkr_register_providers=lynkr_register_providers,
        lynkr_register_policies=lynkr_register_policies,
    )


@pytest.fixture
async def server():
    app = make_test_app(
        {"MODEL_PROVIDER": "echo", "LYNKR_API_KEYS": KEY, "LYNKR_MAX_BODY_BYTES": "4096"},
        plugins=[("third-party", third_party_plugin())],
    )
    async with serving(app) as url, aiohttp.ClientSession(headers={"x-api-key": KEY}) as http:
        yield SimpleNamespace(url=url, http=http)


async def post(server, body, *, path="/v1/messages", headers=None, raw=False):
    data = body if raw else json.dumps(body).encode()
    async with server.http.post(server.url + path, data=data, headers=headers or {}) as response:
        return response.status, await response.read(), response.headers


async def still_serving(server):
    status, body, _ = await post(server, VALID)
    assert status == 200, body
    assert json.loads(body)["content"][0]["text"] == "hi there"


BAD_BODIES = [
    (b"{not json", "not valid JSON"),
    (b"", "empty"),
    (b"[1, 2]", "Expected `object`"),
    (b'{"model": "m", "max_tokens": "five", "messages": []}', "max_tokens: Expected `int`"),
    (b'{"max_tokens": 5, "messages": []}', "missing required field `model`"),
    (b'{"model": "m", "messages": []}', "max_tokens: Field required"),
    (b'{"model": "m", "max_tokens": 0, "messages": []}', "max_tokens: must be at least 1"),
    (b'{"model": "", "max_tokens": 5, "messages": []}', "model: must not be empty"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user"}]}', "content"),
    (b'{"model": "m", "max_tokens": 5, "messages": "hi"}', "messages: Expected `array`"),
    (b'{"model": "m", "max_tokens": 5, "messages": [], "tool_choice": {"type": "sometimes"}}', "tool_choice"),
    (b'{"model": "m", "max_tokens": 5, "messages": [], "stream": "yes"}', "stream: Expected `bool`"),
    (b'\xff\xfe{"model"', "not valid JSON"),
]


@pytest.mark.parametrize(("body", "hint"), BAD_BODIES)
async def test_malformed_requests_get_400_invalid_request_error(server, body, hint):
    status, answer, headers = await post(server, body, raw=True)
    assert status == 400
    error = json.loads(answer)
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert hint in error["error"]["message"]
    assert headers["request-id"].startswith("req_")
    await still_serving(server)


async def test_count_tokens_validates_too(server):
    status, answer, _ = await post(server, b'{"model": 3}', path="/v1/messages/count_tokens", raw=True)
    assert status == 400 and json.loads(answer)["error"]["type"] == "invalid_request_error"


async def test_auth_accepts_x_api_key_and_bearer_and_rejects_the_rest(server):
    url = server.url + "/v1/messages"
    async with aiohttp.ClientSession() as anonymous:
        for headers, expected in [
            ({}, 401),
            ({"x-api-key": "wrong"}, 401),
            ({"authorization": "Bearer wrong"}, 401),
            ({"authorization": f"Basic {KEY}"}, 401),
            ({"x-api-key": KEY}, 200),
            ({"authorization": f"Bearer {KEY}"}, 200),
        ]:
            async with anonymous.post(url, json=VALID, headers=headers) as response:
                assert response.status == expected, headers
                if expected == 401:
                    body = await response.json()
                    assert body["error"]["type"] == "authentication_error"
        async with anonymous.head(server.url + "/") as response:  # the CLI's warm-up
            assert response.status == 200
        async with anonymous.get(server.url + "/health") as response:
            assert response.status == 200
        async with anonymous.get(server.url + "/v1/models") as response:
            assert response.status == 401


async def test_unknown_route_is_404_and_wrong_method_405(server):
    async with server.http.get(server.url + "/v1/nothing-here") as response:
        assert response.status == 404
        assert (await response.json())["error"]["type"] == "not_found_error"
    async with server.http.get(server.url + "/v1/messages") as response:
        assert response.status == 405
        assert (await response.json())["error"]["type"] == "invalid_request_error"


async def test_body_over_the_limit_is_413_declared_or_chunked(server):
    big = json.dumps({**VALID, "pad": "x" * 5000}).encode()
    status, answer, _ = await post(server, big, raw=True)
    assert status == 413 and json.loads(answer)["error"]["type"] == "request_too_large"

    async def chunks():
        for _ in range(10):
            yield b" " * 1000

    async with server.http.post(server.url + "/v1/messages", data=chunks()) as response:
        assert response.status == 413
    await still_serving(server)


async def test_beta_query_and_unknown_beta_headers_are_accepted(server):
    headers = {"anthropic-beta": "claude-code-20250219,made-up-beta-2099-01-01", "anthropic-version": "2023-06-01"}
    status, _, _ = await post(server, VALID, path="/v1/messages?beta=true", headers=headers)
    assert status == 200
    status, answer, _ = await post(server, VALID, path="/v1/messages/count_tokens?beta=true")
    assert status == 200 and json.loads(answer)["input_tokens"] > 0


async def test_a_provider_bug_is_a_plain_500_and_the_server_survives():
    app = make_test_app({"MODEL_PROVIDER": "crashing"}, plugins=[("third-party", third_party_plugin())])
    async with serving(app) as url, aiohttp.ClientSession() as http:
        for stream in (False, True):
            async with http.post(url + "/v1/messages", json={**VALID, "stream": stream}) as response:
                assert response.status == 500
                body = await response.json()
                assert body["error"]["type"] == "api_error"
                assert "secret internal detail" not in json.dumps(body)
                assert "Traceback" not in json.dumps(body)
        async with http.get(url + "/health") as response:
            assert response.status == 200


async def test_a_malformed_block_a_provider_fails_to_decode_is_a_400_naming_it():
    app = make_test_app({"MODEL_PROVIDER": "block-decoding"}, plugins=[("third-party", third_party_plugin())])
    broken = {"type": "image", "source": {"type": "base64", "data": "aGk="}}  # no media_type
    body = {**VALID, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, broken]}]}
    async with serving(app) as url, aiohttp.ClientSession() as http:
        for stream in (False, True):
            async with http.post(url + "/v1/messages", json={**body, "stream": stream}) as response:
                assert response.status == 400
                error = (await response.json())["error"]
                assert error["type"] == "invalid_request_error"
                assert "messages[0].content[1]" in error["message"]
        async with http.post(url + "/v1/messages", json=VALID) as response:
            assert response.status == 200


async def test_a_policy_denial_is_403_and_nothing_goes_upstream(server):
    body = {**VALID, "tools": [{"name": "t", "input_schema": {"type": "object"}}]}
    status, answer, _ = await post(server, body)
    assert status == 403
    assert json.loads(answer)["error"] == {"type": "permission_error", "message": "tools are not allowed here"}


async def test_streaming_from_a_plugin_provider(server):
    async with server.http.post(server.url + "/v1/messages", json={**VALID, "stream": True}) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = (await response.read()).decode()
    names = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "message_stop"


async def test_plugin_routes_sit_behind_auth(server):
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(server.url + "/echo/info") as response:
            assert response.status == 401
    async with server.http.get(server.url + "/echo/info") as response:
        assert (await response.json())["provider"] == "echo"


def test_lynkr_error_defaults():
    assert LynkrError("x", status=429).error_type == "rate_limit_error"
    assert LynkrError("x", status=529).error_type == "overloaded_error"
    assert LynkrError("x", status=429, retry_after=2).headers() == {"retry-after": "2"}


def test_each_anthropic_error_type_has_the_status_that_maps_back_to_it():
    from lynkr_core import error_type_for_status, status_for_error_type
    from lynkr_core.errors import STATUS_BY_ERROR_TYPE

    for error_type in STATUS_BY_ERROR_TYPE:
        assert error_type_for_status(status_for_error_type(error_type)) == error_type
    assert status_for_error_type("not_an_anthropic_type") is None
