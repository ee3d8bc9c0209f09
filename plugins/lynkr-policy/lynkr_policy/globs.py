"""Path patterns for ``POLICY_FILE_BLOCKED_PATHS`` and ``POLICY_FILE_ALLOWED_PATHS``.

Both the pattern and the path are split on ``/`` into components, dropping
empty and ``.`` components: ``./.env``, ``sub//.env`` and ``sub/./.env/``
are ``.env`` and ``sub/.env``. A leading ``/`` is dropped from a path (an
absolute path is refused by workspace confinement anyway); ``..`` stays a
literal component (confinement refuses it too).

The pattern language is gitignore's, without negation:

- Within a component, ``*`` matches any run of characters, ``?`` one
  character, ``[abc]``/``[!abc]`` one of a set (``fnmatch``). None of them
  crosses a ``/``.
- A component that is exactly ``**`` matches zero or more whole components:
  ``**/.env`` is ``.env`` at any depth, ``src/**`` everything under ``src``.
  ``**`` inside a component (``a**b``) is the same as ``*``.
- A pattern with no ``/`` except a trailing one (``.env``, ``*.pem``) matches
  a component at any depth, as if written ``**/.env``.
- A pattern with a ``/`` at its start or in its middle is anchored at the
  workspace root: ``/.env`` and ``config/*.json`` match only there.
- A pattern matches everything beneath what it matches: ``secrets`` also
  matches ``secrets/prod/db.txt``, ``docs`` allows ``docs/a/b.md``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

#: A component that matches zero or more components.
ANY_DEPTH = "**"


def path_parts(path: object) -> tuple[str, ...]:
    """``path`` (as the model gave it) as normalised components; never raises."""
    text = path if isinstance(path, str) else str(path)
    return tuple(part for part in text.split("/") if part not in ("", "."))


@dataclass(frozen=True, slots=True)
class PathPattern:
    """One compiled pattern; ``text`` is as configured, for messages."""

    text: str
    parts: tuple[str | re.Pattern[str], ...]

    @classmethod
    def compile(cls, text: str, *, ignore_case: bool = False) -> PathPattern:
        """Compile ``text``; ``ValueError`` when it names no path at all (``""``, ``./``)."""
        stripped = text.strip()
        components = [part for part in stripped.split("/") if part not in ("", ".")]
        if not components:
            raise ValueError(f"pattern {text!r} names no path")
        anchored = "/" in stripped.rstrip("/")
        flags = re.IGNORECASE if ignore_case else 0
        parts: list[str | re.Pattern[str]] = [] if anchored else [ANY_DEPTH]
        for component in [*components, ANY_DEPTH]:
            if component == ANY_DEPTH:
                if not parts or parts[-1] != ANY_DEPTH:
                    parts.append(ANY_DEPTH)
            else:
                parts.append(re.compile(fnmatch.translate(component), flags))
        return cls(text=stripped, parts=tuple(parts))

    def matches(self, path: tuple[str, ...]) -> bool:
        """Whether the normalised ``path`` (see ``path_parts``) is or lies under a match."""
        reached = {0}
        for part in self.parts:
            if isinstance(part, str):  # ANY_DEPTH
                reached = set(range(min(reached), len(path) + 1))
            else:
                reached = {i + 1 for i in reached if i < len(path) and part.match(path[i])}
            if not reached:
                return False
        return len(path) in reached


def compile_all(texts: list[str], *, ignore_case: bool = False) -> tuple[PathPattern, ...]:
    """Compile a configured list (``ValueError`` naming the first bad pattern)."""
    return tuple(PathPattern.compile(text, ignore_case=ignore_case) for text in texts)


def first_match(patterns: tuple[PathPattern, ...], path: tuple[str, ...]) -> PathPattern | None:
    """The first of ``patterns`` that matches ``path``, or ``None``."""
    return next((pattern for pattern in patterns if pattern.matches(path)), None)
