"""Settings: the original's names, their defaults, and errors that name the variable."""

from __future__ import annotations

import pytest
from lynkr_cache.config import load_settings

from lynkr_core import ConfigError, Settings


def test_the_defaults():
    config = load_settings(Settings({}))
    assert (config.enabled, config.ttl_ms, config.max_entries, config.max_bytes) == (
        False, 300_000, 1000, 256 * 1024 * 1024
    )
    assert config.ttl_seconds == 300.0
    assert not config.nondeterministic


def test_the_environment_and_lynkr_toml():
    config = load_settings(Settings(
        {"PROMPT_CACHE_TTL_MS": "0", "PROMPT_CACHE_ENABLED": "yes"},
        {"plugins": {"lynkr-cache": {"max_entries": 5, "ttl_ms": 10}}},
    ))
    assert (config.ttl_ms, config.ttl_seconds, config.max_entries) == (0, None, 5)  # the environment wins
    assert config.enabled is True


@pytest.mark.parametrize(
    ("name", "value"),
    [("PROMPT_CACHE_MAX_ENTRIES", "0"), ("PROMPT_CACHE_TTL_MS", "-1"), ("PROMPT_CACHE_MAX_BYTES", "1000"),
     ("PROMPT_CACHE_ENABLED", "maybe")],
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(Settings({name: value}))
