"""Pure ASGI middleware around every HTTP request: request id, auth, body limit, last-resort errors.

Pure ASGI (not ``BaseHTTPMiddleware``), so streaming responses pass through
untouched and client disconnects still cancel them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lynkr_core.body_stall import BodyStalled, StallWatch
from lynkr_core.errors import (
    AuthenticationFailed,
    LynkrError,
    PermissionDenied,
    RequestTooLarge,
    encode_error,
)
from lynkr_core.redaction import Redactor
from lynkr_core.request_line import close_request_line, open_request_line

log = structlog.get_logger("lynkr.http")

#: Paths answered without an API key: liveness probes and the CLI's warm-up ``HEAD /``.
OPEN_PATHS = frozenset({"/", "/health", "/ready", "/health/live", "/health/ready"})


def new_request_id() -> str:
    """An id in Anthropic's style: ``req_`` and 24 hex digits."""
    return "req_" + os.urandom(12).hex()


def api_key_id(key: str | bytes) -> str:
    """The non-secret name of an API key: ``key_`` and the first 12 hex digits of its
    SHA-256 (``RequestContext.client_id``); stable across workers and restarts, and
    telling nothing usable about the key."""
    raw = key.encode() if isinstance(key, str) else key
    return "key_" + hashlib.sha256(raw).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class KeySet:
    """API keys (encoded), their ``api_key_id``s in the same order, and admin keys."""

    api: list[bytes]
    ids: list[str]
    admin: list[bytes]


class AccessKeys:
    """The API keys and admin keys the gateway accepts, and the redactor of its error
    bodies: one object the middleware reads per request, replaced whole by a hot reload
    (``replace``), so a request sees either the old set or the new one."""

    def __init__(self, api_keys: Iterable[str] = (), admin_keys: Iterable[str] = (),
                 redactor: Redactor | None = None) -> None:
        self.replace(api_keys, admin_keys, redactor or Redactor())

    def replace(self, api_keys: Iterable[str], admin_keys: Iterable[str], redactor: Redactor) -> None:
        """Accept ``api_keys`` and ``admin_keys`` from now on, and mask with ``redactor``."""
        keys = [key.encode() for key in api_keys]
        self.current = KeySet(keys, [api_key_id(key) for key in keys], [key.encode() for key in admin_keys])
        self.redactor = redactor


class GatewayMiddleware:
    """Gives each request an id (``request-id`` header, every log line), checks the API key
    and the body size, and turns any unhandled exception into an Anthropic 500 body.

    Error messages pass ``redactor`` on their way out: an upstream may quote the
    operator's key in its error, and lynkr passes upstream messages on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_keys: Iterable[str],
        admin_keys: Iterable[str] = (),
        admin_paths: Iterable[re.Pattern[str]] = (),
        public_paths: Iterable[re.Pattern[str]] = (),
        max_body_bytes: int,
        body_timeout: float = 60.0,
        redactor: Redactor | None = None,
        access: AccessKeys | None = None,
    ) -> None:
        self.app = app
        #: The keys in force (``access``, shared with a hot reload; else ``api_keys``...).
        self.access = access or AccessKeys(api_keys, admin_keys, redactor)
        self._admin_paths = tuple(admin_paths)
        self._public_paths = tuple(public_paths)
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        #: The request line's logger, bound at the first request rather than on every line
        #: (a quarter of what the line costs). Bound loggers share structlog's list of
        #: processors, which ``capture_logs`` and a reload's secret masking change in place.
        self._line_log: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        # The request's task has a context of its own (Hypercorn runs each request in a new
        # task), and lynkr binds nothing else: no earlier request's values to clear first.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.monotonic()
        response = {"started": False, "status": 0}
        line, line_token = open_request_line()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["started"] = True
                response["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"request-id", request_id.encode())]
            await send(message)

        try:
            scope["state"]["client_id"] = self._check_auth(scope)
            self._check_declared_length(scope)
            body = LimitedBody(receive, self.max_body_bytes, self.body_timeout)
            try:
                await self.app(scope, body.receive, send_with_id)
            finally:
                body.close()
        except Exception as exc:
            if response["started"]:
                log.exception("error_after_response_started")
            else:
                await _send_error(send_with_id, _as_lynkr_error(exc), self.access.redactor)
        finally:
            exchange = close_request_line(line, line_token)
            if exchange.get("exchange_status") == response["status"]:
                del exchange["exchange_status"]  # said by ``status``
            line_log = self._line_log
            if line_log is None:
                line_log = self._line_log = log.bind()
            line_log.info(
                "http",
                method=scope["method"],
                path=scope["path"],
                status=response["status"],
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                **exchange,
            )

    def _check_auth(self, scope: Scope) -> str | None:
        """Refuse a missing or unknown key; the ``api_key_id`` of the API key presented
        (``None``: no API keys configured, an open path, or an admin route)."""
        keys = self.access.current
        if self._admin_paths and any(path.match(scope["path"]) for path in self._admin_paths):
            self._check_admin(scope, keys.admin)
            return None
        if not keys.api or scope["path"] in OPEN_PATHS or self._is_public(scope["path"]):
            return None
        presented = _presented_key(scope)
        if presented is None:
            raise AuthenticationFailed("missing API key: send it in x-api-key or Authorization: Bearer")
        matched = _matching(presented, keys.api)
        if matched is None:
            raise AuthenticationFailed("invalid x-api-key")
        return keys.ids[matched]

    def _is_public(self, path: str) -> bool:
        """A plugin's ``ExtraRoute(public=True)``: answered without a key."""
        return any(pattern.match(path) for pattern in self._public_paths)

    def _check_admin(self, scope: Scope, admin_keys: list[bytes]) -> None:
        """Admin routes: only a key of ``LYNKR_ADMIN_KEYS``; none configured, nobody."""
        if not admin_keys:
            raise PermissionDenied("this route needs an admin key, and LYNKR_ADMIN_KEYS is not set")
        presented = _presented_key(scope)
        if presented is None:
            raise AuthenticationFailed("missing admin key: send it in x-api-key or Authorization: Bearer")
        if not _matches(presented, admin_keys):
            raise AuthenticationFailed("invalid admin key (an API key is not an admin key)")

    def _check_declared_length(self, scope: Scope) -> None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise LynkrError("invalid content-length header", status=400) from None
                if declared > self.max_body_bytes:
                    raise _too_large(self.max_body_bytes)

class LimitedBody:
    """A request's ``receive`` with the body bounded in size, and in time while it is
    incomplete: a body that stops arriving for ``timeout`` seconds is answered 408
    (Hypercorn's own ``read_timeout`` cannot do this: it would also cut long streamed
    answers). Once the body is read, ``receive`` only reports the client's disconnect,
    untimed. ``close`` when the request is over."""

    __slots__ = ("_body_pending", "_limit", "_receive", "_seen", "_timeout", "_watch")

    def __init__(self, receive: Receive, limit: int, timeout: float) -> None:
        self._receive = receive
        self._limit = limit
        self._timeout = timeout
        self._seen = 0
        self._watch: StallWatch | None = None
        self._body_pending = True

    async def receive(self) -> Message:
        """The next ASGI message; ``LynkrError`` 413 or 408 for a body too large or stalled."""
        if not self._body_pending:
            return await self._receive()
        if self._watch is None:
            self._watch = StallWatch(self._timeout)
        try:
            message = await self._watch.wait(self._receive())
        except BodyStalled:
            self.close()
            raise LynkrError(
                f"the request body stalled: nothing arrived for {self._timeout:g} s", status=408
            ) from None
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                self.close()
                raise _too_large(self._limit)
            if not message.get("more_body", False):
                self.close()
        else:
            self.close()
        return message

    def close(self) -> None:
        """The body is read (or will not be): stop timing it."""
        self._body_pending = False
        if self._watch is not None:
            self._watch.close()


def _matches(presented: bytes, keys: list[bytes]) -> bool:
    return _matching(presented, keys) is not None


def _matching(presented: bytes, keys: list[bytes]) -> int | None:
    """The index of the key ``presented`` is, or ``None``."""
    # Compare against every key, so the time taken does not tell which one nearly matched.
    matches = [hmac.compare_digest(presented, key) for key in keys]
    return matches.index(True) if any(matches) else None


def _presented_key(scope: Scope) -> bytes | None:
    bearer = None
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            return value
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            bearer = value[7:].strip()
    return bearer


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"request body is larger than the limit of {limit} bytes")


def _as_lynkr_error(exc: Exception) -> LynkrError:
    if isinstance(exc, LynkrError):
        return exc
    log.exception("unhandled_error", error=f"{type(exc).__name__}: {exc}")
    return LynkrError("internal error in lynkr; see the server log", status=500)


async def _send_error(send: Send, error: LynkrError, redactor: Redactor) -> None:
    body = encode_error(error.error_type, redactor.redact(error.message))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in error.headers().items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

