"""``lynkr code``, ``lynkr status`` and ``lynkr stop``, run as the real command in
subprocesses: a background lynkr is started for the Claude Code CLI (the real one, in
``-p`` mode against a scripted upstream) and stopped afterwards with no process left; a
running lynkr is reused and left running; status and stop find servers by their run files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from lynkr_core import runfiles
from lynkr_core.config import Settings
from lynkr_core.testing.claude_code import claude_binary
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port

UPSTREAM_KEY = "sk-upstream-for-the-launcher"


@pytest.fixture
def upstream():
    fake = FakeAnthropic(api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project directory: lynkr runs there, and so does the test (run files name the
    workspace, ``WORKSPACE_ROOT`` resolved from the working directory)."""
    path = tmp_path / "work"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


def environment(tmp_path: Path, upstream: FakeAnthropic, **extra: str) -> dict[str, str]:
    """A clean environment for lynkr and the CLI: a temporary LYNKR_HOME and HOME, the
    Anthropic provider in front of ``upstream``, the dashboard, a free port."""
    (tmp_path / "home").mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "LYNKR_HOME": str(tmp_path / "lynkr-home"),
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-dashboard",
        "PORT": str(free_port()),
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        **extra,
    }


def lynkr(env: dict[str, str], cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """The ``lynkr`` command, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "lynkr_core.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def servers_on(port: str) -> list[psutil.Process]:
    """Processes running ``lynkr start`` on ``port``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "lynkr_core.cli" in cmdline and "start" in cmdline and port in cmdline:
            found.append(process)
    return found


def settings_of(env: dict[str, str], cwd: Path) -> Settings:
    """The settings ``lynkr`` builds in ``cwd`` (the test's working directory) from ``env``."""
    assert Path.cwd() == cwd
    return Settings.load(env)


class BackgroundLynkr:
    """``lynkr start`` as a background process, waited for until its run file answers."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "lynkr_core.cli", "start"], env=env, cwd=cwd,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        settings = settings_of(env, cwd)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            run = runfiles.find(settings)
            if run is not None and run.pid == self.process.pid:
                self.run = run
                return
            time.sleep(0.1)
        self.process.terminate()
        _, errors = self.process.communicate(timeout=20)
        raise AssertionError(f"lynkr did not start: {errors}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=20)
        if self.process.stderr:
            self.process.stderr.close()


def fake_claude(tmp_path: Path, exit_code: int = 0) -> Path:
    """A stand-in for the CLI that records its arguments and environment and asks the lynkr
    it was pointed at for ``/health`` (for the launcher's own logic, not Claude Code's)."""
    script = tmp_path / "claude"
    script.write_text(f"""#!{sys.executable}
import json, os, sys, time, urllib.request
wait_for = os.environ.get("FAKE_CLAUDE_WAIT_FOR")
if wait_for:
    open(wait_for + ".waiting", "w").close()
    while not os.path.exists(wait_for):
        time.sleep(0.05)
with urllib.request.urlopen(os.environ["ANTHROPIC_BASE_URL"] + "/health", timeout=5) as r:
    health = r.status
record = {{"argv": sys.argv[1:], "health": health,
          "env": {{k: os.environ.get(k) for k in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")}}}}
with open(os.environ["FAKE_CLAUDE_RECORD"], "a") as out:
    out.write(json.dumps(record) + "\\n")
sys.exit({exit_code})
""")
    script.chmod(0o755)
    return script


@pytest.mark.e2e
def test_lynkr_code_runs_claude_code_through_a_lynkr_it_starts_and_stops(tmp_path, upstream, workdir):
    target = workdir / "hello.txt"
    upstream._script.extend([
        Reply.tool_use("Write", {"file_path": str(target), "content": "hi from lynkr code"}),
        Reply.text("done: hello.txt is written"),
    ])
    env = environment(tmp_path, upstream, LYNKR_CLAUDE_BIN=claude_binary(),
                      ANTHROPIC_API_KEY="sk-ant-personal-key-not-for-lynkr")

    result = lynkr(env, workdir, "code", "-p", "create hello.txt", "--permission-mode", "acceptEdits")

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "hi from lynkr code"
    assert "hello.txt is written" in result.stdout
    assert "starting lynkr in the background" in result.stderr
    assert "stopped lynkr" in result.stderr
    assert len(upstream.message_requests) == 2
    assert upstream.message_requests[0].headers["x-api-key"] == UPSTREAM_KEY
    # Nothing is left: no server process on the port, no run file.
    assert servers_on(env["PORT"]) == []
    assert runfiles.read_all(settings_of(env, workdir)) == []
    log = Path(env["LYNKR_HOME"], "run", f"server-{env['PORT']}.log").read_text()
    assert "sk-ant-personal-key-not-for-lynkr" not in log


def test_lynkr_code_reuses_a_running_lynkr_and_leaves_it_running(tmp_path, upstream, workdir):
    record = tmp_path / "claude-calls.jsonl"
    env = environment(tmp_path, upstream, LYNKR_API_KEYS="client-key-of-the-team",
                      LYNKR_CLAUDE_BIN=str(fake_claude(tmp_path, exit_code=7)),
                      FAKE_CLAUDE_RECORD=str(record), ANTHROPIC_API_KEY="sk-ant-personal")
    server = BackgroundLynkr(env, workdir)
    try:
        result = lynkr(env, workdir, "code", "--model", "opus", "-p", "hi")
        no_line = lynkr(env, workdir, "code", "--no-statusline", "--help")
        still_running = server.process.poll() is None
    finally:
        server.close()

    assert result.returncode == 7, result.stderr  # the CLI's exit code
    assert no_line.returncode == 7, no_line.stderr
    assert "starting lynkr" not in result.stderr and "stopped" not in result.stderr
    assert still_running
    first, second = (json.loads(line) for line in record.read_text().splitlines())
    assert first["health"] == 200
    assert first["env"] == {"ANTHROPIC_BASE_URL": server.run.url, "ANTHROPIC_AUTH_TOKEN": "client-key-of-the-team",
                            "ANTHROPIC_API_KEY": None}
    assert first["argv"][:3] == ["--model", "opus", "-p"]
    settings_flag = first["argv"].index("--settings")
    status_line = json.loads(first["argv"][settings_flag + 1])["statusLine"]
    assert status_line["type"] == "command" and "lynkr_core.statusline" in status_line["command"]
    assert second["argv"] == ["--help"]  # lynkr's own option taken off, no status line added


def test_lynkr_code_without_claude_code_says_how_to_install_it(tmp_path, upstream, workdir):
    env = environment(tmp_path, upstream, PATH=str(tmp_path))  # no claude on PATH
    result = lynkr(env, workdir, "code", "-p", "hi")
    configured = lynkr({**env, "LYNKR_CLAUDE_BIN": str(tmp_path / "nowhere/claude")}, workdir, "code")

    assert result.returncode == 127
    assert "npm install -g @anthropic-ai/claude-code" in result.stderr
    assert "LYNKR_CLAUDE_BIN" in result.stderr
    assert configured.returncode == 127
    assert "nowhere/claude does not exist" in configured.stderr
    assert not Path(env["LYNKR_HOME"], "run").exists() or not list(Path(env["LYNKR_HOME"], "run").glob("*.json"))


def test_status_and_stop_find_the_server_of_this_configuration(tmp_path, upstream, workdir):
    env = environment(tmp_path, upstream)
    other = {**env, "MODEL_PROVIDER": "ollama"}  # another configuration, same LYNKR_HOME
    nothing = lynkr(env, workdir, "status")
    server = BackgroundLynkr(env, workdir)
    try:
        status = lynkr(env, workdir, "status")
        status_json = lynkr(env, workdir, "status", "--json")
        status_other = lynkr(other, workdir, "status")
        stop_other = lynkr(other, workdir, "stop")
        alive_after_other_stop = server.process.poll() is None
        stopped = lynkr(env, workdir, "stop")
        exit_code = server.process.wait(timeout=20)
    finally:
        server.close()
    after = lynkr(env, workdir, "status")

    assert (nothing.returncode, nothing.stdout.strip()) == (3, "no lynkr running")
    assert status.returncode == 0
    assert server.run.url in status.stdout and "this configuration" in status.stdout
    [row] = json.loads(status_json.stdout)
    assert (row["pid"], row["owner"], row["healthy"]) == (server.process.pid, "start", True)
    assert row["workspace"] == str(workdir.resolve())
    assert status_other.returncode == 3 and "another configuration" in status_other.stdout
    assert "no lynkr running for this configuration" in stop_other.stdout and alive_after_other_stop
    assert stopped.returncode == 0 and f"stopped lynkr at {server.run.url}" in stopped.stdout
    assert exit_code == 0  # a clean shutdown on SIGTERM
    assert after.returncode == 3


def test_a_stale_run_file_is_removed(tmp_path, upstream, workdir):
    env = environment(tmp_path, upstream)
    run_dir = Path(env["LYNKR_HOME"], "run")
    run_dir.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = run_dir / f"{dead.stdout.strip()}.json"
    stale.write_text(json.dumps({"pid": int(dead.stdout), "url": "http://127.0.0.1:1", "fingerprint": "x"}))
    (run_dir / "999999999.json").write_text("not json")

    result = lynkr(env, workdir, "status")

    assert result.returncode == 3
    assert list(run_dir.glob("*.json")) == []


def wait_for_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_two_lynkr_code_share_one_server_and_the_last_one_out_stops_it(tmp_path, upstream, workdir):
    record = tmp_path / "claude-calls.jsonl"
    release = tmp_path / "release-first"
    env = environment(tmp_path, upstream, LYNKR_CLAUDE_BIN=str(fake_claude(tmp_path)),
                      FAKE_CLAUDE_RECORD=str(record))
    command = [sys.executable, "-m", "lynkr_core.cli", "code", "-p", "hi"]
    first = subprocess.Popen(command, env={**env, "FAKE_CLAUDE_WAIT_FOR": str(release)}, cwd=workdir,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(Path(str(release) + ".waiting"))  # the first CLI runs against its lynkr
        second = lynkr(env, workdir, "code", "-p", "hello")
        running_after_second = len(servers_on(env["PORT"]))
        release.touch()
        _, first_errors = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    assert second.returncode == 0 and first.returncode == 0, second.stderr + first_errors
    assert "starting lynkr" in first_errors and "starting lynkr" not in second.stderr
    assert "stopped" not in second.stderr  # the first CLI still used it
    assert running_after_second == 1
    assert "stopped lynkr" in first_errors
    assert servers_on(env["PORT"]) == []
    urls = {json.loads(line)["env"]["ANTHROPIC_BASE_URL"] for line in record.read_text().splitlines()}
    assert urls == {f"http://127.0.0.1:{env['PORT']}"}


def test_a_claude_that_cannot_run_is_reported_and_the_started_lynkr_stopped(tmp_path, upstream, workdir):
    broken = tmp_path / "claude"
    broken.write_text("not a program")  # not executable
    env = environment(tmp_path, upstream, LYNKR_CLAUDE_BIN=str(broken))

    result = lynkr(env, workdir, "code", "-p", "hi")

    assert result.returncode == 126
    assert f"could not run {broken}" in result.stderr
    assert "starting lynkr" in result.stderr and "stopped lynkr" in result.stderr
    assert servers_on(env["PORT"]) == []
