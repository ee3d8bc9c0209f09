"""Where a server-side fetch may go: the SSRF check.

lynkr fetches nothing itself today, but it forwards the ``url`` sources of image
and document blocks (also inside ``tool_result`` content) to the model provider,
and a provider inside the operator's network (llama.cpp, vLLM, Ollama, an
OpenAI-compatible server) fetches them from there. Without a check, any client
could make it fetch ``http://169.254.169.254/`` (cloud metadata) or
``http://localhost:8080/admin``.

Every server-side fetch must pass through ``EgressPolicy.check_url`` first:
today the forwarded URL sources (``check_url_sources``, called by the Messages
API endpoints), later a web-fetch tool or a plugin's fetch. The rules:

- only ``http`` and ``https``; no whitespace, control characters or
  backslashes (parsers disagree on them), a plain ASCII host name (IDNs are
  converted first);
- the address must be public: loopback, private (RFC 1918, CGNAT
  100.64.0.0/10, ULA fc00::/7), link-local (169.254.0.0/16, fe80::/10),
  unspecified, multicast, reserved and documentation ranges, IPv4-mapped,
  -compatible, NAT64 and 6to4 IPv6 addresses are refused, in every spelling
  an HTTP client accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
  ``127.1``);
- ``localhost`` and ``*.localhost`` are refused without a lookup; any other
  name is resolved (the event loop's ``getaddrinfo``, bounded by
  ``RESOLVE_TIMEOUT_SECONDS``) and refused when one of its addresses is not
  public, or when it does not resolve; one request may make lynkr look up
  at most ``MAX_RESOLVED_HOSTS`` distinct names, all at the same time.

The operator allows more with ``LYNKR_ALLOW_PRIVATE_URLS=true`` (any host) or
``LYNKR_URL_ALLOWED_HOSTS`` (a comma list of host names or addresses;
``*.example.internal`` allows the subdomains of a name).

Known limits: the provider resolves the name again when it fetches, so a name
whose DNS answer changes between the two lookups (DNS rebinding) or a public
URL that redirects to a private one still reaches the private address. Only
the fetcher itself can close that (pin the checked address, re-check each
redirect); a fetch lynkr makes itself should do so.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import structlog

from lynkr_core.config import Settings

log = structlog.get_logger("lynkr.egress")

#: Longest wait for one host name's addresses.
RESOLVE_TIMEOUT_SECONDS = 2.0
#: Most distinct host names one request may make lynkr resolve.
MAX_RESOLVED_HOSTS = 16

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``await resolver(host, port)``: the addresses ``host`` resolves to, as strings.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class UrlRefused(Exception):
    """A URL a server-side fetch must not fetch. ``reason`` says why and never
    contains the URL itself (it may carry credentials in its query)."""

    def __init__(self, reason: str, *, host: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.host = host


# --------------------------------------------------------------------------- #
# Addresses

_V4_RANGES: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "an unspecified address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (CGNAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "a reserved address"),
        ("192.0.2.0/24", "a reserved (documentation) address"),
        ("192.88.99.0/24", "a reserved address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a reserved (benchmarking) address"),
        ("198.51.100.0/24", "a reserved (documentation) address"),
        ("203.0.113.0/24", "a reserved (documentation) address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)
_V6_RANGES: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
        ("::/96", "an IPv4-compatible IPv6 address"),
        ("64:ff9b::/96", "a NAT64 address"),
        ("64:ff9b:1::/48", "a NAT64 address"),
        ("2002::/16", "a 6to4 address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a private (site-local) address"),
        ("ff00::/8", "a multicast address"),
    )
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this
    machine only: ``localhost`` or a loopback address. For a bind address: nobody else can
    connect; for a URL's host: nothing leaves the machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def non_public_reason(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address (``"a loopback address"``...),
    or ``None`` when it is one."""
    ranges = _V4_RANGES if address.version == 4 else _V6_RANGES
    for network, why in ranges:
        if address in network:
            return why
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "a reserved address"
    return None


_DECIMAL = re.compile(r"[0-9]+")
_OCTAL = re.compile(r"[0-7]*")
_HEX = re.compile(r"[0-9a-fA-F]*")
#: What a host name may be made of once converted to ASCII.
_NAME = re.compile(r"[a-z0-9._-]+")


def _ipv4_number(part: str) -> int | None:
    """One dotted part as the WHATWG URL standard (and ``inet_aton``) reads it."""
    if part[:2].lower() == "0x":
        digits, pattern, base = part[2:], _HEX, 16
    elif len(part) > 1 and part[0] == "0":
        digits, pattern, base = part[1:], _OCTAL, 8
    else:
        digits, pattern, base = part, _DECIMAL, 10
    if not pattern.fullmatch(digits):
        return None
    return int(digits, base) if digits else 0


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` as an IPv4 address in any spelling HTTP clients accept: dotted decimal,
    a single number (``2130706433``), hex or octal parts (``0x7f.1``, ``0177.0.0.1``),
    fewer than four parts (``127.1``), a trailing dot. ``None`` when it is not one."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4 or "" in parts:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *leading, last = numbers  # type: ignore[misc]
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for position, number in enumerate(leading):
        value += number * 256 ** (3 - position)
    return ipaddress.IPv4Address(value)


def _looks_numeric(host: str) -> bool:
    """Whether the last label of ``host`` is a number: such a host is an IPv4 address
    to a URL parser, or invalid (``1.2.3.4.5``), never a name."""
    last = host.rstrip(".").rpartition(".")[2]
    return bool(last) and (_DECIMAL.fullmatch(last) is not None or last[:2].lower() == "0x")


def parse_address(host: str) -> Address | None:
    """``host`` (as ``urllib.parse`` gives it, without brackets) as an IP address,
    ``None`` when it is a name."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return parse_ipv4(host)


# --------------------------------------------------------------------------- #
# URLs


@dataclass(frozen=True, slots=True)
class UrlTarget:
    """Where a URL points: its host in canonical form (lowercase ASCII name without a
    trailing dot, or an address), the address when the host is one, and the port."""

    host: str
    address: Address | None
    port: int


def parse_target(url: str) -> UrlTarget:
    """The target of ``url``; ``UrlRefused`` when it is not a plain http(s) URL."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url):
        raise UrlRefused("the URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"the URL cannot be parsed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused(f"only http and https URLs are allowed, not {scheme or 'a relative URL'}")
    host = parts.hostname or ""
    if not host:
        raise UrlRefused("the URL has no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise UrlRefused("the host is not a valid international domain name") from None
    address = parse_address(host)
    if address is None:
        if ":" in host or not _NAME.fullmatch(host):
            raise UrlRefused("the host is neither a host name nor an IP address", host=host)
        if _looks_numeric(host):
            raise UrlRefused("the host is not a valid IPv4 address", host=host)
        host = host.rstrip(".")
    return UrlTarget(
        host=str(address) if address is not None else host,
        address=address,
        port=port if port is not None else (443 if scheme == "https" else 80),
    )


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, with the event loop's ``getaddrinfo``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _normalised_host(entry: str) -> str:
    entry = entry.strip().lower().rstrip(".").strip("[]")
    address = parse_address(entry)
    return str(address) if address is not None else entry


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """The rules a server-side fetch must pass (see the module's docstring).

    ``allow_private`` allows every host; ``allowed_hosts`` (canonical forms, see
    ``from_settings``) allows those hosts and, for ``*.name`` entries, the
    subdomains of ``name``. ``resolver`` replaces the event loop's ``getaddrinfo``
    (tests use it); each lookup is bounded by ``resolve_timeout`` seconds.
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS
    resolver: Resolver = field(default=resolve, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        """The policy ``LYNKR_ALLOW_PRIVATE_URLS`` and ``LYNKR_URL_ALLOWED_HOSTS`` describe."""
        core = settings.core
        return cls(
            allow_private=core.allow_private_urls,
            allowed_hosts=frozenset(_normalised_host(entry) for entry in core.url_allowed_hosts),
        )

    def is_allowed_host(self, host: str) -> bool:
        """Whether the operator allowed ``host`` (a ``UrlTarget.host``) explicitly."""
        if self.allow_private or host in self.allowed_hosts:
            return True
        return any(
            entry.startswith("*.") and host.endswith(entry[1:]) for entry in self.allowed_hosts
        )

    async def check_url(self, url: str) -> UrlTarget:
        """``url``'s target when a server-side fetch may fetch it; ``UrlRefused`` otherwise."""
        target = self._checked_without_lookup(url)
        if self._needs_lookup(target):
            await self._check_resolved(target)
        return target

    async def check_urls(self, urls: Sequence[str]) -> list[UrlRefused | None]:
        """``check_url`` for each of ``urls``: the refusal or ``None``, in order. Each
        distinct name is resolved once, all of them at the same time; names beyond the
        first ``MAX_RESOLVED_HOSTS`` distinct ones are refused without a lookup."""
        targets: list[UrlTarget | UrlRefused] = []
        for url in urls:
            try:
                targets.append(self._checked_without_lookup(url))
            except UrlRefused as refused:
                targets.append(refused)
        names: dict[str, UrlTarget] = {}
        for target in targets:
            if isinstance(target, UrlTarget) and self._needs_lookup(target):
                names.setdefault(target.host, target)
        looked_up = list(names.values())[:MAX_RESOLVED_HOSTS]
        results = await asyncio.gather(
            *(self._check_resolved(target) for target in looked_up), return_exceptions=True
        )
        failed = {
            host: UrlRefused(
                f"the request names more than {MAX_RESOLVED_HOSTS} distinct hosts to look up",
                host=host,
            )
            for host in list(names)[MAX_RESOLVED_HOSTS:]
        }
        for target, result in zip(looked_up, results, strict=True):
            if isinstance(result, UrlRefused):
                failed[target.host] = result
            elif isinstance(result, BaseException):
                raise result
        return [
            target if isinstance(target, UrlRefused) else failed.get(target.host)
            for target in targets
        ]

    def _checked_without_lookup(self, url: str) -> UrlTarget:
        target = parse_target(url)
        if not self.is_allowed_host(target.host):
            self._check_without_lookup(target)
        return target

    def _needs_lookup(self, target: UrlTarget) -> bool:
        return target.address is None and not self.is_allowed_host(target.host)

    def _check_without_lookup(self, target: UrlTarget) -> None:
        if target.address is not None:
            why = non_public_reason(target.address)
            if why is not None:
                raise UrlRefused(f"{target.host} is {why}", host=target.host)
        elif target.host == "localhost" or target.host.endswith(".localhost"):
            raise UrlRefused(f"{target.host} is a loopback name", host=target.host)

    async def _check_resolved(self, target: UrlTarget) -> None:
        try:
            found = await asyncio.wait_for(
                self.resolver(target.host, target.port), self.resolve_timeout
            )
        except TimeoutError:
            raise UrlRefused(
                f"{target.host} did not resolve within {self.resolve_timeout:g} s", host=target.host
            ) from None
        except (OSError, UnicodeError):
            raise UrlRefused(f"{target.host} does not resolve", host=target.host) from None
        if not found:
            raise UrlRefused(f"{target.host} does not resolve", host=target.host)
        for text in found:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise UrlRefused(f"{target.host} resolves to {text!r}", host=target.host) from None
            why = non_public_reason(address)
            if why is not None:
                raise UrlRefused(f"{target.host} resolves to {why} ({address})", host=target.host)
