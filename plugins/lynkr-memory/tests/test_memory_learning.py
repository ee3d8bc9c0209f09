"""Extraction, contradiction, retrieval and the lifecycle, against a real SQLite database."""

from __future__ import annotations

import re
import time

import pytest


async def test_a_preference_said_in_one_session_is_recalled_in_another(memory_factory):
    memory = await memory_factory()
    verdicts = await memory.tell("I prefer Python for data processing.", "alpha")
    assert [v.action for v in verdicts] == ["add"]
    assert await memory.recall("Write a script that processes the sales data", "beta") == [
        "I prefer Python for data processing."]
    assert await memory.recall("What is the weather like?", "beta") == []


async def test_a_contradiction_supersedes_the_older_memory_and_keeps_it_as_history(memory_factory):
    memory = await memory_factory()
    await memory.tell("I prefer Python for data processing.", "alpha")
    verdicts = await memory.tell("Actually, I now prefer Rust for data processing instead of Python.", "gamma")
    assert verdicts[0].action == "add" and verdicts[0].supersedes == [1]
    assert verdicts[0].signals.contradiction == 1.0
    assert await memory.recall("which language for data processing?") == [
        "Actually, I now prefer Rust for data processing instead of Python."]
    store = memory.store()
    assert [m.content for m in store.history(2)] == ["I prefer Python for data processing."]
    assert store.stats().active == 1 and store.stats().superseded == 1


async def test_repeats_are_not_stored_twice_and_small_talk_is_not_stored(memory_factory):
    memory = await memory_factory()
    await memory.tell("We decided to use PostgreSQL for the database.")
    again = await memory.tell("We decided to use PostgreSQL for the database.")
    assert [v.action for v in again] == ["duplicate"]
    assert await memory.tell("Thanks, that looks good. Can you run the tests?") == []
    assert memory.store().stats().active == 1


async def test_the_surprise_threshold_decides(memory_factory):
    strict = await memory_factory(MEMORY_SURPRISE_THRESHOLD="0.9")
    verdicts = await strict.tell("My favourite editor is vim.")
    assert verdicts[0].action == "unsurprising" and 0.3 <= verdicts[0].surprise < 0.9
    assert strict.store().stats().active == 0


async def test_session_memories_stay_in_their_session_and_global_ones_can_be_turned_off(memory_factory):
    memory = await memory_factory(MEMORY_GLOBAL_TYPES="preference")
    await memory.tell("We decided to use PostgreSQL for the database.", "alpha")
    assert await memory.recall("which database do we use?", "alpha") == [
        "We decided to use PostgreSQL for the database."]
    assert await memory.recall("which database do we use?", "beta") == []
    closed = await memory_factory(MEMORY_INCLUDE_GLOBAL="false", LYNKR_HOME=memory.settings.core.home)
    await closed.tell("I prefer Python for data processing.", "alpha")
    assert await closed.recall("process the data", "beta") == []


QUERIES = [
    '"data" OR processing',
    'data NEAR(python processing, 2)',
    'pyth*',
    'content:python',
    'type:decision',
    '{content type}: data',
    '^data',
    '(((data',
    'data AND NOT python',
    "'; DROP TABLE memories; --",
    '"unterminated',
    'a' * 1_000_000,
    'data ' * 200_000,
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q[:20])
async def test_fts5_syntax_in_a_users_text_is_searched_as_words(memory_factory, query):
    memory = await memory_factory()
    await memory.tell("I prefer Python for data processing.", "alpha")
    found = await memory.recall(query)
    words = set(re.findall(r"[a-z]+", query.lower()))
    assert found == (["I prefer Python for data processing."] if words & {"data", "processing", "python"} else [])
    assert memory.store().stats().active == 1


async def test_decay_age_and_count_limits_prune(memory_factory):
    memory = await memory_factory(MEMORY_MAX_COUNT="2", MEMORY_MAX_AGE_DAYS="30", MEMORY_DECAY_HALF_LIFE="10")
    store = memory.store()
    now = time.time()
    day = 86400
    for text, age in [("We decided to use Redis for caching.", 40), ("Our API runs on port 8080.", 1),
                      ("I prefer tabs over spaces.", 2), ("The deploy target is Kubernetes.", 3)]:
        store.connection.execute("BEGIN IMMEDIATE")
        store.connection.execute(
            "INSERT INTO memories (content, type, scope, importance, created_at, updated_at) VALUES (?, 'fact', 'global', 0.6, ?, ?)",
            (text, now - age * day, now - age * day))
        store.connection.execute("COMMIT")
    pruned = memory.memory._prune()
    assert len(pruned) == 2
    assert sorted(m.content for m in store.all()) == ["I prefer tabs over spaces.", "Our API runs on port 8080."]
    # decay alone: at 10 days half-life, 0.6 falls under 0.05 after ~36 days
    decaying = await memory_factory(MEMORY_MAX_AGE_DAYS="0", MEMORY_MAX_COUNT="0", MEMORY_DECAY_HALF_LIFE="10",
                                    LYNKR_HOME=memory.settings.core.home + "-decay")
    store = decaying.store()
    store.connection.execute("BEGIN IMMEDIATE")
    store.connection.execute(
        "INSERT INTO memories (content, type, scope, importance, created_at, updated_at) VALUES ('old', 'fact', 'global', 0.6, ?, ?)",
        (now - 40 * day, now - 40 * day))
    store.connection.execute("COMMIT")
    assert decaying.memory._prune() == [1]
    off = await memory_factory(MEMORY_MAX_AGE_DAYS="0", MEMORY_MAX_COUNT="0", MEMORY_DECAY_ENABLED="false",
                               LYNKR_HOME=memory.settings.core.home + "-off")
    store = off.store()
    store.connection.execute("BEGIN IMMEDIATE")
    store.connection.execute(
        "INSERT INTO memories (content, type, scope, importance, created_at, updated_at) VALUES ('old', 'fact', 'global', 0.6, ?, ?)",
        (now - 400 * day, now - 400 * day))
    store.connection.execute("COMMIT")
    assert off.memory._prune() == []


async def test_tool_results_are_not_read(memory_factory, helpers):
    memory = await memory_factory()
    tool_turn = [{"type": "tool_result", "tool_use_id": "t1", "content": "I prefer Java for everything."}]
    req = helpers.request("list the files", [{"type": "text", "text": "ok"}], tool_turn)
    await memory.memory.learn(helpers.exchange(memory.settings, req, "s1"))
    assert memory.store().stats().active == 0


async def test_a_sentence_naming_a_credential_is_never_remembered(memory_factory):
    memory = await memory_factory()
    await memory.tell("My API key is sk-live-4f9a8b7c6d5e4f3a. Our staging password is hunter2-hunter2.")
    await memory.tell("The deploy token is ghp_abcdefghijklmnop1234.")
    assert memory.store().stats().active == 0
