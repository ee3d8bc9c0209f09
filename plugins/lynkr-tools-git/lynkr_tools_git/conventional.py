"""Conventional Commits: a commit subject's type, scope and description, and release sections."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(
    r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?:\s+(?P<description>.+)$"
)
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:\s*(?P<note>.*)$", re.MULTILINE)

BREAKING = "Breaking changes"
OTHER = "Other changes"

#: Section of each Conventional Commit type; anything else goes to ``OTHER``.
SECTION_OF_TYPE = {
    "feat": "Features",
    "fix": "Fixes",
    "perf": "Performance",
    "docs": "Documentation",
    "refactor": "Refactoring",
    "test": "Tests",
    "tests": "Tests",
    "chore": "Maintenance",
    "ci": "Maintenance",
    "build": "Maintenance",
}

#: Sections in the order release notes show them (breaking changes first).
SECTION_ORDER = (
    BREAKING, "Features", "Fixes", "Performance", "Documentation", "Refactoring", "Tests",
    "Maintenance", OTHER,
)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A commit message read as a Conventional Commit (``type`` is empty when it is not one)."""

    type: str
    scope: str
    description: str
    breaking: bool
    breaking_note: str

    @property
    def section(self) -> str:
        """The release-notes section this commit belongs to."""
        if self.breaking:
            return BREAKING
        return SECTION_OF_TYPE.get(self.type, OTHER)


def parse_message(message: str) -> ParsedMessage:
    """Read ``message``'s subject (and its ``BREAKING CHANGE:`` footer, if any)."""
    lines = message.strip().splitlines()
    subject = lines[0].strip() if lines else ""
    footer = _BREAKING_FOOTER.search(message)
    note = footer["note"].strip() if footer else ""
    match = _HEADER.match(subject)
    if match is None:
        return ParsedMessage("", "", subject, footer is not None, note)
    return ParsedMessage(
        type=match["type"].lower(),
        scope=(match["scope"] or "").strip(),
        description=match["description"].strip(),
        breaking=bool(match["bang"]) or footer is not None,
        breaking_note=note,
    )
