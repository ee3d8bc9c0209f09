"""Tool calls that local models print as text, recognised while the text streams.

Small models served by Ollama or llama.cpp often write a tool call into their
answer text instead of returning a structured call. ``TextToolCallExtractor``
finds the common forms and gives them back as ``ToolCallPiece``s:

1. Hermes / Qwen2.5: ``<tool_call>{"name": "Bash", "arguments": {...}}</tool_call>``
   (the closing tag may be missing at the end of the message).
2. A bare JSON call object, or a list of them, that is the whole message,
   optionally in a ```` ```json ```` fence. ``"parameters"`` may stand for
   ``"arguments"`` (Llama 3.x), and the arguments may be a JSON string.
3. Llama 3.1: ``<function=Write>{"file_path": "/x"}</function>``.
4. Mistral: ``[TOOL_CALLS] [{"name": ..., "arguments": {...}}]`` and
   ``[TOOL_CALLS]Bash[ARGS]{...}`` (optionally ``[CALL_ID]id`` before ``[ARGS]``).
5. Qwen3-Coder: ``<tool_call><function=Write><parameter=file_path>/x</parameter>
   </function></tool_call>``.
6. GLM-4.5: ``<tool_call>Write<arg_key>file_path</arg_key><arg_value>/x</arg_value>
   </tool_call>``.

A call counts only when its name is one of the declared tools (exactly, or
else case-insensitively when that picks out one tool) and its arguments are a
JSON object. Everything else is given back as ``TextPiece``s, byte for byte,
with one exception: whitespace-only text between two calls, or between a call
and the start or end of the message, is dropped (it would make an empty text
block).

Text is given back as soon as it cannot be part of a call; only text from a
possible start of a call (``<tool_call>``, ``<function=``, ``[TOOL_CALLS]``, or
``{``, ``[``, a fence as the first thing in the message) is held back, and for
at most ``MAX_CANDIDATE`` characters. Every decision depends on the text only,
never on how it was split into fragments, so feeding fragments then calling
``finish`` gives the same pieces as ``extract_tool_calls`` on the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.pieces import Piece, TextPiece, ToolCallPiece, ToolTextFactory

#: A possible call still open after this many characters is released as text.
MAX_CANDIDATE = 256 * 1024

_TOOL_CALL = "<tool_call>"
_TOOL_CALL_END = "</tool_call>"
_FUNCTION = "<function="
_FUNCTION_END = "</function>"
_MISTRAL = "[TOOL_CALLS]"
_MARKERS = (_TOOL_CALL, _FUNCTION, _MISTRAL)
_MARKER_RE = re.compile("|".join(re.escape(marker) for marker in _MARKERS))
_LONGEST_MARKER = max(len(marker) for marker in _MARKERS)

_MAX_NAME = 128
_MAX_CALL_ID = 64
_MAX_FENCE_LANGUAGE = 20
_FENCE_LANGUAGES = frozenset({"", "json", "tool_call", "tool_code"})
#: Keys a printed call object may have; anything else (``description``...) is
#: data, such as a tool definition, not a call.
_CALL_KEYS = frozenset({"name", "arguments", "parameters", "type", "id"})

_SPACE = re.compile(r"\s*")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_.:-]*")
_CALL_ID_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_FENCE_LANGUAGE_CHARS = re.compile(r"[A-Za-z0-9_+.-]*")
_STRING_RUN = re.compile(r'[^"\\]*')
#: What may stand between the structural characters of JSON outside strings.
_JSON_PLAIN = re.compile(r"[\s,:0-9eE+\-.truefalsn]*")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_CONTROL = re.compile(r"[\x00-\x1f]")
_FENCED = re.compile(r"```[^\n]*\n(?P<body>.*)```\Z", re.S)
_FUNCTION_HEAD = re.compile(r"<function=(?P<name>[^>\n]*)>")
_PARAMETER = re.compile(
    r"<parameter=(?P<key>[^>\n]*)>(?P<value>.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.S
)
_GLM_NAME = re.compile(r"(?P<name>[^\s<]+)\s*")
_GLM_PAIR = re.compile(
    r"<arg_key>(?P<key>.*?)</arg_key>\s*<arg_value>(?P<value>.*?)</arg_value>\s*", re.S
)
_MISTRAL_NAMED = re.compile(
    r"(?P<name>[A-Za-z0-9_.:-]+)(?:\[CALL_ID\][A-Za-z0-9_-]*)?\[ARGS\]\s*(?P<args>.*)\Z", re.S
)

Status = Literal["more", "done", "fail"]
_MORE: Status = "more"
_DONE: Status = "done"
_FAIL: Status = "fail"
Scan = tuple[int, Status]

# --------------------------------------------------------------------------- #
# Public API


class TextToolCallExtractor:
    """Splits one message's text, fed in fragments, into text and tool calls.

    ``tools`` maps each declared tool name to its JSON schema (the schema is
    used to type parameter values of the XML forms). Implements
    ``ToolTextExtractor``; use one instance per message.
    """

    def __init__(self, tools: Mapping[str, Mapping[str, Any]]) -> None:
        self._tools = _Tools(tools)
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
        self._candidate: _Candidate | None = None
        self._parts: list[str] = []  # the text of the candidate so far
        self._size = 0

    def _scan_text(self, chunk: str, i: int, out: _Out) -> int:
        """Read plain text from ``chunk[i:]`` up to the next possible call; the new index."""
        if self._at_start:
            start = _SPACE.match(chunk, i).end()
            self._text(chunk[i:start], out)
            if start == len(chunk):
                return start
            i = start
            rest = chunk[i:]
            if len(rest) < _LONGEST_MARKER and _is_marker_prefix(rest):
                self._hold = rest
                return len(chunk)
            self._at_start = False
            if chunk[i] in "{[`" and not chunk.startswith(_MISTRAL, i):
                self._open(_WholeMessage(self._tools), "")
                return i
        match = _MARKER_RE.search(chunk, i)
        if match is not None:
            self._text(chunk[i : match.start()], out)
            self._open(_CANDIDATES[match.group()](self._tools), match.group())
            return match.end()
        cut = _partial_marker(chunk, i)
        self._text(chunk[i:cut], out)
        self._hold = chunk[cut:]
        return len(chunk)

    def _open(self, candidate: _Candidate, marker: str) -> None:
        self._candidate = candidate
        self._parts = [marker] if marker else []
        self._size = len(marker)

    def _advance(self, chunk: str, i: int, out: _Out) -> int:
        """Read the open candidate on from ``chunk[i:]``; the new index."""
        candidate = self._candidate
        assert candidate is not None
        end = min(len(chunk), i + max(0, MAX_CANDIDATE - self._size))
        j, status = candidate.scan(chunk, i, end)
        if status == _MORE:
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
        calls = candidate.calls(text, final=False) if status == _DONE else None
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


# --------------------------------------------------------------------------- #
# Output and plain-text helpers


class _Out:
    """Pieces given back by one call, adjacent text merged."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def text(self, text: str) -> None:
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


def _is_marker_prefix(text: str) -> bool:
    """Whether ``text`` is the start of a marker, but not a whole one."""
    return any(len(text) < len(marker) and marker.startswith(text) for marker in _MARKERS)


def _partial_marker(chunk: str, i: int) -> int:
    """Where a marker cut off by the end of ``chunk`` starts (``len(chunk)`` if none)."""
    for start in range(max(i, len(chunk) - _LONGEST_MARKER + 1), len(chunk)):
        if _is_marker_prefix(chunk[start:]):
            return start
    return len(chunk)


def _skip_space(text: str, i: int, end: int) -> int:
    return _SPACE.match(text, i, end).end()


class _Tools:
    """The declared tools: names resolved exactly or case-insensitively, and schemas."""

    def __init__(self, tools: Mapping[str, Mapping[str, Any]]) -> None:
        self._schemas = dict(tools)
        folded: dict[str, str | None] = {}
        for name in tools:
            key = name.casefold()
            folded[key] = None if key in folded else name  # None: ambiguous
        self._folded = folded

    def resolve(self, name: Any) -> str | None:
        """The declared name ``name`` stands for, or ``None``."""
        if not isinstance(name, str):
            return None
        if name in self._schemas:
            return name
        return self._folded.get(name.casefold())

    def property_schema(self, tool: str, key: str) -> Any:
        """The schema of parameter ``key`` of ``tool``, or ``None``."""
        schema = self._schemas.get(tool)
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        return properties.get(key) if isinstance(properties, Mapping) else None


# --------------------------------------------------------------------------- #
# Scanners: find where a piece of structure ends, fed in fragments


class _Literal:
    """Matches one of a few fixed strings, character by character."""

    def __init__(self, *options: str) -> None:
        self.options = options
        self.got = ""

    def scan(self, text: str, i: int, end: int) -> tuple[int, Status, str]:
        while i < end:
            got = self.got + text[i]
            if not any(option.startswith(got) for option in self.options):
                return i, _FAIL, ""
            self.got = got
            i += 1
            if got in self.options:
                return i, _DONE, got
        return end, _MORE, ""


class _Run:
    """A run of characters matching ``chars``, at most ``limit`` long; done at the first other."""

    def __init__(self, chars: re.Pattern[str], limit: int) -> None:
        self.chars = chars
        self.limit = limit
        self.text = ""

    def scan(self, text: str, i: int, end: int) -> Scan:
        before = len(self.text)
        stop = self.chars.match(text, i, end).end()
        self.text += text[i:stop]
        if len(self.text) > self.limit:
            return i + self.limit - before, _FAIL
        return (end, _MORE) if stop == end else (stop, _DONE)


class _CloseTag:
    """Finds the end of a closing tag."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.tail = ""  # the last characters seen, in case the tag was cut off

    def scan(self, text: str, i: int, end: int) -> Scan:
        window = self.tail + text[i:end]
        found = window.find(self.tag)
        if found >= 0:
            return i - len(self.tail) + found + len(self.tag), _DONE
        self.tail = window[max(0, len(window) - len(self.tag) + 1) :]
        return end, _MORE


#: The first non-space characters a printed call object (or list of them) starts with.
_CALL_SHAPE = {"{": ("{", '"'), "[": ("[", "{", '"')}
#: The first non-space characters an arguments object starts with.
_ARGS_SHAPE = {"{": ("{", '"}')}


class _JsonExtent:
    """Finds where a JSON object or array ends (balanced brackets outside strings).

    Fails early at a character that cannot be in JSON outside a string, or
    when the value does not start with the characters of ``shape``.
    """

    def __init__(self, shape: Mapping[str, tuple[str, ...]], first: str) -> None:
        self.expect = shape[first]
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def scan(self, text: str, i: int, end: int) -> Scan:
        while i < end:
            if self.escaped:
                self.escaped = False
                i += 1
                continue
            if self.in_string:
                i = _STRING_RUN.match(text, i, end).end()
                if i == end:
                    break
                if text[i] == "\\":
                    self.escaped = True
                else:
                    self.in_string = False
                i += 1
                continue
            char = text[i]
            if self.expect:
                if self.depth and char.isspace():
                    i += 1
                    continue
                if char not in self.expect[0]:
                    return i, _FAIL
                self.expect = self.expect[1:]
            if char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
                if self.depth == 0:
                    return i + 1, _DONE
            else:
                stop = _JSON_PLAIN.match(text, i, end).end()
                if stop == i:
                    return i, _FAIL
                i = stop
                continue
            i += 1
        return end, _MORE


# --------------------------------------------------------------------------- #
# Candidates: a possible call, from its marker to its end


class _Candidate:
    """A possible call: ``scan`` finds where it ends (or that it is not one),
    ``calls`` reads the calls in its whole text."""

    def __init__(self, tools: _Tools) -> None:
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


class _ToolCallTag(_Candidate):
    """``<tool_call>`` with a JSON call (Hermes), ``<function=...>`` (Qwen3) or a name (GLM)."""

    def scan(self, text: str, i: int, end: int) -> Scan:
        while i < end:
            phase = self.phase
            if phase in ("lead", "trail"):
                i = _skip_space(text, i, end)
                if i == end:
                    break
                char = text[i]
                if phase == "trail":
                    self.sub, self.phase = _Literal(_TOOL_CALL_END), "literal"
                elif char in "{[":
                    self.sub, self.phase = _JsonExtent(_CALL_SHAPE, char), "json"
                elif char == "<":
                    self.sub, self.phase = _Literal(_FUNCTION, _TOOL_CALL_END), "literal"
                elif _NAME_CHARS.match(char).end():
                    self.sub, self.phase = _Run(_NAME_CHARS, _MAX_NAME), "name"
                else:
                    return i, _FAIL
            elif phase == "json":
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.phase = "trail"
            elif phase == "literal":
                i, status, got = self.sub.scan(text, i, end)
                if status != _DONE or got == _TOOL_CALL_END:
                    return i, status
                self.sub, self.phase = _CloseTag(_TOOL_CALL_END), "close"
            elif phase == "name":
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                if not self._name_known():
                    return i, _FAIL
                self.phase = "gap"
            elif phase == "gap":
                i = _skip_space(text, i, end)
                if i == end:
                    break
                if text[i] != "<":
                    return i, _FAIL
                self.sub, self.phase = _CloseTag(_TOOL_CALL_END), "close"
            else:
                return self.sub.scan(text, i, end)
        return end, _MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        content = text[len(_TOOL_CALL) :]
        if content.endswith(_TOOL_CALL_END):
            content = content[: -len(_TOOL_CALL_END)]
        elif not final:
            return None
        return _content_calls(content.strip(), self.tools)


class _FunctionTag(_Candidate):
    """``<function=Name>`` with a JSON object (Llama 3.1) or parameters (Qwen3)."""

    def scan(self, text: str, i: int, end: int) -> Scan:
        if self.sub is None:
            self.sub, self.phase = _Run(_NAME_CHARS, _MAX_NAME), "name"
        while i < end:
            phase = self.phase
            if phase == "name":
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                if text[i] != ">" or not self._name_known():
                    return i, _FAIL
                i += 1
                self.phase = "lead"
            elif phase in ("lead", "trail"):
                i = _skip_space(text, i, end)
                if i == end:
                    break
                char = text[i]
                if phase == "trail":
                    self.sub, self.phase = _Literal(_FUNCTION_END), "literal"
                elif char == "{":
                    self.sub, self.phase = _JsonExtent(_ARGS_SHAPE, char), "json"
                elif char == "<":
                    self.sub, self.phase = _CloseTag(_FUNCTION_END), "close"
                else:
                    return i, _FAIL
            elif phase == "json":
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.phase = "trail"
            elif phase == "literal":
                i, status, _ = self.sub.scan(text, i, end)
                return i, status
            else:
                return self.sub.scan(text, i, end)
        return end, _MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        head = _FUNCTION_HEAD.match(text)
        if head is None:
            return None
        closed = text.endswith(_FUNCTION_END)
        if not closed and not final:
            return None
        body = text[head.end() : len(text) - len(_FUNCTION_END) if closed else len(text)]
        if body.strip().startswith("{"):
            call = _call(head.group("name"), _decode_json(body.strip()), self.tools)
            return [call] if call else None
        return _qwen_calls(text, self.tools) if closed else None


class _Mistral(_Candidate):
    """``[TOOL_CALLS]`` with a JSON list of calls, or ``Name[ARGS]{...}``."""

    def scan(self, text: str, i: int, end: int) -> Scan:
        while i < end:
            phase = self.phase
            if phase in ("lead", "args"):
                i = _skip_space(text, i, end)
                if i == end:
                    break
                char = text[i]
                if phase == "lead" and char in "{[":
                    self.sub, self.phase = _JsonExtent(_CALL_SHAPE, char), "json"
                elif phase == "args" and char == "{":
                    self.sub, self.phase = _JsonExtent(_ARGS_SHAPE, char), "json"
                elif phase == "lead" and _NAME_CHARS.match(char).end():
                    self.sub, self.phase = _Run(_NAME_CHARS, _MAX_NAME), "name"
                else:
                    return i, _FAIL
            elif phase == "json":
                return self.sub.scan(text, i, end)
            elif phase == "name":
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                if not self._name_known():
                    return i, _FAIL
                self.sub, self.phase = _Literal("[ARGS]", "[CALL_ID]"), "literal"
            elif phase == "literal":
                i, status, got = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                if got == "[ARGS]":
                    self.phase = "args"
                else:
                    self.sub, self.phase = _Run(_CALL_ID_CHARS, _MAX_CALL_ID), "call_id"
            else:  # call_id
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.sub, self.phase = _Literal("[ARGS]"), "literal"
        return end, _MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        rest = text[len(_MISTRAL) :].strip()
        if rest[:1] in ("{", "["):
            return _json_calls(rest, self.tools)
        named = _MISTRAL_NAMED.match(rest)
        if named is None:
            return None
        call = _call(named.group("name"), _decode_json(named.group("args")), self.tools)
        return [call] if call else None


class _WholeMessage(_Candidate):
    """A message that starts with ``{``, ``[`` or a fence: a call only if it is all JSON calls.

    It never ends before the message does; it fails as soon as anything but
    the JSON (in its fence) and whitespace shows up.
    """

    def scan(self, text: str, i: int, end: int) -> Scan:
        while i < end:
            phase = self.phase
            if phase == "lead":
                char = text[i]
                if char == "`":
                    self.sub, self.phase = _Literal("```"), "fence"
                else:
                    self.sub, self.phase = _JsonExtent(_CALL_SHAPE, char), "json"
            elif phase == "fence":
                i, status, _ = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.sub, self.phase = _Run(_FENCE_LANGUAGE_CHARS, _MAX_FENCE_LANGUAGE), "language"
            elif phase == "language":
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.phase = "language_gap"
            elif phase == "language_gap":
                i = _SPACE_OR_TAB.match(text, i, end).end()
                if i == end:
                    break
                if text[i] != "\n" or self.sub.text.lower() not in _FENCE_LANGUAGES:
                    return i, _FAIL
                i += 1
                self.phase = "fenced"
            elif phase == "fenced":
                i = _skip_space(text, i, end)
                if i == end:
                    break
                if text[i] not in "{[":
                    return i, _FAIL
                self.sub, self.phase = _JsonExtent(_CALL_SHAPE, text[i]), "fenced_json"
            elif phase in ("json", "fenced_json"):
                i, status = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.phase = "trail" if phase == "json" else "fence_end"
            elif phase == "fence_end":
                i = _skip_space(text, i, end)
                if i == end:
                    break
                self.sub, self.phase = _Literal("```"), "closing_fence"
            elif phase == "closing_fence":
                i, status, _ = self.sub.scan(text, i, end)
                if status != _DONE:
                    return i, status
                self.phase = "trail"
            else:  # trail: only whitespace may follow
                i = _skip_space(text, i, end)
                if i < end:
                    return i, _FAIL
        return end, _MORE

    def calls(self, text: str, *, final: bool) -> list[ToolCallPiece] | None:
        if not final:
            return None
        body = text.strip()
        if body.startswith("```"):
            fenced = _FENCED.match(body)
            if fenced is None:
                return None
            body = fenced.group("body").strip()
        return _json_calls(body, self.tools)


_SPACE_OR_TAB = re.compile(r"[ \t]*")
_CANDIDATES: dict[str, type[_Candidate]] = {
    _TOOL_CALL: _ToolCallTag,
    _FUNCTION: _FunctionTag,
    _MISTRAL: _Mistral,
}

# --------------------------------------------------------------------------- #
# Reading calls out of a candidate's text

_INVALID = object()


def _content_calls(content: str, tools: _Tools) -> list[ToolCallPiece] | None:
    """The calls inside ``<tool_call>...</tool_call>`` (``content`` stripped)."""
    if content[:1] in ("{", "["):
        return _json_calls(content, tools)
    if content.startswith(_FUNCTION):
        return _qwen_calls(content, tools)
    return _glm_calls(content, tools)


def _json_calls(text: str, tools: _Tools) -> list[ToolCallPiece] | None:
    """A JSON call object, or a non-empty list of them, as calls."""
    value = _decode_json(text)
    items = value if isinstance(value, list) else [value]
    calls: list[ToolCallPiece] = []
    for item in items:
        call = _object_call(item, tools)
        if call is None:
            return None
        calls.append(call)
    return calls or None


def _object_call(value: Any, tools: _Tools) -> ToolCallPiece | None:
    """``{"name": ..., "arguments" | "parameters": ...}`` as a call."""
    if not isinstance(value, dict) or not value.keys() <= _CALL_KEYS:
        return None
    if value.get("type", "function") != "function":
        return None
    if ("arguments" in value) == ("parameters" in value):
        return None
    arguments = value["arguments"] if "arguments" in value else value["parameters"]
    if isinstance(arguments, str):
        try:
            arguments = parse_arguments(arguments)
        except MalformedArguments:
            return None
    return _call(value.get("name"), arguments, tools)


def _call(name: Any, arguments: Any, tools: _Tools) -> ToolCallPiece | None:
    """A call of a declared tool with a JSON object of arguments, or ``None``."""
    declared = tools.resolve(name)
    if declared is None or not isinstance(arguments, dict):
        return None
    return ToolCallPiece(name=declared, arguments=arguments)


def _qwen_calls(text: str, tools: _Tools) -> list[ToolCallPiece] | None:
    """``<function=Name><parameter=key>value</parameter>...</function>``, one or more."""
    calls: list[ToolCallPiece] = []
    i = 0
    while i < len(text):
        head = _FUNCTION_HEAD.match(text, i)
        close = text.find(_FUNCTION_END, head.end()) if head else -1
        if head is None or close < 0:
            return None
        name = tools.resolve(head.group("name").strip())
        arguments = _qwen_parameters(text[head.end() : close], name, tools)
        if name is None or arguments is None:
            return None
        calls.append(ToolCallPiece(name=name, arguments=arguments))
        i = _SPACE.match(text, close + len(_FUNCTION_END)).end()
    return calls or None


def _qwen_parameters(body: str, tool: str | None, tools: _Tools) -> dict[str, Any] | None:
    """The ``<parameter=key>value</parameter>`` pairs of a Qwen3 function body."""
    arguments: dict[str, Any] = {}
    i = _SPACE.match(body).end()
    while i < len(body):
        parameter = _PARAMETER.match(body, i)
        if parameter is None or tool is None:
            return None
        key = parameter.group("key").strip()
        arguments[key] = _typed(_strip_newline(parameter.group("value")), tools, tool, key)
        i = _SPACE.match(body, parameter.end()).end()
    return arguments


def _glm_calls(content: str, tools: _Tools) -> list[ToolCallPiece] | None:
    """``Name<arg_key>key</arg_key><arg_value>value</arg_value>...`` (GLM-4.5) as one call."""
    head = _GLM_NAME.match(content)
    name = tools.resolve(head.group("name")) if head else None
    if head is None or name is None:
        return None
    arguments: dict[str, Any] = {}
    i = head.end()
    while i < len(content):
        pair = _GLM_PAIR.match(content, i)
        if pair is None:
            return None
        key = pair.group("key").strip()
        arguments[key] = _typed(_strip_newline(pair.group("value")), tools, name, key)
        i = pair.end()
    return [ToolCallPiece(name=name, arguments=arguments)]


def _strip_newline(value: str) -> str:
    """``value`` without one leading and one trailing newline."""
    for newline in ("\r\n", "\n"):
        if value.startswith(newline):
            value = value[len(newline) :]
            break
    for newline in ("\r\n", "\n"):
        if value.endswith(newline):
            value = value[: -len(newline)]
            break
    return value


def _decode_json(text: str) -> Any:
    """``text`` as JSON; raw control characters in strings and (for an object)
    trailing commas are repaired; ``_INVALID`` if it is not JSON."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        pass
    escaped = _JSON_STRING.sub(_escape_controls, text)
    if escaped != text:
        try:
            return msgspec.json.decode(escaped)
        except msgspec.DecodeError:
            pass
    if text.startswith("{"):
        try:
            return parse_arguments(text)
        except MalformedArguments:
            pass
    return _INVALID


def _escape_controls(string: re.Match[str]) -> str:
    """A JSON string literal with raw control characters (newlines...) escaped."""
    return _CONTROL.sub(lambda char: f"\\u{ord(char.group()):04x}", string.group())


# --------------------------------------------------------------------------- #
# Typing XML parameter values with the tool's schema

_NON_STRING = frozenset({"integer", "number", "boolean", "object", "array", "null"})


def _typed(value: str, tools: _Tools, tool: str, key: str) -> Any:
    """A parameter value given as text, as the JSON type its schema asks for.

    Only when the schema allows no string: then the text is decoded as JSON,
    and kept as it is if that fails or gives a value of another type.
    """
    types = _schema_types(tools.property_schema(tool, key))
    if "string" in types or not types & _NON_STRING:
        return value
    text = value.strip()
    try:
        decoded = msgspec.json.decode(text)
    except msgspec.DecodeError:
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    kind = _json_type(decoded)
    fits = kind in types or (kind == "integer" and "number" in types)
    return decoded if fits else value


def _schema_types(schema: Any) -> set[str]:
    """The JSON types a schema allows (from ``type``, ``anyOf`` and ``oneOf``)."""
    if not isinstance(schema, Mapping):
        return set()
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set()
    if isinstance(declared, list):
        types.update(item for item in declared if isinstance(item, str))
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            for branch in branches:
                types |= _schema_types(branch)
    return types


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
