"""The embedding model: ``tokenlearn-static-model``'s static (Model2Vec-style) model, whose
weights (a 10k x 64 int8 table, a token-to-row mapping and per-token weights) and
tokenizer ship inside the wheel. Encoding is a lookup and a weighted mean, in its Rust
core: no network, no torch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from static_model import get_embeddings

#: What of a text is embedded (a static model gains nothing from more).
MAX_CHARS = 2000


def encode(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text) for ``texts``."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.asarray(get_embeddings([text[:MAX_CHARS] for text in texts]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
