"""Serving the app with Hypercorn, and the bind-safety rule."""

from __future__ import annotations

import ipaddress

from hypercorn.config import Config
from hypercorn.run import run
from starlette.types import ASGIApp

from lynkr_core.app import create_app
from lynkr_core.config import ConfigError, Settings
from lynkr_core.logs import configure_logging

APP_PATH = "lynkr_core.server:app_from_environment()"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> None:
    """Refuse to listen beyond loopback without API keys, unless explicitly forced."""
    core = settings.core
    if is_loopback(host) or core.api_keys or core.allow_unauthenticated_public_bind:
        return
    raise ConfigError(
        f"refusing to listen on {host} without API keys: anyone who can reach it could use "
        "your upstream credentials. Set LYNKR_API_KEYS, or bind to 127.0.0.1, or set "
        "LYNKR_ALLOW_UNAUTHENTICATED_PUBLIC_BIND=1 if a proxy in front of lynkr authenticates."
    )


def app_from_environment() -> ASGIApp:
    """The app, configured from the environment (what each Hypercorn worker process loads)."""
    settings = Settings.load()
    configure_logging(settings.core.log_level, settings.core.log_format, secrets=settings.secrets())
    return create_app(settings)


def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> int:
    """Run the server until interrupted; returns the exit code.

    The app is built in each worker from the environment, ``.env`` and
    ``lynkr.toml``; ``host`` and ``port`` only say where to listen. With one
    worker, it runs in this process.
    """
    check_bind(settings, host)
    create_app(settings)  # fail here, with a clear message, rather than in every worker
    config = Config()
    config.application_path = APP_PATH
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    # One worker runs in this process (Hypercorn's workers=0): no supervisor and
    # no spawned child, which saves a whole interpreter's memory (~40 MB).
    config.workers = workers if workers > 1 else 0
    config.worker_class = "asyncio"
    config.accesslog = None
    config.errorlog = "-"
    # Outlasts the 60 s idle timeout of common load balancers, so that they, not lynkr,
    # close a pooled connection first.
    config.keep_alive_timeout = settings.core.keep_alive_timeout_seconds
    # Hypercorn's default backlog of 100 overflows when a few hundred clients connect at
    # once: the rest wait for SYN retransmits (1 s, 3 s, ...) or hang half-open. The
    # kernel caps the value at net.core.somaxconn.
    config.backlog = 1024
    config.graceful_timeout = 10
    return run(config)
