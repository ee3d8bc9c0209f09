"""The streaming extractor: splits a message's text, fed in fragments, into text and calls.

See the package docstring for the forms recognised and the rules followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynkr_core.translate.pieces import Piece, TextPiece, ToolCallPiece, ToolTextFactory
from lynkr_core.translate.tool_text.candidates import CANDIDATES, Candidate
from lynkr_core.translate.tool_text.markers import (
    LONGEST_MARKER,
    MARKER_RE,
    MISTRAL,
    is_marker_prefix,
    partial_marker,
)
from lynkr_core.translate.tool_text.scanners import DONE, MORE, SPACE
from lynkr_core.translate.tool_text.tools import DeclaredTools
from lynkr_core.translate.tool_text.whole_message import WholeMessage

#: A possible call still open after this many characters is released as text.
MAX_CANDIDATE = 256 * 1024


class TextToolCallExtractor:
    """Splits one message's text, fed in fragments, into text and tool calls.

    ``tools`` maps each declared tool name to its JSON schema (the schema is
    used to type parameter values of the XML forms). Implements
    ``ToolTextExtractor``; use one instance per message.
    """

    def __init__(self, tools: Mapping[str, Mapping[str, Any]]) -> None:
        self._tools = DeclaredTools(tools)
        self._reset()

    def feed(self, text: str) -> list[Piece]:
        """Take the next fragment; return the pieces that are certain so far."""
        out = _Out()
        if text:
            chunk = self._hold + text
            self._hold = ""
            i = 0
            while i < len(chunk):
                if self._candidate is not None:
                    i = self._advance(chunk, i, out)
                else:
                    i = self._scan_text(chunk, i, out)
        return out.pieces

    def finish(self) -> list[Piece]:
        """The end of the message: return everything still held back.

        A possible call that never closed is released as text, except an
        unterminated ``<tool_call>`` (or ``<function=...>``) whose content is
        already a complete, valid call.
        """
        out = _Out()
        candidate = self._candidate
        if candidate is not None:
            text = "".join(self._parts)
            calls = candidate.calls(text, final=True)
            if calls:
                self._accept(calls, out)
            else:
                self._text(text, out)
        elif self._hold:
            self._text(self._hold, out)
        if self._pending and not self._had_call:
            out.text(self._pending)
        self._reset()
        return out.pieces

    # ------------------------------------------------------------ internals

    def _reset(self) -> None:
        self._hold = ""  # the start of a marker, cut off at the end of the last fragment
        self._pending = ""  # whitespace that is dropped if a call comes next
        self._boundary = True  # at the start of the message or right after a call
        self._at_start = True  # nothing but whitespace seen yet
        self._had_call = False
        self._candidate: Candidate | None = None
        self._parts: list[str] = []  # the text of the candidate so far
        self._size = 0

    def _scan_text(self, chunk: str, i: int, out: _Out) -> int:
        """Read plain text from ``chunk[i:]`` up to the next possible call; the new index."""
        if self._at_start:
            start = SPACE.match(chunk, i).end()
            self._text(chunk[i:start], out)
            if start == len(chunk):
                return start
            i = start
            rest = chunk[i:]
            if len(rest) < LONGEST_MARKER and is_marker_prefix(rest):
                self._hold = rest
                return len(chunk)
            self._at_start = False
            if chunk[i] in "{[`" and not chunk.startswith(MISTRAL, i):
                self._open(WholeMessage(self._tools), "")
                return i
        match = MARKER_RE.search(chunk, i)
        if match is not None:
            self._text(chunk[i : match.start()], out)
            self._open(CANDIDATES[match.group()](self._tools), match.group())
            return match.end()
        cut = partial_marker(chunk, i)
        self._text(chunk[i:cut], out)
        self._hold = chunk[cut:]
        return len(chunk)

    def _open(self, candidate: Candidate, marker: str) -> None:
        self._candidate = candidate
        self._parts = [marker] if marker else []
        self._size = len(marker)

    def _advance(self, chunk: str, i: int, out: _Out) -> int:
        """Read the open candidate on from ``chunk[i:]``; the new index."""
        candidate = self._candidate
        assert candidate is not None
        end = min(len(chunk), i + max(0, MAX_CANDIDATE - self._size))
        j, status = candidate.scan(chunk, i, end)
        if status == MORE:
            self._parts.append(chunk[i:end])
            self._size += end - i
            if end == len(chunk):
                return end
            text = "".join(self._parts)  # too long: give up on it
        else:
            text = "".join(self._parts) + chunk[i:j]
            end = j
        self._candidate = None
        self._parts = []
        self._size = 0
        calls = candidate.calls(text, final=False) if status == DONE else None
        if calls:
            self._accept(calls, out)
        else:
            self._text(text, out)
        return end

    def _accept(self, calls: list[ToolCallPiece], out: _Out) -> None:
        self._pending = ""
        self._boundary = True
        self._had_call = True
        self._at_start = False
        out.pieces.extend(calls)

    def _text(self, text: str, out: _Out) -> None:
        """Give back text, holding whitespace that may sit between calls."""
        if not text:
            return
        if self._boundary:
            if text.isspace():
                self._pending += text
                return
            text = self._pending + text
            self._pending = ""
            self._boundary = False
        out.text(text)


def extract_tool_calls(text: str, tools: Mapping[str, Mapping[str, Any]]) -> list[Piece]:
    """The pieces of a whole message: ``TextToolCallExtractor`` fed all at once, then finished."""
    extractor = TextToolCallExtractor(tools)
    return _merge([*extractor.feed(text), *extractor.finish()])


def extractor_factory(tools: Mapping[str, Mapping[str, Any]]) -> ToolTextFactory:
    """A ``ToolTextFactory`` making a fresh ``TextToolCallExtractor`` for ``tools`` per message."""
    snapshot = dict(tools)

    def make() -> TextToolCallExtractor:
        return TextToolCallExtractor(snapshot)

    return make


class _Out:
    """Pieces given back by one call, adjacent text merged."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def text(self, text: str) -> None:
        """Add text, joined to the last piece if that is text too."""
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, TextPiece):
            self.pieces[-1] = TextPiece(last.text + text)
        else:
            self.pieces.append(TextPiece(text))


def _merge(pieces: list[Piece]) -> list[Piece]:
    """``pieces`` with adjacent text pieces joined."""
    out = _Out()
    for piece in pieces:
        if isinstance(piece, TextPiece):
            out.text(piece.text)
        else:
            out.pieces.append(piece)
    return out.pieces
