"""What git may do: ``POLICY_GIT_ALLOW_PUSH``/``_PULL``/``_COMMIT`` and
``POLICY_GIT_COMMIT_REGEX``.

The commit message rule uses ``re.search``, as the original project's
``RegExp.test`` did: the pattern may match anywhere in the message, so
anchor it (``^(feat|fix|docs): ``, or ``\\A...\\Z`` for the whole message)
to constrain its start or all of it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

PUSH, PULL, COMMIT = "git.push", "git.pull", "git.commit"

#: A message longer than this is shown cut in a refusal.
SHOWN_MESSAGE_CHARS = 200


def compile_commit_regex(text: str) -> re.Pattern[str] | None:
    """``POLICY_GIT_COMMIT_REGEX`` compiled (``None`` when empty); ``ValueError`` saying why not."""
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(
            f"POLICY_GIT_COMMIT_REGEX {text!r} is not a valid regular expression ({exc}); "
            "fix it or leave it empty"
        ) from None


@dataclass(frozen=True, slots=True)
class GitRules:
    """The git switches and the commit message rule."""

    allow_push: bool
    allow_pull: bool
    allow_commit: bool
    commit_regex: re.Pattern[str] | None

    def reason(self, actions: Collection[str], message: object) -> str | None:
        """Why a call taking ``actions`` (with commit message ``message``) may not run, or ``None``."""
        if PUSH in actions and not self.allow_push:
            return (
                "pushing is turned off on this gateway (POLICY_GIT_ALLOW_PUSH=false). Do not "
                "retry; tell the user the commits are ready to push, or that they can set "
                "POLICY_GIT_ALLOW_PUSH=true."
            )
        if PULL in actions and not self.allow_pull:
            return (
                "pulling is turned off on this gateway (POLICY_GIT_ALLOW_PULL=false); the user "
                "can set POLICY_GIT_ALLOW_PULL=true."
            )
        if COMMIT in actions and not self.allow_commit:
            return (
                "committing is turned off on this gateway (POLICY_GIT_ALLOW_COMMIT=false); leave "
                "the changes uncommitted, or the user can set POLICY_GIT_ALLOW_COMMIT=true."
            )
        if COMMIT in actions and self.commit_regex is not None:
            return self._message_reason(message, self.commit_regex)
        return None

    @staticmethod
    def _message_reason(message: object, regex: re.Pattern[str]) -> str | None:
        rule = (
            f"commit messages must match POLICY_GIT_COMMIT_REGEX={regex.pattern!r} "
            "(searched anywhere in the message unless the pattern is anchored)"
        )
        if not isinstance(message, str):
            return f"{rule}, and this commit gives no message. Give one that matches."
        if regex.search(message) is not None:
            return None
        shown = (
            message
            if len(message) <= SHOWN_MESSAGE_CHARS
            else message[:SHOWN_MESSAGE_CHARS] + "..."
        )
        return (
            f"{rule}; {shown!r} does not. Rewrite the message to match; the user can change "
            "or empty POLICY_GIT_COMMIT_REGEX."
        )
