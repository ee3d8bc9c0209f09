"""The price table: US dollars per million tokens, by model pattern.

The defaults ship with the plugin (``default_prices.toml``, dated); the user's own table
(``USAGE_PRICES_FILE``, default ``LYNKR_HOME/lynkr-usage/prices.toml``) replaces them
pattern by pattern. ``PriceBook`` re-reads the user's file when it changes, so an edit
takes effect without a restart. Costs are computed from stored token counts when asked
for: an edited price applies to past usage too.
"""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated

import msgspec
import structlog

from lynkr_core import ConfigError

log = structlog.get_logger("lynkr-usage")

PER_TOKENS = 1_000_000

Price = Annotated[float, msgspec.Meta(ge=0)]


class ModelPrice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Dollars per million tokens of each kind."""

    input: Price = 0.0
    output: Price = 0.0
    cache_read: Price = 0.0
    cache_write: Price = 0.0

    def cost(self, input: int, output: int, cache_read: int, cache_write: int) -> float:
        """The cost of these tokens."""
        return (input * self.input + output * self.output + cache_read * self.cache_read
                + cache_write * self.cache_write) / PER_TOKENS


class PriceTable(msgspec.Struct, kw_only=True):
    """A price table file: ``as_of``, ``currency`` and ``[models."<pattern>"]`` entries."""

    as_of: str = ""
    currency: str = "USD"
    models: dict[str, ModelPrice] = {}


def read_table(text: str, source: str) -> PriceTable:
    """Decode a price table; ``ConfigError`` naming the file and the entry when it is wrong."""
    try:
        return msgspec.convert(tomllib.loads(text), PriceTable)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"price table {source}: {exc}") from None


def default_table() -> PriceTable:
    """The table that ships with the plugin."""
    text = resources.files("lynkr_usage").joinpath("default_prices.toml").read_text(encoding="utf-8")
    return read_table(text, "default_prices.toml")


class PriceBook:
    """The effective prices: the defaults, then the user's file (read again when it changes).

    An invalid file raises ``ConfigError`` naming it; with ``keep_last_good`` (the server)
    it is logged instead and the table read before stays in effect, so that a typo does
    not stop every request that a cost budget applies to."""

    def __init__(self, path: Path, *, keep_last_good: bool = False) -> None:
        self.path = path
        self.keep_last_good = keep_last_good
        self.defaults = default_table()
        self._stamp: tuple[float, int] | None = None
        self._user = PriceTable()
        self._cache: dict[str, ModelPrice | None] = {}

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            stamp = None
        else:
            stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            self._user = read_table(self.path.read_text(encoding="utf-8"), str(self.path)) if stamp else PriceTable()
        except (ConfigError, OSError) as exc:
            if not self.keep_last_good:
                raise ConfigError(str(exc)) from None
            log.error("price_table_invalid", error=str(exc), fix="correct the file; the previous prices stay")
        self._stamp = stamp
        self._cache.clear()

    def table(self) -> PriceTable:
        """The merged table (the user's entries over the defaults)."""
        self._refresh()
        return PriceTable(as_of=self._user.as_of or self.defaults.as_of,
                          currency=self._user.currency or self.defaults.currency,
                          models={**self.defaults.models, **self._user.models})

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model``: an exact entry, else the longest matching pattern; ``None``
        when none matches."""
        self._refresh()
        if model not in self._cache:
            models = {**self.defaults.models, **self._user.models}
            found = models.get(model)
            if found is None:
                matching = [pattern for pattern in models if fnmatch.fnmatchcase(model, pattern)]
                found = models[max(matching, key=len)] if matching else None
            self._cache[model] = found
        return self._cache[model]

    def cost(self, model: str, input: int, output: int, cache_read: int, cache_write: int) -> float | None:
        """The cost of these tokens of ``model``; ``None`` when it has no price."""
        price = self.price(model)
        return None if price is None else price.cost(input, output, cache_read, cache_write)
