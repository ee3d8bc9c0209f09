"""The built wheels install with pip like published packages, into fresh virtual environments:
``lynkr-gateway[all]`` brings every bundled plugin and serves, ``lynkr-gateway`` alone serves
too and says which extra to install. Third-party dependencies come from the normal index
(pip's cache keeps it quick); lynkr's own distributions only from the wheels built here.

Guards against the name ``lynkr`` on the public index (an unrelated project) taking the
place of ours: that is what ``pip install --find-links dist 'lynkr[all]'`` used to install.
Run with ``-s`` to see the time each step took.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lynkr_core
from lynkr_core.testing.server import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
VERSION = lynkr_core.__version__
BUNDLED = sorted(path.parent.name for path in (REPO / "plugins").glob("*/pyproject.toml"))
EXAMPLES = sorted(path.parent.name for path in (REPO / "examples").glob("*/pyproject.toml"))
CORE_ONLY_HINT = "pip install 'lynkr-gateway[provider-databricks]'"
OPENAI_ENV = {
    "MODEL_PROVIDER": "openai",
    "OPENAI_ENDPOINT": "http://127.0.0.1:9/v1/chat/completions",
    "OPENAI_API_KEY": "x",
}
MESSAGE = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


class Steps:
    """Runs the steps of a test, each command's output in its own file, and times them."""

    def __init__(self, where: Path, title: str) -> None:
        self.where = where
        self.title = title
        self.timings: list[tuple[str, float]] = []
        where.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append((name, time.monotonic() - started))

    def run(self, name: str, argv: list[str | Path], *, env: dict[str, str], cwd: Path,
            timeout: float = 300) -> str:
        """Run ``argv`` to completion; its stdout, or a failure showing all it printed."""
        log = self.where / f"{name}.log"
        with self.timed(name), log.open("wb") as err:
            result = subprocess.run(
                [str(arg) for arg in argv], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=err,
                stdin=subprocess.DEVNULL, timeout=timeout,
            )
        if result.returncode != 0:
            pytest.fail(
                f"{name}: {' '.join(map(str, argv))} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout.decode(errors='replace')[-6000:]}\n"
                f"--- stderr ({log})\n{tail(log)}",
                pytrace=False,
            )
        return result.stdout.decode()

    def report(self) -> None:
        total = sum(seconds for _, seconds in self.timings)
        steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.timings)
        print(f"\n{self.title}: {total:.1f}s ({steps})")


def tail(path: Path, limit: int = 6000) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no output file)"
    return text if len(text) <= limit else "...\n" + text[-limit:]


def pip_env() -> dict[str, str]:
    """This process's environment for pip (its index, proxy and certificate settings), less
    what would point it at the test runner's own environment."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CONDA_PREFIX"):
        env.pop(name, None)
    return env


def lynkr_env(venv: Path, home: Path, **settings: str) -> dict[str, str]:
    """Nothing of the test runner's environment but the system PATH: no settings leak in."""
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home),
            "LYNKR_HOME": str(home / ".lynkr"), **settings}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every wheel of the workspace, built once for the whole module."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; scripts/test installs it (python3 -m pip install uv)")
    where = tmp_path_factory.mktemp("install")
    steps = Steps(where / "logs", "build")
    out = where / "dist"
    steps.run("uv-build", [uv, "build", "--all-packages", "--wheel", "--no-progress", "-o", out],
              env=pip_env(), cwd=REPO)
    steps.report()
    return out


def test_every_distribution_is_built_as_a_typed_wheel_of_the_one_version(dist):
    wheels = {path.name.split("-")[0]: path for path in dist.glob("*.whl")}
    expected = {name.replace("-", "_") for name in ("lynkr-gateway", *BUNDLED, *EXAMPLES)}
    assert set(wheels) == expected
    for wheel in wheels.values():
        assert wheel.name.split("-")[1] == VERSION, wheel.name
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
        typed = [entry for entry in names if entry.endswith("/py.typed")]
        assert typed, f"{wheel.name} has no py.typed"
        assert not [entry for entry in names if "/tests/" in entry or "__pycache__" in entry], wheel.name
    with zipfile.ZipFile(wheels["lynkr_gateway"]) as archive:
        assert "lynkr_core/py.typed" in archive.namelist()


def make_venv(steps: Steps, venv: Path, dist: Path, requirement: str) -> dict[str, str]:
    """A fresh venv of the interpreter running the tests, ``requirement`` installed from
    ``dist`` plus the normal index; returns what is installed, name -> version."""
    steps.run("venv", [sys.executable, "-m", "venv", venv], env=pip_env(), cwd=venv.parent, timeout=120)
    steps.run(
        "pip-install",
        [venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--no-compile",
         "--find-links", dist, requirement],
        env=pip_env(), cwd=venv.parent,
    )
    listing = steps.run(
        "installed",
        [venv / "bin" / "python", "-c",
         "import importlib.metadata as m, json; "
         "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version "
         "for d in m.distributions()}))"],
        env=pip_env(), cwd=venv.parent,
    )
    installed = json.loads(listing)
    assert "lynkr" not in installed, f"pip installed the unrelated 'lynkr' {installed['lynkr']}"
    assert installed.get("lynkr-gateway") == VERSION, installed
    return installed


def plugins(steps: Steps, venv: Path, home: Path) -> dict[str, dict[str, Any]]:
    out = steps.run("lynkr-plugins", [venv / "bin" / "lynkr", "plugins", "--json"],
                    env=lynkr_env(venv, home), cwd=home, timeout=60)
    return {row["name"]: row for row in json.loads(out)}


def http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def lynkr_started(steps: Steps, venv: Path, home: Path, **settings: str) -> Iterator[tuple[str, Path]]:
    """``lynkr start`` on a free port until /health answers 200; yields its URL and the file
    with all it printed. Stopped on the way out with SIGTERM; nothing of it may be left."""
    port = free_port()
    log = steps.where / "lynkr-start.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(venv / "bin" / "lynkr"), "start", "--port", str(port)],
            env=lynkr_env(venv, home, **settings), cwd=home, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        with steps.timed("start-until-healthy"):
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(f"lynkr start exited {process.returncode} before serving:\n{tail(log)}",
                                pytrace=False)
                try:
                    status, body = http("GET", url + "/health")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"lynkr start: no answer on {url}/health in 30 s:\n{tail(log)}",
                                    pytrace=False)
                    time.sleep(0.1)
        assert status == 200, (status, body, tail(log))
        yield url, log
    finally:
        with steps.timed("stop"):
            stop(process, log)


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, wait; then nothing may be left in its process group (its own session)."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        pytest.fail(f"lynkr start did not exit within 20 s of SIGTERM:\n{tail(log)}", pytrace=False)
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail(f"lynkr start left processes behind after it exited:\n{tail(log)}", pytrace=False)


def test_the_all_extra_installs_every_bundled_plugin_and_serves(dist, tmp_path):
    steps = Steps(tmp_path / "logs", "lynkr-gateway[all]")
    home = tmp_path / "home"
    home.mkdir()
    try:
        venv = tmp_path / "venv"
        installed = make_venv(steps, venv, dist, "lynkr-gateway[all]")
        assert {name: installed.get(name) for name in BUNDLED} == dict.fromkeys(BUNDLED, VERSION)
        assert not set(EXAMPLES) & set(installed), "the example plugin is not part of [all]"

        rows = plugins(steps, venv, home)
        assert sorted(rows) == BUNDLED, rows
        for name, row in rows.items():
            assert row["enabled"], (name, row["reason"])
            assert (row["distribution"], row["version"]) == (name, VERSION)

        with lynkr_started(steps, venv, home, **OPENAI_ENV) as (url, log):
            status, body = http("GET", url + "/health/ready")
            assert status == 200, (status, body, tail(log))
            assert json.loads(body)["provider"] == "openai"
    finally:
        steps.report()


def test_the_core_alone_serves_and_names_the_extra_to_install(dist, tmp_path):
    steps = Steps(tmp_path / "logs", "lynkr-gateway alone")
    home = tmp_path / "home"
    home.mkdir()
    try:
        venv = tmp_path / "venv"
        installed = make_venv(steps, venv, dist, "lynkr-gateway")
        assert not {*BUNDLED, *EXAMPLES} & set(installed), installed

        assert plugins(steps, venv, home) == {}

        with lynkr_started(steps, venv, home) as (url, log):  # MODEL_PROVIDER: the default
            printed = log.read_text(errors="replace")
            assert CORE_ONLY_HINT in printed, f"lynkr start did not say {CORE_ONLY_HINT!r}:\n{printed}"
            status, body = http("POST", url + "/v1/messages", MESSAGE)
        assert status >= 400, (status, body)
        error = json.loads(body)
        assert error["type"] == "error", error
        assert CORE_ONLY_HINT in error["error"]["message"], error
    finally:
        steps.report()
