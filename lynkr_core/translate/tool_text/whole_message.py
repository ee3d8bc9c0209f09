"""The marker-less form: a message that is nothing but JSON calls, maybe in a fence."""

from __future__ import annotations

import re

from lynkr_core.translate.pieces import ToolCallPiece
from lynkr_core.translate.tool_text.candidates import Candidate
from lynkr_core.translate.tool_text.json_calls import json_calls
from lynkr_core.translate.tool_text.scanners import (
    CALL_SHAPE,
    DONE,
    FAIL,
    MORE,
    FixedString,
    JsonExtent,
    Run,
    Scan,
    skip_space,
)

_MAX_FENCE_LANGUAGE = 20
_FENCE_LANGUAGES = frozenset({"", "json", "tool_call", "tool_code"})
_FENCE_LANGUAGE_CHARS = re.compile(r"[A-Za-z0-9_+.-]*")
_SPACE_OR_TAB = re.compile(r"[ \t]*")
_FENCED = re.compile(r"```[^\n]*\n(?P<body>.*)```\Z", re.S)


class WholeMessage(Candidate):
    """A message that starts with ``{``, ``[`` or a fence: a call only if it is all JSON calls.

    It never ends before the message does; it fails as soon as anything but
    the JSON (in its fence) and whitespace shows up.
    """

    def scan(self, text: str, i: int, end: int) -> Scan:
        """See ``Candidate.scan``."""
        while i < end:
            phase = self.phase
            if phase == "lead":
                char = text[i]
                if char == "`":
                    self.sub, self.phase = FixedString("```"), "fence"
                else:
                    self.sub, self.phase = JsonExtent(CALL_SHAPE, char), "json"
            elif phase == "fence":
                i, status, _ = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.sub, self.phase = Run(_FENCE_LANGUAGE_CHARS, _MAX_FENCE_LANGUAGE), "language"
            elif phase == "language":
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.phase = "language_gap"
            elif phase == "language_gap":
                i = _SPACE_OR_TAB.match(text, i, end).end()
                if i == end:
                    break
                if text[i] != "\n" or self.sub.text.lower() not in _FENCE_LANGUAGES:
                    return i, FAIL
                i += 1
                self.phase = "fenced"
            elif phase == "fenced":
                i = skip_space(text, i, end)
                if i == end:
                    break
                if text[i] not in "{[":
                    return i, FAIL
                self.sub, self.phase = JsonExtent(CALL_SHAPE, text[i]), "fenced_json"
            elif phase in ("json", "fenced_json"):
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.phase = "trail" if phase == "json" else "fence_end"
            elif phase == "fence_end":
                i = skip_space(text, i, end)
                if i == end:
                    break
                self.sub, self.phase = FixedString("```"), "closing_fence"
            elif phase == "closing_fence":
                i, status, _ = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.phase = "trail"
            else:  # trail: only whitespace may follow
                i = skip_space(text, i, end)
                if i < end:
                    return i, FAIL
        return end, MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        """See ``Candidate.calls``."""
        if not final:
            return None
        body = text.strip()
        if body.startswith("```"):
            fenced = _FENCED.match(body)
            if fenced is None:
                return None
            body = fenced.group("body").strip()
        return json_calls(body, self.tools)
