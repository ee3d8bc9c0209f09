"""Settings, with the original project's variable names."""

from __future__ import annotations

from typing import Literal

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-databricks"
DEFAULT_ENDPOINT_PATH = "/serving-endpoints/databricks-claude-sonnet-4-5/invocations"


class DatabricksSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=databricks`` (the default provider).

    ``api_base`` is the workspace URL (``https://adb-123.4.azuredatabricks.net``),
    ``endpoint_path`` the serving endpoint's invocations path; its endpoint
    name is the model. A routed model (``databricks:<endpoint name>``) is sent
    to that endpoint's invocations path instead.
    """

    api_base: str = ""
    api_key: str = ""
    endpoint_path: str = DEFAULT_ENDPOINT_PATH
    max_output_tokens: int | None = None
    context_window: int | None = None
    model_limits: list[str] = []
    model_reasoning: list[str] = []
    think_tags: Literal["auto", "on", "off"] = "auto"
    timeout_ms: int | None = None
    cache_control_models: list[str] = []


ENV = {
    "api_base": "DATABRICKS_API_BASE",
    "api_key": "DATABRICKS_API_KEY",
    "endpoint_path": "DATABRICKS_ENDPOINT_PATH",
    "max_output_tokens": "DATABRICKS_MAX_OUTPUT_TOKENS",
    "context_window": "DATABRICKS_CONTEXT_WINDOW",
    "model_limits": "DATABRICKS_MODEL_LIMITS",
    "model_reasoning": "DATABRICKS_MODEL_REASONING",
    "think_tags": "DATABRICKS_THINK_TAGS",
    "timeout_ms": "DATABRICKS_TIMEOUT_MS",
    "cache_control_models": "DATABRICKS_CACHE_CONTROL_MODELS",
}

HELP = {
    "api_base": "workspace URL, https://adb-<id>.<n>.azuredatabricks.net",
    "api_key": "personal access token",
    "endpoint_path": "serving endpoint's invocations path (its endpoint name is the model)",
    "max_output_tokens": "cap on max_tokens sent upstream (empty: the client's)",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "model_reasoning": "per model: model=effort|history|no-effort|no-history (joined by +), comma-separated (glob models)",
    "think_tags": "<think> blocks in content become thinking: auto (at the start), on (anywhere), off",
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
    "cache_control_models": "endpoints that take cache_control breakpoints on content parts, comma-separated globs",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})
#: Not asked either: per-model reasoning capabilities and think tags have working defaults.
REASONING = frozenset({"model_reasoning", "think_tags"})
#: Not asked by ``lynkr init``: prompt caching works without them (README, "Prompt caching").
CACHING = frozenset({"cache_control_models"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    DatabricksSettings, {k: v for k, v in ENV.items() if k not in LIMITS | CACHING | REASONING}, HELP, required={"api_base", "api_key"}, secret={"api_key"}
)
