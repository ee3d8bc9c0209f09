"""workspace_test_run: a real pytest project, the timeout, command choice and the scrubbed environment."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
from lynkr_tools_workspace.config import WorkspaceSettings
from lynkr_tools_workspace.testcommand import choose_command, detect_command, scrubbed_env
from lynkr_tools_workspace.testreport import pytest_counts

from lynkr_core import ToolError

PYTEST_INI = """\
[pytest]
addopts = -p no:cacheprovider -p no:hypothesispytest -p no:randomly
asyncio_default_fixture_loop_scope = function
"""


@pytest.fixture
def project(workspace: Path) -> Path:
    """A tiny pytest project whose .venv/bin/python is this interpreter (it has pytest)."""
    (workspace / "pytest.ini").write_text(PYTEST_INI)
    (workspace / "test_ok.py").write_text("def test_one():\n    assert 1\n\ndef test_two():\n    assert 2\n")
    python = workspace / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return workspace


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] not in ("Z", "X")


async def test_passing_suite(make_bench, project):
    bench = make_bench()
    result = await bench.call("workspace_test_run")
    assert not result.is_error, result.text
    lines = result.text.splitlines()
    assert lines[0] == "$ .venv/bin/python -m pytest    (detected from pytest.ini)"
    assert lines[1].startswith("exit code 0 after ") and lines[1].endswith(": passed")
    assert lines[2] == "pytest: 2 passed, 0 failed, 0 errors, 0 skipped"
    assert "2 passed in" in lines[-1]


async def test_failing_suite_is_an_error_and_paths_narrow_it(make_bench, project):
    (project / "test_bad.py").write_text(
        "import pytest\n\ndef test_bad():\n    assert 1 == 2\n\n@pytest.mark.skip\ndef test_skip():\n    pass\n"
    )
    bench = make_bench()
    result = await bench.call("workspace_test_run")
    assert result.is_error
    assert "exit code 1 after" in result.text and ": FAILED" in result.text
    assert "pytest: 2 passed, 1 failed, 0 errors, 1 skipped" in result.text
    assert "assert 1 == 2" in result.text
    only_ok = await bench.call("workspace_test_run", paths=["test_ok.py"])
    assert not only_ok.is_error, only_ok.text
    assert only_ok.text.startswith("$ .venv/bin/python -m pytest ./test_ok.py")
    one = await bench.call("workspace_test_run", paths=["test_ok.py::test_two"])
    assert "pytest: 1 passed, 0 failed" in one.text


async def test_paths_are_confined(make_bench, project):
    bench = make_bench()
    for path in ("../outside", "/etc", "~/x", "", "-k"):
        result = await bench.call("workspace_test_run", paths=[path])
        if path == "-k":  # a file name, not an option: passed as ./-k, which does not exist
            assert result.is_error and "./-k" in result.text
            continue
        assert result.is_error and ("refused" in result.text or "empty" in result.text), result.text
        assert not result.text.startswith("$")


async def test_hanging_suite_is_killed_with_its_process_group(make_bench, project):
    (project / "test_hang.py").write_text(
        "import os, subprocess, time\n\n"
        "def test_hang():\n"
        "    child = subprocess.Popen(['sleep', '60'])\n"
        "    with open('pids', 'w') as f:\n"
        "        f.write(f'{os.getpid()} {child.pid}')\n"
        "    time.sleep(60)\n"
    )
    bench = make_bench(WORKSPACE_TEST_TIMEOUT_MS="2500")
    started = time.monotonic()
    result = await bench.call("workspace_test_run", paths=["test_hang.py"])
    assert time.monotonic() - started < 10
    assert result.is_error
    assert "TIMED OUT after 2." in result.text and "process group was killed" in result.text
    await _assert_gone([int(pid) for pid in (project / "pids").read_text().split()])


async def test_cancelled_run_kills_the_group(make_bench, workspace):
    command = "echo $$ > pids; sleep 30 & echo $! >> pids; wait"
    bench = make_bench(WORKSPACE_TEST_COMMAND=command, LYNKR_TOOL_TIMEOUT_SECONDS="1")
    result = await bench.call("workspace_test_run")
    assert result.is_error and "timed out after 1 s" in result.text
    await _assert_gone([int(pid) for pid in (workspace / "pids").read_text().split()])


async def test_children_left_behind_are_killed(make_bench, workspace):
    bench = make_bench(WORKSPACE_TEST_COMMAND="sleep 30 & echo $! > pids; echo done")
    started = time.monotonic()
    result = await bench.call("workspace_test_run")
    assert time.monotonic() - started < 5
    assert not result.is_error and result.text.endswith("\ndone")
    await _assert_gone([int((workspace / "pids").read_text())])


async def _assert_gone(pids: list[int]) -> None:
    for _ in range(40):  # SIGKILL is delivered at once; allow a moment for the exit
        if not any(_alive(pid) for pid in pids):
            break
        await asyncio.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


async def test_could_not_start_is_an_error(make_bench, project):
    (project / ".venv" / "bin" / "python").chmod(0o644)
    result = await make_bench().call("workspace_test_run")
    assert result.is_error
    assert "could not start" in result.text and "Permission denied" in result.text


async def test_configured_commands_win_over_detection(make_bench, project):
    both = make_bench(POLICY_GIT_TEST_COMMAND="echo from-policy", WORKSPACE_TEST_COMMAND="echo from-workspace")
    result = await both.call("workspace_test_run")
    assert not result.is_error
    assert result.text.splitlines()[0] == "$ echo from-policy    (POLICY_GIT_TEST_COMMAND)"
    assert result.text.splitlines()[-1] == "from-policy"
    workspace_only = await make_bench(WORKSPACE_TEST_COMMAND="echo from-workspace").call("workspace_test_run")
    assert workspace_only.text.splitlines()[-1] == "from-workspace"
    with_paths = await make_bench(WORKSPACE_TEST_COMMAND="echo").call(
        "workspace_test_run", paths=["test_ok.py", "dir with space/x;y"]
    )
    assert with_paths.text.splitlines()[-1] == "./test_ok.py ./dir with space/x;y"


async def test_shell_command_exit_code_tail_and_stdin(make_bench, workspace):
    failing = await make_bench(WORKSPACE_TEST_COMMAND="echo boom; exit 3").call("workspace_test_run")
    assert failing.is_error and "exit code 3 after" in failing.text and "boom" in failing.text
    tail = await make_bench(WORKSPACE_TEST_COMMAND="seq 1 100", WORKSPACE_TEST_TAIL_LINES="5").call(
        "workspace_test_run"
    )
    assert tail.text.splitlines()[-6:] == ["--- last 5 lines of 100 ---", "96", "97", "98", "99", "100"]
    flood = await make_bench(WORKSPACE_TEST_COMMAND="seq 1 300000", WORKSPACE_TEST_TAIL_BYTES="1000").call(
        "workspace_test_run"
    )
    assert len(flood.text) < 1500 and flood.text.endswith("\n300000")
    assert "of 300000 ---" in flood.text
    stdin = await make_bench(WORKSPACE_TEST_COMMAND="readlink /proc/self/fd/0; pwd").call("workspace_test_run")
    assert stdin.text.splitlines()[-2:] == ["/dev/null", str(workspace)]
    silent = await make_bench(WORKSPACE_TEST_COMMAND="true").call("workspace_test_run")
    assert not silent.is_error and silent.text.endswith("(no output)")


async def test_environment_is_scrubbed(make_bench, workspace, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-leak")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-must-not-leak")
    monkeypatch.setenv("LYNKR_API_KEYS", "client-key-must-not-leak")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("EXTRA_FOR_TESTS", "passed-through")
    bench = make_bench(
        WORKSPACE_TEST_COMMAND="env",
        WORKSPACE_TEST_PASSTHROUGH_ENV="EXTRA_FOR_TESTS, MISSING_VAR",
        WORKSPACE_TEST_TAIL_LINES="1000",
        ANTHROPIC_API_KEY="sk-settings-must-not-leak",
    )
    result = await bench.call("workspace_test_run")
    assert not result.is_error
    assert "must-not-leak" not in result.text
    assert "PYTHONPATH" not in result.text
    assert f"PATH={os.environ['PATH']}" in result.text.splitlines()
    assert "EXTRA_FOR_TESTS=passed-through" in result.text.splitlines()


def test_scrubbed_env_keeps_only_safe_names():
    env = scrubbed_env(["MINE"], {"PATH": "/bin", "HOME": "/h", "MINE": "1", "AWS_SECRET_ACCESS_KEY": "x", "LANG": "C"})
    assert env == {"PATH": "/bin", "HOME": "/h", "LANG": "C", "MINE": "1"}
    assert scrubbed_env([], {})["PATH"] == "/usr/local/bin:/usr/bin:/bin"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "", "package.json": '{"scripts": {"test": "jest"}}'}, ["python3", "-m", "pytest"]),
        ({"conftest.py": "", "go.mod": ""}, ["python3", "-m", "pytest"]),
        ({"setup.cfg": ""}, ["python3", "-m", "pytest"]),
        ({"tox.ini": ""}, ["python3", "-m", "pytest"]),
        ({"package.json": '{"scripts": {"test": "jest"}}', "go.mod": ""}, ["npm", "test"]),
        ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}', "go.mod": ""}, ["go", "test", "./..."]),
        ({"package.json": "{not json", "Cargo.toml": ""}, ["cargo", "test"]),
        ({"package.json": '{"scripts": {}}'}, None),
        ({"go.mod": "", "Cargo.toml": ""}, ["go", "test", "./..."]),
        ({"Cargo.toml": ""}, ["cargo", "test"]),
        ({"README.md": ""}, None),
    ],
)
def test_detection_order(workspace, files, expected):
    for name, content in files.items():
        (workspace / name).write_text(content)
    detected = detect_command(workspace)
    assert (detected[0] if detected else None) == expected


def test_detection_prefers_the_workspace_venv(project):
    argv, source = detect_command(project)
    assert argv == [str(project / ".venv/bin/python"), "-m", "pytest"] and source == "detected from pytest.ini"


def test_npm_paths_go_after_a_double_dash(workspace):
    (workspace / "package.json").write_text('{"scripts": {"test": "vitest"}}')
    command = choose_command(WorkspaceSettings(), workspace, ["./src/a.test.ts"])
    assert command.argv == ("npm", "test", "--", "./src/a.test.ts")


async def test_no_command_is_a_clear_error(make_bench, workspace):
    result = await make_bench().call("workspace_test_run")
    assert result.is_error and "WORKSPACE_TEST_COMMAND" in result.text
    with pytest.raises(ToolError, match="no test command is configured"):
        choose_command(WorkspaceSettings(), workspace, [])


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        ("....\n4 passed in 0.01s\n", {"passed": 4, "failed": 0, "errors": 0, "skipped": 0}),
        (
            "===== 1 failed, 2 passed, 3 skipped, 1 error, 2 warnings in 1.20s =====",
            {"passed": 2, "failed": 1, "errors": 1, "skipped": 3, "warnings": 2},
        ),
        ("2 xfailed, 1 deselected in 0.1s (0:00:00)", {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "xfailed": 2, "deselected": 1}),
        ("no tests ran in 0.01s", {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}),
        ("ok  \tgithub.com/x/y\t0.01s\n", None),
        ("3 passed but not a pytest line\n", None),
    ],
)
def test_pytest_counts(output, counts):
    assert pytest_counts(output) == counts


def test_effects_declare_the_test_action(bench):
    tool = bench.tools.get("workspace_test_run")
    effects = tool.effects(tool.parse_input({}))
    assert effects.actions == frozenset({"command.test"}) and not effects.read_only


async def test_without_a_permitting_policy_the_test_command_does_not_run(make_bench, project):
    marker = project / "ran"
    (project / "test_marker.py").write_text(f"def test_mark():\n    open({str(marker)!r}, 'w').close()\n")
    result = await make_bench(permit_tests=False).call("workspace_test_run")
    assert result.is_error and "command.test needs an explicit permission" in result.text
    assert not marker.exists()
