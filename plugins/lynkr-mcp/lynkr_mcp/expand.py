"""``${VAR}`` and ``${VAR:-default}`` in manifest values, as Claude Code expands them."""

from __future__ import annotations

import re
from collections.abc import Callable

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariable(ValueError):
    """A ``${VAR}`` without a default names a variable that is not set."""


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """``text`` with every reference replaced; ``MissingVariable`` naming an unset one."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = lookup(name)
        if value is not None:
            return value
        if default is not None:
            return default
        raise MissingVariable(f"environment variable {name} is not set (used as ${{{name}}})")

    return _REFERENCE.sub(replace, text)
