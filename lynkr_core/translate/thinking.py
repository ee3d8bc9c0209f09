"""Signed thinking blocks: how lynkr recognises its own thinking on the next turn.

Reasoning from an OpenAI-format upstream becomes an Anthropic ``thinking`` block
whose ``signature`` lynkr makes: ``lynkr1.<payload>.<mac>``. The payload (base64url
JSON) says where the reasoning came from (provider and model) and carries what
that upstream needs back besides the text (Databricks' reasoning signature,
OpenRouter's ``reasoning_details``); the MAC is HMAC-SHA256, keyed by a secret
lynkr keeps, over the payload and the thinking text. A block that comes back
with a valid MAC is *vouched* for: its text and payload are lynkr's own, unchanged.
Anything else (an edited text, a forged payload, Anthropic's own signature, an
empty one) is not, and never goes upstream as reasoning.

Pure functions: the key is given (``lynkr_core.thinking_key`` keeps it on disk).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = ["SIGNATURE_PREFIX", "ThinkingSigner", "Vouched", "is_lynkr_signature", "merge_reasoning_details"]

#: What every signature lynkr makes starts with (Anthropic's never do).
SIGNATURE_PREFIX = "lynkr1."
_DOMAIN = b"lynkr-thinking/1\n"
_MAC_BYTES = 16


class _Payload(msgspec.Struct, omit_defaults=True):
    """What a signature carries besides the text (short keys: it rides on every turn)."""

    p: str = ""  # provider
    m: str = ""  # upstream model
    s: str | None = None  # the upstream's own signature (Databricks' Claude)
    d: list[Any] | None = None  # OpenRouter's reasoning_details


_encode_payload = msgspec.json.Encoder().encode
_decode_payload = msgspec.json.Decoder(_Payload).decode


@dataclass(frozen=True, slots=True)
class Vouched:
    """A thinking block lynkr signed, as it was signed: the reasoning ``text``, the
    ``provider`` and ``model`` it came from, the upstream's own ``signature`` and
    OpenRouter's ``details`` when there were some."""

    text: str
    provider: str
    model: str = ""
    signature: str | None = None
    details: tuple[Any, ...] = ()


def is_lynkr_signature(signature: object) -> bool:
    """Whether ``signature`` looks like one lynkr made (valid or not)."""
    return isinstance(signature, str) and signature.startswith(SIGNATURE_PREFIX)


class ThinkingSigner:
    """Signs the thinking of answers from ``provider``'s ``model`` and checks the
    signatures of thinking blocks that come back. ``key``: at least 16 secret bytes."""

    __slots__ = ("_key", "model", "provider")

    def __init__(self, key: bytes, *, provider: str = "", model: str = "") -> None:
        if len(key) < 16:
            raise ValueError("a thinking signing key needs at least 16 bytes")
        self._key = key
        self.provider = provider
        self.model = model

    def sign(self, text: str, *, signature: str | None = None, details: list[Any] | None = None) -> str:
        """The signature of a thinking block of ``text`` from this signer's provider and
        model, carrying the upstream's ``signature`` and ``details`` when given."""
        payload = _encode_payload(
            _Payload(p=self.provider, m=self.model, s=signature or None, d=details or None)
        )
        return SIGNATURE_PREFIX + _b64(payload) + "." + _b64(self._mac(payload, text))

    def verify(self, text: str, signature: object) -> Vouched | None:
        """What ``signature`` vouches for about a thinking block of ``text``; ``None``
        when it is not lynkr's, or the text or the payload was changed."""
        if not is_lynkr_signature(signature):
            return None
        assert isinstance(signature, str)
        encoded_payload, dot, encoded_mac = signature[len(SIGNATURE_PREFIX) :].partition(".")
        if not dot:
            return None
        try:
            payload = _unb64(encoded_payload)
            mac = _unb64(encoded_mac)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload, text)):
            return None
        try:
            fields = _decode_payload(payload)
        except msgspec.MsgspecError:
            return None
        return Vouched(text, fields.p, fields.m, fields.s, tuple(fields.d or ()))

    def _mac(self, payload: bytes, text: str) -> bytes:
        message = _DOMAIN + payload + b"\n" + text.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def merge_reasoning_details(items: list[Any]) -> list[Any]:
    """OpenRouter's streamed ``reasoning_details`` pieces as the whole items: pieces of one
    item (same ``type`` and ``index``) have their ``text``/``summary``/``data`` joined and
    their other fields (``signature``, ``format``...) taken from the last that has them."""
    merged: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        last = merged[-1] if merged else None
        same = (
            isinstance(last, dict)
            and "index" in item
            and last.get("index") == item.get("index")
            and last.get("type") == item.get("type")
        )
        if not same:
            merged.append(dict(item))
            continue
        assert isinstance(last, dict)
        for key, value in item.items():
            if key in _JOINED and isinstance(value, str):
                previous = last.get(key)
                last[key] = (previous if isinstance(previous, str) else "") + value
            elif value is not None:
                last[key] = value
    return merged


_JOINED = frozenset({"text", "summary", "data"})
