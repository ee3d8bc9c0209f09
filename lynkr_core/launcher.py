"""``lynkr code``, ``lynkr status`` and ``lynkr stop``: run the Claude Code CLI through lynkr.

``lynkr code [claude args...]`` uses the lynkr already running for this configuration
(``lynkr_core.runfiles``) or starts one in the background on 127.0.0.1, runs ``claude``
with ``ANTHROPIC_BASE_URL`` and a key pointing at it (and lynkr's status line), and when
the CLI exits stops the server it started, unless another ``lynkr code`` still uses it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from lynkr_core import runfiles
from lynkr_core.config import ConfigError, Settings

CLAUDE_BIN_ENV = "LYNKR_CLAUDE_BIN"
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
#: The key ``claude`` sends when lynkr has no ``LYNKR_API_KEYS`` (lynkr then checks none).
LOCAL_KEY = "lynkr-local"
START_TIMEOUT_SECONDS = 30.0
#: ``lynkr code``'s own options, taken off the front of the arguments for claude.
LYNKR_CODE_OPTIONS = frozenset({"--no-statusline"})
#: What the CLI would otherwise send to Anthropic directly, or send to lynkr instead of its key.
CLIENT_CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


def find_claude() -> str | None:
    """The Claude Code CLI: ``LYNKR_CLAUDE_BIN``, else ``claude`` on ``PATH``."""
    configured = os.environ.get(CLAUDE_BIN_ENV)
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("claude")


def claude_missing_message() -> str:
    configured = os.environ.get(CLAUDE_BIN_ENV)
    where = f"{CLAUDE_BIN_ENV}={configured} does not exist" if configured else "no `claude` on PATH"
    return (f"lynkr code: the Claude Code CLI was not found ({where}). Install it with:\n"
            f"  {INSTALL_HINT}\n"
            f"or set {CLAUDE_BIN_ENV} to its path.")


@contextlib.contextmanager
def _locked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[IO[bytes]]:
    with path.open("a+b") as handle:
        fcntl.flock(handle, mode)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port(preferred: int) -> int:
    """``preferred`` when it is free on 127.0.0.1, else any free port."""
    for candidate in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise ConfigError("no free port on 127.0.0.1 for lynkr")


def start_in_background(settings: Settings) -> runfiles.RunFile:
    """Start ``lynkr start`` on 127.0.0.1 as a detached process and wait until it answers;
    its output goes to ``LYNKR_HOME/run/server-<port>.log``. Raises ``ConfigError`` (with
    the end of that log) when it does not come up."""
    port = _port(settings.core.port)
    log_path = runfiles.run_dir(settings) / f"server-{port}.log"
    command = [sys.executable, "-m", "lynkr_core.cli", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, runfiles.OWNER_ENV: "code"}
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    mine = runfiles.fingerprint(settings)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        for run in runfiles.read_all(settings):
            if run.pid == process.pid and run.fingerprint == mine and runfiles.healthy(run.url):
                return run
        time.sleep(0.1)
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
    raise ConfigError("lynkr did not start; the end of its log (" + str(log_path) + "):\n  "
                      + "\n  ".join(tail))


def statusline_settings() -> str:
    """The ``--settings`` JSON that makes Claude Code show ``lynkr statusline``."""
    command = shlex.join([sys.executable, "-m", "lynkr_core.statusline"])
    return json.dumps({"statusLine": {"type": "command", "command": command, "padding": 0}})


def claude_command(claude: str, claude_args: Sequence[str], *, statusline: bool) -> list[str]:
    """``claude`` with the user's arguments, and lynkr's status line unless they passed
    ``--settings`` themselves or turned it off."""
    command = [claude, *claude_args]
    if statusline and not any(arg == "--settings" or arg.startswith("--settings=") for arg in claude_args):
        command += ["--settings", statusline_settings()]
    return command


def claude_environment(url: str, key: str) -> dict[str, str]:
    """This environment with the CLI pointed at lynkr: ``ANTHROPIC_BASE_URL`` and lynkr's key as
    ``ANTHROPIC_AUTH_TOKEN`` (a Bearer token, which the interactive CLI uses without asking);
    a personal Anthropic key in the environment is not passed on."""
    env = {name: value for name, value in os.environ.items() if name not in CLIENT_CREDENTIALS}
    env.update({"ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": key})
    return env


def _run_claude(command: list[str], env: dict[str, str]) -> int:
    """Run the CLI in the foreground; Ctrl-C is the CLI's to handle, a SIGTERM or SIGHUP
    sent to ``lynkr code`` is passed on to it."""
    process = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig, handler in (
        (signal.SIGINT, signal.SIG_IGN), (signal.SIGTERM, forward), (signal.SIGHUP, forward))}
    try:
        return process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_code(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Claude Code CLI through lynkr (started for it if none runs)."""
    claude = find_claude()
    if claude is None:
        print(claude_missing_message(), file=sys.stderr)
        return 127
    directory = runfiles.run_dir(settings)
    name = runfiles.fingerprint(settings)
    users = (directory / f"{name}.users").open("a+b")
    try:
        with _locked(directory / f"{name}.lock"):
            run = runfiles.find(settings)
            if run is None:
                print("lynkr code: starting lynkr in the background...", file=sys.stderr)
                run = start_in_background(settings)
            fcntl.flock(users, fcntl.LOCK_SH)  # held while the CLI runs: the server is in use
        print(f"lynkr code: {run.url} (pid {run.pid}) -> {settings.core.model_provider}", file=sys.stderr)
        key = settings.core.api_keys[0] if settings.core.api_keys else LOCAL_KEY
        options, claude_args = split_lynkr_options(args.claude_args)
        command = claude_command(claude, claude_args, statusline="--no-statusline" not in options)
        try:
            return _run_claude(command, claude_environment(run.url, key))
        except OSError as exc:  # not executable, wrong architecture...
            print(f"lynkr code: could not run {claude}: {exc}", file=sys.stderr)
            return 126
    finally:
        fcntl.flock(users, fcntl.LOCK_UN)
        users.close()
        _stop_if_unused(settings, directory / f"{name}.users", directory / f"{name}.lock")


def _stop_if_unused(settings: Settings, users_path: Path, lock_path: Path) -> None:
    """Stop this configuration's server if ``lynkr code`` started it and no other
    ``lynkr code`` uses it any more."""
    with _locked(lock_path), users_path.open("a+b") as users:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another lynkr code still runs the CLI against it
        try:
            mine = runfiles.fingerprint(settings)
            for run in runfiles.read_all(settings):
                if run.fingerprint == mine and run.owner == "code":
                    runfiles.stop(run, timeout=stop_timeout(settings))
                    print(f"lynkr code: stopped lynkr (pid {run.pid})", file=sys.stderr)
        finally:
            fcntl.flock(users, fcntl.LOCK_UN)


def stop_timeout(settings: Settings) -> float:
    """How long ``lynkr stop`` waits before SIGKILL: the server's shutdown grace for the
    streams in flight, then a minute for plugins to flush (sessions) and stop (MCP servers)."""
    return settings.core.shutdown_grace_seconds + 60.0


def add_code_arguments(parser: argparse.ArgumentParser) -> None:
    """Every argument after ``code`` goes to claude verbatim (``-p``, ``--model``, even
    ``--help``): the parser sees none of them as an option. lynkr's own option,
    ``--no-statusline``, may come first (``cmd_code`` takes it off)."""
    parser.prefix_chars = "\0"  # no option prefix: "-p" is an argument for claude, not for lynkr
    parser.add_argument("claude_args", nargs=argparse.REMAINDER,
                        help="arguments for claude (e.g. -p 'fix the tests'); "
                             "first --no-statusline to leave Claude Code's status line alone")


def split_lynkr_options(arguments: Sequence[str]) -> tuple[set[str], list[str]]:
    """lynkr's leading options (``LYNKR_CODE_OPTIONS``) and the arguments for claude."""
    rest = list(arguments)
    options = set()
    while rest and rest[0] in LYNKR_CODE_OPTIONS:
        options.add(rest.pop(0))
    return options, rest


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """List the lynkr servers running from this ``LYNKR_HOME``; exit 0 when one runs for this
    configuration, 3 when none does."""
    mine = runfiles.fingerprint(settings)
    runs = runfiles.read_all(settings)
    rows = [{**runfiles.describe(run), "this_configuration": run.fingerprint == mine,
             "healthy": runfiles.healthy(run.url)} for run in runs]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no lynkr running")
    for row in rows if not args.json else ():
        marks = ["this configuration" if row["this_configuration"] else "another configuration",
                 "healthy" if row["healthy"] else "NOT ANSWERING", f"started by lynkr {row['owner']}"]
        print(f"{row['url']}  pid {row['pid']}  {', '.join(marks)}  workspace {row['workspace']}")
    return 0 if any(row["this_configuration"] and row["healthy"] for row in rows) else 3


def cmd_stop(args: argparse.Namespace, settings: Settings) -> int:
    """Stop the lynkr running for this configuration (``--all``: every one in ``LYNKR_HOME``)."""
    mine = runfiles.fingerprint(settings)
    chosen = [run for run in runfiles.read_all(settings) if args.all or run.fingerprint == mine]
    if not chosen:
        print("no lynkr running" + ("" if args.all else " for this configuration"))
        return 0
    for run in chosen:
        stopped = runfiles.stop(run, timeout=stop_timeout(settings))
        print(f"{'stopped' if stopped else 'could not stop'} lynkr at {run.url} (pid {run.pid})")
    return 0


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_stop_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="stop every lynkr of this LYNKR_HOME")
