"""The one ``info`` line of an HTTP request: the middleware writes it when the request
ends, and the pipeline adds to it what it knows of the exchange it served (provider,
models, streamed), so a ``/v1/messages`` request logs one line, not two."""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any


class RequestLine:
    """The fields the pipeline added to the current request's line, until it is written."""

    __slots__ = ("fields", "written")

    def __init__(self) -> None:
        self.fields: dict[str, Any] | None = None
        self.written = False


_current: ContextVar[RequestLine | None] = ContextVar("lynkr_request_line", default=None)


def open_request_line() -> tuple[RequestLine, Token[RequestLine | None]]:
    """A line for the request now starting (the middleware's), current until ``reset``."""
    line = RequestLine()
    return line, _current.set(line)


def close_request_line(line: RequestLine, token: Token[RequestLine | None]) -> dict[str, Any]:
    """Mark ``line`` written and stop it being current; the fields added to it."""
    line.written = True
    _current.reset(token)
    return line.fields or {}


def add_to_request_line(fields: dict[str, Any]) -> bool:
    """Add ``fields`` to the line of the request being served; ``False`` when there is no
    line to add to (a call outside an HTTP request, or one ending after its line was
    written): the caller then logs a line of its own."""
    line = _current.get()
    if line is None or line.written:
        return False
    if line.fields is None:
        line.fields = fields
    else:
        line.fields.update(fields)
    return True
