"""Anthropic's web search blocks, as lynkr writes and reads them.

``server_tool_use`` (``srvtoolu_...``, input ``{"query": ...}``) and
``web_search_tool_result`` (a list of ``web_search_result`` or one
``web_search_tool_result_error``) look exactly like Anthropic's. Anthropic's
``encrypted_content`` is opaque to clients, which send it back on later turns;
lynkr puts its own opaque token there (``lynkr1.`` and the result's snippet, JSON,
base64url), so that the model sees each result's text again on the next turn.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import msgspec

from lynkr_web_search.backends import SearchHit

TOKEN_PREFIX = "lynkr1."
#: The error codes of ``web_search_tool_result_error``, with what the model is told.
ERROR_TEXT = {
    "max_uses_exceeded": (
        "The web search was not run: this request's max_uses was reached. Answer with what you have."
    ),
    "too_many_requests": (
        "The web search backend refused the search (rate limit). Try again later or answer without it."
    ),
    "invalid_input": "The web search was not run: the call needs a non-empty string `query`.",
    "query_too_long": "The web search was not run: the query is too long.",
    "unavailable": "The web search backend could not be reached or failed; no results.",
}


class _Token(msgspec.Struct, kw_only=True):
    snippet: str = ""


def new_server_tool_id() -> str:
    """A fresh ``srvtoolu_`` id."""
    return "srvtoolu_" + uuid.uuid4().hex


def server_tool_use(tool_id: str, name: str, query: Any) -> dict[str, Any]:
    """The ``server_tool_use`` block of one search (``input`` as the model gave it)."""
    return {"type": "server_tool_use", "id": tool_id, "name": name, "input": query}


def results_block(tool_id: str, hits: list[SearchHit]) -> dict[str, Any]:
    """A ``web_search_tool_result`` with one ``web_search_result`` per hit."""
    content = [
        {
            "type": "web_search_result",
            "url": hit.url,
            "title": hit.title,
            "page_age": hit.page_age,
            "encrypted_content": encode_snippet(hit.snippet),
        }
        for hit in hits
    ]
    return {"type": "web_search_tool_result", "tool_use_id": tool_id, "content": content}


def error_block(tool_id: str, code: str) -> dict[str, Any]:
    """A ``web_search_tool_result`` carrying ``web_search_tool_result_error`` ``code``."""
    return {
        "type": "web_search_tool_result",
        "tool_use_id": tool_id,
        "content": {"type": "web_search_tool_result_error", "error_code": code},
    }


def encode_snippet(snippet: str) -> str:
    """The opaque ``encrypted_content`` lynkr writes for a result's snippet."""
    data = msgspec.json.encode(_Token(snippet=snippet))
    return TOKEN_PREFIX + base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_snippet(token: Any) -> str:
    """The snippet in a token lynkr wrote; empty for anything else (Anthropic's own tokens,
    damaged ones)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return ""
    body = token[len(TOKEN_PREFIX):]
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return msgspec.json.decode(data, type=_Token).snippet
    except (binascii.Error, ValueError, msgspec.MsgspecError):
        return ""


def result_text(query: str, content: Any) -> tuple[str, bool]:
    """What the model reads for a ``web_search_tool_result``'s ``content``: the results as
    numbered text, or the error's explanation; and whether it is an error."""
    if isinstance(content, dict):
        code = content.get("error_code")
        return ERROR_TEXT.get(code, f"The web search failed ({code})."), True
    if not isinstance(content, list):
        return "The web search gave no readable results.", True
    lines = [f'Web search results for "{query}":' if query else "Web search results:"]
    entries = [item for item in content if isinstance(item, dict) and item.get("type") == "web_search_result"]
    for number, item in enumerate(entries, 1):
        lines.append("")
        lines.append(f"[{number}] {_plain(item.get('title'))}")
        lines.append(f"URL: {_plain(item.get('url'))}")
        if isinstance(item.get("page_age"), str):
            lines.append(f"Age: {item['page_age']}")
        snippet = decode_snippet(item.get("encrypted_content"))
        if snippet:
            lines.append(snippet)
    if not entries:
        lines.append("(no results)")
    return "\n".join(lines), False


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else ""
