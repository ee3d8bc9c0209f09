"""Search backends: one query in, a list of hits out (SearXNG's JSON API, Brave, Tavily).

Each backend knows its wire format and nothing else; retries, domain filters and the
Anthropic blocks are the caller's. A failed search raises ``SearchFailed`` with the
``error_code`` Anthropic's web search reports for it (``unavailable``,
``too_many_requests``) and a reason for the log (never the API key).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec

from lynkr_web_search.config import WebSearchSettings

#: The pause before a search is tried again.
RETRY_DELAY_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: where, what it is called, the backend's snippet, and how old it is."""

    url: str
    title: str
    snippet: str = ""
    page_age: str | None = None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What a backend sends: method, query parameters, JSON body, headers."""

    method: str
    headers: dict[str, str]
    params: dict[str, str] | None = None
    body: Any = None


class SearchFailed(Exception):
    """A search that gave no results: ``code`` as Anthropic names it, ``reason`` for the log."""

    def __init__(self, code: str, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.retryable = retryable


class SearchBackend:
    """Base of the backends: the HTTP call with timeout and retries; subclasses build the
    request (``_request``) and read the answer (``_hits``)."""

    name = ""

    def __init__(self, config: WebSearchSettings) -> None:
        self.config = config
        self.url = config.url()
        #: The URL as logs show it: no credentials, no query.
        self.shown_url = shown(self.url)
        self.timeout = aiohttp.ClientTimeout(total=config.timeout_ms / 1000)

    async def search(self, http: aiohttp.ClientSession, query: str, *, count: int,
                     allowed: list[str], blocked: list[str]) -> list[SearchHit]:
        """The hits for ``query``: ``count`` is what to ask for where the API takes a number
        (SearXNG answers with a page), ``allowed``/``blocked`` domains are hints a backend may
        pass on; the caller filters and cuts the list. A backend that cannot be reached
        or fails is tried again up to ``max_retries`` times. Raises ``SearchFailed``."""
        retries_left = self.config.max_retries
        while True:
            try:
                return await self._once(http, query, count, allowed, blocked)
            except SearchFailed as failure:
                if not failure.retryable or retries_left == 0:
                    raise
            retries_left -= 1
            await asyncio.sleep(RETRY_DELAY_SECONDS)

    async def _once(self, http: aiohttp.ClientSession, query: str, count: int,
                    allowed: list[str], blocked: list[str]) -> list[SearchHit]:
        call = self._request(query, count, allowed, blocked)
        try:
            async with http.request(call.method, self.url, params=call.params, json=call.body,
                                    headers=call.headers, timeout=self.timeout) as response:
                data = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = f"{self.name} at {self.shown_url} unreachable: {type(exc).__name__}: {exc}"
            raise SearchFailed("unavailable", reason, retryable=True) from exc
        if status == 429:
            raise SearchFailed("too_many_requests", f"{self.name} at {self.shown_url} answered 429")
        if status >= 400:
            raise SearchFailed("unavailable", f"{self.name} at {self.shown_url} answered HTTP {status}",
                               retryable=status >= 500)
        try:
            document = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise SearchFailed("unavailable", f"{self.name} at {self.shown_url} sent no JSON: {exc}") from exc
        return [hit for hit in self._hits(document) if hit.url.startswith(("http://", "https://"))]

    def _request(self, query: str, count: int, allowed: list[str], blocked: list[str]) -> HttpRequest:
        """The HTTP request that searches for ``query``."""
        raise NotImplementedError

    def _hits(self, document: Any) -> list[SearchHit]:
        """The hits in the backend's decoded JSON answer."""
        raise NotImplementedError


class SearXNG(SearchBackend):
    """SearXNG's JSON API: ``GET <endpoint>?q=...&format=json`` (the instance must list
    ``json`` under ``search.formats``)."""

    name = "searxng"

    def _request(self, query: str, count: int, allowed: list[str], blocked: list[str]) -> HttpRequest:
        return HttpRequest("GET", {"Accept": "application/json"}, params={"q": query, "format": "json"})

    def _hits(self, document: Any) -> list[SearchHit]:
        return [
            SearchHit(str(item["url"]), _text(item.get("title")) or str(item["url"]),
                      _text(item.get("content")), page_age(item.get("publishedDate")))
            for item in _items(document, "results")
        ]


class Brave(SearchBackend):
    """Brave Search API: ``GET <endpoint>?q=...&count=N`` with ``X-Subscription-Token``."""

    name = "brave"

    def _request(self, query: str, count: int, allowed: list[str], blocked: list[str]) -> HttpRequest:
        headers = {"Accept": "application/json", "X-Subscription-Token": self.config.api_key}
        return HttpRequest("GET", headers, params={"q": query, "count": str(min(count, 20))})

    def _hits(self, document: Any) -> list[SearchHit]:
        web = document.get("web") if isinstance(document, dict) else None
        return [
            SearchHit(str(item["url"]), _text(item.get("title")) or str(item["url"]),
                      _text(item.get("description")),
                      page_age(item.get("page_age")) or _text(item.get("age")) or None)
            for item in _items(web, "results")
        ]


class Tavily(SearchBackend):
    """Tavily: ``POST <endpoint>`` with the query, the domain lists and a Bearer key."""

    name = "tavily"

    def _request(self, query: str, count: int, allowed: list[str], blocked: list[str]) -> HttpRequest:
        body: dict[str, Any] = {"query": query, "max_results": min(count, 20)}
        if allowed:
            body["include_domains"] = allowed
        if blocked:
            body["exclude_domains"] = blocked
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self.config.api_key}"}
        return HttpRequest("POST", headers, body=body)

    def _hits(self, document: Any) -> list[SearchHit]:
        return [
            SearchHit(str(item["url"]), _text(item.get("title")) or str(item["url"]),
                      _text(item.get("content")), page_age(item.get("published_date")))
            for item in _items(document, "results")
        ]


BACKENDS: dict[str, type[SearchBackend]] = {"searxng": SearXNG, "brave": Brave, "tavily": Tavily}


def make_backend(config: WebSearchSettings) -> SearchBackend | None:
    """The configured backend; ``None`` for ``WEB_SEARCH_BACKEND=none``."""
    kind = BACKENDS.get(config.backend)
    return None if kind is None else kind(config)


def page_age(value: Any) -> str | None:
    """A date as Anthropic's ``page_age`` spells it (``May 1, 2024``); other text as it came."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value.strip()
    return f"{moment:%B} {moment.day}, {moment.year}"


def shown(url: str) -> str:
    """``url`` without user name, password or query, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _items(document: Any, key: str) -> list[dict[str, Any]]:
    """The result objects under ``key`` that have a string ``url``."""
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("url"), str)]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
