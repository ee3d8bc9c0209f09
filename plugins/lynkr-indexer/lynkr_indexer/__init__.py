"""lynkr indexer: a tree-sitter index of the workspace in SQLite, a ranked repo map and a generated CLAUDE.md."""
