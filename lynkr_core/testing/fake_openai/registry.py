"""The dialects by name."""

from __future__ import annotations

from lynkr_core.testing.fake_openai.azure import _Azure
from lynkr_core.testing.fake_openai.databricks import _Databricks
from lynkr_core.testing.fake_openai.dialect import _Dialect
from lynkr_core.testing.fake_openai.llamacpp import _LlamaCpp
from lynkr_core.testing.fake_openai.openrouter import _OpenRouter

DIALECTS = ("openai", "azure", "databricks", "openrouter", "llamacpp")


_DIALECT_CLASSES: dict[str, type[_Dialect]] = {
    "openai": _Dialect,
    "azure": _Azure,
    "databricks": _Databricks,
    "openrouter": _OpenRouter,
    "llamacpp": _LlamaCpp,
}
