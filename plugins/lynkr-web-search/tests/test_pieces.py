"""The plugin's pure parts: domain matching, the snippet token, page ages, history rewriting,
settings."""

from __future__ import annotations

import msgspec
import pytest
from lynkr_web_search.backends import page_age
from lynkr_web_search.blocks import decode_snippet, encode_snippet, result_text
from lynkr_web_search.config import load_settings
from lynkr_web_search.domains import admitted, matches, normalise
from lynkr_web_search.rewrite import rewrite_history

from lynkr_core import ConfigError, Settings, anthropic


@pytest.mark.parametrize(
    ("url", "domain", "expected"),
    [
        ("https://python.org/x", "python.org", True),
        ("https://docs.python.org/x", "python.org", True),
        ("https://notpython.org/x", "python.org", False),
        ("https://python.org.evil.com/", "python.org", False),
        ("https://example.com/blog/post", "example.com/blog", True),
        ("https://example.com/blogger", "example.com/blog", False),
        ("https://example.com/blog", "example.com/blog", True),
        ("not a url", "python.org", False),
    ],
)
def test_domains_match_subdomains_and_paths(url, domain, expected):
    assert matches(url, normalise(domain)) is expected


def test_domain_lists():
    assert normalise("HTTPS://Docs.Python.org/3/") == "docs.python.org/3"
    assert admitted("https://a.com/", [], ["b.com"])
    assert not admitted("https://b.com/", [], ["b.com"])
    assert not admitted("https://c.com/", ["a.com"], [])


def test_the_snippet_token_round_trips_and_tolerates_foreign_tokens():
    token = encode_snippet("Zürich: 20 °C, 日本")
    assert token.startswith("lynkr1.") and "Zürich" not in token
    assert decode_snippet(token) == "Zürich: 20 °C, 日本"
    assert decode_snippet("EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2M") == ""
    assert decode_snippet("lynkr1.!!!") == ""
    assert decode_snippet(None) == ""


def test_page_age():
    assert page_age("2025-10-07T00:00:00") == "October 7, 2025"
    assert page_age("2 days ago") == "2 days ago"
    assert page_age(None) is None and page_age("") is None


def test_error_results_read_as_errors():
    text, is_error = result_text("q", {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"})
    assert is_error and "max_uses" in text
    assert result_text("q", "garbage")[1] is True
    assert "(no results)" in result_text("q", [])[0]


def raw_message(role: str, content: list[dict]) -> anthropic.Message:
    return anthropic.Message(role=role, content=[anthropic.raw(b) for b in content])


def test_malformed_search_blocks_go_on_as_they_came():
    odd = [{"type": "server_tool_use", "id": 5}, {"type": "web_search_tool_result"}, {"type": "text", "text": "x"}]
    rewritten = rewrite_history([raw_message("assistant", odd)])
    assert [m.role for m in rewritten] == ["assistant"]
    assert [msgspec.json.decode(r) for r in rewritten[0].content] == odd


def test_parallel_searches_are_answered_together():
    content = [
        {"type": "text", "text": "Searching."},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "a"}},
        {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_search", "input": {"query": "b"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_2", "content": []},
        {"type": "text", "text": "Nothing found."},
    ]
    rewritten = rewrite_history([raw_message("assistant", content)])
    assert [m.role for m in rewritten] == ["assistant", "user", "assistant"]
    results = [msgspec.json.decode(r) for r in rewritten[1].content]
    assert [(r["type"], r["tool_use_id"]) for r in results] == [("tool_result", "srvtoolu_1"), ("tool_result", "srvtoolu_2")]
    assert 'results for "b"' in results[1]["content"]


def test_settings_defaults_and_errors():
    config = load_settings(Settings({}))
    assert config.url() == "http://localhost:8888/search" and config.unconfigured() is None
    assert load_settings(Settings({"WEB_SEARCH_BACKEND": "tavily"})).url() == "https://api.tavily.com/search"
    assert "WEB_SEARCH_API_KEY" in load_settings(Settings({"WEB_SEARCH_BACKEND": "brave"})).unconfigured()
    with pytest.raises(ConfigError, match="WEB_SEARCH_BACKEND"):
        load_settings(Settings({"WEB_SEARCH_BACKEND": "google"}))
    with pytest.raises(ConfigError, match="WEB_SEARCH_ENDPOINT"):
        load_settings(Settings({"WEB_SEARCH_ENDPOINT": "file:///etc/passwd"}))


def test_messages_without_search_blocks_are_left_alone():
    plain = raw_message("assistant", [{"type": "text", "text": "Reading."},
                                      {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}])
    user = anthropic.Message(role="user", content="hi")
    assert rewrite_history([user, plain]) == [user, plain]


def test_a_search_that_was_not_answered_stays_with_what_follows():
    content = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "a"}},
        {"type": "text", "text": "Paused."},
    ]
    rewritten = rewrite_history([raw_message("assistant", content)])
    assert [m.role for m in rewritten] == ["assistant"]
    assert [msgspec.json.decode(r)["type"] for r in rewritten[0].content] == ["tool_use", "text"]


def test_other_server_tools_blocks_are_left_to_the_core():
    content = [{"type": "server_tool_use", "id": "srvtoolu_9", "name": "code_execution", "input": {"code": "1"}},
               {"type": "text", "text": "Ran it."}]
    rewritten = rewrite_history([raw_message("assistant", content)])
    assert [msgspec.json.decode(r) for r in rewritten[0].content] == content
