"""The ``lynkr`` command: ``start``, ``plugins``, ``doctor``, ``init``, and plugins' commands."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import platform
import sys
from collections.abc import Sequence

from lynkr_core import __version__, envfile, launcher, operating, runfiles, security, statusline
from lynkr_core.app import build_pipeline
from lynkr_core.config import ConfigError, Settings
from lynkr_core.contracts import Command
from lynkr_core.health import Reported, health_reports
from lynkr_core.http import open_http_session
from lynkr_core.logs import configure_logging
from lynkr_core.pipeline import Pipeline
from lynkr_core.plugins import PluginLoadError, make_plugin_manager
from lynkr_core.registered import Registered
from lynkr_core.registry import Registry, collect
from lynkr_core.services import Services


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    """Start the server."""
    from lynkr_core.server import serve

    host = args.host or settings.core.host
    port = args.port or settings.core.port
    print(f"lynkr {__version__}: http://{host}:{port} -> {settings.core.model_provider}", file=sys.stderr)
    with runfiles.registered(settings, host=host, port=port):  # for lynkr status, stop and code
        return serve(settings, host=host, port=port, workers=args.workers)


def cmd_plugins(args: argparse.Namespace, settings: Settings) -> int:
    """List every plugin: name, distribution, version, hooks, enabled or why not."""
    pm = make_plugin_manager(settings)
    build_pipeline(settings, pm)  # registration failures show up in the statuses too
    rows = sorted(pm.statuses.values(), key=lambda row: row.name)
    if args.json:
        print(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
        return 0
    for row in rows:
        state = "enabled" if row.enabled else f"disabled ({row.reason})"
        dist = f"{row.distribution} {row.version}" if row.distribution else "(registered in code)"
        print(f"{row.name}\n  distribution: {dist}\n  status: {state}")
        print(f"  hooks: {', '.join(row.hooks) or '-'}")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Show the version, the effective configuration (secrets masked), what is missing,
    and check the upstream."""
    print(f"lynkr {__version__} (Python {platform.python_version()})")
    print(f"configuration from: {', '.join(settings.sources)}")
    for name, value in settings.masked().items():
        print(f"  {name}={value}")
    pm = make_plugin_manager(settings)
    registered = Registered(settings, pm)
    pipeline = build_pipeline(settings, pm, registered)
    print(f"plugins enabled: {', '.join(pm.enabled_names()) or 'none'}")
    for row in pm.statuses.values():
        if row.reason and row.reason.startswith("failed"):
            print(f"  {row.name}: {row.reason}")
    reports = asyncio.run(_plugin_checks(pipeline, registered, settings))
    for report in reports:
        state = "ok" if report.check.ok else "FAILED"
        print(f"{report.label}: {state}: {report.check.detail} (from {report.plugin})")
    plugins_ok = all(report.check.ok for report in reports)
    for line in operating.doctor_lines(settings):  # the running server's circuit breakers
        print(line)
    provider = pipeline.default_provider()
    if provider is None or pipeline.unavailable is not None:
        print(f"provider: {pipeline.unavailable}")
        return 1
    print(f"provider: {provider.name} (from {pipeline.providers.owner(provider.name)})")
    for key, value in provider.describe().items():
        print(f"  {key}: {value}")
    problem = pipeline.not_ready()
    if problem is not None:
        print(f"configuration: {problem}")
    result = asyncio.run(_check(provider, settings))
    print(f"upstream: {'ok' if result.ok else 'FAILED'}: {result.detail}")
    return 0 if result.ok and problem is None and plugins_ok else 1


async def _plugin_checks(pipeline: Pipeline, registered: Registered, settings: Settings) -> list[Reported]:
    """What registered objects report through ``health_checks`` (``lynkr_core.health``)."""
    async with open_http_session(settings) as http:
        pipeline.http = http
        try:
            services = Services(settings, http, pipeline.model_client, registered.session_store())
            return await health_reports(registered, services)
        finally:
            pipeline.http = None


async def _check(provider, settings: Settings):
    import structlog

    from lynkr_core.context import RequestContext

    async with open_http_session(settings) as http:
        context = RequestContext(
            request_id="doctor",
            http=http,
            settings=settings,
            log=structlog.get_logger("lynkr.doctor"),
            provider_name=provider.name,
        )
        return await provider.check(context)


def cmd_doctor_security(args: argparse.Namespace, settings: Settings) -> int:
    """``lynkr doctor``; with ``--security``, the risky settings instead (``lynkr_core.security``)."""
    if args.security:
        return security.run(settings)
    return cmd_doctor(args, settings)


BUILTIN_COMMANDS = [
    Command("start", "start the server", cmd_start, lambda p: _start_arguments(p)),
    Command("plugins", "list plugins and whether they are enabled", cmd_plugins,
            lambda p: p.add_argument("--json", action="store_true", help="print JSON")),
    Command("doctor", "show the configuration and check the upstream (--security: risky settings)",
            cmd_doctor_security,
            lambda p: p.add_argument("--security", action="store_true",
                                     help="only report the settings that widen what lynkr exposes")),
    Command("init", "write a commented .env for a provider", envfile.run, envfile.add_arguments),
    Command("code", "run the Claude Code CLI through lynkr (started for it if none runs)",
            launcher.cmd_code, launcher.add_code_arguments),
    Command("status", "list the lynkr servers running from LYNKR_HOME", launcher.cmd_status,
            launcher.add_status_arguments),
    Command("stop", "stop the lynkr running for this configuration", launcher.cmd_stop,
            launcher.add_stop_arguments),
    Command("statusline", "print Claude Code's status line (its statusLine command)",
            statusline.cmd_statusline),
]


def _start_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default LYNKR_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default PORT or 8080)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lynkr`` command."""
    try:
        settings = Settings.load()
        configure_logging(settings.core.log_level, settings.core.log_format, secrets=settings.secrets())
        commands = _commands(settings)
        parser = argparse.ArgumentParser(prog="lynkr", description="A Claude Code-compatible gateway.")
        parser.add_argument("--version", action="version", version=f"lynkr {__version__}")
        sub = parser.add_subparsers(dest="command", required=True)
        for command in commands.values():
            command_parser = sub.add_parser(command.name, help=command.help)
            if command.add_arguments:
                command.add_arguments(command_parser)
        args = parser.parse_args(argv)
        return commands[args.command].run(args, settings)
    except (ConfigError, PluginLoadError) as exc:
        print(f"lynkr: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _commands(settings: Settings) -> dict[str, Command]:
    registry = Registry[Command]("command")
    for command in BUILTIN_COMMANDS:
        registry.add("lynkr", command)
    pm = make_plugin_manager(settings)
    collect(pm, "lynkr_register_commands", registry)
    return {command.name: command for command in registry}


if __name__ == "__main__":
    sys.exit(main())
