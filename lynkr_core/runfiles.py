"""Which lynkr servers run on this machine: one run file per server under ``LYNKR_HOME/run``.

``lynkr start`` writes ``run/<pid>.json`` while it serves (its pid, URL, and the
fingerprint of its configuration) and removes it when it stops; ``lynkr code``,
``lynkr status``, ``lynkr stop`` and ``lynkr statusline`` read them. A file whose
process is gone is stale and is removed by whoever finds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

from lynkr_core import __version__
from lynkr_core.config import Settings

#: Set by ``lynkr code`` for the server it starts, so that the last ``lynkr code`` using
#: that server stops it (a server started with ``lynkr start`` is left alone).
OWNER_ENV = "LYNKR_RUN_OWNER"

#: Settings that describe the client, not the server: never part of the fingerprint.
CLIENT_SIDE = frozenset({"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", OWNER_ENV})

Owner = Literal["start", "code"]


class RunFile(msgspec.Struct, kw_only=True):
    """A running server, as its run file describes it."""

    pid: int
    url: str
    fingerprint: str
    owner: Owner = "start"
    started: float = 0.0
    workspace: str = ""
    version: str = __version__

    @property
    def path_name(self) -> str:
        return f"{self.pid}.json"


def run_dir(settings: Settings) -> Path:
    """``LYNKR_HOME/run``, created private (0700) if missing."""
    path = Path(settings.core.home).expanduser() / "run"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def workspace(settings: Settings) -> Path:
    """The workspace the server's tools act in (``WORKSPACE_ROOT``, resolved here)."""
    return Path(settings.core.workspace_root).expanduser().resolve()


def fingerprint(settings: Settings) -> str:
    """What makes two servers interchangeable: every lynkr setting's value (secrets
    included, hashed), the files the settings came from, and the resolved workspace."""
    digest = hashlib.sha256()
    for name in sorted(settings.masked()):
        if name not in CLIENT_SIDE:
            digest.update(f"{name}={settings.get(name)}\0".encode())
    for source in settings.sources:
        path = Path(source)
        if path.is_file():
            digest.update(path.read_bytes())
    digest.update(str(workspace(settings)).encode())
    return digest.hexdigest()[:16]


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie we could reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def looks_like_lynkr(pid: int) -> bool:
    """Whether the process runs lynkr (its command line says so; ``True`` where the system
    does not tell), so that a pid reused by another program is never signalled."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"lynkr" in cmdline.read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True


def healthy(url: str, timeout: float = 1.0) -> bool:
    """Whether ``GET {url}/health`` answers 200 within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def read_all(settings: Settings) -> list[RunFile]:
    """Every live server's run file, oldest first; stale or unreadable files are removed."""
    found = []
    for path in sorted(run_dir(settings).glob("*.json")):
        try:
            run = msgspec.json.decode(path.read_bytes(), type=RunFile)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            path.unlink(missing_ok=True)
            continue
        if not pid_alive(run.pid):
            path.unlink(missing_ok=True)
            continue
        found.append(run)
    return sorted(found, key=lambda run: run.started)


def find(settings: Settings) -> RunFile | None:
    """The running server for this configuration that answers, if any."""
    mine = fingerprint(settings)
    for run in read_all(settings):
        if run.fingerprint == mine and healthy(run.url):
            return run
    return None


@contextlib.contextmanager
def registered(settings: Settings, *, host: str, port: int) -> Iterator[RunFile]:
    """Write this process's run file for the server it is about to run; remove it after."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    owner: Owner = "code" if os.environ.get(OWNER_ENV) == "code" else "start"
    run = RunFile(pid=os.getpid(), url=f"http://{shown}:{port}", fingerprint=fingerprint(settings),
                  owner=owner, started=time.time(), workspace=str(workspace(settings)))
    path = run_dir(settings) / run.path_name
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.encode(run))
    temporary.replace(path)
    try:
        yield run
    finally:
        path.unlink(missing_ok=True)


def stop(run: RunFile, *, timeout: float = 20.0) -> bool:
    """Stop a server: SIGTERM (it finishes its requests and closes its stores), then
    SIGKILL after ``timeout`` seconds. ``False`` when it was not ours to stop or not there."""
    if not pid_alive(run.pid) or not looks_like_lynkr(run.pid):
        return False
    os.kill(run.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(run.pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(run.pid, signal.SIGKILL)
    return True


def describe(run: RunFile) -> dict[str, object]:
    """A run file as JSON data, for ``lynkr status --json``."""
    return json.loads(msgspec.json.encode(run))
