"""The JSON log line: msgspec writes the lines whose values are plain, structlog's
``JSONRenderer`` the others, and both say the same thing; the timestamp reads as
structlog's ISO stamper writes it."""

from __future__ import annotations

import datetime
import json

import pytest
import structlog

from lynkr_core.logs import FastJSONRenderer, UtcTimeStamper

LINES = [
    {"event": "exchange", "provider": "openai", "upstream_model": None, "model": "claude-sonnet-4-6",
     "streamed": False, "status": 200, "duration_ms": 1.2, "big": 2**70, "text": 'é \n "q" \\ \u2028'},
    {"event": "x", "nested": {"list": [1, "two"]}},
    {"event": "x", "raw": b"\x00secret"},
    {"event": "x", "thing": object()},
    {"event": "x", "ratio": float("nan")},
]


@pytest.mark.parametrize("line", LINES)
def test_the_fast_renderer_says_what_json_renderer_says(line):
    fast = FastJSONRenderer()(None, "info", dict(line))
    slow = structlog.processors.JSONRenderer()(None, "info", dict(line))
    if "thing" in line:  # a repr with an address: the same text from both
        assert fast == slow
    else:
        assert json.loads(fast) == json.loads(slow)


def test_plain_lines_are_compact_and_the_others_are_json_dumps_own():
    assert FastJSONRenderer()(None, "info", {"event": "http", "status": 200}) == '{"event":"http","status":200}'
    assert FastJSONRenderer()(None, "info", {"event": "x", "l": [1]}) == '{"event": "x", "l": [1]}'


def test_the_timestamp_is_utc_iso_with_microseconds():
    before = datetime.datetime.now(datetime.UTC)
    stamps = [UtcTimeStamper()(None, "info", {})["timestamp"] for _ in range(3)]
    after = datetime.datetime.now(datetime.UTC)
    for stamp in stamps:
        assert stamp.endswith("Z") and len(stamp) == len("2026-12-07T19:50:47.123456Z")
        parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert before - datetime.timedelta(milliseconds=1) <= parsed <= after + datetime.timedelta(milliseconds=1)


def test_each_line_reaches_the_file_in_one_write(monkeypatch):
    """One ``write`` per line, newline included: ``print`` wrote the line and its newline
    apart, two system calls per request on an unbuffered stderr."""
    from lynkr_core.logs import configure_logging

    class Stderr:
        def __init__(self) -> None:
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            return len(text)

        def flush(self) -> None: ...

        def isatty(self) -> bool:
            return False

    stderr = Stderr()
    monkeypatch.setattr("sys.stderr", stderr)
    saved = structlog.get_config()
    try:
        configure_logging("info", "json")
        structlog.get_logger("lynkr.test").info("http", status=200)
        structlog.get_logger("lynkr.test").warning("other", n=1)
    finally:
        structlog.configure(**saved)
    assert len(stderr.writes) == 2
    assert all(text.endswith("}\n") and text.count("\n") == 1 for text in stderr.writes)
    assert json.loads(stderr.writes[0])["event"] == "http"
