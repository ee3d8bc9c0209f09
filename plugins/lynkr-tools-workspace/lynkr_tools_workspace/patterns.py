"""Glob patterns (``src/**/*.py``, ``*.{ts,tsx}``) as regular expressions over POSIX paths.

``*`` and ``?`` match within one path segment, ``**`` as a whole segment
matches any number of directories (none included), ``[abc]``/``[!abc]`` a
character class and ``{a,b}`` alternatives.
"""

from __future__ import annotations

import re

from lynkr_core import ToolError

MAGIC = frozenset("*?[{")
#: Alternatives a pattern with braces may expand to.
MAX_EXPANSIONS = 64


def expand_braces(pattern: str) -> list[str]:
    """``a{b,c}d`` as ``["abd", "acd"]`` (nested braces too); ToolError past ``MAX_EXPANSIONS``."""
    results: list[str] = []
    pending = [pattern]
    while pending:
        current = pending.pop()
        span = _first_group(current)
        if span is None:
            results.append(current)
            continue
        start, end, options = span
        pending.extend(current[:start] + option + current[end:] for option in reversed(options))
        if len(pending) + len(results) > MAX_EXPANSIONS:
            raise ToolError(f"the pattern {pattern!r} has too many {{...}} alternatives")
    return results


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching the whole relative path for ``pattern`` (braces expanded)."""
    alternatives = [_translate(expanded) for expanded in expand_braces(pattern)]
    return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.DOTALL)


def literal_prefix(pattern: str) -> list[str]:
    """The leading segments of ``pattern`` that hold no wildcard (where a walk may start)."""
    prefix: list[str] = []
    for segment in pattern.split("/")[:-1]:
        if any(char in MAGIC for char in segment):
            break
        prefix.append(segment)
    return prefix


def _first_group(text: str) -> tuple[int, int, list[str]] | None:
    """The first top-level ``{...}`` holding a comma: (start, end, options)."""
    start = text.find("{")
    while start != -1:
        depth, options, mark = 0, [], start + 1
        for index in range(start, len(text)):
            char = text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    options.append(text[mark:index])
                    if len(options) > 1:
                        return start, index + 1, options
                    break
            elif char == "," and depth == 1:
                options.append(text[mark:index])
                mark = index + 1
        start = text.find("{", start + 1)
    return None


def _translate(pattern: str) -> str:
    segments = [segment for segment in pattern.split("/") if segment not in ("", ".")]
    out: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        out.append(_segment(segment) + ("" if last else "/"))
    return "".join(out)


def _segment(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            while index + 1 < len(segment) and segment[index + 1] == "*":
                index += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", index + 2)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = segment[index + 1 : end]
                if body.startswith(("!", "^")):
                    body = "^/" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)
