"""Serving the app with Hypercorn, and the bind-safety rule."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

from hypercorn.config import Config
from hypercorn.run import run
from starlette.types import ASGIApp

from lynkr_core.app import create_app
from lynkr_core.config import ConfigError, Settings
from lynkr_core.egress import is_loopback
from lynkr_core.lifecycle import CLOSE_TIMEOUT_SECONDS
from lynkr_core.logs import configure_logging

APP_PATH = "lynkr_core.server:app_from_environment()"
#: How long a worker may take to stop after its grace period: its last frames, then the
#: plugins' ``close`` (each bounded by ``CLOSE_TIMEOUT_SECONDS``, and usually quick).
SHUTDOWN_BOUND_SECONDS = 2 * CLOSE_TIMEOUT_SECONDS


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
    supervisor = multiprocessing.parent_process()
    if supervisor is not None and supervisor.pid is not None:
        leave_shutdown_to_supervisor(supervisor.pid)
    settings = Settings.load()
    configure_logging(settings.core.log_level, settings.core.log_format, secrets=settings.secrets())
    return create_app(settings)


def leave_shutdown_to_supervisor(supervisor: int) -> None:
    """In a worker process of ``--workers N`` (``supervisor``: the pid of the process that
    spawned it): ignore SIGTERM (SIGINT is ignored already).
    The supervisor owns the shutdown: on its SIGTERM or SIGINT it tells every worker through
    Hypercorn's shutdown event, and each drains its requests. Once one worker has exited,
    Hypercorn's supervisor sends the others SIGTERM, which would cut their streams
    mid-body; a SIGTERM sent to the whole process group would too.

    A worker that ignores SIGTERM must not outlive its supervisor (killed with SIGKILL, it
    never sets the shutdown event): ``exit_with_supervisor`` watches for that."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    exit_with_supervisor(supervisor)


def exit_with_supervisor(supervisor: int, interval: float = 1.0) -> None:
    """Exit this worker (at once: its requests are lost with the supervisor's socket anyway)
    when its supervisor ``supervisor`` is gone (this process has another parent: it may
    already have one when it gets here), checked every ``interval`` seconds on a daemon
    thread."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(interval)
        os.write(2, b"lynkr worker: the supervisor is gone; exiting\n")
        os._exit(1)

    threading.Thread(target=watch, name="lynkr-supervisor-watch", daemon=True).start()


def wait_for_workers(timeout: float) -> None:
    """After Hypercorn's supervisor returns, wait (at most ``timeout`` seconds in all) for the
    workers still draining, then kill what is left: Hypercorn waits only for the first."""
    deadline = time.monotonic() + timeout
    for worker in multiprocessing.active_children():
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in multiprocessing.active_children():
        worker.kill()
        worker.join()


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
    worker, it runs in this process. SIGTERM or SIGINT shuts it down gracefully
    (``lynkr_core.draining``): no new connections, requests in flight get
    ``LYNKR_SHUTDOWN_GRACE_SECONDS``, then the plugins are closed.
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
    # On SIGTERM/SIGINT, requests in flight get this long to finish; then ``EndAtShutdown``
    # ends each one properly and the lifespan shutdown closes the plugins.
    config.graceful_timeout = settings.core.shutdown_grace_seconds
    exit_code = run(config)
    if workers > 1:
        wait_for_workers(settings.core.shutdown_grace_seconds + SHUTDOWN_BOUND_SECONDS)
    return exit_code
