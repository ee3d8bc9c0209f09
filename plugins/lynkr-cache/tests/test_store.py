"""The store: persistent across restarts, entries expire, the count is capped (least recently
used out first), ``lynkr cache stats|clear`` read and empty it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lynkr_cache.config import cache_dir
from lynkr_cache.store import Store

from lynkr_core import Settings
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply

LYNKR = Path(sys.executable).with_name("lynkr")


def ask(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}]}


async def test_a_new_app_on_the_same_home_hits(lynkr, home):
    async with FakeAnthropic([Reply.text("kept across restarts")]) as upstream:
        async with lynkr(upstream, home) as gw:
            await gw.create()
        async with lynkr(upstream, home) as gw:
            message, headers = await gw.answered()
    assert headers["x-lynkr-cache"] == "hit"
    assert message.content[0].text == "kept across restarts"
    assert len(upstream.message_requests) == 1
    assert (home / "lynkr-cache" / "entries").is_dir()
    assert (home / "lynkr-cache").stat().st_mode & 0o777 == 0o700


async def test_entries_expire_after_the_ttl(lynkr, home):
    async with FakeAnthropic([Reply.text("old"), Reply.text("new")]) as upstream:
        async with lynkr(upstream, home, PROMPT_CACHE_TTL_MS="300") as gw:
            await gw.create()
            soon, soon_headers = await gw.answered()
            await asyncio.sleep(0.5)
            later, later_headers = await gw.answered()
    assert (soon.content[0].text, soon_headers["x-lynkr-cache"]) == ("old", "hit")
    assert (later.content[0].text, later_headers["x-lynkr-cache"]) == ("new", "miss")


async def test_the_least_recently_used_entries_go_past_max_entries(lynkr, home):
    async with FakeAnthropic(lambda body: Reply.text(f"answer to {body['messages'][0]['content']}")) as upstream:
        async with lynkr(upstream, home, PROMPT_CACHE_MAX_ENTRIES="2") as gw:
            await gw.create(**ask("a"))
            await gw.create(**ask("b"))
            await asyncio.sleep(0.01)  # access times are stored in seconds with fractions
            await gw.create(**ask("a"))  # hit: "a" is now more recent than "b"
            await gw.create(**ask("c"))  # stored; "b" goes
            outcomes = [(await gw.answered(**ask(t)))[1]["x-lynkr-cache"] for t in ("a", "c", "b")]
    assert outcomes == ["hit", "hit", "miss"]
    asked = [r.json["messages"][0]["content"] for r in upstream.message_requests]
    assert asked == ["a", "b", "c", "b"]
    store = Store(home / "lynkr-cache")
    assert len(store.entries) == 2
    store.close()


async def test_the_cache_can_be_turned_off(lynkr, home):
    async with FakeAnthropic() as upstream:
        async with lynkr(upstream, home, PROMPT_CACHE_ENABLED="false") as gw:
            await gw.create()
            _, headers = await gw.answered()
    assert "x-lynkr-cache" not in headers
    assert len(upstream.message_requests) == 2


@pytest.fixture
def cli(tmp_path, home):
    """``cli("stats")``: the exit code and output of ``lynkr cache stats`` with ``LYNKR_HOME`` set
    and only this plugin, run in an empty directory. It is the installed ``lynkr`` command
    (``lynkr_core.cli:main``): plugin tests may not import ``lynkr_core.cli``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LYNKR_", "PROMPT_CACHE_"))}
    environment.update(LYNKR_HOME=str(home), LYNKR_PLUGINS="lynkr-cache")

    def run(*argv: str) -> tuple[int, str]:
        done = subprocess.run(
            [str(LYNKR), "cache", *argv], env=environment, cwd=tmp_path,
            capture_output=True, text=True, timeout=60, check=False,
        )
        return done.returncode, done.stdout

    return run


async def test_stats_and_clear_on_the_command_line(lynkr, home, cli):
    async with FakeAnthropic([Reply.text("x", usage={"input_tokens": 100, "output_tokens": 20})]) as upstream:
        async with lynkr(upstream, home) as gw:
            await gw.create()
            await gw.create()
            await gw.create()
            await gw.create(extra_headers={"cache-control": "no-store"})
    code, out = cli("stats")
    assert code == 0
    assert "entries: 1\n" in out and "hits: 2 (67% of lookups)" in out and "misses: 1\n" in out
    assert "bypassed: 1\n" in out and "saved input tokens: 200" in out and "saved output tokens: 40" in out
    assert f"directory: {home / 'lynkr-cache'}" in out

    code, out = cli("stats", "--json")
    stats = json.loads(out)
    assert (stats["entries"], stats["hits"], stats["stored"]) == (1, 2, 1) and stats["bytes"] > 0

    code, out = cli("clear")
    assert code == 0 and "removed 1 stored answers" in out
    stats = json.loads(cli("stats", "--json")[1])
    assert (stats["entries"], stats["hits"]) == (0, 2)  # the counters are history

    cli("clear", "--stats")
    stats = json.loads(cli("stats", "--json")[1])
    assert (stats["entries"], stats["hits"], stats["saved_input_tokens"]) == (0, 0, 0)


def test_stats_of_a_home_that_has_no_cache_yet(home, cli):
    code, out = cli("stats")
    assert code == 0 and "entries: 0" in out and "hits: 0\n" in out
    code, out = cli("clear")
    assert code == 0 and "nothing stored" in out
    assert not (home / "lynkr-cache").exists()


def test_the_cli_finds_the_directory_the_server_uses(home):
    settings = Settings({"LYNKR_HOME": str(home)})
    assert cache_dir(settings) == home / "lynkr-cache"
    assert cache_dir(Settings({"LYNKR_HOME": "~/x"})).is_absolute()
