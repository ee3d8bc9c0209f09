"""The server-side agent loop (``TOOL_EXECUTION_MODE=server``): lynkr runs its own tools
between model calls and the client sees one message."""
