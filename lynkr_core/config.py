"""Settings from the environment, a ``.env`` file and ``lynkr.toml``.

Precedence, highest first: the process environment, ``.env``, ``lynkr.toml``,
defaults. Names follow the original project's environment variables
(``MODEL_PROVIDER``, ``PORT``, ``WORKSPACE_ROOT``...), so an existing ``.env``
keeps working. In ``lynkr.toml`` the core's settings sit in a ``[lynkr]``
table and each plugin's in ``[plugins.<plugin name>]``; any key may also be
written under ``[env]`` with its environment variable name.

A plugin decodes its own section with ``Settings.plugin_config``, into a
msgspec Struct of its own.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from dotenv import dotenv_values

T = TypeVar("T")

SECRET_MARKERS = ("key", "token", "secret", "password", "credential")


class ConfigError(Exception):
    """The configuration is invalid; the message names the setting and the fix."""


#: A positive number of seconds, at most a day (a client timeout, never infinite).
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]


class CoreSettings(msgspec.Struct, kw_only=True):
    """The core's own settings. Each field's environment name is in ``CORE_ENV``."""

    model_provider: str = "databricks"
    host: str = "127.0.0.1"
    port: int = 8080
    workspace_root: str = "."
    home: str = "~/.lynkr"
    api_keys: list[str] = []
    admin_keys: list[str] = []
    allow_unauthenticated_public_bind: bool = False
    max_body_bytes: int = 32 * 1024 * 1024
    keep_alive_timeout_seconds: Seconds = 75.0
    shutdown_grace_seconds: Seconds = 20.0
    body_timeout_seconds: Seconds = 60.0
    allow_private_urls: bool = False
    url_allowed_hosts: list[str] = []
    log_level: str = "info"
    log_format: str = "auto"
    plugins: list[str] | None = None
    disable_plugins: list[str] = []
    strict_plugins: bool = False
    trace_plugins: bool = False
    upstream_timeout_seconds: float = 600.0
    upstream_connect_timeout_seconds: float = 10.0
    upstream_retries: int = 2
    retry_base_seconds: float = 0.5
    retry_max_seconds: float = 8.0
    fallback_provider: list[str] = []
    fallback_enabled: bool = True
    circuit_breaker_failures: Annotated[int, msgspec.Meta(ge=0)] = 5
    circuit_breaker_cooldown_seconds: Seconds = 60.0
    load_shedding_active_requests: Annotated[int, msgspec.Meta(ge=0)] = 1000
    shed_memory_mb: Annotated[int, msgspec.Meta(ge=0)] = 0
    shed_queues: list[str] = []
    shed_retry_after_seconds: Seconds = 1.0
    model_routes: list[str] = []
    long_context_route: str = ""
    long_context_tokens: int = 100_000
    tool_execution_mode: Literal["server", "client", "passthrough"] = "server"
    max_tool_steps: int = 8
    tool_timeout_seconds: float = 900.0
    reload_watch: bool = True


#: Environment variable for each core setting.
CORE_ENV: dict[str, str] = {
    "model_provider": "MODEL_PROVIDER",
    "host": "LYNKR_HOST",
    "port": "PORT",
    "workspace_root": "WORKSPACE_ROOT",
    "home": "LYNKR_HOME",
    "api_keys": "LYNKR_API_KEYS",
    "admin_keys": "LYNKR_ADMIN_KEYS",
    "allow_unauthenticated_public_bind": "LYNKR_ALLOW_UNAUTHENTICATED_PUBLIC_BIND",
    "max_body_bytes": "LYNKR_MAX_BODY_BYTES",
    "keep_alive_timeout_seconds": "LYNKR_KEEP_ALIVE_TIMEOUT_SECONDS",
    "shutdown_grace_seconds": "LYNKR_SHUTDOWN_GRACE_SECONDS",
    "body_timeout_seconds": "LYNKR_BODY_TIMEOUT_SECONDS",
    "allow_private_urls": "LYNKR_ALLOW_PRIVATE_URLS",
    "url_allowed_hosts": "LYNKR_URL_ALLOWED_HOSTS",
    "log_level": "LOG_LEVEL",
    "log_format": "LYNKR_LOG_FORMAT",
    "plugins": "LYNKR_PLUGINS",
    "disable_plugins": "LYNKR_DISABLE_PLUGINS",
    "strict_plugins": "LYNKR_STRICT_PLUGINS",
    "trace_plugins": "LYNKR_TRACE_PLUGINS",
    "upstream_timeout_seconds": "LYNKR_UPSTREAM_TIMEOUT_SECONDS",
    "upstream_connect_timeout_seconds": "LYNKR_UPSTREAM_CONNECT_TIMEOUT_SECONDS",
    "upstream_retries": "LYNKR_UPSTREAM_RETRIES",
    "retry_base_seconds": "LYNKR_RETRY_BASE_SECONDS",
    "retry_max_seconds": "LYNKR_RETRY_MAX_SECONDS",
    "fallback_provider": "FALLBACK_PROVIDER",
    "fallback_enabled": "FALLBACK_ENABLED",
    "circuit_breaker_failures": "LYNKR_CIRCUIT_BREAKER_FAILURES",
    "circuit_breaker_cooldown_seconds": "LYNKR_CIRCUIT_BREAKER_COOLDOWN_SECONDS",
    "load_shedding_active_requests": "LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD",
    "shed_memory_mb": "LYNKR_SHED_MEMORY_MB",
    "shed_queues": "LYNKR_SHED_QUEUES",
    "shed_retry_after_seconds": "LYNKR_SHED_RETRY_AFTER_SECONDS",
    "model_routes": "LYNKR_MODEL_ROUTES",
    "long_context_route": "LYNKR_LONG_CONTEXT_ROUTE",
    "long_context_tokens": "LYNKR_LONG_CONTEXT_TOKENS",
    "tool_execution_mode": "TOOL_EXECUTION_MODE",
    "max_tool_steps": "POLICY_MAX_STEPS",
    "tool_timeout_seconds": "LYNKR_TOOL_TIMEOUT_SECONDS",
    "reload_watch": "LYNKR_RELOAD_WATCH",
}


class Settings:
    """Everything configured, merged. Immutable once loaded; pass it, don't mutate it."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        toml: Mapping[str, Any] | None = None,
        *,
        sources: tuple[str, ...] = (),
    ) -> None:
        self._environ: dict[str, str] = dict(environ or {})
        self._toml: dict[str, Any] = dict(toml or {})
        self.sources = sources
        self._origin: _Origin | None = None
        self.core: CoreSettings = self._decode(
            "lynkr", CoreSettings, CORE_ENV, self._toml.get("lynkr", {})
        )

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: str | Path | None = None,
        toml_file: str | Path | None = None,
    ) -> Settings:
        """Read the environment (default ``os.environ``), ``.env`` and ``lynkr.toml``.

        The files are looked up in the current directory unless named here or
        by ``LYNKR_ENV_FILE`` and ``LYNKR_CONFIG``; a file named explicitly
        must exist.
        """
        process_env = dict(os.environ if environ is None else environ)
        env_path = _pick(env_file, process_env.get("LYNKR_ENV_FILE"), ".env")
        toml_path = _pick(toml_file, process_env.get("LYNKR_CONFIG"), "lynkr.toml")
        merged: dict[str, str] = {}
        sources = []
        toml_data: dict[str, Any] = {}
        if toml_path is not None:
            toml_data = _read_toml(toml_path)
            merged.update({k: _stringify(v) for k, v in toml_data.get("env", {}).items()})
            sources.append(str(toml_path))
        if env_path is not None:
            merged.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
            sources.append(str(env_path))
        merged.update(process_env)
        sources.append("environment")
        settings = cls(merged, toml_data, sources=tuple(sources))
        settings._origin = _Origin(environ, env_file, toml_file)
        return settings

    def reload(self) -> Settings:
        """These settings read again as they were first: the same process environment
        (``os.environ`` when none was given: it cannot change under a running process),
        ``.env`` and ``lynkr.toml`` looked up and read anew. Settings built from a mapping
        (not by ``load``) come back as they are. Raises ``ConfigError`` like ``load``."""
        if self._origin is None:
            return Settings(self._environ, self._toml, sources=self.sources)
        return Settings.load(self._origin.environ, env_file=self._origin.env_file,
                             toml_file=self._origin.toml_file)

    def config_files(self) -> list[Path]:
        """The ``.env`` and ``lynkr.toml`` paths ``reload`` reads (absolute, whether they
        exist yet or not); empty for settings not read from files."""
        if self._origin is None:
            return []
        environ = os.environ if self._origin.environ is None else self._origin.environ
        named = ((self._origin.env_file, environ.get("LYNKR_ENV_FILE"), ".env"),
                 (self._origin.toml_file, environ.get("LYNKR_CONFIG"), "lynkr.toml"))
        return [Path(explicit or from_env or default).absolute() for explicit, from_env, default in named]

    def source_of(self, name: str) -> str | None:
        """Where the raw setting ``name`` would come from if read again now: ``environment``,
        or the path of the ``.env`` or ``lynkr.toml`` that sets it (for an error message);
        ``None`` when none does, or for settings not read from files."""
        if self._origin is None:
            return None
        environ = os.environ if self._origin.environ is None else self._origin.environ
        if name in environ:
            return "environment"
        env_path, toml_path = self.config_files()
        try:
            if env_path.is_file() and name in dotenv_values(env_path):
                return str(env_path)
            if toml_path.is_file() and name in _read_toml(toml_path).get("env", {}):
                return str(toml_path)
        except (ConfigError, OSError):
            return None
        return None

    def differences(self, other: Settings) -> list[str]:
        """The names of the raw settings whose values differ between these and ``other``
        (never the values): environment names, and ``[lynkr] <key>`` or
        ``[plugins.<name>] <key>`` for ``lynkr.toml``'s tables."""
        names = set(_changed_keys(self._environ, other._environ))
        names.update(f"[lynkr] {key}" for key in _changed_keys(self._toml.get("lynkr", {}), other._toml.get("lynkr", {})))
        plugins = self._toml.get("plugins", {}).keys() | other._toml.get("plugins", {}).keys()
        for plugin in plugins:
            changed = _changed_keys(self.plugin_table(plugin), other.plugin_table(plugin))
            names.update(f"[plugins.{plugin}] {key}" for key in changed)
        return sorted(names)

    def get(self, name: str, default: str | None = None) -> str | None:
        """A raw setting by its environment variable name."""
        return self._environ.get(name, default)

    def plugin_table(self, plugin_name: str) -> dict[str, Any]:
        """The ``[plugins.<plugin_name>]`` table of ``lynkr.toml`` (empty if none)."""
        return dict(self._toml.get("plugins", {}).get(plugin_name, {}))

    def plugin_config(self, plugin_name: str, type_: type[T], env: Mapping[str, str]) -> T:
        """Decode a plugin's settings into ``type_`` (a msgspec Struct).

        ``env`` maps field names to environment variables; a variable that is
        set wins over the plugin's ``lynkr.toml`` table. Raises ``ConfigError``
        naming the setting when a value has the wrong type.
        """
        return self._decode(plugin_name, type_, env, self.plugin_table(plugin_name))

    def _decode(
        self, section: str, type_: type[T], env: Mapping[str, str], table: Mapping[str, Any]
    ) -> T:
        values: dict[str, Any] = dict(table)
        for field, var in env.items():
            if var in self._environ:
                values[field] = self._environ[var]
        for field, value in list(values.items()):
            values[field] = _coerce(value, _field_type(type_, field))
        try:
            return msgspec.convert(values, type_, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{section}: {_explain(exc, env)}") from exc

    def masked(self) -> dict[str, str]:
        """Every raw setting lynkr or a plugin might read, secrets masked (for ``lynkr doctor``)."""
        return {k: mask(k, v) for k, v in sorted(self._environ.items()) if _is_lynkr_name(k)}

    def secrets(self) -> list[str]:
        """Every configured value that must never be shown (logs mask them): each of
        ``LYNKR_API_KEYS`` and ``LYNKR_ADMIN_KEYS``, and the value (and each comma-separated part) of every setting
        whose name looks secret (``SECRET_MARKERS``), from the environment, ``.env`` and
        ``lynkr.toml``'s tables. Values shorter than ``MIN_SECRET_LENGTH`` and plain
        numbers or booleans are left out: masking them would garble ordinary words."""
        found: set[str] = set(self.core.api_keys) | set(self.core.admin_keys)
        named: list[tuple[Any, Any]] = list(self._environ.items())
        for table in (self._toml.get("lynkr", {}), *self._toml.get("plugins", {}).values()):
            if isinstance(table, Mapping):
                named.extend(table.items())
        for name, value in named:
            if not _looks_secret(str(name)):
                continue
            values = value if isinstance(value, list) else [value]
            for text in (v for v in values if isinstance(v, str)):
                found.add(text.strip())
                found.update(part.strip() for part in text.split(","))
        return sorted(value for value in found if _worth_masking(value))


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]


@dataclass(frozen=True, slots=True)
class _Origin:
    """How ``Settings.load`` was called, to read the same sources again."""

    environ: Mapping[str, str] | None
    env_file: str | Path | None
    toml_file: str | Path | None


def mask(name: str, value: str) -> str:
    """``value`` with all but its last 4 characters hidden when ``name`` looks secret."""
    if not _looks_secret(name) or not value:
        return value
    return "****" + value[-4:] if len(value) > 8 else "****"


#: Shorter values are not treated as secrets by ``Settings.secrets``.
MIN_SECRET_LENGTH = 8


def _looks_secret(name: str) -> bool:
    return any(marker in name.lower() for marker in SECRET_MARKERS)


def _worth_masking(value: str) -> bool:
    lowered = value.lower()
    return (
        len(value) >= MIN_SECRET_LENGTH
        and not value.replace(".", "", 1).isdigit()
        and lowered not in _TRUE | _FALSE
    )


def _pick(explicit: str | Path | None, from_env: str | None, default: str) -> Path | None:
    chosen = explicit or from_env
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    path = Path(default)
    return path if path.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _field_type(type_: type, field: str) -> Any:
    for info in msgspec.structs.fields(type_):
        if info.name == field:
            return info.type
    return Any


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(value: Any, annotation: Any) -> Any:
    """Environment strings to the field's type: comma lists, booleans, numbers."""
    if not isinstance(value, str):
        return value
    text = str(annotation)
    if text.startswith("list[") or "list[" in text:
        return [part.strip() for part in value.split(",") if part.strip()]
    if annotation is bool or text in ("bool", "bool | None", "typing.Optional[bool]"):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


def _explain(exc: msgspec.ValidationError, env: Mapping[str, str]) -> str:
    message = str(exc)
    for field, var in env.items():
        if f"`$.{field}`" in message:
            return message.replace(f"`$.{field}`", f"`{field}` ({var})")
    return message


_PREFIXES = (
    "LYNKR_", "MODEL_", "PORT", "WORKSPACE_", "LOG_", "ANTHROPIC_", "AZURE_", "DATABRICKS_",
    "OPENAI_", "OPENROUTER_", "OLLAMA_", "LLAMACPP_", "POLICY_", "PROMPT_CACHE_", "MEMORY_",
    "MCP_", "TOOL_", "FALLBACK_", "TIER_", "LOAD_SHEDDING_",
)


def _is_lynkr_name(name: str) -> bool:
    return name.startswith(_PREFIXES)
