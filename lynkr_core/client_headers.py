"""What lynkr reads from a client's request headers: the ones forwarded to Anthropic-format
upstreams, the ones plugins may see (no credentials), and the client's session id."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

import msgspec

from lynkr_core.config import SECRET_MARKERS
from lynkr_core.wire.anthropic import MessagesRequest

#: Headers of the client passed on to providers that speak the Anthropic API.
FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta")
#: Claude Code's header naming its session.
SESSION_HEADER = "x-claude-code-session-id"
#: Headers never shown to plugins, besides any whose name has a ``SECRET_MARKERS`` word.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_FORWARDED_RAW = frozenset(name.encode() for name in FORWARDED_HEADERS)
#: A session id lynkr accepts as given: what ends up as a key in stores and file names.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_LEGACY_SESSION = re.compile(r"_session_([A-Za-z0-9-]{8,128})$")


class _UserId(msgspec.Struct):
    session_id: str = ""


def read_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[dict[str, str], dict[str, str]]:
    """The forwarded headers and the client's headers without credentials, from an ASGI
    scope's header list (names arrive lower-cased; the first of a repeated header wins)."""
    forwarded: dict[str, str] = {}
    visible: dict[str, str] = {}
    for name, value in raw:
        if name in _FORWARDED_RAW:
            forwarded.setdefault(name.decode(), value.decode("latin-1"))
        text = _visible_name(name)
        if text is not None and text not in visible:
            visible[text] = value.decode("latin-1")
    return forwarded, visible


# Header names repeat from request to request; the cache is bounded against clients
# that send ever new ones.
@functools.lru_cache(maxsize=1024)
def _visible_name(name: bytes) -> str | None:
    """The header's name as plugins see it, or ``None`` for a credential."""
    text = name.decode("latin-1")
    return None if text in CREDENTIAL_HEADERS or any(m in text for m in SECRET_MARKERS) else text


def session_id_for(headers: dict[str, str], request: MessagesRequest) -> str | None:
    """The client's session: ``x-claude-code-session-id`` when it is a plain id; else the
    ``session_id`` inside Claude Code's ``metadata.user_id`` (a JSON string, or the older
    ``user_..._session_<uuid>`` form); else a stable digest of any other ``user_id``."""
    given = headers.get(SESSION_HEADER)
    if given is not None and _SAFE_ID.fullmatch(given):
        return given
    try:
        metadata = request.metadata_config()
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    user_id = metadata.user_id if metadata is not None else None
    if not isinstance(user_id, str) or not user_id:
        return None
    if user_id.startswith("{"):
        try:
            inner = msgspec.json.decode(user_id, type=_UserId).session_id
        except (msgspec.DecodeError, msgspec.ValidationError):
            inner = ""
        if _SAFE_ID.fullmatch(inner):
            return inner
    legacy = _LEGACY_SESSION.search(user_id)
    if legacy:
        return legacy.group(1)
    return "user-" + hashlib.sha256(user_id.encode()).hexdigest()[:32]
