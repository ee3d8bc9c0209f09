"""Installed next to lynkr-memory, the retriever joins its hook and finds memories that
share no word with the request; without lynkr-memory the plugin still loads."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anthropic as anthropic_sdk

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

HEADER = "Memories from earlier conversations with this user"


@contextlib.asynccontextmanager
async def gateway(fake: FakeAnthropic, lynkr_env: dict[str, str], plugins: str) -> AsyncIterator[anthropic_sdk.AsyncAnthropic]:
    app = make_test_app({**lynkr_env, "LYNKR_PLUGINS": f"lynkr-provider-anthropic,{plugins}",
                         "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
                         "ANTHROPIC_UPSTREAM_API_KEY": "upstream-key", "LYNKR_UPSTREAM_RETRIES": "0"})
    async with serving(app) as url:
        async with anthropic_sdk.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
            yield sdk


async def say(sdk: anthropic_sdk.AsyncAnthropic, session: str, text: str) -> None:
    await sdk.messages.create(model="claude-opus-4-8", max_tokens=50, system="You are helpful.",
                              messages=[{"role": "user", "content": text}],
                              extra_headers={"x-claude-code-session-id": session})


def memory_text(body: dict[str, Any]) -> str | None:
    system = body.get("system")
    if not isinstance(system, list):
        return None
    return next((block["text"] for block in system if block["text"].startswith(HEADER)), None)


async def test_a_memory_sharing_no_word_with_the_request_is_found_semantically(lynkr_env):
    bodies: list[dict[str, Any]] = []

    def upstream(body: dict[str, Any]) -> Reply:
        bodies.append(body)
        return Reply.text("ok")

    async with FakeAnthropic(upstream) as fake:
        async with gateway(fake, lynkr_env, "lynkr-memory,lynkr-memory-embeddings") as sdk:
            await say(sdk, "one", "We decided to use PostgreSQL for the database.")
        for plugins in ("lynkr-memory", "lynkr-memory,lynkr-memory-embeddings"):
            async with gateway(fake, lynkr_env, plugins) as sdk:
                await say(sdk, "two", "tune the Postgres indexes")
    without, with_embeddings = bodies[1:]
    assert memory_text(without) is None  # no shared word: FTS5 alone finds nothing
    assert memory_text(with_embeddings) is not None
    assert "We decided to use PostgreSQL for the database." in memory_text(with_embeddings)


async def test_the_plugin_loads_and_serves_without_lynkr_memory(lynkr_env):
    async with FakeAnthropic([Reply.text("ok")]) as fake:
        async with gateway(fake, lynkr_env, "lynkr-memory-embeddings") as sdk:
            await say(sdk, "one", "We decided to use PostgreSQL for the database.")
        assert memory_text(fake.message_requests[0].json) is None
