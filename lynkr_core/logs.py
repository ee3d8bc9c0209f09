"""structlog set-up: JSON lines when not on a terminal, one request id on every line,
and configured secrets masked on every line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import structlog

from lynkr_core.redaction import Redactor

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}
#: Loggers that write through handlers of their own rather than the root's.
_OWN_HANDLER_LOGGERS = ("hypercorn.error", "hypercorn.access")


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
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    redactor = Redactor(secrets)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        renderer,
    ]
    if redactor:
        processors.append(redactor)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    _filter_stdlib_logging(redactor)


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
