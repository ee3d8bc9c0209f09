"""The markers that open a printed tool call, found even when cut off at a fragment's end."""

from __future__ import annotations

import re

TOOL_CALL = "<tool_call>"
TOOL_CALL_END = "</tool_call>"
FUNCTION = "<function="
FUNCTION_END = "</function>"
MISTRAL = "[TOOL_CALLS]"
MARKERS = (TOOL_CALL, FUNCTION, MISTRAL)
MARKER_RE = re.compile("|".join(re.escape(marker) for marker in MARKERS))
LONGEST_MARKER = max(len(marker) for marker in MARKERS)


def is_marker_prefix(text: str) -> bool:
    """Whether ``text`` is the start of a marker, but not a whole one."""
    return any(len(text) < len(marker) and marker.startswith(text) for marker in MARKERS)


def partial_marker(chunk: str, i: int) -> int:
    """Where a marker cut off by the end of ``chunk`` starts (``len(chunk)`` if none)."""
    for start in range(max(i, len(chunk) - LONGEST_MARKER + 1), len(chunk)):
        if is_marker_prefix(chunk[start:]):
            return start
    return len(chunk)
