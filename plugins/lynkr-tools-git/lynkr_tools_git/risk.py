"""Risk notes for a set of changes: size, sensitive paths, deletions, binaries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: More changed lines (added + removed) than this makes a change large.
LARGE_CHANGE_LINES = 500
#: More changed files than this makes a change large.
LARGE_CHANGE_FILES = 25
#: How many paths a note names before it says "and N more".
MAX_NAMED_PATHS = 20

#: What makes a path sensitive, each with the reason shown to the model.
SENSITIVE_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"(^|/)\.env($|\.)|(^|/)[^/]*\.env$", "environment file (may hold secrets)"),
        (r"\.(pem|key|p12|pfx|crt|cer|der|jks|keystore|asc|gpg)$|(^|/)id_(rsa|dsa|ecdsa|ed25519)",
         "key or certificate"),
        (r"(^|[/._-])(secrets?|credentials?|passwords?|passwd|tokens?|api[_-]?keys?)([/._-]|$)",
         "secrets or credentials in the name"),
        (r"(^|/)\.github/workflows/|(^|/)\.gitlab-ci\.yml$|(^|/)\.circleci/|(^|/)Jenkinsfile$|"
         r"(^|/)azure-pipelines\.yml$|(^|/)\.buildkite/|(^|/)\.travis\.yml$",
         "CI configuration"),
        (r"(^|/)Dockerfile[^/]*$|(^|/)[^/]*\.dockerfile$|(^|/)(docker-)?compose[^/]*\.ya?ml$",
         "container build or deployment"),
        (r"(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|uv\.lock|"
         r"Pipfile\.lock|Cargo\.lock|go\.sum|Gemfile\.lock|composer\.lock|[^/]*\.lock)$",
         "dependency lockfile"),
        (r"(^|/)migrations?/|(^|/)alembic/|(^|/)db/migrate/", "database migration"),
        (r"(^|[/_-])(auth[nz]?|authentication|authorization|oauth2?|login|sessions?|"
         r"permissions?|security|acl|rbac)([/._-]|$)",
         "authentication or security code"),
    )
)


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One changed file: its line counts are ``None`` when it is binary or too large to diff."""

    path: str
    kind: str
    binary: bool
    added: int | None
    removed: int | None

    @property
    def lines(self) -> int:
        """Changed lines (added + removed; 0 when not counted)."""
        return (self.added or 0) + (self.removed or 0)


def sensitive_reason(path: str) -> str | None:
    """Why ``path`` deserves a careful review, or ``None``."""
    for pattern, reason in SENSITIVE_PATHS:
        if pattern.search(path):
            return reason
    return None


def risk_notes(files: Sequence[ChangedFile]) -> list[str]:
    """Notes for a reviewer, most important first; empty when nothing stands out."""
    notes = []
    changed_lines = sum(f.lines for f in files)
    paths = sorted({f.path for f in files})
    if changed_lines > LARGE_CHANGE_LINES or len(paths) > LARGE_CHANGE_FILES:
        notes.append(
            f"Large change: {changed_lines} changed lines in {len(paths)} files (thresholds: "
            f"{LARGE_CHANGE_LINES} lines, {LARGE_CHANGE_FILES} files); consider splitting it."
        )
    sensitive = [(path, reason) for path in paths if (reason := sensitive_reason(path))]
    for path, reason in sensitive[:MAX_NAMED_PATHS]:
        notes.append(f"Sensitive path: {path} ({reason}).")
    if len(sensitive) > MAX_NAMED_PATHS:
        notes.append(f"... and {len(sensitive) - MAX_NAMED_PATHS} more sensitive paths.")
    deleted = sorted({f.path for f in files if f.kind == "deleted"})
    if deleted:
        notes.append(f"Deleted files ({len(deleted)}): {_names(deleted)}.")
    binary = sorted({f.path for f in files if f.binary})
    if binary:
        notes.append(f"Binary files ({len(binary)}), not reviewable as text: {_names(binary)}.")
    return notes


def _names(paths: Sequence[str]) -> str:
    named = ", ".join(paths[:MAX_NAMED_PATHS])
    more = len(paths) - MAX_NAMED_PATHS
    return f"{named} and {more} more" if more > 0 else named
