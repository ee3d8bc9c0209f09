"""What the preparer does to a request: where the block goes, its formats, the limit, and
nothing at all when retrieval is off or nothing is relevant."""

from __future__ import annotations

import json
import re

import msgspec
from lynkr_memory.inject import HEADER

from lynkr_core import anthropic

SYSTEM = [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}]


def body(request: anthropic.MessagesRequest) -> dict:
    return json.loads(msgspec.json.encode(request))


async def test_the_block_follows_the_clients_system_blocks_and_is_byte_stable(memory_factory, helpers):
    memory = await memory_factory()
    await memory.tell("I prefer Python for data processing.", "one")
    await memory.tell("We decided to use PostgreSQL for the database.", "one")
    request = helpers.request("process the data and load it into the database", system=SYSTEM)
    first, second = await memory.prepared(request), await memory.prepared(request)
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
    system = body(first)["system"]
    assert system[0] == SYSTEM[0]
    assert system[1] == {"type": "text", "text": "\n".join([
        HEADER, "- [preference] I prefer Python for data processing.",
        "- [decision] We decided to use PostgreSQL for the database."])}


async def test_a_string_system_prompt_becomes_two_blocks(memory_factory, helpers):
    memory = await memory_factory()
    await memory.tell("I prefer Python for data processing.", "one")
    prepared = await memory.prepared(helpers.request("process the data", system="Be brief."))
    assert [block["text"][:9] for block in body(prepared)["system"]] == ["Be brief.", HEADER[:9]]


async def test_detailed_format_and_the_limit(memory_factory, helpers):
    memory = await memory_factory(MEMORY_FORMAT="detailed", MEMORY_RETRIEVAL_LIMIT="1")
    await memory.tell("I prefer Python for data processing.", "one")
    await memory.tell("We decided to use PostgreSQL for the data warehouse.", "one")
    prepared = await memory.prepared(helpers.request("process the data"))
    lines = body(prepared)["system"][0]["text"].splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"- \[(preference|decision), \d{4}-\d\d-\d\d, importance 0\.\d\] .+", lines[1])


async def test_nothing_changes_when_retrieval_is_off_or_nothing_is_relevant(memory_factory, helpers):
    memory = await memory_factory()
    await memory.tell("I prefer Python for data processing.", "one")
    assert await memory.prepared(helpers.request("what's the weather in Paris?")) is None
    off = await memory_factory(MEMORY_RETRIEVAL_LIMIT="0", LYNKR_HOME=memory.settings.core.home)
    assert await off.prepared(helpers.request("process the data")) is None


def test_memory_enabled_false_registers_nothing_and_tools_can_be_left_out():
    import lynkr_memory

    from lynkr_core import Settings

    def registered(hook: str, **env: str) -> list:
        found: list = []
        getattr(lynkr_memory, hook)(register=found.append, settings=Settings(env))
        return found

    assert registered("lynkr_register_preparers", MEMORY_ENABLED="false") == []
    assert registered("lynkr_register_tools", MEMORY_ENABLED="false") == []
    assert registered("lynkr_register_tools", MEMORY_TOOLS_ENABLED="false") == []
    assert [tool.name for tool in registered("lynkr_register_tools")] == [
        "memory_search", "memory_add", "memory_forget", "memory_stats"]
    assert [type(p).__name__ for p in registered("lynkr_register_preparers")] == ["LongTermMemory"]
