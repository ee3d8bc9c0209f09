"""lynkr indexer: a tree-sitter index of the workspace in SQLite (definitions, references,
imports, frameworks, tests), kept fresh by a file watcher; a ranked repo map; a generated
CLAUDE.md; tools for the model; ``lynkr index`` and ``lynkr claude-md``."""

from __future__ import annotations

import weakref
from collections.abc import Callable

from lynkr_core import Command, RequestPreparer, Settings, Tool, hookimpl
from lynkr_indexer import cli
from lynkr_indexer.config import load_settings, workspace_root
from lynkr_indexer.preparer import RepoContext
from lynkr_indexer.tools import index_tools
from lynkr_indexer.workspace import WorkspaceIndex

#: One ``WorkspaceIndex`` per app: the tools and the preparer of an app share it. Keyed by
#: the app's ``Settings`` (weakly, so it goes with the app; tests build many apps).
_indexes: weakref.WeakKeyDictionary[Settings, WorkspaceIndex] = weakref.WeakKeyDictionary()


def _index_for(settings: Settings) -> WorkspaceIndex:
    index = _indexes.get(settings)
    if index is None:
        index = _indexes[settings] = WorkspaceIndex(workspace_root(settings), settings.core.home, load_settings(settings))
    return index


@hookimpl
def lynkr_register_tools(register: Callable[[Tool], None], settings: Settings) -> None:
    """workspace_index_rebuild, workspace_symbol_search, workspace_symbol_references,
    workspace_file_outline and workspace_repo_map."""
    for tool in index_tools(_index_for(settings)):
        register(tool)


@hookimpl
def lynkr_register_preparers(register: Callable[[RequestPreparer], None], settings: Settings) -> None:
    """The repo map (or summary) in the system prompt (``INDEXER_REPO_CONTEXT``)."""
    register(RepoContext(_index_for(settings)))


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """``lynkr index [PATH] | stats | search NAME`` and ``lynkr claude-md``."""
    register(Command("index", "index the workspace (lynkr index [PATH] | stats | search NAME)", cli.run_index,
                     cli.add_index_arguments))
    register(Command("claude-md", "generate a CLAUDE.md from the index ([--write PATH] [--force])",
                     cli.run_claude_md, cli.add_claude_md_arguments))
