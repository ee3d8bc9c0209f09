"""Serving the app with Hypercorn, and the bind-safety rule."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

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


#: prometheus_client's variable for the directory its worker processes share metrics in.
PROMETHEUS_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_between_workers(settings: Settings) -> Path:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's convention) at an empty
    ``LYNKR_HOME/prometheus`` unless the operator set it, before the workers are spawned:
    each worker then writes its metrics there and any worker's ``/metrics`` adds them up.
    Harmless without a metrics plugin. Returns the directory."""
    configured = os.environ.get(PROMETHEUS_MULTIPROC_DIR)
    path = Path(configured) if configured else Path(settings.core.home).expanduser() / "prometheus"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's counters would be added to this one's
        stale.unlink()
    os.environ[PROMETHEUS_MULTIPROC_DIR] = str(path)
    return path


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
    if workers > 1:
        share_metrics_between_workers(settings)
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
