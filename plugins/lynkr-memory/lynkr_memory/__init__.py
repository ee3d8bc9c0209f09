"""lynkr memory: long-term memory across sessions (extraction, FTS5 retrieval, memory tools)."""
