"""Restoring hidden server-mode tool turns: a tool of lynkr's runs inside a turn, the client
sees only the answer, and the next turns of the same session carry the call and its result
again, at the same place and byte for byte the same, from memory or (after a restart)
from the database; with ``SESSION_CONTENT=redacted`` masked, with ``none`` from memory only."""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import pytest

from lynkr_core import Tool, ToolEffects
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin

PLUGINS = "lynkr-provider-anthropic,lynkr-sessions,notes"
#: The client's own tool: lynkr offers its tools only next to one.
CLIENT_TOOLS = [{"name": "ask_user", "description": "Ask the user",
                 "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]
NOTES = {"a": "apples are on shelf 3", "b": "bananas are on shelf 7", "key": "the key is sk-upstream-secret-4242"}


class NotesInput(msgspec.Struct, kw_only=True):
    name: str


class NotesRead(Tool):
    """A tool of lynkr's: reads a note (hidden from the client in server mode)."""

    name = "notes_read"
    description = "Read a note"
    Input = NotesInput

    def effects(self, args: NotesInput) -> ToolEffects:
        return ToolEffects()

    async def run(self, args: NotesInput, context: Any) -> str:
        return NOTES[args.name]


class NoteModel:
    """The scripted model: "read X" calls ``notes_read``; a result is answered with its text;
    anything else gets "ok"."""

    def __call__(self, body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]["content"]
        if isinstance(last, list):
            results = [b for b in last if b.get("type") == "tool_result"]
            if results:
                return Reply.text(f"the note says: {results[0]['content']}")
            last = last[-1].get("text", "")
        if last.startswith("read "):
            name = last.removeprefix("read ")
            return Reply([{"type": "text", "text": f"Reading {name}."},
                          {"type": "tool_use", "id": f"toolu_{name}", "name": "notes_read",
                           "input": {"name": name}}])
        return Reply.text("ok")


class _Body(msgspec.Struct):
    messages: list[msgspec.Raw]


def raw_messages(recorded: Any) -> list[bytes]:
    """The messages of a request the upstream received, each as the bytes it came in."""
    return [bytes(m) for m in msgspec.json.decode(recorded.body, type=_Body).messages]


def notes_plugin() -> list[tuple[str, Any]]:
    return [("notes", inline_plugin(tools=[NotesRead()]))]


class Conversation:
    """A client keeping its history, as Claude Code does: every answer appended as it came."""

    def __init__(self, client: Any, session_id: str, stream: bool = False) -> None:
        self.client, self.session_id, self.stream = client, session_id, stream
        self.messages: list[dict[str, Any]] = []

    async def say(self, text: str, **extra: Any) -> Any:
        self.messages.append({"role": "user", "content": text})
        fields: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 64, "tools": CLIENT_TOOLS,
                                  "messages": self.messages,
                                  "extra_headers": {"x-claude-code-session-id": self.session_id}, **extra}
        if self.stream:
            async with self.client.messages.stream(**fields) as events:
                answer = await events.get_final_message()
        else:
            answer = await self.client.messages.create(**fields)
        self.messages.append({"role": "assistant",
                              "content": [block.model_dump(exclude_none=True) for block in answer.content]})
        return answer


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_hidden_tool_turns_come_back_at_the_same_place_byte_for_byte(gateway, helpers, stream):
    async with FakeAnthropic(NoteModel()) as fake, \
            gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (app, url):
        async with helpers.sdk(url) as client:
            talk = Conversation(client, "s-restore", stream=stream)
            first = await talk.say("read a")
            await talk.say("thanks")
            await talk.say("read b")
            await talk.say("and now?")
        store = app.state.services.sessions
        await store.idle()
        kept = await store.exchanges("s-restore")

    # what the client saw: lynkr's call hidden, both steps' text in one message
    assert [block.type for block in first.content] == ["text", "text"]
    assert first.content[1].text == "the note says: apples are on shelf 3"
    _, read_a_result, thanks, read_b, read_b_result, now = fake.message_requests
    assert [m["role"] for m in thanks.json["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    call, result = thanks.json["messages"][1:3]
    assert call["content"] == [{"type": "text", "text": "Reading a."},
                               {"type": "tool_use", "id": "toolu_a", "name": "notes_read", "input": {"name": "a"}}]
    assert result["content"] == [{"type": "tool_result", "tool_use_id": "toolu_a",
                                  "content": "apples are on shelf 3"}]
    # the client's copy keeps only what the last step said
    assert thanks.json["messages"][3]["content"] == [{"type": "text", "text": "the note says: apples are on shelf 3"}]
    # the loop's own last call for turn 1 is a byte-exact prefix of turn 2
    assert raw_messages(thanks)[:3] == raw_messages(read_a_result)
    # turn 3 and 4 start with exactly the bytes turn 2 sent; turn 4 restores both exchanges
    assert raw_messages(read_b)[:5] == raw_messages(thanks)
    assert raw_messages(now)[:5] == raw_messages(thanks)
    assert raw_messages(now)[:9] == raw_messages(read_b_result)
    assert len(now.json["messages"]) == 11
    assert [b.get("tool_use_id") for m in now.json["messages"] for b in m["content"]
            if isinstance(b, dict) and b.get("type") == "tool_result"] == ["toolu_a", "toolu_b"]
    # the recorded request of turn 2 is what went upstream, restored turns included
    assert len(kept[1].request.messages) == 5


async def test_after_a_restart_the_same_bytes_come_from_the_database(gateway, helpers):
    async with FakeAnthropic(NoteModel()) as fake:
        async with gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (_, url):
            async with helpers.sdk(url) as client:
                talk = Conversation(client, "s-restart")
                await talk.say("read a")
                await talk.say("thanks")
        history = list(talk.messages)
        async with gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (app, url):
            async with helpers.sdk(url) as client:
                again = Conversation(client, "s-restart")
                again.messages = history[:2]
                await again.say("thanks")  # turn 2 once more, now from a fresh process
            assert len(app.state.services.sessions.recent) == 1
    before, after = fake.message_requests[2], fake.message_requests[3]
    assert raw_messages(after) == raw_messages(before)
    assert len(after.json["messages"]) == 5


async def test_the_next_turn_does_not_wait_for_the_write(gateway, helpers):
    async with FakeAnthropic(NoteModel()) as fake, \
            gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (app, url):
        store = app.state.services.sessions
        gate = threading.Event()
        write = store._write

        def held(*args):
            gate.wait(10)
            write(*args)

        store._write = held  # the writer is stuck until the end of the test
        try:
            async with helpers.sdk(url) as client:
                talk = Conversation(client, "s-unwritten")
                await talk.say("read a")
                await talk.say("thanks")
            assert store.written == 0
        finally:
            gate.set()
    thanks = fake.message_requests[2]
    assert len(thanks.json["messages"]) == 5
    assert thanks.json["messages"][2]["content"][0]["content"] == "apples are on shelf 3"


async def test_redacted_content_restores_masked_text_in_memory_and_from_the_database(gateway, helpers):
    async with FakeAnthropic(NoteModel()) as fake:
        async with gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS, SESSION_CONTENT="redacted") as (_, url):
            async with helpers.sdk(url) as client:
                talk = Conversation(client, "s-redacted")
                await talk.say("read key")
                await talk.say("thanks")
        async with gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS, SESSION_CONTENT="redacted") as (_, url):
            async with helpers.sdk(url) as client:
                again = Conversation(client, "s-redacted")
                again.messages = talk.messages[:2]
                await again.say("thanks")
    read_result, thanks, thanks_again = fake.message_requests[1:]
    assert helpers.upstream_key in read_result.body.decode()  # the model read it on turn 1
    for turn in (thanks, thanks_again):
        assert turn.json["messages"][2]["content"][0]["content"] == "the key is [redacted]"
    assert raw_messages(thanks) == raw_messages(thanks_again)


async def test_content_none_restores_from_memory_only(gateway, helpers):
    async with FakeAnthropic(NoteModel()) as fake:
        async with gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS, SESSION_CONTENT="none") as (app, url):
            async with helpers.sdk(url) as client:
                talk = Conversation(client, "s-none")
                await talk.say("read a")
                await talk.say("thanks")
            store = app.state.services.sessions
            await store.idle()
            rows = await store.exchange_rows("s-none")
            assert store._database().hidden_turns("s-none") == []
        async with gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS, SESSION_CONTENT="none") as (_, url):
            async with helpers.sdk(url) as client:
                again = Conversation(client, "s-none")
                again.messages = talk.messages[:2]
                await again.say("thanks")
    assert [row["request"] for row in rows] == [None, None]
    assert len(fake.message_requests[2].json["messages"]) == 5  # from memory
    assert len(fake.message_requests[3].json["messages"]) == 3  # nothing kept on disk


@pytest.mark.parametrize("env, extra", [
    ({"SESSION_RESTORE_TOOL_RESULTS": "false"}, {}),
    ({}, {"tool_choice": {"type": "none"}}),
], ids=["restore-off", "tool-choice-none"])
async def test_nothing_is_restored_when_off_or_when_the_request_offers_no_tools(gateway, helpers, env, extra):
    async with FakeAnthropic(NoteModel()) as fake, \
            gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS, **env) as (_, url):
        async with helpers.sdk(url) as client:
            talk = Conversation(client, "s-off")
            await talk.say("read a")
            await talk.say("thanks", **extra)
    thanks = fake.message_requests[2]
    assert [m["role"] for m in thanks.json["messages"]] == ["user", "assistant", "user"]


async def test_another_session_or_an_edited_answer_gets_nothing(gateway, helpers):
    async with FakeAnthropic(NoteModel()) as fake, \
            gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (_, url):
        async with helpers.sdk(url) as client:
            talk = Conversation(client, "s-one")
            await talk.say("read a")
            other = Conversation(client, "s-two")
            other.messages = list(talk.messages)
            await other.say("thanks")  # the same history under another session
            edited = Conversation(client, "s-one")
            edited.messages = [talk.messages[0], {"role": "assistant", "content": "something else"}]
            await edited.say("thanks")
    for turn in fake.message_requests[2:]:
        assert len(turn.json["messages"]) == 3


async def test_turns_another_worker_answered_are_read_from_the_database(gateway, helpers):
    """Two servers on one ``LYNKR_HOME`` (as ``lynkr start --workers 2``): each finds in the
    database what the other recorded once its history shows an answer it did not see."""
    async with FakeAnthropic(NoteModel()) as fake, \
            gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (app_a, url_a), \
            gateway(fake, notes_plugin(), LYNKR_PLUGINS=PLUGINS) as (app_b, url_b):
        async with helpers.sdk(url_a) as client_a, helpers.sdk(url_b) as client_b:
            talk = Conversation(client_a, "s-workers")
            await talk.say("read a")  # worker A
            await app_a.state.services.sessions.idle()
            talk.client = client_b
            await talk.say("read b")  # worker B: turn 1 from the database
            await app_b.state.services.sessions.idle()
            talk.client = client_a
            await talk.say("thanks")  # worker A: turn 2 from the database, turn 1 from memory
    read_b, thanks = fake.message_requests[2], fake.message_requests[4]
    assert len(read_b.json["messages"]) == 5
    assert len(thanks.json["messages"]) == 9
    assert raw_messages(thanks)[:7] == raw_messages(fake.message_requests[3])
