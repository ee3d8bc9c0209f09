"""A tool call's arguments as they stream in: what can be sent at once, and the repaired
rest when the call ends.

A client concatenates the ``input_json_delta`` fragments of a tool block and parses
them when the block stops; a fragment once sent cannot be taken back. So text goes
out only while it is a prefix of a strict JSON object, and only up to points where
any later repair (``arguments.parse_arguments``) leaves it as it is: after the opening
``{``, after each complete top-level member, and inside a top-level string value
(Claude Code's ``Write`` content streams live). Commas wait for what follows them (a
trailing comma is dropped, never sent); escape sequences wait to be whole.

When the call ends, the rest is the text as it came when the whole is valid JSON;
otherwise the repaired arguments, re-encoded from the first member not yet sent (a
code fence or a double-encoded object is invalid from its first character, so
nothing was sent and the whole repaired object goes out). A call cut short
(``finish_reason: length``) sends what it has up to the first character that is not
valid JSON, as Anthropic streams a call cut by ``max_tokens``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments

_encode = msgspec.json.Encoder().encode
_WHITESPACE = " \t\r\n"
#: Up to the next character a string scan must look at.
_STRING_BODY = re.compile(r'[^"\\\x00-\x1f]*')
_LITERAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_HEX = set("0123456789abcdefABCDEF")

_Expect = Literal["start", "key", "key_or_close", "colon", "value", "value_or_close", "comma_or_close", "done"]


class StreamedArguments:
    """The argument text of one tool call, fed fragment by fragment.

    ``take()`` gives the text that may be sent now (and counts it as sent);
    ``finish()`` the rest once the call is complete (``MalformedArguments`` when the
    text cannot be repaired into an object that extends what was sent);
    ``truncated()`` the rest of a call cut short.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._text = ""
        self._joined = 0  # how many parts ``_text`` holds
        self._pos = 0  # scanned up to here
        self._sent = 0
        self._safe = 0  # text up to here may be sent
        self._invalid = False
        self._stack: list[str] = []  # open containers: "{" or "["
        self._expect: _Expect = "start"
        self._in_string = False
        self._string_is_top_value = False
        self._members = 0  # complete top-level members
        self._boundaries: dict[int, int] = {}  # end of a top-level member (or "{") -> members before it

    @property
    def sent(self) -> bool:
        """Whether any text has been taken."""
        return self._sent > 0

    def feed(self, fragment: str) -> None:
        """Add a fragment of the argument text."""
        if fragment:
            self._parts.append(fragment)

    def text(self) -> str:
        """All the text so far."""
        if self._joined < len(self._parts):
            self._text += "".join(self._parts[self._joined:])
            self._joined = len(self._parts)
        return self._text

    def take(self) -> str:
        """The text that can be sent now, counted as sent."""
        text = self.text()
        if not self._invalid:
            self._scan(text)
        piece = text[self._sent:self._safe]
        self._sent = max(self._sent, self._safe)
        return piece

    def finish(self) -> str:
        """The rest to send once the call is complete: the sent text and it make the
        repaired arguments. ``MalformedArguments`` when there is no such rest."""
        self.take()
        text = self.text()
        if not text.strip(_WHITESPACE):
            return "" if self._sent else "{}"
        rest = text[self._sent:]
        try:
            if isinstance(msgspec.json.decode(text), dict):
                return rest
        except msgspec.DecodeError:
            pass
        repaired = parse_arguments(text)
        if not self._sent:
            return _encode(repaired).decode()
        boundary = next((end for end in sorted(self._boundaries) if end >= self._sent), None)
        if boundary is None:
            raise MalformedArguments(f"arguments stopped being valid JSON after they were sent: {text[:80]!r}")
        rest = text[self._sent:boundary] + _tail(repaired, self._boundaries[boundary])
        try:
            same = msgspec.json.decode(text[:self._sent] + rest) == repaired
        except msgspec.DecodeError:
            same = False
        if not same:
            raise MalformedArguments(f"the repaired arguments do not extend the text already sent: {text[:80]!r}")
        return rest

    def truncated(self) -> str:
        """The rest of a call cut short: its text up to the first character that is not
        valid JSON."""
        self.take()
        end = self._pos if self._invalid else len(self.text())
        piece = self.text()[self._sent:end] if end > self._sent else ""
        self._sent = max(self._sent, end)
        return piece

    # ------------------------------------------------------------ scanning

    def _scan(self, text: str) -> None:
        """Scan ``text`` from where the last scan stopped, moving ``_safe`` forward."""
        pos, end = self._pos, len(text)
        while pos < end and not self._invalid:
            if self._in_string:
                after = self._string(text, pos)
                if after == pos:
                    break
                pos = after
                continue
            char = text[pos]
            if char in _WHITESPACE:
                pos += 1
                continue
            after = self._token(text, pos, char)
            if after == pos:  # invalid, or a token that the next fragment may complete
                break
            pos = after
        self._pos = pos

    def _string(self, text: str, pos: int) -> int:
        """Scan inside a string from ``pos``; returns where the scan stopped."""
        match = _STRING_BODY.match(text, pos)
        assert match is not None
        pos = match.end()
        if self._string_is_top_value:
            self._safe = pos
        if pos >= len(text):
            return pos
        char = text[pos]
        if char == '"':
            self._in_string = False
            pos += 1
            if self._expect == "colon":  # the string was a key
                return pos
            self._value_done(pos)
            return pos
        if char == "\\":
            escape = text[pos + 1:pos + 2]
            if not escape:
                return pos  # wait for the rest of the escape
            if escape == "u":
                digits = text[pos + 2:pos + 6]
                if len(digits) < 4:
                    return pos
                if not set(digits) <= _HEX:
                    self._invalid = True
                    return pos
                pos += 6
            elif escape in '"\\/bfnrt':
                pos += 2
            else:
                self._invalid = True
                return pos
            if self._string_is_top_value:
                self._safe = pos
            return pos
        self._invalid = True  # a raw control character
        return pos

    def _token(self, text: str, pos: int, char: str) -> int:
        """Scan the token at ``pos`` (not whitespace, not inside a string)."""
        expect = self._expect
        if expect == "start":
            if char != "{":
                self._invalid = True
                return pos
            self._stack.append("{")
            self._expect = "key_or_close"
            self._mark_boundary(pos + 1)
            return pos + 1
        if expect == "done":
            self._invalid = True
            return pos
        if expect in ("key", "key_or_close"):
            if char == '"':
                self._in_string, self._string_is_top_value = True, False
                self._expect = "colon"
                return pos + 1
            if char == "}" and expect == "key_or_close":
                return self._close(pos, char)
            self._invalid = True
            return pos
        if expect == "colon":
            if char != ":":
                self._invalid = True
                return pos
            self._expect = "value"
            return pos + 1
        if expect == "comma_or_close":
            if char == ",":
                self._expect = "key" if self._stack[-1] == "{" else "value"
                return pos + 1
            if char in "}]":
                return self._close(pos, char)
            self._invalid = True
            return pos
        # a value
        if char == "]" and expect == "value_or_close":
            return self._close(pos, char)
        if char == '"':
            self._in_string = True
            self._string_is_top_value = len(self._stack) == 1
            if self._string_is_top_value:
                self._safe = pos + 1
            return pos + 1
        if char in "{[":
            self._stack.append(char)
            self._expect = "key_or_close" if char == "{" else "value_or_close"
            return pos + 1
        match = _LITERAL.match(text, pos)
        if match is None or match.end() >= len(text) or _could_start_literal(text[pos:]):
            # not a literal, or one that may go on in the next fragment ("tr", "12", "-0.")
            if match is None and not _could_start_literal(text[pos:]):
                self._invalid = True
            return pos
        self._value_done(match.end())
        return match.end()

    def _close(self, pos: int, char: str) -> int:
        """The bracket ``char`` at ``pos`` closes the innermost container."""
        if (self._stack[-1] == "{") != (char == "}"):
            self._invalid = True
            return pos
        self._stack.pop()
        if not self._stack:
            self._expect = "done"
            self._safe = pos + 1
            return pos + 1
        self._value_done(pos + 1)
        return pos + 1

    def _value_done(self, end: int) -> None:
        """A value ended at ``end``: a top-level member is complete when it was at depth 1."""
        self._expect = "comma_or_close"
        if len(self._stack) == 1:
            self._members += 1
            self._mark_boundary(end)

    def _mark_boundary(self, end: int) -> None:
        self._boundaries[end] = self._members
        self._safe = end


def _could_start_literal(text: str) -> bool:
    """Whether ``text`` (the rest of the argument text) may still become a literal."""
    return any(word.startswith(text) for word in ("true", "false", "null")) or bool(
        re.fullmatch(r"-?(?:0|[1-9]\d*)?(?:\.\d*)?(?:[eE][+-]?\d*)?", text)
    )


def _tail(arguments: dict[str, Any], members: int) -> str:
    """The members of ``arguments`` from number ``members`` on, and the closing brace, as
    they follow ``members`` members already sent."""
    rest = list(arguments.items())[members:]
    encoded = ",".join(f"{_encode(key).decode()}:{_encode(value).decode()}" for key, value in rest)
    if not encoded:
        return "}"
    return ("," if members else "") + encoded + "}"
