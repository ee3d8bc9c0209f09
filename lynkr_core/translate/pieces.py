"""What a text tool-call extractor gives back: plain text, or a tool call a
local model printed as text.

Some local models print tool calls in their text (``<tool_call>{...}``,
```` ```json ... ``` ````) instead of using the API's tool calls. A
``ToolTextExtractor`` reads that text as it streams and splits it into
``Piece``s; ``lynkr_core.translate.response`` and ``.stream`` turn them into
text and ``tool_use`` blocks. This module only defines the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class TextPiece:
    """Text to show as it is."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallPiece:
    """A tool call found in the text, with its parsed arguments."""

    name: str
    arguments: dict[str, Any]


Piece = TextPiece | ToolCallPiece


class ToolTextExtractor(Protocol):
    """Splits streamed text into text and tool calls; one instance per message."""

    def feed(self, text: str) -> list[Piece]:
        """Take more text; return the pieces that are final so far."""
        ...

    def finish(self) -> list[Piece]:
        """The end of the text: return whatever is still held back."""
        ...


#: Makes a fresh extractor for one message.
ToolTextFactory = Callable[[], ToolTextExtractor]
