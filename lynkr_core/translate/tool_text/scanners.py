"""Scanners: find where a piece of structure ends, fed in fragments.

Each ``scan(text, i, end)`` reads ``text[i:end]`` and says where it stopped:
``"more"`` (all read, not ended yet), ``"done"`` (ended there) or ``"fail"``
(what is there cannot belong to it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

Status = Literal["more", "done", "fail"]
MORE: Status = "more"
DONE: Status = "done"
FAIL: Status = "fail"
Scan = tuple[int, Status]

SPACE = re.compile(r"\s*")
_STRING_RUN = re.compile(r'[^"\\]*')
#: What may stand between the structural characters of JSON outside strings.
_JSON_PLAIN = re.compile(r"[\s,:0-9eE+\-.truefalsn]*")

#: The first non-space characters a printed call object (or list of them) starts with.
CALL_SHAPE = {"{": ("{", '"'), "[": ("[", "{", '"')}
#: The first non-space characters an arguments object starts with.
ARGS_SHAPE = {"{": ("{", '"}')}


def skip_space(text: str, i: int, end: int) -> int:
    """The index of the first non-space character of ``text[i:end]`` (``end`` if none)."""
    return SPACE.match(text, i, end).end()


class FixedString:
    """Matches one of a few fixed strings, character by character."""

    def __init__(self, *options: str) -> None:
        self.options = options
        self.got = ""

    def scan(self, text: str, i: int, end: int) -> tuple[int, Status, str]:
        """Like ``scan`` elsewhere, plus the string matched once done."""
        while i < end:
            got = self.got + text[i]
            if not any(option.startswith(got) for option in self.options):
                return i, FAIL, ""
            self.got = got
            i += 1
            if got in self.options:
                return i, DONE, got
        return end, MORE, ""


class Run:
    """A run of characters matching ``chars``, at most ``limit`` long; done at the first other."""

    def __init__(self, chars: re.Pattern[str], limit: int) -> None:
        self.chars = chars
        self.limit = limit
        self.text = ""

    def scan(self, text: str, i: int, end: int) -> Scan:
        """Read on; the run read so far is in ``self.text``."""
        before = len(self.text)
        stop = self.chars.match(text, i, end).end()
        self.text += text[i:stop]
        if len(self.text) > self.limit:
            return i + self.limit - before, FAIL
        return (end, MORE) if stop == end else (stop, DONE)


class CloseTag:
    """Finds the end of a closing tag."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.tail = ""  # the last characters seen, in case the tag was cut off

    def scan(self, text: str, i: int, end: int) -> Scan:
        """Read on; done just after the tag."""
        window = self.tail + text[i:end]
        found = window.find(self.tag)
        if found >= 0:
            return i - len(self.tail) + found + len(self.tag), DONE
        self.tail = window[max(0, len(window) - len(self.tag) + 1) :]
        return end, MORE


class JsonExtent:
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
        """Read on; done just after the closing bracket."""
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
                    return i, FAIL
                self.expect = self.expect[1:]
            if char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
                if self.depth == 0:
                    return i + 1, DONE
            else:
                stop = _JSON_PLAIN.match(text, i, end).end()
                if stop == i:
                    return i, FAIL
                i = stop
                continue
            i += 1
        return end, MORE
