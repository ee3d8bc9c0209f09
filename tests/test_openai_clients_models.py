"""``GET /v1/models`` answers the ``openai`` and the ``anthropic`` SDK alike, whatever the
upstream's format."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.openai_clients import CLIENT_KEY, UPSTREAMS, openai_gateway


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_both_sdks_list_the_same_models(kind):
    async with openai_gateway(UPSTREAMS[kind], []) as gw:
        listed = [model async for model in gw.client.models.list()]
        async with anthropic.AsyncAnthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0) as claude:
            page = await claude.models.list()
        one = await gw.client.models.retrieve(listed[0].id)
    assert listed, "the upstream serves models"
    assert [m.id for m in listed] == [m.id for m in page.data]
    assert all(m.object == "model" and m.owned_by == kind and isinstance(m.created, int) for m in listed)
    assert all(m.type == "model" and m.display_name for m in page.data)
    assert (one.id, one.object) == (listed[0].id, "model")
