"""``<think>...</think>`` inside content text, split off as thinking.

Models served without a reasoning parser (DeepSeek-R1 distills, Qwen3 and
QwQ on vLLM, llama.cpp or LM Studio) print their reasoning inside the content
between these tags. ``ThinkTagSplitter`` splits content, whole or in stream
pieces (a tag may be cut anywhere), into thinking and text runs.

Modes: ``auto`` splits off a ``<think>`` block only at the start of the
content (leading whitespace aside), as these models print it; ``on`` splits
every ``<think>...</think>`` wherever it is; ``off`` leaves text as it is.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["THINK_TAG_MODES", "ThinkTagMode", "ThinkTagSplitter"]

ThinkTagMode = Literal["auto", "on", "off"]
THINK_TAG_MODES: tuple[str, ...] = ("auto", "on", "off")

OPEN = "<think>"
CLOSE = "</think>"

#: A run of content: ``(True, text)`` for thinking, ``(False, text)`` for text.
Run = tuple[bool, str]


class ThinkTagSplitter:
    """Splits content into thinking and text runs; ``feed`` each piece, then ``finish``.

    Text that may be the start of a tag is held until the next piece tells. The
    whitespace right after ``<think>`` and after ``</think>`` is dropped (the
    models put a newline or two there).
    """

    def __init__(self, mode: ThinkTagMode = "auto") -> None:
        self.mode = mode
        self._held = ""
        self._thinking = False
        self._looking = mode != "off"  # whether a ``<think>`` may still come
        self._trim = False  # drop whitespace before the next non-blank character

    def feed(self, text: str) -> list[Run]:
        """The runs that ``text`` (the next piece of content) completes."""
        if not self._looking and not self._thinking and not self._held:
            return self._emit([], False, text)
        out: list[Run] = []
        buffer = self._held + text
        self._held = ""
        while buffer:
            if self._thinking:
                end = buffer.find(CLOSE)
                if end < 0:
                    keep = _partial_tag(buffer, CLOSE)
                    self._emit(out, True, buffer[: len(buffer) - keep])
                    self._held = buffer[len(buffer) - keep :]
                    break
                self._emit(out, True, buffer[:end])
                buffer = buffer[end + len(CLOSE) :]
                self._thinking = False
                self._looking = self.mode == "on"
                self._trim = True
            elif not self._looking:
                self._emit(out, False, buffer)
                break
            elif self.mode == "auto":
                stripped = buffer.lstrip()
                if stripped.startswith(OPEN):
                    buffer = stripped[len(OPEN) :]
                    self._thinking = True
                    self._trim = True
                elif OPEN.startswith(stripped):  # blank, or a tag's start: wait for more
                    self._held = buffer
                    break
                else:
                    self._looking = False
            else:
                start = buffer.find(OPEN)
                if start < 0:
                    keep = _partial_tag(buffer, OPEN)
                    self._emit(out, False, buffer[: len(buffer) - keep])
                    self._held = buffer[len(buffer) - keep :]
                    break
                self._emit(out, False, buffer[:start])
                buffer = buffer[start + len(OPEN) :]
                self._thinking = True
                self._trim = True
        return out

    def finish(self) -> list[Run]:
        """The runs held back at the end of the content (an unclosed ``<think>`` is
        thinking to the end)."""
        held, self._held = self._held, ""
        self._looking = False
        return self._emit([], self._thinking, held)

    def flush(self) -> list[Run]:
        """What is held back, as the run it is in, without ending the content (before
        something that is not content, e.g. a tool call, is sent)."""
        if self._thinking or not self._looking:
            held, self._held = self._held, ""
            return self._emit([], self._thinking, held)
        return []

    def _emit(self, out: list[Run], thinking: bool, text: str) -> list[Run]:
        if self._trim:
            text = text.lstrip()
            if not text:
                return out
            self._trim = False
        if text:
            if out and out[-1][0] == thinking:
                out[-1] = (thinking, out[-1][1] + text)
            else:
                out.append((thinking, text))
        return out


def _partial_tag(text: str, tag: str) -> int:
    """How many characters at the end of ``text`` could begin ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
