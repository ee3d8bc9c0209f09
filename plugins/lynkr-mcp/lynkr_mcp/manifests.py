"""Finding the MCP servers to run: the original project's manifests, Claude Code's
``.mcp.json``/``mcpServers`` format, and ``[plugins.lynkr-mcp] servers`` in ``lynkr.toml``.

Every file may hold ``{"servers": [...]}``, a bare array of entries, or Claude Code's
``{"mcpServers": {"name": {...}}}``. An entry is ``{id|name, command, args, env, cwd,
transport, description}`` (stdio) or ``{type: "http"|"sse", url, headers}``;
``${VAR}`` and ``${VAR:-default}`` are expanded in its strings as Claude Code does. A
bad file or entry becomes a ``ManifestProblem`` naming the file and the reason; the
rest load. The first definition of a name wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lynkr_mcp.expand import MissingVariable, expand

Transport = Literal["stdio", "http", "sse"]

_TRANSPORTS: dict[str, Transport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}

#: The ``origin`` of servers listed in ``lynkr.toml``.
TOML_ORIGIN = "lynkr.toml [plugins.lynkr-mcp] servers"


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One MCP server as configured. ``trusted``: it may be started (a workspace's
    ``.mcp.json`` is trusted only with ``MCP_TRUST_PROJECT_CONFIG=true``)."""

    name: str
    transport: Transport
    origin: str
    trusted: bool = True
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = ""
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def where(self) -> str:
        """The command line or URL, without environment values or headers (which may be secret)."""
        if self.transport == "stdio":
            return " ".join([self.command, *self.args])
        return self.url


@dataclass(frozen=True, slots=True)
class ManifestProblem:
    """A file or entry that could not be used, and why."""

    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass(slots=True)
class Discovery:
    """What was found: the servers in order, and the problems met on the way."""

    servers: list[ServerSpec] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)

    def add(self, spec: ServerSpec) -> None:
        """Keep ``spec`` unless a server of that name came first (then report it)."""
        earlier = next((s for s in self.servers if s.name == spec.name), None)
        if earlier is not None:
            self.problems.append(ManifestProblem(
                spec.origin, f"server {spec.name!r} is already defined in {earlier.origin}; ignored"))
            return
        self.servers.append(spec)


def discover(
    *,
    toml_servers: Iterable[Any],
    manifest: str,
    manifest_dirs: Iterable[str],
    workspace: Path,
    trust_project: bool,
    lookup: Callable[[str], str | None],
) -> Discovery:
    """Every configured server: ``lynkr.toml``, ``MCP_SERVER_MANIFEST``, the ``*.json`` files of
    ``MCP_MANIFEST_DIRS`` (sorted), then the workspace's ``.mcp.json``."""
    found = Discovery()
    _read_entries(found, list(toml_servers), TOML_ORIGIN, trusted=True, lookup=lookup)
    if manifest:
        _read_file(found, Path(manifest).expanduser(), trusted=True, lookup=lookup, required=True)
    for directory in manifest_dirs:
        folder = Path(directory).expanduser()
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                _read_file(found, path, trusted=True, lookup=lookup, required=True)
    project = workspace / ".mcp.json"
    _read_file(found, project, trusted=trust_project, lookup=lookup, required=False)
    return found


def _read_file(
    found: Discovery, path: Path, *, trusted: bool, lookup: Callable[[str], str | None], required: bool
) -> None:
    if not path.is_file():
        if required:
            found.problems.append(ManifestProblem(str(path), "no such file"))
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        found.problems.append(ManifestProblem(str(path), f"cannot read it: {exc}"))
        return
    except json.JSONDecodeError as exc:
        found.problems.append(ManifestProblem(str(path), f"invalid JSON: {exc}"))
        return
    if isinstance(document, dict) and isinstance(document.get("mcpServers"), dict):
        entries = [{"name": name, **entry} if isinstance(entry, dict) else entry
                   for name, entry in document["mcpServers"].items()]
    elif isinstance(document, dict) and isinstance(document.get("servers"), list):
        entries = document["servers"]
    elif isinstance(document, list):
        entries = document
    else:
        found.problems.append(ManifestProblem(
            str(path), 'expected {"servers": [...]}, {"mcpServers": {...}} or an array of servers'))
        return
    _read_entries(found, entries, str(path), trusted=trusted, lookup=lookup)


def _read_entries(
    found: Discovery, entries: list[Any], origin: str, *, trusted: bool, lookup: Callable[[str], str | None]
) -> None:
    for position, entry in enumerate(entries):
        try:
            found.add(parse_entry(entry, origin, trusted=trusted, lookup=lookup))
        except ValueError as exc:
            label = entry.get("name") or entry.get("id") if isinstance(entry, dict) else None
            where = f"server {label!r}" if label else f"entry {position + 1}"
            found.problems.append(ManifestProblem(origin, f"{where}: {exc}"))


def parse_entry(
    entry: Any, origin: str, *, trusted: bool = True, lookup: Callable[[str], str | None] = lambda _: None
) -> ServerSpec:
    """One manifest entry as a ``ServerSpec``; ``ValueError`` saying what is wrong."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected an object, got {type(entry).__name__}")
    name = entry.get("name") or entry.get("id")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("has no name (or id)")
    kind = str(entry.get("type") or entry.get("transport") or ("stdio" if "command" in entry else "")).lower()
    if not kind:
        raise ValueError('needs a command (stdio), or a type ("http" or "sse") and a url')
    transport = _TRANSPORTS.get(kind)
    if transport is None:
        raise ValueError(f"unknown transport {kind!r}; use stdio, http or sse")

    def text(value: Any, what: str) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{what} must be a string")
        try:
            return expand(value, lookup)
        except MissingVariable as exc:
            raise ValueError(f"{what}: {exc}") from None

    def strings(value: Any, what: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ValueError(f"{what} must be an object of strings")
        return {str(k): text(v, f"{what}.{k}") for k, v in value.items()}

    description = entry.get("description", "")
    common = dict(name=name.strip(), transport=transport, origin=origin, trusted=trusted,
                  description=description if isinstance(description, str) else "")
    if transport == "stdio":
        command = entry.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ValueError("a stdio server needs a command")
        args = entry.get("args", [])
        if not isinstance(args, list):
            raise ValueError("args must be an array of strings")
        return ServerSpec(
            **common, command=text(command, "command"),
            args=tuple(text(arg, "args") for arg in args),
            env=strings(entry.get("env", {}), "env"),
            cwd=text(entry.get("cwd", ""), "cwd"),
        )
    url = entry.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"an {transport} server needs a url")
    url = text(url, "url")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    return ServerSpec(**common, url=url, headers=strings(entry.get("headers", {}), "headers"))
