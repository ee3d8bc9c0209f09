"""The store in a running gateway: loaded from its entry point, fed by the anthropic SDK with
Claude Code's session header through lynkr-provider-anthropic to a scripted upstream."""

from __future__ import annotations

import json

from lynkr_core import anthropic
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply


async def test_exchanges_of_two_sessions_are_kept_with_their_steps(gateway, helpers):
    replies = [Reply.text("first answer"), Reply.text("streamed answer"), Reply.text("third answer")]
    async with FakeAnthropic(replies) as fake, gateway(fake) as (app, url):
        async with helpers.sdk(url) as client:
            await helpers.ask(client, "session-a", "hello a")
            await helpers.ask(client, "session-b", "hello b", stream=True)
            await helpers.ask(client, "session-a", "again a")
        store = app.state.services.sessions
        await store.idle()
        summaries = await store.sessions()
        kept_a = await store.exchanges("session-a")
        kept_b = await store.exchanges("session-b")
        last_a = await store.exchanges("session-a", limit=1)
        unknown = await store.exchanges("nobody")

    assert [s.id for s in summaries] == ["session-a", "session-b"]  # the newest update first
    assert [s.exchanges for s in summaries] == [2, 1]
    assert summaries[0].models == ["claude-sonnet-4-6"]
    assert summaries[0].started < summaries[1].updated < summaries[0].updated
    assert unknown == []

    assert [e.streamed for e in kept_a] == [False, False]
    assert [e.request.messages[0].content for e in kept_a] == ["hello a", "again a"]
    assert [e.response.text() for e in kept_a] == ["first answer", "third answer"]
    assert [e.request_id for e in last_a] == [kept_a[1].request_id]
    [streamed] = kept_b
    assert streamed.streamed and streamed.status == 200 and streamed.provider == "anthropic"
    assert isinstance(streamed.request, anthropic.MessagesRequest)
    assert isinstance(streamed.response, anthropic.MessageResponse)
    assert streamed.response.text() == "streamed answer"
    assert streamed.usage.output_tokens > 0 and streamed.duration > 0
    [step] = streamed.steps
    assert step.request.messages[0].content == "hello b"  # the exchange's request
    assert step.response.text() == "streamed answer"
    [attempt] = step.attempts
    assert (attempt.provider, attempt.status, attempt.error) == ("anthropic", 200, None)
    assert attempt.time_to_first_token is not None


async def test_list_show_export_and_delete_with_the_command(gateway, helpers, lynkr_command):
    replies = [Reply.text("first answer"), Reply.text("streamed answer"),
               Reply.tool_use("read_file", {"path": "a.py"}), Reply.text("done")]
    async with FakeAnthropic(replies) as fake, gateway(fake) as (_, url):
        async with helpers.sdk(url) as client:
            await helpers.ask(client, "session-a", "hello a")
            await helpers.ask(client, "session-b", "hello b", stream=True)
            await helpers.ask(client, "session-a", "read a.py", stream=True)
            await helpers.ask(client, "session-c", "hello c")
    # the server has stopped: the queue was written before the store closed

    code, out = lynkr_command("sessions", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [s["id"] for s in listed] == ["session-c", "session-a", "session-b"]
    assert [s["exchanges"] for s in listed] == [1, 2, 1]
    code, out = lynkr_command("sessions", "list", "--limit", "2")
    lines = out.splitlines()
    assert lines[0].split() == ["SESSION", "UPDATED", "EXCHANGES", "MODELS"]
    assert [line.split()[0] for line in lines[1:]] == ["session-c", "session-a"]

    code, out = lynkr_command("sessions", "show", "session-a")
    assert code == 0 and out.startswith("session session-a: 2 exchanges")
    assert [line.split()[3:5] for line in out.splitlines()[2:]] == [["json", "200"], ["stream", "200"]]

    code, out = lynkr_command("sessions", "export", "session-a", "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["streamed"] for row in rows] == [False, True]
    assert rows[0]["request"]["messages"] == [{"role": "user", "content": "hello a"}]
    assert rows[1]["response"]["content"][0]["name"] == "read_file"
    assert rows[1]["steps"][0]["attempts"][0]["provider"] == "anthropic"
    assert rows[1]["steps"][0]["request"] is None  # the exchange's own request, not kept twice

    code, out = lynkr_command("sessions", "export", "session-a", "--format", "md")
    assert code == 0
    assert out.startswith("# Session session-a\n")
    assert "## Exchange 1: " in out and "## Exchange 2: " in out
    assert "### user\n\nhello a" in out and "### assistant\n\nfirst answer" in out
    assert '`read_file` {"path": "a.py"}' in out

    code, out = lynkr_command("sessions", "delete", "session-a")
    assert code == 0 and out.strip() == "deleted session session-a"
    code, _ = lynkr_command("sessions", "delete", "session-a")
    assert code == 1
    code, _ = lynkr_command("sessions", "show", "session-a")
    assert code == 1
    code, out = lynkr_command("sessions", "list", "--json")
    assert [s["id"] for s in json.loads(out)] == ["session-c", "session-b"]


def test_the_command_before_anything_was_kept(lynkr_command):
    code, out = lynkr_command("sessions", "list")
    assert code == 0 and out.startswith("no sessions yet: ")
    code, _ = lynkr_command("sessions", "export", "x", "--format", "md")
    assert code == 1


async def test_an_exchange_without_a_session_is_not_kept(gateway, helpers):
    async with FakeAnthropic([Reply.text("hi")]) as fake, gateway(fake) as (app, url):
        async with helpers.sdk(url) as client:
            await client.messages.create(model="claude-sonnet-4-6", max_tokens=8,
                                         messages=[{"role": "user", "content": "hi"}])
        store = app.state.services.sessions
        await store.idle()
        assert await store.sessions() == []
        assert store.written == 0
