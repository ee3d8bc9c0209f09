"""What a user wrote, as memory reads it: typed text only (no tool results, no reminders or
command echoes a client adds to a user turn)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lynkr_core import anthropic

_ADDED = re.compile(
    r"<(system-reminder|command-name|command-message|command-args|local-command-stdout|local-command-stderr)>"
    r".*?</\1>", re.S)
_NOT_TYPED = re.compile(r"^\s*(Caveat: The messages below|This session is being continued from a previous)")


def typed_text(message: anthropic.Message) -> str:
    """The text blocks of a user ``message`` that its user typed, joined ("" when none)."""
    if message.role != "user":
        return ""
    texts = message.texts()
    kept = [_ADDED.sub(" ", text).strip() for text in texts]
    return "\n".join(text for text in kept if text and not _NOT_TYPED.match(text))


def latest_prompt(messages: Sequence[anthropic.Message]) -> str:
    """The user's latest typed words: the query memory is retrieved for. Within an agent's
    task (turns of tool results) it stays the prompt that started the task."""
    for message in reversed(messages):
        text = typed_text(message)
        if text:
            return text
    return ""


def new_statement(messages: Sequence[anthropic.Message]) -> str:
    """What the user said in this exchange: the typed text of the last message, when it is
    the user's ("" for a turn of tool results)."""
    return typed_text(messages[-1]) if messages else ""
