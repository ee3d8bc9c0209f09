"""Bounded output for the model: whole sections while they fit, then a note of what was cut."""

from __future__ import annotations

#: A section is cut mid-way (rather than left out) only when at least this much room is left.
MIN_PARTIAL_BYTES = 2_000
#: How many left-out section names the closing note lists.
MAX_NAMED_OMISSIONS = 50


class CappedText:
    """Collects text up to ``limit`` UTF-8 bytes; ``text()`` ends with what did not fit,
    the setting that sets the limit, and ``hint`` (how to see the rest)."""

    def __init__(self, limit: int, setting: str, hint: str) -> None:
        self.limit = limit
        self.setting = setting
        self.hint = hint
        self._parts: list[str] = []
        self._used = 0
        self._cut: list[str] = []
        self._omitted: list[str] = []

    @property
    def full(self) -> bool:
        """True once something had to be cut or left out."""
        return bool(self._cut or self._omitted)

    def add(self, text: str) -> None:
        """Add text that must not be split (a heading); counted, never cut."""
        self._parts.append(text)
        self._used += len(text.encode())

    def add_section(self, text: str, name: str) -> None:
        """Add a section named ``name``: whole if it fits, cut at a line end if there is
        still room for a useful part, otherwise only named in the closing note."""
        size = len(text.encode())
        room = self.limit - self._used
        if not self.full and size <= room:
            self.add(text)
            return
        if self.full or room < MIN_PARTIAL_BYTES:
            self.omit(name)
            return
        marker = f"[... the rest of {name} is cut ...]\n"
        cut = text.encode()[: max(room - len(marker.encode()), 0)].decode("utf-8", "ignore")
        cut = cut[: cut.rfind("\n") + 1] or cut
        self.add(cut + marker)
        self._cut.append(name)

    def omit(self, name: str) -> None:
        """Leave section ``name`` out (the output is full); the closing note names it."""
        self._omitted.append(name)

    def text(self) -> str:
        """Everything added, and a note naming what was cut or left out."""
        if not self.full:
            return "".join(self._parts)
        note = [f"\n[Output capped at {self.limit:,} bytes ({self.setting})."]
        if self._cut:
            note.append(f" Cut short: {', '.join(self._cut)}.")
        if self._omitted:
            named = ", ".join(self._omitted[:MAX_NAMED_OMISSIONS])
            more = len(self._omitted) - MAX_NAMED_OMISSIONS
            note.append(f" Not shown ({len(self._omitted)}): {named}")
            note.append(f" and {more} more." if more > 0 else ".")
        note.append(f" {self.hint}]\n")
        return "".join(self._parts) + "".join(note)
