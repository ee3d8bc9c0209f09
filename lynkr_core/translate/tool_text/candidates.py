"""Candidates: a possible call, from its marker to its end.

One class per marker (``<tool_call>``, ``<function=``, ``[TOOL_CALLS]``):
``scan`` finds where the call ends (or that it is not one) while the text
streams, ``calls`` reads the calls out of its whole text.
"""

from __future__ import annotations

import re
from typing import Any

from lynkr_core.translate.pieces import ToolCallPiece
from lynkr_core.translate.tool_text.json_calls import json_calls
from lynkr_core.translate.tool_text.json_text import decode_json
from lynkr_core.translate.tool_text.markers import (
    FUNCTION,
    FUNCTION_END,
    MISTRAL,
    TOOL_CALL,
    TOOL_CALL_END,
)
from lynkr_core.translate.tool_text.scanners import (
    ARGS_SHAPE,
    CALL_SHAPE,
    DONE,
    FAIL,
    MORE,
    CloseTag,
    FixedString,
    JsonExtent,
    Run,
    Scan,
    skip_space,
)
from lynkr_core.translate.tool_text.tools import DeclaredTools, tool_call
from lynkr_core.translate.tool_text.xml_calls import FUNCTION_HEAD, glm_calls, qwen_calls

_MAX_NAME = 128
_MAX_CALL_ID = 64
_NAME_CHARS = re.compile(r"[A-Za-z0-9_.:-]*")
_CALL_ID_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_MISTRAL_NAMED = re.compile(
    r"(?P<name>[A-Za-z0-9_.:-]+)(?:\[CALL_ID\][A-Za-z0-9_-]*)?\[ARGS\]\s*(?P<args>.*)\Z", re.S
)


class Candidate:
    """A possible call: ``scan`` finds where it ends (or that it is not one),
    ``calls`` reads the calls in its whole text."""

    def __init__(self, tools: DeclaredTools) -> None:
        self.tools = tools
        self.phase = "lead"
        self.sub: Any = None

    def scan(self, text: str, i: int, end: int) -> Scan:
        """Read ``text[i:end]``: ``(end, "more")``, or where it ended or failed."""
        raise NotImplementedError

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        """The calls in the candidate's ``text`` (``final``: cut off by the end of the message)."""
        raise NotImplementedError

    def _name_known(self) -> bool:
        return self.tools.resolve(self.sub.text) is not None


class ToolCallTag(Candidate):
    """``<tool_call>`` with a JSON call (Hermes), ``<function=...>`` (Qwen3) or a name (GLM)."""

    def scan(self, text: str, i: int, end: int) -> Scan:
        """See ``Candidate.scan``."""
        while i < end:
            phase = self.phase
            if phase in ("lead", "trail"):
                i = skip_space(text, i, end)
                if i == end:
                    break
                char = text[i]
                if phase == "trail":
                    self.sub, self.phase = FixedString(TOOL_CALL_END), "literal"
                elif char in "{[":
                    self.sub, self.phase = JsonExtent(CALL_SHAPE, char), "json"
                elif char == "<":
                    self.sub, self.phase = FixedString(FUNCTION, TOOL_CALL_END), "literal"
                elif _NAME_CHARS.match(char).end():
                    self.sub, self.phase = Run(_NAME_CHARS, _MAX_NAME), "name"
                else:
                    return i, FAIL
            elif phase == "json":
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.phase = "trail"
            elif phase == "literal":
                i, status, got = self.sub.scan(text, i, end)
                if status != DONE or got == TOOL_CALL_END:
                    return i, status
                self.sub, self.phase = CloseTag(TOOL_CALL_END), "close"
            elif phase == "name":
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                if not self._name_known():
                    return i, FAIL
                self.phase = "gap"
            elif phase == "gap":
                i = skip_space(text, i, end)
                if i == end:
                    break
                if text[i] != "<":
                    return i, FAIL
                self.sub, self.phase = CloseTag(TOOL_CALL_END), "close"
            else:
                return self.sub.scan(text, i, end)
        return end, MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        """See ``Candidate.calls``."""
        content = text[len(TOOL_CALL) :]
        if content.endswith(TOOL_CALL_END):
            content = content[: -len(TOOL_CALL_END)]
        elif not final:
            return None
        return _content_calls(content.strip(), self.tools)


class FunctionTag(Candidate):
    """``<function=Name>`` with a JSON object (Llama 3.1) or parameters (Qwen3)."""

    def scan(self, text: str, i: int, end: int) -> Scan:
        """See ``Candidate.scan``."""
        if self.sub is None:
            self.sub, self.phase = Run(_NAME_CHARS, _MAX_NAME), "name"
        while i < end:
            phase = self.phase
            if phase == "name":
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                if text[i] != ">" or not self._name_known():
                    return i, FAIL
                i += 1
                self.phase = "lead"
            elif phase in ("lead", "trail"):
                i = skip_space(text, i, end)
                if i == end:
                    break
                char = text[i]
                if phase == "trail":
                    self.sub, self.phase = FixedString(FUNCTION_END), "literal"
                elif char == "{":
                    self.sub, self.phase = JsonExtent(ARGS_SHAPE, char), "json"
                elif char == "<":
                    self.sub, self.phase = CloseTag(FUNCTION_END), "close"
                else:
                    return i, FAIL
            elif phase == "json":
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.phase = "trail"
            elif phase == "literal":
                i, status, _ = self.sub.scan(text, i, end)
                return i, status
            else:
                return self.sub.scan(text, i, end)
        return end, MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        """See ``Candidate.calls``."""
        head = FUNCTION_HEAD.match(text)
        if head is None:
            return None
        closed = text.endswith(FUNCTION_END)
        if not closed and not final:
            return None
        body = text[head.end() : len(text) - len(FUNCTION_END) if closed else len(text)]
        if body.strip().startswith("{"):
            call = tool_call(head.group("name"), decode_json(body.strip()), self.tools)
            return [call] if call else None
        return qwen_calls(text, self.tools) if closed else None


class Mistral(Candidate):
    """``[TOOL_CALLS]`` with a JSON list of calls, or ``Name[ARGS]{...}``."""

    def scan(self, text: str, i: int, end: int) -> Scan:
        """See ``Candidate.scan``."""
        while i < end:
            phase = self.phase
            if phase in ("lead", "args"):
                i = skip_space(text, i, end)
                if i == end:
                    break
                char = text[i]
                if phase == "lead" and char in "{[":
                    self.sub, self.phase = JsonExtent(CALL_SHAPE, char), "json"
                elif phase == "args" and char == "{":
                    self.sub, self.phase = JsonExtent(ARGS_SHAPE, char), "json"
                elif phase == "lead" and _NAME_CHARS.match(char).end():
                    self.sub, self.phase = Run(_NAME_CHARS, _MAX_NAME), "name"
                else:
                    return i, FAIL
            elif phase == "json":
                return self.sub.scan(text, i, end)
            elif phase == "name":
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                if not self._name_known():
                    return i, FAIL
                self.sub, self.phase = FixedString("[ARGS]", "[CALL_ID]"), "literal"
            elif phase == "literal":
                i, status, got = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                if got == "[ARGS]":
                    self.phase = "args"
                else:
                    self.sub, self.phase = Run(_CALL_ID_CHARS, _MAX_CALL_ID), "call_id"
            else:  # call_id
                i, status = self.sub.scan(text, i, end)
                if status != DONE:
                    return i, status
                self.sub, self.phase = FixedString("[ARGS]"), "literal"
        return end, MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        """See ``Candidate.calls``."""
        rest = text[len(MISTRAL) :].strip()
        if rest[:1] in ("{", "["):
            return json_calls(rest, self.tools)
        named = _MISTRAL_NAMED.match(rest)
        if named is None:
            return None
        call = tool_call(named.group("name"), decode_json(named.group("args")), self.tools)
        return [call] if call else None


def _content_calls(content: str, tools: DeclaredTools) -> list[ToolCallPiece] | None:
    """The calls inside ``<tool_call>...</tool_call>`` (``content`` stripped)."""
    if content[:1] in ("{", "["):
        return json_calls(content, tools)
    if content.startswith(FUNCTION):
        return qwen_calls(content, tools)
    return glm_calls(content, tools)


#: The candidate each marker opens.
CANDIDATES: dict[str, type[Candidate]] = {
    TOOL_CALL: ToolCallTag,
    FUNCTION: FunctionTag,
    MISTRAL: Mistral,
}
