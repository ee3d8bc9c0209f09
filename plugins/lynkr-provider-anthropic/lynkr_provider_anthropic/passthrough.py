"""What the pass-through checks in an Anthropic-format answer that came with HTTP 200.

Frames go on byte for byte, but each event's data must be a JSON object with a
``type`` (a client cannot read a broken one), and an upstream error that came
with a 200 (an error body, or an ``error`` event before anything was sent) is
raised as an ``UpstreamError`` with the status Anthropic gives its type, so it
can still be retried, failed over, or answered with that status.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from lynkr_core import ServerSentEvent, UpstreamError, error_from_response, status_for_error_type


class _Head(msgspec.Struct):
    """The one field every event and every body has."""

    type: str


_read_head = msgspec.json.Decoder(_Head).decode


def error_in_body(body: bytes | str) -> UpstreamError | None:
    """The upstream's error when ``body`` is Anthropic's error envelope, else ``None``."""
    try:
        if _read_head(body).type != "error":
            return None
    except msgspec.MsgspecError:
        return None
    raw = body.encode() if isinstance(body, str) else body
    error = error_from_response(502, raw, {})
    status = status_for_error_type(error.error_type)
    if status is None:
        return error
    return UpstreamError(error.message, status=status, error_type=error.error_type)


def passable(events: Sequence[ServerSentEvent], *, started: bool) -> tuple[bytes, UpstreamError | None]:
    """The frames of ``events`` to pass on, and the failure that stops the stream there.

    An event whose data is not a JSON object with a ``type`` is a failure (empty data
    aside); so is an ``error`` event when nothing has been sent yet (``started`` is
    False and it is the first event).
    """
    for index, event in enumerate(events):
        if not event.data.strip():
            continue
        try:
            kind = _read_head(event.data).type
        except msgspec.MsgspecError as exc:
            return _frames(events[:index]), UpstreamError(f"upstream sent an unreadable stream event: {exc}")
        if kind == "error" and not started and index == 0:
            return b"", error_in_body(event.data)
    return _frames(events), None


def _frames(events: Sequence[ServerSentEvent]) -> bytes:
    return b"".join(event.raw for event in events)
