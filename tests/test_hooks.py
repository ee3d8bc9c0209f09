"""Per-request and lifecycle hooks as a third-party plugin sees them."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import anthropic

from lynkr_core import RequestPreparer, hookimpl
from lynkr_core.testing.server import make_test_app, serving

HELLO = [{"role": "user", "content": "one two three"}]


class Shout(RequestPreparer):
    name = "shout"

    async def prepare(self, request, context):
        message = request.messages[-1]
        return request.replace(messages=[message.__class__(role="user", content=message.content.upper())])


def observer():
    seen = SimpleNamespace(exchanges=[], lifecycle=[])

    @hookimpl
    def lynkr_register_preparers(register, settings):
        register(Shout())

    @hookimpl
    async def lynkr_exchange_finished(exchange):
        await asyncio.sleep(0)
        seen.exchanges.append(exchange)

    @hookimpl
    def lynkr_startup(app):
        seen.lifecycle.append("startup")

    @hookimpl
    async def lynkr_shutdown(app, settings):
        seen.lifecycle.append("shutdown")

    plugin = SimpleNamespace(
        lynkr_register_preparers=lynkr_register_preparers,
        lynkr_exchange_finished=lynkr_exchange_finished,
        lynkr_startup=lynkr_startup,
        lynkr_shutdown=lynkr_shutdown,
    )
    return plugin, seen


async def test_preparers_rewrite_and_observers_see_every_exchange_whole():
    plugin, seen = observer()
    app = make_test_app({"MODEL_PROVIDER": "echo"}, plugins=[("observer", plugin)])
    async with serving(app) as url:
        assert seen.lifecycle == ["startup"]
        async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
            plain = await sdk.messages.create(model="m", max_tokens=9, messages=HELLO)
            async with sdk.messages.stream(model="m", max_tokens=9, messages=HELLO) as stream:
                streamed = await stream.get_final_message()
        for _ in range(50):
            if len(seen.exchanges) == 2:
                break
            await asyncio.sleep(0.01)
    assert seen.lifecycle == ["startup", "shutdown"]
    assert plain.content[0].text == streamed.content[0].text == "ONE TWO THREE"
    first, second = seen.exchanges
    assert (first.streamed, second.streamed) == (False, True)
    for exchange in seen.exchanges:
        assert exchange.error is None and exchange.response is not None
        assert exchange.response.text() == "ONE TWO THREE"
        assert exchange.request.messages[-1].content == "ONE TWO THREE"
        assert exchange.context.request_id.startswith("req_")
    assert second.response.stop_reason == "end_turn"
