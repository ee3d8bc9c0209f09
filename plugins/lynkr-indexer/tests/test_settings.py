"""The plugin's settings: environment variables decoded and checked, exclusions applied."""

from __future__ import annotations

import pytest
from lynkr_indexer.config import load_settings

from lynkr_core import ConfigError, Settings


def test_settings_come_from_the_environment_and_are_checked():
    config = load_settings(Settings({"INDEXER_EXCLUDE": "gen/,*.tmp.py", "INDEXER_FRESHNESS": "request",
                                     "INDEXER_REPO_CONTEXT": "summary", "INDEXER_REPO_MAP_TOKENS": "2000"}))
    assert (config.exclude, config.freshness, config.repo_context, config.repo_map_tokens) == (
        ["gen/", "*.tmp.py"], "request", "summary", 2000)
    with pytest.raises(ConfigError, match="INDEXER_FRESHNESS"):
        load_settings(Settings({"INDEXER_FRESHNESS": "sometimes"}))
    with pytest.raises(ConfigError, match="INDEXER_REPO_MAP_TOKENS"):
        load_settings(Settings({"INDEXER_REPO_MAP_TOKENS": "10"}))


def test_extra_exclusions_add_to_the_defaults(write, index, database):
    write("gen/out.py", "def out(): pass\n")
    write("app/x.tmp.py", "def tmp(): pass\n")
    write("app/keep.py", "def keep(): pass\n")
    write("node_modules/a.js", "function a() {}\n")
    options = load_settings(Settings({"INDEXER_EXCLUDE": "gen/,*.tmp.py"})).options()
    index(exclude=options.exclude)
    assert [p for (p,) in database.execute("SELECT path FROM files")] == ["app/keep.py"]
