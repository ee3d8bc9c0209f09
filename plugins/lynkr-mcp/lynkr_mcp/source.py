"""The MCP servers as a lynkr ``ToolSource``: started with lynkr, stopped with it, their
tools listed as ``mcp__<server>__<tool>`` and re-listed when a server says they changed."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lynkr_core import HealthCheck, Services, Settings, Tool, ToolSource
from lynkr_mcp.config import PLUGIN_NAME, McpSettings, load_settings
from lynkr_mcp.connection import ServerConnection, Timing
from lynkr_mcp.manifests import Discovery, ManifestProblem, discover
from lynkr_mcp.sandbox import SandboxOptions, find_bwrap, launch
from lynkr_mcp.tools import McpTool


@dataclass(frozen=True, slots=True)
class ServerReport:
    """What ``lynkr mcp list`` and ``lynkr doctor`` show of one server."""

    name: str
    state: str
    transport: str
    origin: str
    where: str
    tools: tuple[str, ...]
    reason: str


class McpToolSource(ToolSource):
    """Every configured MCP server, as one source of tools."""

    name = "mcp"

    def __init__(self, settings: Settings, *, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.config: McpSettings = load_settings(settings)
        self.environ = dict(os.environ if environ is None else environ)
        self.workspace = Path(settings.core.workspace_root).expanduser().resolve()
        self.timing = Timing(
            startup=self.config.startup_timeout_ms / 1000,
            backoff=self.config.restart_backoff_ms / 1000,
            backoff_max=self.config.restart_backoff_max_ms / 1000,
            max_restarts=self.config.max_restarts,
        )
        self.connections: dict[str, ServerConnection] = {}

    @functools.cached_property
    def discovery(self) -> Discovery:
        """The configured servers and the problems met finding them (read on first use, not
        when the plugin registers: registration does no I/O)."""
        return discover(
            toml_servers=self.config.servers,
            manifest=self.config.server_manifest,
            manifest_dirs=self.config.manifest_dirs,
            workspace=self.workspace,
            trust_project=self.config.trust_project_config,
            lookup=lambda name: self.settings.get(name, self.environ.get(name)),
        )

    @functools.cached_property
    def sandbox(self) -> SandboxOptions:
        """How stdio servers are run (bubblewrap looked up on first use)."""
        return SandboxOptions(
            bwrap=find_bwrap(self.config.sandbox_enabled),
            workspace=self.workspace,
            passthrough=tuple(self.config.passthrough_env),
            mount_workspace=self.config.mount_workspace,
            workspace_writable=self.config.workspace_writable,
            allow_networking=self.config.allow_networking,
            extra_mounts=tuple(self.config.extra_mounts),
        )

    @property
    def problems(self) -> list[ManifestProblem]:
        """Manifests and entries that could not be used."""
        return self.discovery.problems

    async def start(self, services: Services) -> None:
        """Start every trusted server and wait for each first attempt. With ``MCP_LAZY_START``
        a server whose tools were listed before (kept under ``LYNKR_HOME``) starts on its
        first call instead."""
        await self.start_in(services.data_dir(PLUGIN_NAME))

    async def start_in(self, home: Path) -> None:
        """``start`` with ``home`` as the plugin's directory (see ``open``)."""
        self.open(home)
        if self.config.lazy_start:  # started on first call; only those never listed start now
            await self.start_servers([c.name for c in self.connections.values() if not c.load_cached_tools()])
        else:
            await self.start_servers()

    def open(self, home: Path) -> None:
        """Prepare a connection to every configured server, none started yet, with ``home`` as
        the plugin's directory (servers' working directories, stderr logs, tool lists);
        ``lynkr mcp`` calls it without a running gateway."""
        for spec in self.discovery.servers:
            workdir = home / "servers" / _safe(spec.name)
            stdio = spec.transport == "stdio"
            self.connections[spec.name] = ServerConnection(
                spec, self.timing,
                launch=launch(spec, self.sandbox, workdir, self.environ) if stdio else None,
                errlog_path=home / "logs" / f"{_safe(spec.name)}.log" if stdio else None,
                tools_cache=home / "tools" / f"{_safe(spec.name)}.json",
                on_tools_changed=lambda _connection: self.tools_changed(),
            )

    async def start_servers(self, names: Sequence[str] | None = None) -> None:
        """Start the named servers (default: all) and wait until each has answered or failed."""
        chosen = [c for c in self.connections.values() if names is None or c.name in names]
        for connection in chosen:
            connection.start()
        await asyncio.gather(*(c.settled(self.timing.startup + 1) for c in chosen))

    async def close(self) -> None:
        """Stop every server; no process outlives lynkr."""
        await asyncio.gather(*(c.close() for c in self.connections.values()))

    async def list_tools(self) -> Sequence[Tool]:
        """The tools of every server that has not been given up: ready ones, those (re)starting,
        and, with ``MCP_LAZY_START``, those whose tools are known from an earlier run."""
        await asyncio.gather(*(connection.tools_settled() for connection in self.connections.values()))
        timeout = self.config.call_timeout_ms / 1000
        return [
            McpTool(connection, tool, timeout=timeout, limit=self.config.max_result_bytes)
            for connection in self.connections.values()
            for tool in connection.tools
        ]

    def reports(self) -> list[ServerReport]:
        """Every configured server with its state, transport, tools and what went wrong."""
        reports = []
        for spec in self.discovery.servers:
            connection = self.connections.get(spec.name)
            state = connection.state if connection else ("configured" if spec.trusted else "untrusted")
            reports.append(ServerReport(
                name=spec.name, state=state, transport=spec.transport, origin=spec.origin,
                where=spec.where(),
                tools=tuple(t.name for t in connection.tools) if connection else (),
                reason=connection.reason if connection else "",
            ))
        return reports

    async def health_checks(self, services: Services) -> dict[str, HealthCheck]:
        """For ``lynkr doctor``: start every server, report each, stop them again."""
        if not self.discovery.servers and not self.problems:
            return {}
        self.open(services.data_dir(PLUGIN_NAME))
        try:
            await self.start_servers()
            checks = {f"mcp manifest {problem.origin}": HealthCheck(False, problem.reason)
                      for problem in self.problems}
            for report in self.reports():
                ok = report.state in ("ready", "untrusted")
                detail = (f"{report.state}, {report.transport}, {len(report.tools)} tools"
                          + (f": {report.reason}" if report.reason else ""))
                checks[f"mcp server {report.name}"] = HealthCheck(ok, detail)
            checks["mcp sandbox"] = HealthCheck(True, self.sandbox.describe())
            return checks
        finally:
            await self.close()


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
