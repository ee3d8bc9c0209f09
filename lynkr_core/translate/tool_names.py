"""Tool names as OpenAI-format upstreams take them, and back.

OpenAI's Chat Completions (and most servers that copy it) accept a function name
only if it matches ``^[a-zA-Z0-9_-]{1,64}$``; Anthropic allows more (Claude Code
names MCP tools ``mcp__<server>__<tool>``, often over 64 characters, and an MCP
tool's name may hold dots or spaces). A name that does not fit is sent as its
fitting characters (others become ``_``), cut to leave room for ``_`` and eight
hex digits of its SHA-256. The same name always gives the same upstream name, so
the tools and the tool calls in the history agree from one request to the next,
and two names cannot meet (a name that fits never ends in the hash of another);
the answer's calls are mapped back with ``ToolNames``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

MAX_LENGTH = 64
_FITS = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_OTHER = re.compile(r"[^a-zA-Z0-9_-]")
_HASH_DIGITS = 8


@functools.lru_cache(maxsize=1024)
def upstream_tool_name(name: str) -> str:
    """The name ``name`` is sent upstream as: itself when it fits."""
    if _FITS.fullmatch(name):
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_DIGITS]
    cleaned = _OTHER.sub("_", name)[: MAX_LENGTH - _HASH_DIGITS - 1]
    return f"{cleaned}_{digest}"


class ToolNames:
    """The client's tool names behind the upstream names of one request."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._original: dict[str, str] = {}
        for name in names:
            self.add(name)

    def add(self, name: str) -> str:
        """Remember ``name``; its upstream name."""
        upstream = upstream_tool_name(name)
        if upstream != name:
            self._original[upstream] = name
        return upstream

    def original(self, upstream: str) -> str:
        """The client's name for an upstream ``name`` (unknown names are left as they are)."""
        return self._original.get(upstream, upstream)

    def __bool__(self) -> bool:
        return bool(self._original)
