"""The repo map: a module everything uses ranks above a leaf, the map fits its budget,
the same index gives the same bytes, and mentioned files rank higher."""

from __future__ import annotations

import anthropic_tokenizer
from lynkr_indexer.repomap import RepoMapper, mentioned_files


def make_project(write, leaves: int = 6) -> None:
    write("core/registry.py", '''class Registry:
    """Keeps everything."""

    def add(self, item):
        return item

    def find(self, name):
        return name
''')
    for n in range(leaves):
        write(f"features/feature{n}.py", f'''from core.registry import Registry


def feature{n}_setup(registry: Registry):
    registry.add({n})
    return registry.find("f{n}")
''')
    write("scripts/leaf.py", "def lonely_helper():\n    return 42\n")


def render(database, **kwargs) -> str:
    generation = database.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
    return RepoMapper().render(database, int(generation), **kwargs)


def test_the_central_module_ranks_above_a_leaf(write, index, database):
    make_project(write)
    index()
    text = render(database, budget=2000)
    lines = text.splitlines()
    assert lines[0] == "core/registry.py:"
    assert "  1: class Registry" in lines[1:4]
    assert lines.index("core/registry.py:") < lines.index("scripts/leaf.py")


def test_the_map_fits_its_budget_and_is_byte_identical(write, index, database):
    make_project(write, leaves=40)
    index()
    small = render(database, budget=120)
    assert 0 < anthropic_tokenizer.count_tokens(small) <= 120
    assert small.startswith("core/registry.py:")
    large = render(database, budget=4000)
    assert len(large) > len(small)
    again = render(database, budget=120)
    assert again.encode() == small.encode()
    index()  # nothing changed: the same generation, the same bytes
    assert render(database, budget=120).encode() == small.encode()


def test_mentioned_files_rank_higher(write, index, database):
    make_project(write)
    index()
    mentioned = mentioned_files(database, "Please fix lonely_helper in scripts/leaf.py")
    assert len(mentioned) == 1
    text = render(database, budget=2000, mentioned=mentioned)
    assert text.splitlines()[0] == "scripts/leaf.py:"
