"""A real published MCP server from PyPI, ``mcp-server-time``, installed into a virtualenv of
its own under ``.tools/`` (git-ignored; CI installs it on a clean machine), run over stdio
under lynkr's sandbox and called by a scripted model through lynkr in server mode."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.installed import REPO

from .conftest import calls_then_reports, lynkr_serving, write_manifest

PACKAGE = "mcp-server-time==2026.10.19"
VENV = REPO / ".tools" / "mcp-server-time-2026.10.19"
#: Written into the virtualenv once the install succeeded.
INSTALLED = "lynkr-test-installed"


def _install(venv: Path) -> None:
    """A fresh virtualenv at ``venv`` with the package (entry points name their venv's
    Python by path, so it is built where it stays)."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to install mcp-server-time for this test")
    shutil.rmtree(venv, ignore_errors=True)
    for command in ([uv, "venv", "--quiet", str(venv)],
                    [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(venv / "bin" / "python"), PACKAGE]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{done.stderr}")
    (venv / INSTALLED).write_text(PACKAGE)


@pytest.fixture(scope="session")
def time_server() -> Path:
    """The ``mcp-server-time`` entry point, installed once and kept under ``.tools/``."""
    VENV.parent.mkdir(exist_ok=True)
    with open(VENV.parent / f"{VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one test process installs, the others wait
        if not (VENV / INSTALLED).exists():
            _install(VENV)
    return VENV / "bin" / "mcp-server-time"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_mcp_server_time_answers_through_lynkr(stream, time_server, tmp_path, workspace):
    manifest = write_manifest(tmp_path / "time.json", {"mcpServers": {"time": {
        "command": str(time_server), "args": ["--local-timezone", "UTC"]}}})
    script = calls_then_reports("mcp__time__get_current_time", {"timezone": "Europe/Paris"})
    async with FakeAnthropic(script) as upstream:
        async with lynkr_serving(upstream, workspace, MCP_SERVER_MANIFEST=str(manifest)) as lynkr:
            message = await lynkr.ask(stream=stream)
    offered = [tool["name"] for tool in upstream.message_requests[0].json["tools"]]
    assert {"mcp__time__get_current_time", "mcp__time__convert_time"} <= set(offered)
    said = message.content[0].text.removeprefix("The tool said: ")
    answer = json.loads(said)
    assert answer["timezone"] == "Europe/Paris"
    assert answer["datetime"].startswith("20")
