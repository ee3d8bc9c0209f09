"""Claude Code's WebSearch against an OpenAI-format upstream: lynkr runs the searches against
a scripted SearXNG and answers in Anthropic's own blocks, as JSON and as a stream."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from aiohttp import web

from lynkr_core.testing.fake_openai import ChatReply, ToolCallSpec
from lynkr_core.testing.gateway import stream_events
from lynkr_core.testing.scripted import ScriptedServer, json_response

from .conftest import (
    HARNESS,
    MODEL,
    QUESTION,
    SEARCH_TOOL,
    UPSTREAM_KEY,
    FakeSearXNG,
    answer,
    search_call,
    searching,
)


def request(**overrides: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 500, "messages": QUESTION, "tools": [SEARCH_TOOL], **overrides}


def blocks(message: anthropic.types.Message) -> list[dict[str, Any]]:
    return [block.model_dump(exclude_none=False) for block in message.content]


def assert_searched_message(message: anthropic.types.Message) -> None:
    """One search, its two results, then the model's text; the usage of both steps."""
    search, result, text = blocks(message)
    assert search["type"] == "server_tool_use"
    assert search["id"].startswith("srvtoolu_")
    assert search["name"] == "web_search"
    assert search["input"] == {"query": "python 3.14 news"}
    assert result["type"] == "web_search_tool_result"
    assert result["tool_use_id"] == search["id"]
    found = result["content"]
    assert [(r["type"], r["url"], r["title"]) for r in found] == [
        ("web_search_result", "https://docs.python.org/3.14/whatsnew/3.14.html", "What's New In Python 3.14"),
        ("web_search_result", "https://blog.example.org/python-314", "Python 3.14 released"),
    ]
    assert found[0]["page_age"] == "October 7, 2025"
    assert found[1]["page_age"] is None
    assert all(isinstance(r["encrypted_content"], str) and r["encrypted_content"] for r in found)
    assert text == {"type": "text", "text": "Python 3.14 adds template strings.", "citations": None}
    assert message.stop_reason == "end_turn"
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 1
    assert (message.usage.input_tokens, message.usage.output_tokens) == (400, 30)


def assert_upstream_saw_the_results(fake: Any) -> None:
    """The function the upstream was offered, and the results' text it got back."""
    first, second = (r.json for r in fake.chat_requests)
    assert [t["function"]["name"] for t in first["tools"]] == ["web_search"]
    assert first["tools"][0]["function"]["parameters"]["required"] == ["query"]
    call = second["messages"][-2]
    assert call["role"] == "assistant"
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {"query": "python 3.14 news"}
    result = second["messages"][-1]
    assert result["role"] == "tool" and result["tool_call_id"] == call["tool_calls"][0]["id"]
    assert "https://docs.python.org/3.14/whatsnew/3.14.html" in result["content"]
    assert "template strings (PEP 750)" in result["content"]


SCRIPT = [search_call("python 3.14 news"), answer("Python 3.14 adds template strings.")]


async def test_json_answer_has_the_search_blocks_and_the_text():
    async with searching(SCRIPT) as (gateway, searx):
        message = await gateway.sdk.messages.create(**request())
    assert_searched_message(message)
    assert searx.queries == ["python 3.14 news"]
    assert_upstream_saw_the_results(gateway.fake)


async def test_streamed_answer_has_the_search_blocks_and_the_text():
    async with searching(SCRIPT) as (gateway, searx):
        seen, message = await stream_events(gateway.sdk, **request())
    assert_searched_message(message)
    assert searx.queries == ["python 3.14 news"]
    assert_upstream_saw_the_results(gateway.fake)
    starts = [(e.index, e.content_block.type) for e in seen if e.type == "content_block_start"]
    assert starts == [(0, "server_tool_use"), (1, "web_search_tool_result"), (2, "text")]
    assert [e.type for e in seen].count("message_start") == 1
    assert [e.type for e in seen].count("message_delta") == 1


async def test_streamed_events_are_anthropics():
    async with searching(SCRIPT) as (gateway, _):
        status, events = await gateway.post_sse(request(stream=True))
    assert status == 200
    names = [name for name, _ in events if name != "ping"]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    shells = {d["index"]: d["content_block"] for n, d in events if n == "content_block_start"}
    assert shells[0]["input"] == {} and shells[0]["type"] == "server_tool_use"
    json_deltas = "".join(d["delta"]["partial_json"] for n, d in events
                          if n == "content_block_delta" and d["index"] == 0)
    assert json.loads(json_deltas) == {"query": "python 3.14 news"}
    assert shells[1]["content"][0]["url"] == "https://docs.python.org/3.14/whatsnew/3.14.html"
    delta = next(d for n, d in events if n == "message_delta")
    assert delta["usage"]["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}
    assert delta["delta"]["stop_reason"] == "end_turn"


@pytest.mark.parametrize("stream", [False, True])
async def test_max_uses_is_honoured(stream):
    script = [search_call("one"), search_call("two"), search_call("three"), answer("Done.")]
    tool = {**SEARCH_TOOL, "max_uses": 2}
    async with searching(script) as (gateway, searx):
        if stream:
            _, message = await stream_events(gateway.sdk, **request(tools=[tool]))
        else:
            message = await gateway.sdk.messages.create(**request(tools=[tool]))
    assert searx.queries == ["one", "two"]
    found = [b for b in blocks(message) if b["type"] == "web_search_tool_result"]
    assert [isinstance(b["content"], list) for b in found] == [True, True, False]
    assert found[2]["content"] == {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}
    assert message.usage.server_tool_use.web_search_requests == 2
    assert blocks(message)[-1]["text"] == "Done."
    told = gateway.fake.chat_requests[3].json["messages"][-1]
    assert told["role"] == "tool" and "max_uses" in told["content"]


@pytest.mark.parametrize(
    ("option", "kept"),
    [
        ({"allowed_domains": ["python.org"]}, ["https://docs.python.org/3.14/whatsnew/3.14.html"]),
        ({"blocked_domains": ["example.org"]}, ["https://docs.python.org/3.14/whatsnew/3.14.html"]),
        ({"allowed_domains": ["blog.example.org/python-314"]}, ["https://blog.example.org/python-314"]),
        ({"blocked_domains": ["docs.python.org/3.13"]},
         ["https://docs.python.org/3.14/whatsnew/3.14.html", "https://blog.example.org/python-314"]),
    ],
)
async def test_domains_filter_the_results(option, kept):
    tool = {**SEARCH_TOOL, **option}
    async with searching(SCRIPT) as (gateway, _):
        message = await gateway.sdk.messages.create(**request(tools=[tool]))
    result = blocks(message)[1]
    assert [r["url"] for r in result["content"]] == kept
    told = gateway.fake.chat_requests[1].json["messages"][-1]["content"]
    assert ("blog.example.org" in told) == ("https://blog.example.org/python-314" in kept)


async def test_allowed_and_blocked_together_are_refused():
    tool = {**SEARCH_TOOL, "allowed_domains": ["a.com"], "blocked_domains": ["b.com"]}
    async with searching(SCRIPT) as (gateway, searx):
        with pytest.raises(anthropic.BadRequestError) as refused:
            await gateway.sdk.messages.create(**request(tools=[tool]))
    assert refused.value.body["error"]["type"] == "invalid_request_error"
    assert "not both" in refused.value.body["error"]["message"]
    assert gateway.fake.chat_requests == [] and searx.queries == []


async def test_the_next_turn_carries_the_results_to_the_upstream():
    async with searching([*SCRIPT, answer("You are welcome.")]) as (gateway, _):
        first = await gateway.sdk.messages.create(**request())
        history = [*QUESTION, {"role": "assistant", "content": blocks(first)},
                   {"role": "user", "content": "Thanks! Which PEP was it?"}]
        second = await gateway.sdk.messages.create(**request(messages=history))
    assert second.content[0].text == "You are welcome."
    sent = gateway.fake.chat_requests[2].json["messages"]
    roles = [m["role"] for m in sent]
    assert roles == ["user", "assistant", "tool", "assistant", "user"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "web_search"
    assert sent[2]["tool_call_id"] == sent[1]["tool_calls"][0]["id"]
    assert "template strings (PEP 750)" in sent[2]["content"]  # read back from encrypted_content
    assert sent[3]["content"] == "Python 3.14 adds template strings."


async def test_history_alone_is_rewritten_without_the_tool():
    async with searching([*SCRIPT, answer("Fine.")]) as (gateway, _):
        first = await gateway.sdk.messages.create(**request())
        history = [*QUESTION, {"role": "assistant", "content": blocks(first)}, {"role": "user", "content": "ok"}]
        await gateway.sdk.messages.create(model=MODEL, max_tokens=50, messages=history)
    sent = gateway.fake.chat_requests[2].json
    assert "tools" not in sent
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool", "assistant", "user"]


async def test_no_backend_is_a_clear_invalid_request_error():
    async with searching(SCRIPT[1:], WEB_SEARCH_BACKEND="none") as (gateway, searx):
        with pytest.raises(anthropic.BadRequestError) as refused:
            await gateway.sdk.messages.create(**request())
        plain = await gateway.sdk.messages.create(model=MODEL, max_tokens=50, messages=QUESTION)
    error = refused.value.body["error"]
    assert error["type"] == "invalid_request_error"
    assert "WEB_SEARCH_ENDPOINT" in error["message"] and "'openai'" in error["message"]
    assert searx.queries == []
    assert plain.content[0].text == "Python 3.14 adds template strings."  # without the tool, all goes on
    assert [r.json.get("tools") for r in gateway.fake.chat_requests] == [None]


async def test_a_keyed_backend_without_its_key_is_refused():
    async with searching(SCRIPT, WEB_SEARCH_BACKEND="brave") as (gateway, _):
        with pytest.raises(anthropic.BadRequestError) as refused:
            await gateway.sdk.messages.create(**request())
    assert "WEB_SEARCH_API_KEY" in refused.value.body["error"]["message"]


async def test_an_unreachable_backend_gives_the_unavailable_error_result():
    async with searching(SCRIPT, WEB_SEARCH_ENDPOINT="http://127.0.0.1:9/search", WEB_SEARCH_MAX_RETRIES="0") as (gateway, _):
        message = await gateway.sdk.messages.create(**request())
    result = blocks(message)[1]
    assert result["content"] == {"type": "web_search_tool_result_error", "error_code": "unavailable"}
    assert message.usage.server_tool_use.web_search_requests == 0
    told = gateway.fake.chat_requests[1].json["messages"][-1]
    assert told["role"] == "tool" and "could not be reached" in told["content"]


async def test_an_anthropic_format_upstream_gets_the_server_tool_untouched():
    from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply

    env = {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": "{base}",
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
    }
    tool = {**SEARCH_TOOL, "allowed_domains": ["python.org"]}
    async with FakeSearXNG() as searx:
        fake = FakeAnthropic([Reply.text("Searched upstream.")])
        async with HARNESS.run(fake, WEB_SEARCH_ENDPOINT=f"{searx.base_url}/search", **env) as gateway:
            message = await gateway.sdk.messages.create(**request(tools=[tool]))
    assert message.content[0].text == "Searched upstream."
    assert fake.message_requests[0].json["tools"] == [tool]
    assert searx.queries == []


async def test_a_search_next_to_a_client_tool_call_ends_the_turn_for_the_client():
    read = {"name": "Read", "description": "Read a file", "input_schema": {"type": "object"}}
    both = ChatReply("", tool_calls=[ToolCallSpec("web_search", {"query": "q"}), ToolCallSpec("Read", {"path": "a"})])
    async with searching([both, answer("Read and searched.")]) as (gateway, searx):
        message = await gateway.sdk.messages.create(**request(tools=[read, SEARCH_TOOL]))
        kinds = [b["type"] for b in blocks(message)]
        assert kinds == ["server_tool_use", "tool_use", "web_search_tool_result"]
        assert message.stop_reason == "tool_use"
        client_call = blocks(message)[1]
        history = [*QUESTION, {"role": "assistant", "content": blocks(message)},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": client_call["id"],
                                                 "content": "file a"}]}]
        await gateway.sdk.messages.create(**request(tools=[read, SEARCH_TOOL], messages=history))
    assert searx.queries == ["q"]
    sent = gateway.fake.chat_requests[1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "web_search"
    assert sent[3]["tool_calls"][0]["function"]["name"] == "Read"
    assert sent[4] == {"role": "tool", "tool_call_id": client_call["id"], "content": "file a"}


async def test_a_model_that_keeps_searching_is_paused():
    tool = {**SEARCH_TOOL, "max_uses": 1}
    script = [search_call("a"), search_call("b"), search_call("c"), answer("never")]
    async with searching(script) as (gateway, searx):
        message = await gateway.sdk.messages.create(**request(tools=[tool]))
    assert message.stop_reason == "pause_turn"
    assert searx.queries == ["a"]
    assert len(gateway.fake.chat_requests) == 3
    assert blocks(message)[-1]["type"] == "web_search_tool_result"


class FakeSearchAPI(ScriptedServer):
    """Brave's and Tavily's search APIs, answering with one page in each one's shape."""

    def __init__(self) -> None:
        super().__init__(None)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        page = {"url": "https://docs.python.org/3/", "title": "Python docs"}
        if request.path == "/res/v1/web/search":
            if record.headers.get("x-subscription-token") != "brave-key":
                return web.Response(status=401)
            return json_response(200, {"type": "search", "web": {"type": "search", "results": [
                {**page, "description": "Brave <strong>snippet</strong>", "age": "2 days ago"}]}})
        if request.path == "/search" and record.headers.get("authorization") == "Bearer tvly-key":
            return json_response(200, {"query": record.json["query"], "results": [
                {**page, "content": "Tavily snippet", "score": 0.9}], "response_time": 0.1})
        return web.Response(status=401)


@pytest.mark.parametrize(
    ("backend", "path", "key", "snippet"),
    [("brave", "/res/v1/web/search", "brave-key", "Brave <strong>snippet</strong>"),
     ("tavily", "/search", "tvly-key", "Tavily snippet")],
)
async def test_brave_and_tavily_backends(backend, path, key, snippet):
    async with FakeSearchAPI() as api:
        settings = {"WEB_SEARCH_BACKEND": backend, "WEB_SEARCH_API_KEY": key,
                    "WEB_SEARCH_ENDPOINT": f"{api.base_url}{path}"}
        async with searching(SCRIPT, **settings) as (gateway, _):
            message = await gateway.sdk.messages.create(**request())
        told = gateway.fake.chat_requests[1].json["messages"][-1]["content"]
    result = blocks(message)[1]
    assert [(r["url"], r["title"]) for r in result["content"]] == [("https://docs.python.org/3/", "Python docs")]
    assert snippet in told
    assert api.requests[0].query.get("q", api.requests[0].json and api.requests[0].json.get("query")) \
        == "python 3.14 news"


async def test_a_forced_search_is_forced_once():
    forced = {"type": "tool", "name": "web_search"}
    async with searching(SCRIPT) as (gateway, searx):
        message = await gateway.sdk.messages.create(**request(tool_choice=forced))
    assert blocks(message)[-1]["text"] == "Python 3.14 adds template strings."
    first, second = (r.json for r in gateway.fake.chat_requests)
    assert first["tool_choice"] == {"type": "function", "function": {"name": "web_search"}}
    assert second["tool_choice"] == "auto"
    assert searx.queries == ["python 3.14 news"]


async def test_in_server_mode_lynkrs_agent_loop_keeps_the_search_blocks():
    async with searching(SCRIPT, TOOL_EXECUTION_MODE="server") as (gateway, _):
        message = await gateway.sdk.messages.create(**request())
    assert_searched_message(message)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_call_id_reused_across_steps_gets_two_server_ids(stream):
    script = [search_call("one", call_id="call_0"), search_call("two", call_id="call_0"), answer("Both.")]
    async with searching(script) as (gateway, searx):
        if stream:
            _, message = await stream_events(gateway.sdk, **request())
        else:
            message = await gateway.sdk.messages.create(**request())
    ids = [b["id"] for b in blocks(message) if b["type"] == "server_tool_use"]
    results = [b["tool_use_id"] for b in blocks(message) if b["type"] == "web_search_tool_result"]
    assert len(set(ids)) == 2 and results == ids
    assert searx.queries == ["one", "two"]


async def test_a_refusing_backend_is_not_asked_again():
    async with FakeSearXNG() as searx:
        async with searching(SCRIPT, WEB_SEARCH_ENDPOINT=f"{searx.base_url}/not-search") as (gateway, _):
            message = await gateway.sdk.messages.create(**request())
    assert blocks(message)[1]["content"]["error_code"] == "unavailable"
    assert [r.path for r in searx.requests] == ["/not-search"]  # a 403: no retry


async def test_a_streamed_request_without_a_backend_gets_an_http_error():
    async with searching(SCRIPT, WEB_SEARCH_BACKEND="none") as (gateway, _):
        status, _, body = await gateway.post(request(stream=True))
    assert status == 400
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error" and "WEB_SEARCH_BACKEND" in error["message"]
    assert gateway.fake.chat_requests == []


async def test_results_are_cut_to_max_results_after_the_domain_filter():
    pages = [{"url": f"https://site{n}.example.net/", "title": f"Site {n}", "content": ""} for n in range(4)]
    pages.append({"url": "https://docs.python.org/3/", "title": "Python docs", "content": "kept"})
    tool = {**SEARCH_TOOL, "allowed_domains": ["python.org"]}
    async with searching(SCRIPT * 2, pages=pages, WEB_SEARCH_MAX_RESULTS="2") as (gateway, _):
        filtered = await gateway.sdk.messages.create(**request(tools=[tool]))
        unfiltered = await gateway.sdk.messages.create(**request())
    assert [r["url"] for r in blocks(filtered)[1]["content"]] == ["https://docs.python.org/3/"]
    assert [r["url"] for r in blocks(unfiltered)[1]["content"]] == ["https://site0.example.net/",
                                                                     "https://site1.example.net/"]
