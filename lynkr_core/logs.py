"""structlog set-up: JSON lines when not on a terminal, one request id on every line,
and configured secrets masked on every line."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable
from typing import Any

import msgspec
import structlog

from lynkr_core.redaction import Redactor

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}
#: Loggers that write through handlers of their own rather than the root's.
_OWN_HANDLER_LOGGERS = ("hypercorn.error", "hypercorn.access")


#: Value types the fast JSON renderer writes itself; a line with any other value (a list, a
#: dict, an object to ``repr``) goes through structlog's ``JSONRenderer``.
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


class FastJSONRenderer:
    """structlog's ``JSONRenderer`` for the lines lynkr logs on every request, at a quarter
    of its cost: a line whose values are all strings, numbers, booleans or ``None`` (the
    ``http`` and ``exchange`` lines) is encoded by msgspec (compact JSON: no space after
    ``,`` and ``:``; other characters as they are, in UTF-8, where ``json.dumps`` escapes
    them); any other line, a non-finite float or an integer msgspec cannot hold goes to
    ``JSONRenderer`` as before."""

    def __init__(self) -> None:
        self._encode = msgspec.json.Encoder().encode
        self._fallback = structlog.processors.JSONRenderer()

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> str:
        """The line for ``event_dict``."""
        for value in event_dict.values():
            kind = type(value)
            if kind not in _PLAIN_TYPES or (kind is float and not math.isfinite(value)):
                return self._fallback(logger, method_name, event_dict)
        try:
            return self._encode(event_dict).decode()
        except (msgspec.EncodeError, OverflowError, TypeError):
            return self._fallback(logger, method_name, event_dict)


class UtcTimeStamper:
    """``timestamp``: the time in UTC, ISO 8601 with microseconds and ``Z``
    (``2026-12-07T19:50:47.123456Z``), as structlog's ``TimeStamper(fmt="iso", utc=True)``
    writes it (but always with six digits of microseconds), with the date and time
    formatted once a second rather than on every line."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        """``event_dict`` with its ``timestamp``."""
        now = time.time()
        second = int(now)
        cached, prefix = self._second
        if cached != second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, prefix)
        event_dict["timestamp"] = f"{prefix}.{int((now - second) * 1_000_000):06d}Z"
        return event_dict


class RedactingFilter(logging.Filter):
    """A stdlib ``logging`` filter that masks secrets in a record's message and traceback
    (for what aiohttp, asyncio and Hypercorn log without structlog)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        return True


def configure_logging(level: str = "info", fmt: str = "auto", *, secrets: Iterable[str] = ()) -> None:
    """Configure structlog (and the stdlib root logger) for the process.

    ``fmt`` is ``json``, ``console`` or ``auto`` (console on a terminal, JSON
    otherwise). Request-scoped values bound with
    ``structlog.contextvars.bind_contextvars`` (the request id) appear on
    every line logged while the request is handled. Each of ``secrets``
    (``Settings.secrets()``) is masked wherever it appears in a line.
    """
    numeric = _LEVELS.get(level.lower(), logging.INFO)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer = (
        FastJSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    redactor = Redactor(secrets)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        UtcTimeStamper(),
        structlog.processors.format_exc_info,
        renderer,
    ]
    if redactor:
        processors.append(redactor)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # one write(2) per line: PrintLogger's print() writes the line and its newline apart
        logger_factory=_shared(structlog.WriteLogger(file=sys.stderr)),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    _filter_stdlib_logging(redactor)


def _shared(logger: structlog.WriteLogger) -> Any:
    """A logger factory that hands out ``logger`` itself: every bound logger of the
    configuration writes through one ``WriteLogger`` (it locks around each line) instead
    of building its own each time a logger is bound, which is on every line of a module's
    logger (``cache_logger_on_first_use`` is off, so that tests can reconfigure)."""

    def factory(*args: Any) -> structlog.WriteLogger:
        return logger

    return factory


def _filter_stdlib_logging(redactor: Redactor) -> None:
    """Put one ``RedactingFilter`` (replacing an earlier one) on the root logger's
    handlers and on the loggers that have handlers of their own."""
    root = logging.getLogger()
    targets: list[logging.Filterer] = [*root.handlers]
    targets += [logging.getLogger(name) for name in _OWN_HANDLER_LOGGERS]
    for target in targets:
        for old in [f for f in target.filters if isinstance(f, RedactingFilter)]:
            target.removeFilter(old)
        if redactor:
            target.addFilter(RedactingFilter(redactor))
