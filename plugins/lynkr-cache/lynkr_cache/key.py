"""The cache key: a sha256 over a canonical form of everything that decides an answer.

In the key: where the call goes (the provider and upstream model routing picks
first), the ``anthropic-version`` and ``anthropic-beta`` headers (betas change what
the model may do and how the answer is shaped: redacted thinking, structured
output...), and every field of the request except ``metadata`` (Claude Code puts a
per-session id there) and ``stream`` (a JSON answer replays as a stream and back).
Fields lynkr has no type for are in too, so a new API option can only make the key
stricter.

Canonical: JSON object keys sorted, ``cache_control`` markers dropped wherever they
sit (they tell Anthropic what to keep warm, not what to answer; Claude Code moves
them to the last user block every turn), a string content or system prompt taken as
the single text block it stands for. Keys inside a tool's ``input_schema`` and a
``tool_use`` block's ``input`` are data, kept as they are (a tool argument may be
called ``cache_control``).

Claude Code's system prompt starts with a block ``x-anthropic-billing-header:
cc_version=2.1.197.<suffix>; cc_entrypoint=sdk-cli;``. It is attribution for Anthropic's
billing, not an instruction to the model. Its suffix is not stable: the recorded traffic
saw it change from run to run, and CLI 2.1.197 derives it from the prompt (same prompt,
same suffix; another prompt, another suffix), which the key holds anyway. Whatever a
later CLI puts there, a repeated prompt must hit, so that block (the first system block,
when its whole text is that one header line) is left out; the entry point
(``sdk-cli`` or ``cli``) goes with it, which only decides who is billed.

The content blocks, tools and options arrive as raw JSON; each one's canonical digest
is remembered by its exact bytes, so the large parts that repeat from call to call
(Claude Code sends ~75 KB of tool schemas and system prompt every time) cost a dict
lookup instead of a parse.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from lynkr_core import anthropic

#: Changes when what goes into the key changes, so old entries are never matched.
KEY_VERSION = 1

#: Request fields that do not decide the answer.
NOT_IN_KEY = frozenset({"metadata", "stream"})

#: The per-run attribution line Claude Code puts first in its system prompt.
BILLING_HEADER = re.compile(r"x-anthropic-billing-header: [^\n]*")

#: Keys whose values are data (a schema, a tool's arguments): not searched for markers.
_DATA_KEYS = frozenset({"input", "input_schema"})

_decode = msgspec.json.decode
_encoder = msgspec.json.Encoder(order="sorted")


class KeyMaker:
    """Computes keys, remembering the digest of each raw part it has seen (up to ``memo_bytes``
    of parts; one per interceptor, used on the event loop only)."""

    def __init__(self, memo_bytes: int = 16 * 1024 * 1024) -> None:
        self._memo: dict[bytes, str] = {}
        self._memo_bytes = 0
        self._memo_limit = memo_bytes

    def key(
        self,
        request: anthropic.MessagesRequest,
        route: tuple[str, str],
        headers: Mapping[str, str],
    ) -> str:
        """The key of ``request`` sent to ``route`` (provider, upstream model) with the
        client's ``anthropic-*`` ``headers``."""
        betas = sorted({b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()})
        document: dict[str, Any] = {
            "v": KEY_VERSION,
            "route": list(route),
            "anthropic-version": headers.get("anthropic-version"),
            "anthropic-beta": betas,
        }
        for name in anthropic.MessagesRequest.__struct_fields__:
            value = getattr(request, name)
            if name in NOT_IN_KEY or value is msgspec.UNSET:
                continue
            if name == "system":
                document[name] = self._system(value)
            elif name == "messages":
                document[name] = [[m.role, self._content(m.content)] for m in value]
            else:
                document[name] = self._value(value)
        extra = {k: self._value(v) for k, v in request.extra_fields.items() if k not in NOT_IN_KEY}
        if extra:
            document["extra"] = extra
        return hashlib.sha256(_encoder.encode(document)).hexdigest()

    # ------------------------------------------------------------------ parts

    def _system(self, system: str | list[msgspec.Raw]) -> list[str]:
        if isinstance(system, str):
            return [_text_digest(system)]
        blocks = system[1:] if system and _is_billing_header(system[0]) else system
        return [self._raw(block) for block in blocks]

    def _content(self, content: str | list[msgspec.Raw]) -> list[str]:
        if isinstance(content, str):
            return [_text_digest(content)]
        return [self._raw(block) for block in content]

    def _value(self, value: Any) -> Any:
        if isinstance(value, msgspec.Raw):
            return self._raw(value)
        if isinstance(value, list):
            return [self._value(item) for item in value]
        if isinstance(value, msgspec.Struct):
            return _digest(_canonical(msgspec.to_builtins(value)))
        return value  # str, int, float, bool, None

    def _raw(self, raw: msgspec.Raw) -> str:
        data = bytes(raw)
        known = self._memo.get(data)
        if known is not None:
            return known
        digest = _digest(_canonical(_decode(data)))
        self._remember(data, digest)
        return digest

    def _remember(self, data: bytes, digest: str) -> None:
        """Keep ``digest`` for ``data``; a full memo starts over (the parts still in use come
        back with the next call: cheaper than keeping an order on every lookup)."""
        if len(data) > self._memo_limit // 2:
            return
        if self._memo_bytes + len(data) > self._memo_limit:
            self._memo.clear()
            self._memo_bytes = 0
        self._memo[data] = digest
        self._memo_bytes += len(data)


def _canonical(value: Any) -> Any:
    """``value`` without ``cache_control`` keys (outside data), for an encoding with sorted keys."""
    if isinstance(value, dict):
        return {
            k: (v if k in _DATA_KEYS else _canonical(v))
            for k, v in value.items()
            if k != "cache_control"
        }
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _digest(value: Any) -> str:
    return hashlib.sha256(_encoder.encode(value)).hexdigest()


def _text_digest(text: str) -> str:
    """The digest of the text block a string content stands for."""
    return _digest({"type": "text", "text": text})


def _is_billing_header(raw: msgspec.Raw) -> bool:
    data = bytes(raw)
    if b"x-anthropic-billing-header" not in data:
        return False
    try:
        block = _decode(data)
    except msgspec.DecodeError:
        return False
    return (
        isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
        and BILLING_HEADER.fullmatch(block["text"]) is not None
    )
