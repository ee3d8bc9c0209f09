"""Run a lynkr app on a real loopback socket, for tests (in the test's event loop or a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette

from lynkr_core.app import create_app
from lynkr_core.config import Settings
from lynkr_core.plugins import make_plugin_manager

#: How long ``serving`` waits for lynkr to listen: start-up runs every plugin's ``start``
#: (MCP servers, indexes), which a busy machine makes slow.
STARTUP_SECONDS = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_test_app(
    env: Mapping[str, str] | None = None,
    *,
    plugins: list[tuple[str, Any]] = (),  # type: ignore[assignment]
    load_entry_points: bool = True,
    env_file: str | os.PathLike[str] | None = None,
    toml_file: str | os.PathLike[str] | None = None,
) -> Starlette:
    """An app configured only from ``env`` (no ``.env``, no ``lynkr.toml``, no ``os.environ``).

    With ``env_file`` and ``toml_file`` (both must exist), ``env`` stands for the process
    environment and the two files are read as ``lynkr start`` reads ``.env`` and
    ``lynkr.toml``: a hot reload (``POST /v1/admin/reload``, the watcher) reads them again.

    ``plugins`` are ``(name, module_or_object)`` pairs registered after the
    installed ones, as a third-party plugin would be. Unless ``env`` names a
    ``LYNKR_HOME``, the app gets a fresh empty one, so that stateful plugins
    (a cache, a playbook) neither write to the user's ``~/.lynkr`` nor carry
    state from one test to the next.
    """
    environ = dict(env or {})
    environ.setdefault("LYNKR_HOME", tempfile.mkdtemp(prefix="lynkr-home-"))
    if env_file is None and toml_file is None:
        settings = Settings(environ)
    else:
        settings = Settings.load(environ, env_file=env_file, toml_file=toml_file)
    pm = make_plugin_manager(settings, load_entry_points=load_entry_points, plugins=plugins)
    return create_app(settings, pm)


def _config(port: int) -> Config:
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 1
    return config


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` in the running event loop; yields its base URL."""
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, _config(port), shutdown_trigger=stop.wait))
    try:
        await _wait_until_listening(port, task)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


@contextlib.asynccontextmanager
async def anthropic_gateway(
    env: Mapping[str, str], enabled: list[str], fake: Any, *plugins: tuple[str, Any], **more_env: str
) -> AsyncIterator[str]:
    """lynkr served in front of ``fake`` (a ``FakeAnthropic``, started here) with the Anthropic
    provider, the installed plugins named in ``enabled`` and the inline ``plugins``; ``env``
    and ``more_env`` its settings (``ANTHROPIC_UPSTREAM_API_KEY`` among them; no retries).
    Yields the server's URL. A plugin's tests bind the first two::

        gateway = functools.partial(anthropic_gateway, {"LYNKR_HOME": ...}, ["lynkr-metrics"])
    """
    async with fake:
        app = make_test_app({
            **env, "LYNKR_PLUGINS": ",".join(["lynkr-provider-anthropic", *enabled, *(name for name, _ in plugins)]),
            "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
            "LYNKR_UPSTREAM_RETRIES": "0", "LYNKR_RETRY_BASE_SECONDS": "0.01", **more_env,
        }, plugins=list(plugins), load_entry_points=True)
        async with serving(app) as url:
            yield url


@contextlib.contextmanager
def serving_in_thread(app: Starlette) -> Iterator[str]:
    """Serve ``app`` from a thread with its own event loop (for subprocess or sync clients)."""
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        async with serving(app) as url:
            holder["url"] = url
            holder["stop"] = asyncio.Event()
            holder["loop"] = asyncio.get_running_loop()
            ready.set()
            await holder["stop"].wait()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surface start-up failures to the caller
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="lynkr-test-server", daemon=True)
    thread.start()
    ready.wait(timeout=STARTUP_SECONDS + 30)
    if "error" in holder or "url" not in holder:
        raise RuntimeError(f"lynkr test server did not start: {holder.get('error')!r}")
    try:
        yield holder["url"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(timeout=15)


async def _wait_until_listening(port: int, task: asyncio.Task[Any], within: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + within
    while True:
        if task.done():
            task.result()  # raises the start-up error
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"lynkr did not listen on port {port} within {within} s") from None
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return
