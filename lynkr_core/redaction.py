"""Masking configured secrets in text that leaves lynkr: log lines, and error messages
an upstream may have filled with the operator's key before they reach a client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from lynkr_core.config import mask

__all__ = ["Redactor"]


class Redactor:
    """Replaces each secret in a text with its masked form (``****`` and its last 4
    characters, as ``lynkr doctor`` shows it), also where a log renderer escaped it
    (JSON, ``repr``). One regular expression for all of them; a no-op without secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._masked: dict[str, str] = {}
        for secret in secrets:
            if not secret:
                continue
            masked = mask("secret", secret)
            for spelling in (secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]):
                self._masked.setdefault(spelling, masked)
        longest_first = sorted(self._masked, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, longest_first))) if longest_first else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        """``text`` with every secret masked."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda found: self._masked[found.group()], text)

    def __call__(self, logger: Any, method_name: str, rendered: Any) -> Any:
        """The last structlog processor: masks the rendered line, so the event, every
        value and the formatted exception are all covered by one pass."""
        if self._pattern is None:
            return rendered
        if isinstance(rendered, str):
            return self.redact(rendered)
        if isinstance(rendered, bytes):
            return self.redact(rendered.decode("utf-8", "replace")).encode()
        return rendered
