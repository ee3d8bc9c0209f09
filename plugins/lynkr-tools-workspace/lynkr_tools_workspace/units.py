"""Human-readable sizes and durations for what the model reads."""

from __future__ import annotations


def human_size(size: int) -> str:
    """``size`` bytes as ``812 B``, ``4.2 KiB``, ``3.1 GiB``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 match``, ``3 matches``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
