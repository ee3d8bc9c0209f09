"""Putting hidden tool turns back into a conversation, deterministically.

Each assistant message of the incoming history is looked up by its index and the
``fingerprint`` of its content among the session's ``HiddenTurns``. A match is
replaced by the exchange's hidden steps (assistant turn with lynkr's ``tool_use``
blocks, user turn with their results), followed by the rest of the client's copy of
the answer. Nothing but the history and the recorded turns decides the result, so
the same history always gives the same bytes and a later turn's prompt starts with
the same bytes as the one before.

Results are bounded by ``SESSION_RESTORE_MAX_BYTES``: walking the matched exchanges
oldest first, whenever the results kept whole exceed it, the oldest are cut to a
marker until those left fit in half of it. Because the walk only depends on the
history up to each exchange, a new turn changes nothing earlier unless it crosses
the bound, and then the earlier prefix changes once, for many turns to come.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from msgspec import Raw

from lynkr_core import anthropic
from lynkr_sessions.hidden import HiddenTurns, fingerprint, is_visible_text, result_block

Lookup = Callable[[int], Iterable[HiddenTurns]]


@dataclass(slots=True)
class Match:
    """An assistant message of the history (``index``) that one exchange's ``turns`` produced;
    ``tail`` is what of the client's copy follows the restored steps."""

    index: int
    turns: HiddenTurns
    tail: str | list[Raw]


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (without encoding it when it is ASCII)."""
    return len(text) if text.isascii() else len(text.encode())


def cut_marker(size: int) -> str:
    """What a restored tool result reads once cut to fit."""
    return (f"[lynkr: this tool result ({size} bytes) was cut from the restored conversation to keep "
            f"restored tool results under SESSION_RESTORE_MAX_BYTES; run the tool again if you need it]")


def tail_of(content: str | list[Raw], turns: HiddenTurns) -> str | list[Raw] | None:
    """The client's copy of an answer without the blocks the hidden steps gave it (they are
    restored with those steps); ``None`` when nothing would be left."""
    if isinstance(content, str):
        return content if turns.drop_blocks == 0 and content.strip() else None
    if len(content) == turns.blocks:
        cut = turns.drop_blocks
    else:  # the client left blocks out (thinking): count the texts it kept
        cut = 0
        texts = 0
        while texts < turns.drop_texts and cut < len(content):
            texts += is_visible_text(content[cut])
            cut += 1
    tail = content[cut:]
    return tail or None


def find_matches(messages: list[anthropic.Message], lookup: Lookup) -> list[Match]:
    """Every assistant message of ``messages`` some recorded exchange produced, in order."""
    matches = []
    for index, message in enumerate(messages):
        if message.role != "assistant":
            continue
        candidates = list(lookup(index))
        if not candidates:
            continue
        mark = fingerprint(message.content)
        for turns in candidates:
            if turns.fingerprint == mark:
                tail = tail_of(message.content, turns)
                if tail is not None:
                    matches.append(Match(index, turns, tail))
                break
    return matches


def results_to_cut(matches: list[Match], max_bytes: int) -> set[tuple[int, int, int]]:
    """``(match, step, result)`` of every result cut to its marker (``max_bytes`` 0: none)."""
    cut: set[tuple[int, int, int]] = set()
    if not max_bytes:
        return cut
    whole: deque[tuple[tuple[int, int, int], int]] = deque()
    total = 0
    for m, match in enumerate(matches):
        for s, step in enumerate(match.turns.steps):
            for r, result in enumerate(step.results):
                size = utf8_size(result.content)
                whole.append(((m, s, r), size))
                total += size
        if total > max_bytes:
            while whole and total > max_bytes // 2:
                key, size = whole.popleft()
                cut.add(key)
                total -= size
    return cut


def restore(messages: list[anthropic.Message], lookup: Lookup, max_bytes: int) -> tuple[list[anthropic.Message], int]:
    """``messages`` with the hidden steps of every matched answer put back before what is
    left of it, and how many exchanges were restored (0: ``messages`` as they were)."""
    matches = find_matches(messages, lookup)
    if not matches:
        return messages, 0
    cut = results_to_cut(matches, max_bytes)
    restored: list[anthropic.Message] = []
    start = 0
    for m, match in enumerate(matches):
        restored.extend(messages[start:match.index])
        for s, step in enumerate(match.turns.steps):
            restored.append(anthropic.Message(role="assistant", content=list(step.content)))
            blocks = [
                result_block(result, cut_marker(utf8_size(result.content)) if (m, s, r) in cut else None)
                for r, result in enumerate(step.results)
            ]
            restored.append(anthropic.Message(role="user", content=blocks))
        restored.append(anthropic.Message(role="assistant", content=match.tail))
        start = match.index + 1
    restored.extend(messages[start:])
    return restored, len(matches)
