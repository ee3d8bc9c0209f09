"""lynkr memory: long-term memory across sessions. Learns preferences, decisions, facts and
relationships from what users write (off the request path), offers the relevant ones back
to the model, and gives the model tools to search, add and forget them.

It defines a hook of its own, ``lynkr_register_memory_retrievers`` (``hookspecs``), through
which it registers its FTS5 retriever and other plugins add theirs (embeddings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lynkr_core import Command, RequestPreparer, Settings, Tool, hookimpl
from lynkr_memory import cli, hookspecs
from lynkr_memory.config import load_settings
from lynkr_memory.memory import LongTermMemory
from lynkr_memory.retrievers import Fts5Retriever
from lynkr_memory.tools import ALL as TOOLS

#: The hooks this plugin defines for others (the core adds them before plugins register).
lynkr_hookspecs = hookspecs


@hookimpl
def lynkr_register_preparers(register: Callable[[RequestPreparer], None], settings: Settings) -> None:
    """Register the memory (unless ``MEMORY_ENABLED=false``): a preparer that injects relevant
    memories, and an ``ExchangeObserver`` that learns new ones."""
    config = load_settings(settings)
    if config.enabled:
        register(LongTermMemory(config))


@hookimpl
def lynkr_register_tools(register: Callable[[Tool], None], settings: Settings) -> None:
    """``memory_search``, ``memory_add``, ``memory_forget``, ``memory_stats`` (server mode;
    ``MEMORY_TOOLS_ENABLED=false`` leaves them out)."""
    config = load_settings(settings)
    if config.enabled and config.tools_enabled:
        for tool in TOOLS:
            register(tool())


@hookimpl
def lynkr_register_memory_retrievers(register: Callable[[Any], None], settings: Settings) -> None:
    """The FTS5 retriever (BM25 over a Porter-stemmed index)."""
    register(Fts5Retriever())


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """``lynkr memory search|add|forget|stats|export``."""
    register(Command("memory", "long-term memory (lynkr memory search|add|forget|stats|export)", cli.run,
                     cli.add_arguments))
