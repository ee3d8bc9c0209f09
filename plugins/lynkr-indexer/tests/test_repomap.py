"""The repo map: a module everything uses ranks above a leaf, the map fits its budget,
the same index gives the same bytes, and mentioned files rank higher."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anthropic_tokenizer
from lynkr_indexer.db import connect
from lynkr_indexer.fit import Entry, LineTokens, fit
from lynkr_indexer.fit import render as fit_render
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


def test_the_map_fills_its_budget(write, index, database):
    make_project(write, leaves=40)
    for k in range(8):
        write(f"lib/helpers{k}.py", "".join(
            f"def helper_{k}_{j}(first_argument, second_argument, *, keyword_option=None):\n    return 1\n\n"
            for j in range(12)))
    for n in range(40):
        write(f"features/uses{n}.py", "".join(f"from lib.helpers{k} import *\n" for k in range(8)) + "def go():\n"
              + "".join(f"    helper_{k}_{j}(1, 2)\n" for k in range(8) for j in range(12) if (j + n) % 3 == 0))
    index(pool_threshold=1000)  # parsed in this process: quicker for 90 small files
    assert anthropic_tokenizer.count_tokens(render(database, budget=30_000)) > 2000  # all there is
    for budget in (200, 500, 1200):
        text = render(database, budget=budget)
        # no more than the budget, and not much less while there is more to show
        assert 0.9 * budget < anthropic_tokenizer.count_tokens(text) <= budget


def test_fit_keeps_the_longest_prefix_that_fits():
    entries = [Entry(1.0 - n / 1000, f"pkg/module{n}.py", line, f"def function_{n}_{line}(value)")
               for n in range(60) for line in (3, 10)]
    line_tokens = LineTokens()
    text = fit(entries, 300, line_tokens)
    tokens = anthropic_tokenizer.count_tokens(text)
    assert 250 < tokens <= 300
    keep = next(k for k in range(len(entries) + 1) if fit_render(entries[:k]) == text)
    assert anthropic_tokenizer.count_tokens(fit_render(entries[:keep + 3])) > 300
    assert fit(entries, 300, line_tokens) == text  # the cached line counts give the same map
    assert text.splitlines()[:3] == ["pkg/module0.py:", "  3: def function_0_3(value)", "  10: def function_0_10(value)"]


def test_a_shared_mapper_gives_the_maps_a_fresh_one_gives(write, index, database):
    """Caches kept between maps (graph, rank, rows, line counts) do not change the bytes."""
    make_project(write, leaves=12)
    write("scripts/tool.py", "from features.feature3 import feature3_setup\n\n\ndef run():\n    return feature3_setup(None)\n")
    index()
    generation = int(database.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    shared = RepoMapper()
    ids = dict(database.execute("SELECT path, id FROM files").fetchall())
    mention_sets = [frozenset(), frozenset({ids["scripts/leaf.py"]}), frozenset({ids["scripts/tool.py"]}),
                    frozenset({ids["features/feature3.py"], ids["scripts/leaf.py"]})]
    for budget in (80, 300, 2000):
        maps = set()
        for mentioned in mention_sets:
            expected = RepoMapper().render(database, generation, budget=budget, mentioned=mentioned)
            assert shared.render(database, generation, budget=budget, mentioned=mentioned) == expected
            maps.add(expected)
        assert len(maps) > 1  # the mentions moved something


def test_the_mapper_finds_the_files_a_text_mentions(write, index, database):
    make_project(write)
    index()
    generation = int(database.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    ids = dict(database.execute("SELECT path, id FROM files").fetchall())
    mapper = RepoMapper()
    for text, expected in [
        ("Please fix lonely_helper", {"scripts/leaf.py"}),  # a name defined in one file only
        ("what does LONELY_HELPER do", set()),  # names match exactly
        ("see leaf.py and core/registry.py", {"scripts/leaf.py", "core/registry.py"}),
        ("the Registry class and feature2_setup", {"core/registry.py", "features/feature2.py"}),
        ("feature_setup is not a name, nor is registry", set()),
    ]:
        found = mapper.mentioned_files(database, generation, text)
        assert found == {ids[path] for path in expected}, text
        assert mentioned_files(database, text) == found


def test_threads_share_one_graph_per_generation(write, index, database, tmp_path):
    make_project(write)
    index()
    generation = int(database.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    mapper = RepoMapper()
    connections = [connect(tmp_path / "index.db") for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            graphs = list(pool.map(lambda connection: mapper.ranked(connection, generation), connections))
    finally:
        for connection in connections:
            connection.close()
    assert all(graph is graphs[0] for graph in graphs)
    assert graphs[0].generation == generation
    older = mapper.ranked(database, generation - 1)  # a reader behind the newest generation
    assert older.generation == generation - 1
    assert mapper.ranked(database, generation) is graphs[0]  # the newest is kept
