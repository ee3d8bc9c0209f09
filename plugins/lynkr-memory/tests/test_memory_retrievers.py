"""Retrievers from other plugins, through lynkr-memory's own hook: blended with FTS5, kept in
sync with the store, refused when incomplete, skipped for a request when they fail."""

from __future__ import annotations

from types import SimpleNamespace

from lynkr_core import hookimpl


class Synonyms:
    """A toy retriever: a memory is relevant when the request names a synonym of its topic."""

    name = "synonyms"
    weight = 1.0

    def __init__(self, fail: bool = False) -> None:
        self.texts: dict[int, str] = {}
        self.fail = fail
        self.opened = None

    def open(self, directory):
        self.opened = directory

    def indexed(self):
        return set(self.texts)

    def index(self, memories):
        self.texts.update(memories)

    def remove(self, ids):
        for memory_id in ids:
            self.texts.pop(memory_id, None)

    def search(self, text, limit, session_id, include_global):
        if self.fail:
            raise RuntimeError("index corrupt")
        wanted = "database" if "postgres" in text.lower() else None
        return [(i, 0.9) for i, t in self.texts.items() if wanted and wanted in t][:limit]

    def close(self):
        pass


def plugin(*retrievers):
    @hookimpl(optionalhook=True)
    def lynkr_register_memory_retrievers(register, settings):
        for retriever in retrievers:
            register(retriever)

    return SimpleNamespace(lynkr_register_memory_retrievers=lynkr_register_memory_retrievers)


async def test_a_plugins_retriever_is_blended_and_kept_in_sync(memory_factory):
    synonyms = Synonyms()
    memory = await memory_factory(plugins=[("synonyms", plugin(synonyms))])
    assert [r.name for r in memory.memory.retrievers] == ["fts5", "synonyms"]
    assert synonyms.opened is not None and synonyms.opened.name == "lynkr-memory"
    await memory.tell("We decided to use MySQL for the database.")
    assert synonyms.texts == {1: "We decided to use MySQL for the database."}
    assert await memory.recall("tune the Postgres indexes") == ["We decided to use MySQL for the database."]
    await memory.tell("We switched to PostgreSQL for the database instead.")
    assert set(synonyms.texts) == {2}  # the superseded one is dropped
    assert await memory.memory.forget(2)
    assert synonyms.texts == {}


async def test_memories_learnt_before_a_retriever_was_installed_are_indexed_at_start(memory_factory):
    first = await memory_factory()
    await first.tell("We decided to use MySQL for the database.")
    synonyms = Synonyms()
    await memory_factory(plugins=[("synonyms", plugin(synonyms))], LYNKR_HOME=first.settings.core.home)
    assert synonyms.texts == {1: "We decided to use MySQL for the database."}


async def test_an_incomplete_retriever_is_refused_and_a_failing_one_skipped(memory_factory):
    incomplete = SimpleNamespace(name="half", weight=1.0, search=lambda *a: [])
    failing = Synonyms(fail=True)
    memory = await memory_factory(plugins=[("half", plugin(incomplete)), ("failing", plugin(failing))])
    assert [r.name for r in memory.memory.retrievers] == ["fts5", "synonyms"]
    await memory.tell("We decided to use MySQL for the database.")
    assert await memory.recall("which database?") == ["We decided to use MySQL for the database."]
