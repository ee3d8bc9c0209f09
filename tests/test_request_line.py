"""One ``info`` line per request: a ``/v1/messages`` exchange's provider, models and
outcome go on its request's ``http`` line (no separate ``exchange`` line); a request
that is no exchange keeps a plain ``http`` line; an exchange with no request line to
join (a call outside the middleware) still logs a line of its own."""

from __future__ import annotations

import aiohttp
import anthropic
import pytest
from structlog.testing import capture_logs

from lynkr_core.request_line import add_to_request_line, close_request_line, open_request_line
from lynkr_core.testing.fake_anthropic import CutStream, FakeAnthropic, Reply

ASK = [{"role": "user", "content": "hello"}]


def lines(logs: list[dict], event: str) -> list[dict]:
    return [entry for entry in logs if entry["event"] == event and entry["log_level"] == "info"]


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_exchange_logs_one_line_with_its_provider_and_models(anthropic_client, streamed):
    fake = FakeAnthropic([Reply.text("hi there")], api_key="upstream-key")
    client = await anthropic_client(fake)
    with capture_logs() as logs:
        if streamed:
            async with client.messages.stream(model="claude-x", max_tokens=50, messages=ASK) as stream:
                await stream.get_final_message()
        else:
            await client.messages.create(model="claude-x", max_tokens=50, messages=ASK)

    assert lines(logs, "exchange") == []
    (line,) = lines(logs, "http")
    assert line["method"] == "POST" and line["path"] == "/v1/messages" and line["status"] == 200
    assert line["provider"] == "anthropic" and line["model"] == "claude-x"
    assert "upstream_model" in line
    assert line["streamed"] is streamed
    assert "exchange_status" not in line  # the same as the HTTP status
    assert line["duration_ms"] >= 0


async def test_a_stream_that_fails_after_its_start_says_both_statuses(anthropic_client):
    fake = FakeAnthropic([CutStream(deltas=2, abort=True)], api_key="upstream-key")
    client = await anthropic_client(fake)
    with capture_logs() as logs:
        async with client.messages.stream(model="claude-x", max_tokens=50, messages=ASK) as stream:
            with pytest.raises(anthropic.APIStatusError):
                await stream.get_final_message()

    (line,) = lines(logs, "http")
    assert line["status"] == 200 and line["streamed"] is True
    assert line["exchange_status"] >= 500  # the stream ended with an error event


async def test_a_request_that_is_no_exchange_keeps_a_plain_line(anthropic_client):
    fake = FakeAnthropic([], api_key="upstream-key")
    client = await anthropic_client(fake)
    with capture_logs() as logs:
        async with aiohttp.ClientSession() as http, http.get(f"{str(client.base_url).rstrip('/')}/health/live") as response:
            assert response.status == 200

    (line,) = lines(logs, "http")
    assert line["path"] == "/health/live" and line["status"] == 200
    assert "provider" not in line and "model" not in line


def test_fields_outside_a_request_or_after_its_line_find_no_line():
    assert add_to_request_line({"provider": "p"}) is False
    line, token = open_request_line()
    assert add_to_request_line({"provider": "p"}) is True
    assert add_to_request_line({"model": "m"}) is True
    assert close_request_line(line, token) == {"provider": "p", "model": "m"}
    assert add_to_request_line({"late": True}) is False
