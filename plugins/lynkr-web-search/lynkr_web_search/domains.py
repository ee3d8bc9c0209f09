"""``allowed_domains`` and ``blocked_domains`` as Anthropic applies them: a domain covers
its subdomains, and a domain with a path (``example.com/blog``) only the pages under it."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def normalise(domain: str) -> str:
    """``https://Example.com/Docs/`` -> ``example.com/Docs``: no scheme, lower-case host."""
    text = domain.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    host, slash, path = text.partition("/")
    return host.lower().rstrip(".") + (slash + path.rstrip("/") if path.strip("/") else "")


def matches(url: str, domain: str) -> bool:
    """Whether ``url`` is on ``domain`` (normalised) or one of its subdomains, under its path."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".")
    name, _, path = domain.partition("/")
    if not name or not (host == name or host.endswith("." + name)):
        return False
    return not path or (parts.path.rstrip("/") + "/").startswith("/" + path + "/")


def admitted(url: str, allowed: Iterable[str], blocked: Iterable[str]) -> bool:
    """Whether a result at ``url`` may be shown: on an allowed domain (when there are any)
    and on no blocked one."""
    allowed = list(allowed)
    if allowed and not any(matches(url, d) for d in allowed):
        return False
    return not any(matches(url, d) for d in blocked)
