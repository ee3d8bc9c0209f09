"""The behaviours every provider must show, as one test suite each provider plugin runs.

A provider describes itself once, as a `ProviderProfile`: the `Harness` that configures
lynkr in front of its fake upstream, a factory for that fake given a script, the
`Scripting` that writes script items for it (`upstream_scripts`), the settings it cannot do
without, and what it cannot show, each with the reason. A test module then subclasses
`ProviderConformance` as ``Test...`` and provides the profile as the ``provider_profile``
fixture (in the class, the module, or a ``conftest.py`` when the harness lives there);
pytest runs every behaviour through lynkr with the official anthropic SDK as the client::

    import pytest

    from lynkr_core.testing.conformance import (
        MissingSetting, ProviderConformance, ProviderProfile,
    )
    from lynkr_core.testing.fake_openai import FakeOpenAI
    from lynkr_core.testing.gateway import Harness
    from lynkr_core.testing.upstream_scripts import OpenAIScripting

    def acme_env(base_url: str, **extra: str) -> dict[str, str]:
        return {"MODEL_PROVIDER": "acme", "ACME_ENDPOINT": base_url, "ACME_KEY": "k", **extra}

    class TestConformance(ProviderConformance):
        @pytest.fixture
        def provider_profile(self) -> ProviderProfile:
            return ProviderProfile(
                harness=Harness(acme_env),
                fake=lambda script: FakeOpenAI(script, api_key="k"),
                scripting=OpenAIScripting(),
                missing_settings=[MissingSetting.unset("ACME_KEY")],
            )

A behaviour a provider cannot show is named in the profile's ``exempt`` with the reason
(`BEHAVIOURS` lists the names): its test is reported as skipped with that reason, or, for
a part of a test (``retry_after``, ``text_before_stream_error``), the test runs without
that part. Nothing is skipped silently.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import anthropic
import pytest

from lynkr_core.testing.faults import eventually
from lynkr_core.testing.gateway import Gateway, Harness, quick_retries, stream_events
from lynkr_core.testing.scripted import RecordedRequest, pieces
from lynkr_core.testing.server import free_port
from lynkr_core.testing.upstream_scripts import Scripting

__all__ = ["BEHAVIOURS", "MissingSetting", "ProviderConformance", "ProviderProfile"]

BEHAVIOURS: Mapping[str, str] = {
    "text": "a text reply round-trips, as JSON and streamed",
    "tool_call": "a tool call round-trips, as JSON and streamed",
    "stream_error": "an error inside the upstream's stream ends the client's with an error event",
    "text_before_stream_error": "text streamed before such an error reaches the client",
    "cut_stream": "a stream the upstream cuts off ends with an error event",
    "unreachable": "an unreachable upstream is a 502 api_error",
    "upstream_errors": "upstream 4xx and 5xx keep their status and Anthropic error type",
    "retry_after": "an upstream 429's Retry-After reaches the client",
    "retries": "a 5xx is retried, then succeeds",
    "missing_setting": "a missing required setting is a 500 naming the variable",
    "client_disconnect": "a client leaving mid-stream closes the upstream request",
}
"""What the suite checks, by the name a profile's ``exempt`` uses."""

MODEL = "claude-sonnet-4-6"
HELLO = [{"role": "user", "content": "hello"}]
REQUEST = {"model": MODEL, "max_tokens": 100, "messages": HELLO}
STREAM = {**REQUEST, "stream": True}
TEXT = "Streamed in small pieces, three characters at a time."
CHUNK = 3
USAGE = (21, 9)
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "array"}},
        "required": ["city"],
    },
}
ARGUMENTS = {"city": "São Paulo", "days": [1, 2, 3], "note": 'quote " and \\ slash'}
RETRIES = 2


@dataclass(frozen=True)
class MissingSetting:
    """lynkr's settings with a required one unset (``env``, applied over the harness's),
    and the variables the error must name (``names``)."""

    env: Mapping[str, str]
    names: tuple[str, ...]

    @classmethod
    def unset(cls, *names: str) -> MissingSetting:
        """Each variable in ``names`` set to the empty string, and named by the error."""
        return cls({name: "" for name in names}, names)


@dataclass(frozen=True)
class ProviderProfile:
    """One provider, as the conformance suite drives it.

    ``harness`` configures lynkr against the fake's base URL; ``fake(script)`` is a fresh
    fake upstream (a `ScriptedServer`) answering with ``script``; ``scripting`` writes its
    script items. ``missing_settings`` are the provider's required settings, unset one way
    or another (none: exempt ``"missing_setting"``). ``overloaded_status`` is the status the
    upstream says "overloaded" with. ``exempt`` maps a name of `BEHAVIOURS` to the reason
    the provider cannot show it.
    """

    harness: Harness
    fake: Callable[[list[Any]], Any]
    scripting: Scripting
    missing_settings: Sequence[MissingSetting] = ()
    overloaded_status: int = 503
    exempt: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse an exemption of no known behaviour, and an unexplained lack of settings."""
        unknown = sorted(set(self.exempt) - set(BEHAVIOURS))
        if unknown:
            raise ValueError(f"exempt names no behaviour {unknown}; known: {sorted(BEHAVIOURS)}")
        if not self.missing_settings and "missing_setting" not in self.exempt:
            raise ValueError("name the missing_settings, or exempt 'missing_setting' with a reason")

    def can(self, behaviour: str) -> bool:
        """Whether the provider shows ``behaviour`` (it is not exempt)."""
        return behaviour not in self.exempt

    def require(self, behaviour: str) -> None:
        """Skip the calling test, with the profile's reason, when ``behaviour`` is exempt."""
        if not self.can(behaviour):
            pytest.skip(f"exempt from {behaviour!r}: {self.exempt[behaviour]}")

    def run(
        self, script: Sequence[Any], **overrides: str
    ) -> contextlib.AbstractAsyncContextManager[Gateway]:
        """A fresh fake answering with ``script``, and lynkr in front of it (`Harness.run`)."""
        return self.harness.run(self.fake(list(script)), **overrides)

    def chat_requests(self, gateway: Gateway) -> list[RecordedRequest]:
        """The chat calls the gateway's fake received."""
        return self.scripting.chat_requests(gateway.fake)


def _essence(message: Any) -> dict[str, Any]:
    """A message as the client reads it, without the ids that are new for every answer."""
    dumped = message.model_dump(exclude={"id"})
    for block in dumped["content"]:
        if block["type"] == "tool_use":
            block.pop("id")
    return dumped


async def _answer(gateway: Gateway, stream: bool, **request: Any) -> Any:
    """The message for ``request``, streamed or as JSON."""
    request = {**REQUEST, **request}
    if stream:
        return (await stream_events(gateway.sdk, **request))[1]
    return await gateway.sdk.messages.create(**request)


async def _leave_mid_stream(gateway: Gateway) -> None:
    """Post a streaming request with aiohttp and hang up after the first content delta."""
    headers = {"x-api-key": gateway.client_key}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gateway.url}/v1/messages", json=STREAM, headers=headers) as response:
            await response.content.readuntil(b"content_block_delta")


class ProviderConformance:
    """The suite. Subclass it as ``Test...`` where a ``provider_profile`` fixture (a
    `ProviderProfile`) is defined: in the subclass, its module or a ``conftest.py``."""

    async def test_text_round_trip(self, provider_profile: ProviderProfile) -> None:
        """A text reply as JSON: the text, the client's model name, end_turn, the usage."""
        profile = provider_profile
        profile.require("text")
        reply = profile.scripting.text(TEXT, usage=USAGE, chunk_size=CHUNK)
        async with profile.run([reply]) as gw:
            message = await _answer(gw, stream=False)
            sent = profile.chat_requests(gw)
        assert [block.type for block in message.content] == ["text"]
        assert message.content[0].text == TEXT
        assert message.id.startswith("msg_") and message.model == MODEL
        assert message.stop_reason == "end_turn"
        assert (message.usage.input_tokens, message.usage.output_tokens) == USAGE
        assert len(sent) == 1 and not sent[0].json.get("stream")

    async def test_streamed_text_equals_the_json_message(
        self, provider_profile: ProviderProfile
    ) -> None:
        """Streamed, every upstream piece is passed on as it came, and the message is the
        JSON one."""
        profile = provider_profile
        profile.require("text")
        replies = [profile.scripting.text(TEXT, usage=USAGE, chunk_size=CHUNK) for _ in "ab"]
        async with profile.run(replies) as gw:
            seen, streamed = await stream_events(gw.sdk, **REQUEST)
            plain = await _answer(gw, stream=False)
            sent = profile.chat_requests(gw)
        assert [event.text for event in seen if event.type == "text"] == pieces(TEXT, CHUNK)
        assert _essence(streamed) == _essence(plain)
        assert [bool(request.json.get("stream")) for request in sent] == [True, False]

    async def test_tool_call_round_trip(self, provider_profile: ProviderProfile) -> None:
        """A tool call as JSON: a text block, then a tool_use block with the name and input."""
        profile = provider_profile
        profile.require("tool_call")
        reply = profile.scripting.tool_call(
            "Let me check.", "get_weather", ARGUMENTS, usage=USAGE, chunk_size=CHUNK
        )
        async with profile.run([reply]) as gw:
            message = await _answer(gw, stream=False, tools=[WEATHER])
        assert [block.type for block in message.content] == ["text", "tool_use"]
        call = message.content[1]
        assert message.content[0].text == "Let me check."
        assert (call.name, call.input) == ("get_weather", ARGUMENTS) and call.id
        assert message.stop_reason == "tool_use"
        assert (message.usage.input_tokens, message.usage.output_tokens) == USAGE

    async def test_streamed_tool_call_equals_the_json_message(
        self, provider_profile: ProviderProfile
    ) -> None:
        """Streamed, the input arrives as input_json deltas (several, where the upstream sent
        it in pieces), and the message is the JSON one."""
        profile = provider_profile
        profile.require("tool_call")
        replies = [
            profile.scripting.tool_call(
                "Let me check.", "get_weather", ARGUMENTS, usage=USAGE, chunk_size=CHUNK
            )
            for _ in "ab"
        ]
        async with profile.run(replies) as gw:
            request = {**REQUEST, "tools": [WEATHER]}
            seen, streamed = await stream_events(gw.sdk, **request)
            plain = await gw.sdk.messages.create(**request)
        fragments = [event.partial_json for event in seen if event.type == "input_json"]
        assert json.loads("".join(fragments)) == ARGUMENTS
        assert len(fragments) >= (2 if profile.scripting.splits_arguments else 1)
        assert _essence(streamed) == _essence(plain)
        assert [block.type for block in streamed.content] == ["text", "tool_use"]

    async def test_an_error_inside_the_stream_ends_it_with_an_error_event(
        self, provider_profile: ProviderProfile
    ) -> None:
        """The SDK raises the upstream's message; the raw stream ends with an api_error event
        (after the text sent before it), never with message_stop."""
        profile = provider_profile
        profile.require("stream_error")
        partial = "Some words" if profile.can("text_before_stream_error") else ""
        message = "the model crashed mid-answer"
        errors = [profile.scripting.stream_error(500, message, partial=partial) for _ in "ab"]
        texts: list[str] = []
        async with profile.run(errors) as gw:
            with pytest.raises(anthropic.APIStatusError, match=message):
                async with gw.sdk.messages.stream(**REQUEST) as stream:
                    async for event in stream:
                        if event.type == "text":
                            texts.append(event.text)
            status, events = await gw.post_sse(STREAM)
        names = [name for name, _ in events]
        assert "".join(texts) == partial
        assert status == 200 and names[0] == "message_start" and "message_stop" not in names
        assert names[-1] == "error" and events[-1][1]["error"]["type"] == "api_error"
        assert message in events[-1][1]["error"]["message"]

    @pytest.mark.parametrize("abort", [True, False], ids=["dropped", "ended-early"])
    async def test_a_cut_stream_ends_with_an_error_event(
        self, provider_profile: ProviderProfile, abort: bool
    ) -> None:
        """Text already sent stays, then an api_error event, never message_stop; the SDK
        raises."""
        profile = provider_profile
        profile.require("cut_stream")
        async with profile.run([profile.scripting.cut(abort=abort) for _ in "ab"]) as gw:
            status, events = await gw.post_sse(STREAM)
            with pytest.raises(anthropic.APIStatusError):
                await stream_events(gw.sdk, **REQUEST)
        names = [name for name, _ in events]
        assert status == 200
        assert names[0] == "message_start" and "content_block_delta" in names
        assert names[-1] == "error" and "message_stop" not in names
        assert events[-1][1]["error"]["type"] == "api_error"

    async def test_an_unreachable_upstream_is_a_502(self, provider_profile: ProviderProfile) -> None:
        """A 502 api_error that says it cannot connect, and to what."""
        profile = provider_profile
        profile.require("unreachable")
        port = free_port()
        async with profile.harness.serve(profile.harness.env(f"http://127.0.0.1:{port}")) as gw:
            with pytest.raises(anthropic.APIStatusError) as caught:
                await _answer(gw, stream=False)
        error = caught.value.body["error"]
        assert caught.value.status_code == 502 and error["type"] == "api_error"
        assert "cannot connect" in error["message"] and f"127.0.0.1:{port}" in error["message"]

    @pytest.mark.parametrize(
        ("status", "sdk_error", "error_type"),
        [
            (400, anthropic.BadRequestError, "invalid_request_error"),
            (401, anthropic.AuthenticationError, "authentication_error"),
            (429, anthropic.RateLimitError, "rate_limit_error"),
        ],
    )
    async def test_an_upstream_4xx_keeps_its_status_and_type(
        self, provider_profile: ProviderProfile, status: int, sdk_error: type, error_type: str
    ) -> None:
        """With retries on, a 4xx is not retried (a 429 is only when no long Retry-After came
        with it) and reaches the client with its status, type, message and Retry-After."""
        profile = provider_profile
        profile.require("upstream_errors")
        retry_after = 30 if status == 429 and profile.can("retry_after") else None
        message = f"upstream says {status}"
        script = [profile.scripting.error(status, message, retry_after=retry_after)] * 3
        async with profile.run(script, **quick_retries(RETRIES)) as gw:
            with pytest.raises(sdk_error) as caught:
                await _answer(gw, stream=False)
            sent = profile.chat_requests(gw)
        assert caught.value.status_code == status
        assert caught.value.body["error"]["type"] == error_type
        assert message in caught.value.body["error"]["message"]
        expected_header = None if retry_after is None else "30"
        assert caught.value.response.headers.get("retry-after") == expected_header
        retried = status == 429 and retry_after is None
        assert len(sent) == (RETRIES + 1 if retried else 1)

    @pytest.mark.parametrize("overloaded", [False, True], ids=["500", "overloaded"])
    async def test_an_upstream_5xx_keeps_its_status_and_type_after_the_retries(
        self, provider_profile: ProviderProfile, overloaded: bool
    ) -> None:
        """A 5xx every time: retried, then the client gets its status, type and message."""
        profile = provider_profile
        profile.require("upstream_errors")
        status = profile.overloaded_status if overloaded else 500
        message = f"upstream says {status}"
        script = [profile.scripting.error(status, message)] * (RETRIES + 1)
        async with profile.run(script, **quick_retries(RETRIES)) as gw:
            with pytest.raises(anthropic.InternalServerError) as caught:
                await _answer(gw, stream=False)
            sent = profile.chat_requests(gw)
        assert caught.value.status_code == status
        expected = "overloaded_error" if overloaded else "api_error"
        assert caught.value.body["error"]["type"] == expected
        assert message in caught.value.body["error"]["message"]
        assert len(sent) == RETRIES + 1

    @pytest.mark.parametrize("stream", [False, True], ids=["json", "streamed"])
    async def test_a_5xx_is_retried_then_succeeds(
        self, provider_profile: ProviderProfile, stream: bool
    ) -> None:
        """Two 5xx answers, then the reply: the client sees only the reply."""
        profile = provider_profile
        profile.require("retries")
        scripting = profile.scripting
        script = [
            scripting.error(500, "transient"),
            scripting.error(profile.overloaded_status, "busy"),
            scripting.text("recovered", usage=USAGE, chunk_size=CHUNK),
        ]
        async with profile.run(script, **quick_retries(RETRIES)) as gw:
            message = await _answer(gw, stream)
            sent = profile.chat_requests(gw)
        assert message.content[0].text == "recovered"
        assert len(sent) == RETRIES + 1

    async def test_a_missing_setting_is_a_500_naming_it(
        self, provider_profile: ProviderProfile
    ) -> None:
        """For each of the profile's missing settings: a 500 naming every variable to set, as
        JSON and streamed; a failed health check naming them too; nothing sent upstream."""
        profile = provider_profile
        profile.require("missing_setting")
        for case in profile.missing_settings:
            async with profile.run([], **case.env) as gw:
                for stream in (False, True):
                    with pytest.raises(anthropic.InternalServerError) as caught:
                        await _answer(gw, stream)
                    message = caught.value.body["error"]["message"]
                    assert caught.value.status_code == 500, (case, stream)
                    assert all(name in message for name in case.names), (case, stream, message)
                health = await gw.check()
                sent = profile.chat_requests(gw)
            assert not health.ok and all(name in health.detail for name in case.names), case
            assert sent == [], case

    async def test_a_client_disconnect_mid_stream_closes_the_upstream_request(
        self, provider_profile: ProviderProfile
    ) -> None:
        """The upstream sees lynkr leave within a second of the client leaving."""
        profile = provider_profile
        profile.require("client_disconnect")
        slow = profile.scripting.text("word " * 200, usage=USAGE, chunk_size=5, delay=0.05)
        async with profile.run([slow]) as gw:
            await _leave_mid_stream(gw)
            sent = profile.chat_requests
            closed = await eventually(lambda: sent(gw)[0].disconnected, within=1.0)
        assert closed
