"""``GET /v1/models`` for both kinds of client: Anthropic's model list with OpenAI's fields added.

Anthropic's SDK reads ``data[].id``, ``display_name``, ``created_at``,
``has_more``, ``first_id`` and ``last_id``; OpenAI's reads ``object: "list"`` and
``data[].id``, ``object: "model"``, ``created`` and ``owned_by``. One answer
carries both, and each SDK ignores the other's fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from lynkr_core.wire.anthropic import ModelInfo, ModelList


def model_for_both(model: ModelInfo, owner: str) -> dict[str, Any]:
    """One model as both formats describe it."""
    entry = msgspec.to_builtins(model)
    entry["type"] = "model"
    entry["object"] = "model"
    entry["created"] = _epoch(model.created_at)
    entry["owned_by"] = owner
    return entry


def models_for_both(models: ModelList, owner: str) -> dict[str, Any]:
    """The model list as both formats describe it; ``owner`` is the provider serving them."""
    return {
        "object": "list",
        "data": [model_for_both(model, owner) for model in models.data],
        "has_more": models.has_more,
        "first_id": models.first_id,
        "last_id": models.last_id,
    }


def _epoch(timestamp: str) -> int:
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0
