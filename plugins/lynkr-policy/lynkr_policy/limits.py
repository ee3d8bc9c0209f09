"""Which tools may run, and how much one request may do: the tool lists and the caps."""

from __future__ import annotations

from collections.abc import Collection


def tool_list_reason(
    name: str, allowed: Collection[str], disallowed: Collection[str]
) -> str | None:
    """Why tool ``name`` may not run under ``POLICY_ALLOWED_TOOLS``/``POLICY_DISALLOWED_TOOLS``
    (exact names; the deny list wins), or ``None``."""
    if name in disallowed:
        return (
            f"the tool {name!r} is listed in POLICY_DISALLOWED_TOOLS. Do without it; only the "
            "user can allow it, by removing it from POLICY_DISALLOWED_TOOLS."
        )
    if allowed and name not in allowed:
        return (
            f"the tool {name!r} is not in POLICY_ALLOWED_TOOLS ({', '.join(sorted(allowed))}). "
            "Use one of those; the user can add it to POLICY_ALLOWED_TOOLS, or empty that "
            "list to allow every tool."
        )
    return None


def call_cap_reason(calls: int, max_calls: int) -> str | None:
    """Why call number ``calls`` of this request (itself counted) is over
    ``POLICY_MAX_TOOL_CALLS``, or ``None``."""
    if calls <= max_calls:
        return None
    return (
        f"this request has reached its limit of {max_calls} tool calls "
        f"(POLICY_MAX_TOOL_CALLS={max_calls}). Stop calling tools and answer with what you "
        "have; the user can continue in a new message or raise POLICY_MAX_TOOL_CALLS."
    )


def bytes_cap_reason(written: int, adding: int, max_bytes: int) -> str | None:
    """Why writing ``adding`` more bytes after ``written`` exceeds
    ``POLICY_MAX_BYTES_WRITTEN``, or ``None`` (exactly at the cap passes)."""
    if written + adding <= max_bytes:
        return None
    return (
        f"this call would write {adding} bytes after {written} already written in this "
        f"request, over the limit of {max_bytes} bytes per request "
        f"(POLICY_MAX_BYTES_WRITTEN={max_bytes}). Write less, or the user can raise "
        "POLICY_MAX_BYTES_WRITTEN or continue in a new message."
    )
