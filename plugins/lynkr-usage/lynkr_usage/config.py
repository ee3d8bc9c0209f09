"""Settings of lynkr-usage: where the ledger and the price table live, and the limits of
each API key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from lynkr_core import ConfigError, Settings

PLUGIN_NAME = "lynkr-usage"
DB_NAME = "usage.db"
PRICES_NAME = "prices.toml"

NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class Limits(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What one API key may use; 0 is no limit. Per-minute limits are sliding windows of 60 s;
    the day and the month are UTC calendar ones."""

    requests_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    tokens_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    input_tokens_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    output_tokens_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    tokens_per_day: Annotated[int, msgspec.Meta(ge=0)] = 0
    cost_per_month: NonNegative = 0.0

    @property
    def any(self) -> bool:
        """Whether any limit is set (asked on every request: one comparison)."""
        return self != NO_LIMITS


#: Every limit 0.
NO_LIMITS = Limits()


class UsageSettings(msgspec.Struct, kw_only=True):
    """Each field's environment variable is in ``ENV``; ``keys`` only in ``lynkr.toml``."""

    #: The price table users edit (default ``LYNKR_HOME/lynkr-usage/prices.toml``).
    prices_file: str = ""
    queue_size: Annotated[int, msgspec.Meta(ge=1)] = 1000
    #: How long a recorded row waits for others, to be written in one transaction with them.
    flush_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    requests_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    tokens_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    input_tokens_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    output_tokens_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 0
    tokens_per_day: Annotated[int, msgspec.Meta(ge=0)] = 0
    cost_per_month: NonNegative = 0.0
    #: Limits of single keys by their id (``key_`` and 12 hex digits; ``anonymous`` without
    #: API keys), replacing the defaults above field by field.
    keys: dict[str, dict[str, int | float]] = {}


ENV = {
    "prices_file": "USAGE_PRICES_FILE",
    "queue_size": "USAGE_QUEUE_SIZE",
    "flush_seconds": "USAGE_FLUSH_SECONDS",
    "requests_per_minute": "RATE_LIMIT_REQUESTS_PER_MINUTE",
    "tokens_per_minute": "RATE_LIMIT_TOKENS_PER_MINUTE",
    "input_tokens_per_minute": "RATE_LIMIT_INPUT_TOKENS_PER_MINUTE",
    "output_tokens_per_minute": "RATE_LIMIT_OUTPUT_TOKENS_PER_MINUTE",
    "tokens_per_day": "BUDGET_TOKENS_PER_DAY",
    "cost_per_month": "BUDGET_COST_PER_MONTH",
}

LIMIT_FIELDS = tuple(Limits.__struct_fields__)


def load_settings(settings: Settings) -> UsageSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, UsageSettings, ENV)


def limits_by_key(config: UsageSettings) -> tuple[Limits, dict[str, Limits]]:
    """The default limits, and each configured key's (its table over the defaults)."""
    defaults = Limits(**{name: getattr(config, name) for name in LIMIT_FIELDS})
    per_key = {}
    for key, table in config.keys.items():
        unknown = set(table) - set(LIMIT_FIELDS)
        if unknown:
            raise ConfigError(f"{PLUGIN_NAME}: keys.{key}: unknown limits {sorted(unknown)}; "
                              f"known: {', '.join(LIMIT_FIELDS)}")
        try:
            per_key[key] = msgspec.convert({**msgspec.structs.asdict(defaults), **table}, Limits)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{PLUGIN_NAME}: keys.{key}: {exc}") from None
    return defaults, per_key


def data_dir(home: str | Path) -> Path:
    """``LYNKR_HOME/lynkr-usage`` (the server creates it; the CLI only reads)."""
    return Path(home).expanduser() / PLUGIN_NAME


def prices_path(config: UsageSettings, home: str | Path) -> Path:
    """The user's price table."""
    return Path(config.prices_file).expanduser() if config.prices_file else data_dir(home) / PRICES_NAME
