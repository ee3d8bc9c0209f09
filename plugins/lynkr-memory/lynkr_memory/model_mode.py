"""``MEMORY_EXTRACTION_MODE=model``: the model reads what the user said, with the stored
memories it relates to, and answers which to add, update (supersede), delete or leave.

Its answer is JSON; anything unusable (no JSON, wrong shape, an upstream error) makes
lynkr-memory fall back to the heuristic extractor for that exchange. Ids the model was
not shown are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from lynkr_core import anthropic
from lynkr_memory.extract import TYPES, Candidate, entities, subject_key
from lynkr_memory.learn import Verdict
from lynkr_memory.store import Memory

SYSTEM = (
    "You maintain a long-term memory of durable facts about a user and their projects: preferences, "
    "decisions, facts and relationships. Given what the user just wrote and the related memories, answer "
    "with JSON only: {\"operations\": [{\"op\": \"add\"|\"update\"|\"delete\"|\"none\", \"id\": <memory id for "
    "update/delete>, \"type\": \"preference\"|\"decision\"|\"fact\"|\"relationship\", \"content\": \"<one "
    "self-contained sentence>\"}]}. Use update when the user contradicts or revises a memory, delete when "
    "they ask to forget it, and nothing for small talk, questions or one-off task details."
)
MAX_TEXT = 4000


class Operation(msgspec.Struct, kw_only=True):
    """One operation the model proposes."""

    op: Literal["add", "update", "delete", "none"]
    id: int | None = None
    type: str = "fact"
    content: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class Proposal(msgspec.Struct):
    operations: list[Operation]


_JSON = re.compile(r"\{.*\}", re.S)


def request(model: str, text: str, related: Sequence[Memory]) -> anthropic.MessagesRequest:
    """The Messages request asking the model about ``text``."""
    shown = "\n".join(f"  [{m.id}] ({m.type}) {m.content}" for m in related) or "  (none)"
    prompt = f"The user wrote:\n<<<\n{text[:MAX_TEXT]}\n>>>\n\nRelated memories:\n{shown}\n"
    body = {"model": model, "max_tokens": 1024, "system": SYSTEM,
            "messages": [{"role": "user", "content": prompt}]}
    return anthropic.decode_request(json.dumps(body).encode())


def parse(answer: anthropic.MessageResponse) -> list[Operation]:
    """The operations in the model's answer; ``ValueError`` when there are none to read."""
    text = "".join(block.text for block in answer.blocks() if isinstance(block, anthropic.TextBlock))
    found = _JSON.search(text)
    if found is None:
        raise ValueError("no JSON object in the answer")
    try:
        return msgspec.json.decode(found.group(0), type=Proposal).operations
    except msgspec.MsgspecError as exc:
        raise ValueError(f"unusable JSON: {exc}") from None


def verdict(operation: Operation, known: set[int]) -> Verdict | None:
    """What an operation means for the store (``None``: nothing, or an id it was not shown)."""
    if operation.op == "none":
        return None
    if operation.op in ("update", "delete") and operation.id not in known:
        return None
    content = operation.content.strip()
    memory_type = operation.type if operation.type in TYPES else "fact"
    candidate = Candidate(memory_type, content, subject_key(content), entities(content), 0.0)
    if operation.op == "delete":
        return Verdict(candidate, "delete", supersedes=[operation.id] if operation.id is not None else [])
    if not content:
        return None
    supersedes = [operation.id] if operation.op == "update" and operation.id is not None else []
    return Verdict(candidate, "add", 1.0, supersedes)
