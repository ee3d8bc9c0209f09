"""lynkr policy: allow/deny lists and caps for tools, git push and test gates, writable paths."""
