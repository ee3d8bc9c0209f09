"""What this suite shares: the ``lynkr_command`` fixture, a scripted SearXNG on loopback, the
scripted OpenAI upstream's turns, and lynkr with the OpenAI provider and this plugin in front
of both, the official anthropic SDK as the client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from lynkr_core.testing.cli import lynkr_command  # noqa: F401 (a fixture)
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import Gateway, Harness, openai_upstream_env, quick_retries
from lynkr_core.testing.scripted import ScriptedServer, json_response

UPSTREAM_KEY = "upstream-key"
MODEL = "claude-sonnet-4-6"
QUESTION = [{"role": "user", "content": "What is new in Python 3.14?"}]
SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}

#: What the scripted SearXNG knows: query -> results (SearXNG's JSON ``results`` items).
PAGES = [
    {
        "url": "https://docs.python.org/3.14/whatsnew/3.14.html",
        "title": "What's New In Python 3.14",
        "content": "Python 3.14 brings template strings (PEP 750) and deferred annotations.",
        "engine": "duckduckgo",
        "parsed_url": ["https", "docs.python.org", "/3.14/whatsnew/3.14.html", "", "", ""],
        "template": "default.html",
        "engines": ["duckduckgo", "brave"],
        "positions": [1, 2],
        "publishedDate": "2025-10-07T00:00:00",
        "score": 4.0,
        "category": "general",
    },
    {
        "url": "https://blog.example.org/python-314",
        "title": "Python 3.14 released",
        "content": "A tour of free-threading and the new REPL.",
        "engine": "brave",
        "parsed_url": ["https", "blog.example.org", "/python-314", "", "", ""],
        "template": "default.html",
        "engines": ["brave"],
        "positions": [3],
        "publishedDate": None,
        "score": 1.5,
        "category": "general",
    },
]


class FakeSearXNG(ScriptedServer):
    """SearXNG's ``GET /search?q=...&format=json``: every query answered with ``PAGES``
    (or the script's list), in SearXNG's JSON shape; the queries are recorded."""

    thread_name = "fake-searxng"

    def __init__(self, pages: list[dict[str, Any]] | None = None) -> None:
        super().__init__(lambda _body: pages if pages is not None else PAGES)

    @property
    def queries(self) -> list[str]:
        """The ``q`` of every search, in order."""
        return [r.query.get("q", "") for r in self.requests]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        if request.path != "/search" or record.query.get("format") != "json":
            return web.Response(status=403, text="format not allowed")
        results = self._next_item(None)
        return json_response(200, {
            "query": record.query.get("q", ""),
            "number_of_results": 0,
            "results": results,
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": [],
            "unresponsive_engines": [],
        })


def search_call(query: str, call_id: str | None = None, text: str = "") -> ChatReply:
    """The upstream's turn that calls the search function."""
    return ChatReply(text, tool_calls=[ToolCallSpec("web_search", {"query": query}, id=call_id)], usage=(100, 10))


def answer(text: str) -> ChatReply:
    """The upstream's final turn."""
    return ChatReply(text, usage=(300, 20))


def openai_env(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr against the fake OpenAI upstream, with only the two plugins this suite needs."""
    plugins = "lynkr-provider-openai,lynkr-provider-anthropic,lynkr-web-search"
    return openai_upstream_env(base_url, UPSTREAM_KEY, **{"LYNKR_PLUGINS": plugins, **quick_retries(), **extra})


HARNESS = Harness(openai_env)


@contextlib.asynccontextmanager
async def searching(script: list[Any], *, pages: list[dict[str, Any]] | None = None,
                    **env: str) -> AsyncIterator[tuple[Gateway, FakeSearXNG]]:
    """The scripted SearXNG, the scripted OpenAI upstream, lynkr and an SDK client."""
    async with FakeSearXNG(pages) as searx:
        settings = {"WEB_SEARCH_ENDPOINT": f"{searx.base_url}/search", **env}
        async with HARNESS.run(FakeOpenAI(script, dialect="openai", api_key=UPSTREAM_KEY), **settings) as gateway:
            yield gateway, searx
