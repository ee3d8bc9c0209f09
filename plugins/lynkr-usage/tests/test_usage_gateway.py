"""Usage through the real server: by key, model, session and day, from ``GET /v1/usage``
and ``lynkr usage``; costs from the price table, and an edit of it; cache answers free."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import aiohttp
import msgspec
import pytest

from lynkr_core import Interceptor, anthropic
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin

USAGE = {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 2000,
         "cache_creation_input_tokens": 400}


def prices_file(home: str, text: str) -> Path:
    path = Path(home) / "lynkr-usage" / "prices.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class Canned(Interceptor):
    """Answers the model ``canned`` itself, as a cache would."""

    name = "canned"

    async def complete(self, request, context, call_next):
        if request.model != "canned":
            return await call_next(request)
        context.steps[-1].answered_by = self.name
        return anthropic.decode_response(msgspec.json.encode({
            "id": "msg_c", "type": "message", "role": "assistant", "model": "canned",
            "content": [{"type": "text", "text": "cached"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 999, "output_tokens": 999}}))

    async def stream(self, request, context, call_next):
        async for frame in call_next(request):
            yield frame


async def test_usage_by_key_model_session_and_day(gateway, helpers, lynkr_env):
    fake = FakeAnthropic(lambda body: Reply.text("ok", usage=USAGE))
    async with gateway(fake, ("canned", inline_plugin(interceptors=[Canned()]))) as url:
        async with helpers.sdk(url, helpers.ALICE) as alice, helpers.sdk(url, helpers.BOB) as bob:
            await helpers.ask(alice, session="s-1")
            await helpers.ask(alice, session="s-1", stream=True)
            await helpers.ask(alice, model="claude-haiku-4-5", session="s-2")
            await helpers.ask(bob, model="claude-haiku-4-5")
            await helpers.ask(bob, model="canned")  # answered without the upstream: not recorded
        await helpers.recorded(url, 4)
        by_key = await helpers.usage(url, by="key")
        by_model = await helpers.usage(url, by="model")
        by_session = await helpers.usage(url, by="session")
        by_day = await helpers.usage(url, by="day")
        only_bob = await helpers.usage(url, by="model", key=helpers.IDS["bob"])

    alice_id, bob_id = helpers.IDS["alice"], helpers.IDS["bob"]
    keys = {row["group"]: row for row in by_key["rows"]}
    assert set(keys) == {alice_id, bob_id}
    assert (keys[alice_id]["requests"], keys[bob_id]["requests"]) == (3, 1)
    assert keys[alice_id]["input"] == 3000 and keys[alice_id]["output"] == 300
    assert keys[alice_id]["cache_read"] == 6000 and keys[alice_id]["cache_write"] == 1200
    assert helpers.ALICE not in json.dumps(by_key)

    models = {row["group"]: row for row in by_model["rows"]}
    assert {m: r["requests"] for m, r in models.items()} == {"claude-sonnet-4-6": 2, "claude-haiku-4-5": 2}
    # default prices: sonnet 3/15/0.30/3.75, haiku 1/5/0.10/1.25 dollars per million tokens
    sonnet = (1000 * 3 + 100 * 15 + 2000 * 0.30 + 400 * 3.75) / 1e6
    haiku = (1000 * 1 + 100 * 5 + 2000 * 0.10 + 400 * 1.25) / 1e6
    assert models["claude-sonnet-4-6"]["cost"] == pytest.approx(2 * sonnet)
    assert models["claude-haiku-4-5"]["cost"] == pytest.approx(2 * haiku)
    assert by_model["total"]["cost"] == pytest.approx(2 * sonnet + 2 * haiku)
    assert by_model["currency"] == "USD" and by_model["prices_as_of"]

    sessions = {row["group"]: row["requests"] for row in by_session["rows"]}
    assert sessions == {"s-1": 2, "s-2": 1, "-": 1}
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    assert [(row["group"], row["requests"]) for row in by_day["rows"]] == [(today, 4)]
    assert [(row["group"], row["requests"]) for row in only_bob["rows"]] == [("claude-haiku-4-5", 1)]


async def test_the_price_table_is_the_users_to_edit(gateway, helpers, lynkr_env):
    prices_file(lynkr_env["LYNKR_HOME"], 'as_of = "2026-12-01"\n[models."house-model"]\ninput = 10.0\noutput = 20.0\n')
    fake = FakeAnthropic(lambda body: Reply.text("ok", usage={"input_tokens": 1_000_000, "output_tokens": 500_000}))
    async with gateway(fake) as url:
        async with helpers.sdk(url) as client:
            await helpers.ask(client, model="house-model")
            await helpers.ask(client, model="unknown-model")
        first = await helpers.recorded(url, 2)
        prices_file(lynkr_env["LYNKR_HOME"],
                    'as_of = "2026-12-02"\n[models."house-*"]\ninput = 1.0\noutput = 2.0\n'
                    '[models."unknown-model"]\ninput = 0.5\n')
        second = await helpers.usage(url)

    rows = {row["group"]: row for row in first["rows"]}
    assert rows["house-model"]["cost"] == pytest.approx(10 + 10)
    assert rows["unknown-model"]["cost"] == 0 and rows["unknown-model"]["unpriced_tokens"] == 1_500_000
    assert first["prices_as_of"] == "2026-12-01"
    rows = {row["group"]: row for row in second["rows"]}
    assert rows["house-model"]["cost"] == pytest.approx(1 + 1)
    assert rows["unknown-model"]["cost"] == pytest.approx(0.5) and rows["unknown-model"]["unpriced_tokens"] == 0
    assert second["prices_as_of"] == "2026-12-02"


async def test_a_broken_price_table_is_a_clear_error(gateway, helpers, lynkr_env):
    prices_file(lynkr_env["LYNKR_HOME"], '[models."x"]\ninput = "cheap"\n')
    async with gateway(FakeAnthropic([])) as url, aiohttp.ClientSession() as http:
        async with http.get(url + "/v1/usage", headers={"x-api-key": helpers.ADMIN}) as response:
            assert response.status == 500
            message = (await response.json())["error"]["message"]
    assert "prices.toml" in message and "input" in message


async def test_the_usage_route_is_admin_only_and_checks_its_parameters(gateway, helpers):
    async with gateway(FakeAnthropic([])) as url, aiohttp.ClientSession() as http:
        async with http.get(url + "/v1/usage", headers={"x-api-key": helpers.ALICE}) as response:
            assert response.status == 401
        for params, hint in [({"by": "color"}, "by: expected one of key, model, session, day"),
                             ({"since": "yesterday"}, "since: expected YYYY-MM-DD")]:
            async with http.get(url + "/v1/usage", params=params, headers={"x-api-key": helpers.ADMIN}) as response:
                assert response.status == 400
                body = await response.json()
                assert body["error"]["type"] == "invalid_request_error" and hint in body["error"]["message"]


async def test_lynkr_usage_prints_the_report(gateway, helpers, lynkr_command):
    fake = FakeAnthropic([Reply.text("ok", usage={"input_tokens": 10, "output_tokens": 5})])
    async with gateway(fake) as url:
        async with helpers.sdk(url, helpers.ALICE) as alice, helpers.sdk(url, helpers.BOB) as bob:
            await helpers.ask(alice, session="s-9")
            await helpers.ask(bob)
        await helpers.recorded(url, 2)
    code, table = lynkr_command("usage", "--by", "key")
    assert code == 0
    assert helpers.IDS["alice"] in table and helpers.IDS["bob"] in table and "total" in table
    code, output = lynkr_command("usage", "--by", "session", "--json")
    report = json.loads(output)
    assert {row["group"]: row["requests"] for row in report["rows"]} == {"s-9": 1, "-": 1}
    code, output = lynkr_command("usage", "--keys")
    assert output.split() == [helpers.IDS["alice"], "...6789", helpers.IDS["bob"], "...3210"]
    code, output = lynkr_command("usage", "--prices")
    assert code == 0 and "claude-sonnet-4*" in output
    assert lynkr_command("usage", "--since", "last week")[0] == 2


async def test_openai_format_clients_are_counted_under_their_key(gateway, helpers):
    import openai

    fake = FakeAnthropic(lambda body: Reply.text("ok", usage=USAGE))
    async with gateway(fake) as url:
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=helpers.BOB, max_retries=0) as bob:
            await bob.chat.completions.create(model="claude-sonnet-4-6",
                                              messages=[{"role": "user", "content": "hi"}])
        await helpers.recorded(url, 1)
        by_key = await helpers.usage(url, by="key")

    assert [(row["group"], row["requests"]) for row in by_key["rows"]] == [(helpers.IDS["bob"], 1)]
