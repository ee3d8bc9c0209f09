"""lynkr with the metrics plugin in front of a scripted Anthropic upstream, and the
metrics text read back with prometheus_client's own parser."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lynkr_core.testing.server import anthropic_gateway

UPSTREAM_KEY = "sk-upstream-secret-4242"


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A temporary ``LYNKR_HOME``; no multiprocess directory from the runner's environment."""
    for name in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir", "LYNKR_PLUGINS",
                 *(n for n in os.environ if n.startswith("METRICS_"))):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return {"LYNKR_HOME": str(tmp_path / "home")}


@pytest.fixture
def gateway(lynkr_env: dict[str, str]) -> Callable[..., Any]:
    """``async with gateway(fake, *plugins, **env) as url:`` lynkr with the Anthropic
    provider and lynkr-metrics (and ``plugins``) in front of ``fake``."""
    return functools.partial(anthropic_gateway, {**lynkr_env, "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY},
                             ["lynkr-metrics"])


class Scrape:
    """One ``/metrics`` answer, parsed: ``value(name, **labels)`` adds up the samples named
    ``name`` whose labels include ``labels``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        return sum(s.value for s in self.samples
                   if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    def labels(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name}


async def scrape(url: str, key: str | None = None, path: str = "/metrics") -> tuple[int, Scrape | None, str]:
    headers = {"x-api-key": key} if key else {}
    async with aiohttp.ClientSession() as http, http.get(url + path, headers=headers) as response:
        body = await response.text()
        if response.status != 200:
            return response.status, None, body
        return response.status, Scrape(body), response.headers["content-type"]


@pytest.fixture
def helpers() -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(scrape=scrape, Scrape=Scrape)
