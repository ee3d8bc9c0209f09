"""A tool call reduced to what the policy judges, tolerant of whatever a tool declared.

The core hands the policy the tool's own ``ToolEffects`` and decoded
arguments; a tool with odd declarations (a bare string for ``reads``, a
``None``) must get a refusal or a pass, never a crash of the policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lynkr_core import ToolCall


@dataclass(frozen=True, slots=True)
class CallView:
    """Name, paths, bytes, actions and commit message of one call."""

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    bytes_written: int
    actions: frozenset[str]
    message: object

    @classmethod
    def of(cls, call: ToolCall) -> CallView:
        """The view of ``call``; never raises."""
        effects = getattr(call, "effects", None)
        return cls(
            name=str(getattr(call, "name", "")),
            reads=_strings(getattr(effects, "reads", ())),
            writes=_strings(getattr(effects, "writes", ())),
            bytes_written=_count(getattr(effects, "bytes_written", 0)),
            actions=frozenset(_strings(getattr(effects, "actions", ()))),
            message=getattr(getattr(call, "args", None), "message", None),
        )


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes):
        value = (value,)
    try:
        items = tuple(value)
    except TypeError:
        items = (value,)
    return tuple(
        item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in items
    )


def _count(value: Any) -> int:
    """A byte count: whole, not negative; a fraction rounds up, anything else counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(math.ceil(value), 0)
