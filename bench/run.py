"""The benchmark run: every target side by side against one local upstream.

Targets (each proxy its own process tree, started fresh, ready when
``GET /health`` answers 200, or the peer's own readiness path):

- ``direct``: the load generator straight to the upstream's ``/v1/messages``: no
  proxy, the floor of latency;
- ``reference``: `bench.reference_proxy` -> the upstream's chat completions;
- ``lynkr-provider``: ``lynkr start`` with only ``lynkr-provider-openai`` enabled;
- ``lynkr-operating``: the provider with the operating plugins users run beside it:
  ``lynkr-metrics``, ``lynkr-usage`` and ``lynkr-dashboard`` (issue 20's target: within
  1.3x of the reference, so metrics and usage are not what makes lynkr slow);
- ``lynkr-all``: the same with every installed plugin enabled;
- ``lynkr-2-workers``: ``lynkr-provider`` with ``--workers 2`` (concurrency 32 only);
- not in the default run, only when named or with ``--peers`` (`bench.peers`
  installs them under ``.tools/bench-peers/`` and configures them):
  ``litellm`` (LiteLLM's proxy) and ``claude-code-router``.

Every target is started first and stays up. For each mode (``json``, ``stream``)
and concurrency (1, 32), the scenario's time is cut into rounds (4 in the full
run) and the targets take turns, each round in a rotated order: a warm-up on a
fresh client session, then a timed window. Drift over the run (clock speed,
other load) then falls on every target alike. Measured over a target's windows
together: requests/s, latency and TTFB percentiles, the proxy's process-tree CPU
(psutil ``cpu_times`` user+system of the process and every descendant, children
already reaped included, deltas over the windows / completed requests; each
window's figure is kept too), CPU per streamed chunk, peak RSS of the tree (sum
over its processes, sampled every 50 ms; PSS once at the scenario's end), errors;
and, to show where the machine's two cores went, the upstream's and the load
generator's own CPU.

lynkr runs at its default log level, ``info`` (an ``http`` and an ``exchange`` line per
request, JSON to a file), as users run it; ``--log-level warning`` measures it without
those lines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from bench import peers
from bench.load import Expect, LoadResult, open_session, request_body, run_load
from bench.report import render
from bench.upstream import Script

ROOT = Path(__file__).resolve().parent.parent
MODES = {"json": False, "stream": True}
#: lynkr's own default (``LOG_LEVEL``): the bench runs lynkr as users do.
LOG_LEVEL = "info"
PROVIDER = "lynkr-provider-openai"
SAMPLE_SECONDS = 0.05
# Variables that would change what lynkr does; the targets' own settings replace them.
SCRUBBED_PREFIXES = (
    "LYNKR_",
    "MODEL_",
    "FALLBACK_",
    "OPENAI_",
    "ANTHROPIC_",
    "AZURE_",
    "DATABRICKS_",
    "OPENROUTER_",
    "OLLAMA_",
    "LLAMACPP_",
    "LOG_LEVEL",
    "PORT",
    "WORKSPACE_ROOT",
    "LITELLM_",
)


@dataclasses.dataclass(frozen=True)
class Plan:
    """How long each scenario runs."""

    duration: float  # timed window, seconds
    warmup: float  # warm-up, seconds
    max_requests: int  # cap on each timed window
    warmup_max: int  # cap on each warm-up
    rounds: int  # windows per target and scenario, the targets taking turns


FULL = Plan(duration=8.0, warmup=1.0, max_requests=100_000, warmup_max=5_000, rounds=4)
QUICK = Plan(duration=1.2, warmup=0.3, max_requests=20_000, warmup_max=1_000, rounds=2)


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    kind: str  # direct, reference, lynkr, peer
    workers: int = 1
    #: ``LYNKR_PLUGINS`` of a lynkr target; None: every installed plugin.
    plugins: tuple[str, ...] | None = (PROVIDER,)
    concurrencies: tuple[int, ...] = (1, 32)
    default: bool = True  # in the run when no --targets are named


TARGETS = [
    Target("direct", "direct"),
    Target("reference", "reference"),
    Target("lynkr-provider", "lynkr"),
    Target("lynkr-operating", "lynkr", plugins=(PROVIDER, "lynkr-metrics", "lynkr-usage", "lynkr-dashboard")),
    Target("lynkr-all", "lynkr", plugins=None),
    Target("lynkr-2-workers", "lynkr", workers=2, concurrencies=(32,)),
    *(Target(name, "peer", default=False) for name in peers.PEERS),
]
PEER_RUN = ["reference", "lynkr-provider", *peers.PEERS]  # --peers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """A process tree this run started, measured with psutil and stopped by its group."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log_dir: Path
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.root = psutil.Process(self.popen.pid)
        self._tree: list[psutil.Process] = [self.root]
        self._tree_at = 0.0

    def tree(self, max_age: float = 0.0) -> list[psutil.Process]:
        """The root and its live descendants (re-listed when older than ``max_age`` s)."""
        now = time.monotonic()
        if now - self._tree_at >= max_age:
            try:
                self._tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                self._tree = []
            self._tree_at = now
        return self._tree

    def cpu_seconds(self) -> float:
        """CPU time of the whole tree so far, reaped descendants included."""
        total = 0.0
        for process in self.tree():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def rss(self, max_age: float = 0.0) -> int:
        """Resident memory of the tree, summed over its processes (shared pages count in each)."""
        total = 0
        for process in self.tree(max_age):
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def pss(self) -> int | None:
        """Proportional set size of the tree (shared pages split between their sharers), or None."""
        total = 0
        for process in self.tree():
            try:
                total += process.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
                return None
        return total

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the process group this run created, SIGKILL after 10 s."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers of the group, if any


class RssSampler(threading.Thread):
    """Peak RSS of a process tree, sampled every 50 ms (the tree is re-listed every 0.5 s)."""

    def __init__(self, proc: Proc) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.peak = proc.rss()
        self.samples = 1
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.proc.rss(max_age=0.5))
            self.samples += 1

    def finish(self) -> int:
        self.done.set()
        self.join()
        self.peak = max(self.peak, self.proc.rss())
        return self.peak


async def wait_ready(proc: Proc, url: str, limit_s: float = 60.0) -> float:
    """Seconds until ``GET url`` answers 200; raises if the process dies or time runs out."""
    start = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.perf_counter() - start < limit_s:
            if proc.popen.poll() is not None:
                raise RuntimeError(
                    f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}"
                )
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{proc.name} not ready after {limit_s:.0f} s:\n{proc.log_tail()}")


def target_env(target: Target, upstream_port: int, log_level: str = LOG_LEVEL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if target.kind == "lynkr":
        env.update(
            MODEL_PROVIDER="openai",
            OPENAI_ENDPOINT=f"http://127.0.0.1:{upstream_port}/v1/chat/completions",
            # A key of a real key's length: lynkr masks configured secrets on every log
            # line, as it does for users (a one-letter value is too short to be masked).
            OPENAI_API_KEY="sk-bench-0123456789abcdef0123456789abcdef",
            OPENAI_MODEL="gpt-4o",
            LOG_LEVEL=log_level,
            # Stateful plugins keep nothing between runs, and the bench's identical requests
            # must reach the upstream: cache hits would measure the cache (nox -s bench_cache).
            LYNKR_HOME=tempfile.mkdtemp(prefix="lynkr-bench-home-"),
            PROMPT_CACHE_ENABLED="false",
        )
        if target.plugins is not None:
            env["LYNKR_PLUGINS"] = ",".join(target.plugins)
    return env


@dataclasses.dataclass(frozen=True)
class Command:
    """How to start a target: its command line, environment, directory and readiness path."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    health: str


def target_command(
    target: Target, port: int, upstream_port: int, work: Path, log_level: str = LOG_LEVEL
) -> Command:
    """The command that starts ``target`` on ``port`` in front of the upstream (a lynkr
    target at ``log_level``)."""
    upstream = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
    if target.kind == "peer":
        launch = peers.launch(target.name, port, upstream_port, work)
        env = target_env(target, upstream_port) | launch.env
        return Command(launch.argv, env, launch.cwd, launch.health)
    if target.kind == "reference":
        argv = [
            sys.executable,
            "-m",
            "bench.reference_proxy",
            "--port",
            str(port),
            "--upstream",
            upstream,
        ]
        cwd = ROOT
    else:
        argv = [
            sys.executable,
            "-m",
            "lynkr_core.cli",
            "start",
            "--port",
            str(port),
            "--workers",
            str(target.workers),
        ]
        cwd = work / target.name  # no .env or lynkr.toml from the checkout
        cwd.mkdir(exist_ok=True)
    return Command(argv, target_env(target, upstream_port, log_level), cwd, "/health")


def start_upstream(script: Script, work: Path) -> tuple[Proc, int]:
    """The bench's upstream (``bench.upstream``) answering as ``script`` says, on a free port:
    its process (wait for ``/health``) and the port."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.upstream", "--port", str(port), "--chunks", str(script.chunks),
            "--delay-ms", str(script.delay_ms)]
    if script.tool:
        argv.append("--tool")
    return Proc("upstream", argv, target_env(TARGETS[0], port), ROOT, work), port


def start_target(
    target: Target, port: int, upstream_port: int, work: Path, log_level: str = LOG_LEVEL
) -> tuple[Proc, str]:
    """The started target and its readiness path."""
    command = target_command(target, port, upstream_port, work, log_level)
    return Proc(target.name, command.argv, command.env, command.cwd, work), command.health


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted ``values``, or None."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def summarize(result: LoadResult) -> dict[str, Any]:
    latencies = [lat for lat, ok in zip(result.latency, result.ok, strict=True) if ok]
    ttfbs = [t for t, ok in zip(result.ttfb, result.ok, strict=True) if ok and not math.isnan(t)]
    return {
        "requests": result.completed,
        "ok": result.succeeded,
        "errors": result.completed - result.succeeded,
        "error_kinds": dict(result.errors),
        "error_samples": result.error_samples,
        "wall_s": round(result.wall, 4),
        "rps": round(result.succeeded / result.wall, 2) if result.wall else 0.0,
        "latency_ms": {f"p{q}": _ms(percentile(latencies, q)) for q in (50, 90, 99)}
        | {
            "max": _ms(max(latencies, default=None)),
            "mean": _ms(sum(latencies) / len(latencies)) if latencies else None,
        },
        "ttfb_ms": {f"p{q}": _ms(percentile(ttfbs, q)) for q in (50, 90, 99)},
    }


async def upstream_stats(session: aiohttp.ClientSession, port: int) -> dict[str, int]:
    async with session.get(f"http://127.0.0.1:{port}/_stats") as response:
        return await response.json()


@dataclasses.dataclass
class Window:
    """One timed window of one target in one scenario."""

    result: LoadResult
    warm: LoadResult
    proxy_cpu: float | None  # seconds over the window
    upstream_cpu: float
    client_cpu: float
    rss_idle: int | None
    rss_peak: int | None
    upstream_requests: int
    upstream_bad: int


async def measure_window(
    url: str,
    proxy: Proc | None,
    upstream: Proc,
    upstream_port: int,
    stream: bool,
    concurrency: int,
    duration: float,
    warmup: float,
    plan: Plan,
    expect: Expect,
    control: aiohttp.ClientSession,
) -> Window:
    """A warm-up on a fresh client session, then one timed window with the CPU and RSS
    of the proxy tree, the upstream and this load generator measured over it."""
    me = psutil.Process()
    async with open_session(concurrency) as session:
        warm = await run_load(
            session,
            url,
            stream=stream,
            concurrency=concurrency,
            duration=warmup,
            max_requests=plan.warmup_max,
            expect=expect,
        )
        stats_before = await upstream_stats(control, upstream_port)
        sampler = RssSampler(proxy) if proxy else None
        rss_idle = sampler.peak if sampler else None
        if sampler:
            sampler.start()
        proxy_cpu = proxy.cpu_seconds() if proxy else 0.0
        upstream_cpu = upstream.cpu_seconds()
        own = me.cpu_times()
        result = await run_load(
            session,
            url,
            stream=stream,
            concurrency=concurrency,
            duration=duration,
            max_requests=plan.max_requests,
            expect=expect,
        )
        own_after = me.cpu_times()
        upstream_cpu = upstream.cpu_seconds() - upstream_cpu
        proxy_cpu = (proxy.cpu_seconds() - proxy_cpu) if proxy else None
        rss_peak = sampler.finish() if sampler else None
        stats_after = await upstream_stats(control, upstream_port)
    return Window(
        result=result,
        warm=warm,
        proxy_cpu=proxy_cpu,
        upstream_cpu=upstream_cpu,
        client_cpu=(own_after.user + own_after.system) - (own.user + own.system),
        rss_idle=rss_idle,
        rss_peak=rss_peak,
        upstream_requests=(stats_after["chat"] + stats_after["messages"])
        - (stats_before["chat"] + stats_before["messages"]),
        upstream_bad=stats_after["bad"] - stats_before["bad"],
    )


def merged(results: list[LoadResult]) -> LoadResult:
    """The requests of several windows as one result (walls added, each window's start
    times moved to follow the one before)."""
    total = LoadResult()
    for result in results:
        total.started += [t + total.wall for t in result.started]
        total.latency += result.latency
        total.ttfb += result.ttfb
        total.ok += result.ok
        total.errors.update(result.errors)
        total.error_samples += [s for s in result.error_samples if s not in total.error_samples][
            : max(0, 5 - len(total.error_samples))
        ]
        total.wall += result.wall
    return total


def scenario_entry(
    target: Target,
    proxy: Proc | None,
    mode: str,
    concurrency: int,
    script: Script,
    windows: list[Window],
    raw: bool,
) -> dict[str, Any]:
    """The results entry of one target in one scenario: its windows added up."""
    stream = MODES[mode]
    result = merged([w.result for w in windows])
    warm = merged([w.warm for w in windows])
    completed = max(1, result.completed)
    proxy_cpu = None if proxy is None else sum(w.proxy_cpu or 0.0 for w in windows)
    upstream_cpu = sum(w.upstream_cpu for w in windows)
    client_cpu = sum(w.client_cpu for w in windows)
    pss = proxy.pss() if proxy else None
    entry: dict[str, Any] = {
        "target": target.name,
        "mode": mode,
        "concurrency": concurrency,
        "chunks": script.chunks if stream else None,
        **summarize(result),
        "windows": len(windows),
        "warmup_requests": warm.completed,
        "warmup_errors": warm.completed - warm.succeeded,
        "proxy_cpu_ms_per_request": None
        if proxy_cpu is None
        else round(proxy_cpu / completed * 1000, 4),
        "proxy_cpu_ms_per_request_by_window": None
        if proxy is None
        else [round((w.proxy_cpu or 0.0) / max(1, w.result.completed) * 1000, 4) for w in windows],
        "proxy_cpu_us_per_chunk": (
            round(proxy_cpu / completed / script.chunks * 1e6, 2)
            if proxy_cpu is not None and stream
            else None
        ),
        "proxy_cpu_percent": None if proxy_cpu is None else round(proxy_cpu / result.wall * 100, 1),
        "proxy_rss_peak_mb": None
        if proxy is None
        else round(max(w.rss_peak or 0 for w in windows) / 2**20, 1),
        "proxy_rss_idle_mb": None
        if proxy is None
        else round(min(w.rss_idle or 0 for w in windows) / 2**20, 1),
        "proxy_pss_end_mb": None if pss is None else round(pss / 2**20, 1),
        "proxy_processes": len(proxy.tree()) if proxy else None,
        "upstream_cpu_ms_per_request": round(upstream_cpu / completed * 1000, 4),
        "upstream_cpu_percent": round(upstream_cpu / result.wall * 100, 1),
        "client_cpu_ms_per_request": round(client_cpu / completed * 1000, 4),
        "client_cpu_percent": round(client_cpu / result.wall * 100, 1),
        "upstream_requests": sum(w.upstream_requests for w in windows),
        "upstream_bad_requests": sum(w.upstream_bad for w in windows),
    }
    if raw:
        entry["raw"] = {
            "started_s": [round(x, 6) for x in result.started],
            "latency_ms": [round(x * 1000, 3) for x in result.latency],
            "ttfb_ms": [None if math.isnan(x) else round(x * 1000, 3) for x in result.ttfb],
            "ok": result.ok,
        }
    return entry


def git_revision() -> str | None:
    if not shutil.which("git"):
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def metadata(
    plan: Plan, script: Script, targets: list[Target], quick: bool, log_level: str = LOG_LEVEL
) -> dict[str, Any]:
    from lynkr_core import __version__

    return {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git": git_revision(),
        "lynkr_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "quick": quick,
        "lynkr_log_level": log_level,
        "lynkr_plugins": {
            t.name: "all" if t.plugins is None else list(t.plugins) for t in targets if t.kind == "lynkr"
        },
        "plan": dataclasses.asdict(plan),
        "upstream": script.as_dict(),
        "request_bytes": {mode: len(request_body(stream)) for mode, stream in MODES.items()},
        "targets": [t.name for t in targets],
        "peer_versions": {t.name: peers.version(t.name) for t in targets if t.kind == "peer"},
        "measurement": {
            "cpu": "psutil cpu_times user+system (+children_user/system, reaped descendants) summed over "
            "the proxy's process tree, deltas over the timed windows / completed requests; the targets "
            "take turns in short windows (plan.rounds per scenario), so drift falls on all alike",
            "rss": "sum of RSS over the proxy's process tree, sampled every 50 ms during the timed window; "
            "peak (shared pages count once per process); PSS summed over the tree once, at the window's end",
            "latency": "from send to the last body byte; TTFB: stream first body byte, JSON response head",
            "percentiles": "nearest rank over successful requests",
        },
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = QUICK if args.quick else FULL
    if args.duration:
        plan = dataclasses.replace(plan, duration=args.duration)
    if args.warmup is not None:
        plan = dataclasses.replace(plan, warmup=args.warmup)
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds)
    script = Script(chunks=args.chunks, delay_ms=args.delay_ms, tool=args.tool)
    names = set(args.targets or []) | (set(PEER_RUN) if args.peers else set())
    targets = [t for t in TARGETS if t.name in names or (not names and t.default)]
    for target in targets:
        if target.kind == "peer":
            peers.ensure(target.name)  # before the run: installing is not the peer's startup
    results: dict[str, Any] = {
        "meta": metadata(plan, script, targets, args.quick, args.log_level),
        "scenarios": [],
        "failures": [],
        "logs": {},
    }
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-") as tmp:
        work = Path(tmp)
        upstream, upstream_port = start_upstream(script, work)
        running: list[Running] = []
        try:
            await wait_ready(upstream, f"http://127.0.0.1:{upstream_port}/health")
            for target in targets:
                started = await start_running(target, upstream_port, work, results, args.log_level)
                if started is not None:
                    running.append(started)
            async with aiohttp.ClientSession() as control:
                await run_scenarios(running, upstream, upstream_port, plan, script, control, args, results)
        finally:
            for target in running:
                target.stop(results)
            upstream.stop()
    order = {t.name: i for i, t in enumerate(TARGETS)}
    results["scenarios"].sort(
        key=lambda e: (order[e["target"]], list(MODES).index(e["mode"]), e["concurrency"])
    )
    return results


@dataclasses.dataclass
class Running:
    """A target of this run, started (``proxy`` is None for ``direct``) and ready."""

    target: Target
    url: str
    proxy: Proc | None
    startup: float | None

    def stop(self, results: dict[str, Any]) -> None:
        if self.proxy:
            self.proxy.stop()
            log = self.proxy.log_path.read_text(errors="replace").splitlines()
            results["logs"][self.target.name] = {"lines": len(log), "tail": log[-5:]}


async def start_running(
    target: Target, upstream_port: int, work: Path, results: dict[str, Any], log_level: str = LOG_LEVEL
) -> Running | None:
    """Start ``target`` and wait until it is ready; None (and a recorded failure) if it is not."""
    if target.kind == "direct":
        return Running(target, f"http://127.0.0.1:{upstream_port}/v1/messages", None, None)
    port = free_port()
    proxy, health = start_target(target, port, upstream_port, work, log_level)
    try:
        startup = await wait_ready(proxy, f"http://127.0.0.1:{port}{health}")
    except RuntimeError as exc:
        print(f"  {target.name}: FAILED to start: {exc}", file=sys.stderr)
        results["failures"].append({"target": target.name, "error": str(exc)})
        proxy.stop()
        return None
    print(f"{target.name} ready in {startup:.2f} s", file=sys.stderr)
    return Running(target, f"http://127.0.0.1:{port}/v1/messages", proxy, startup)


async def run_scenarios(
    running: list[Running],
    upstream: Proc,
    upstream_port: int,
    plan: Plan,
    script: Script,
    control: aiohttp.ClientSession,
    args: argparse.Namespace,
    results: dict[str, Any],
) -> None:
    """Every scenario (mode, concurrency), the targets taking turns in short windows.

    Each scenario's time is cut into ``plan.rounds`` windows per target, and the
    targets take turns, starting one later each round. Whatever drifts over a run
    (the machine's clock speed, other load, the upstream's heap) then falls on every
    target alike, and the ratios against the reference compare like with like.
    """
    expect = Expect.of(script)
    concurrencies = sorted({c for r in running for c in r.target.concurrencies})
    for mode, stream in MODES.items():
        for concurrency in concurrencies:
            turn = [r for r in running if concurrency in r.target.concurrencies]
            windows: dict[str, list[Window]] = {r.target.name: [] for r in turn}
            for round_ in range(plan.rounds):
                shift = round_ % len(turn)
                for r in turn[shift:] + turn[:shift]:
                    windows[r.target.name].append(
                        await measure_window(
                            r.url,
                            r.proxy,
                            upstream,
                            upstream_port,
                            stream,
                            concurrency,
                            plan.duration / plan.rounds,
                            plan.warmup / plan.rounds,
                            plan,
                            expect,
                            control,
                        )
                    )
            for r in turn:
                entry = scenario_entry(
                    r.target, r.proxy, mode, concurrency, script, windows[r.target.name], args.raw
                )
                entry["startup_s"] = None if r.startup is None else round(r.startup, 3)
                results["scenarios"].append(entry)
                print(
                    f"{r.target.name:16} {mode:6} c={concurrency:<3} {entry['rps']:8.1f} req/s  "
                    f"p50 {entry['latency_ms']['p50']} ms  errors {entry['errors']}",
                    file=sys.stderr,
                )
                for sample in entry["error_samples"][:2]:
                    print(f"    error: {sample}", file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="lynkr's benchmark suite.")
    parser.add_argument(
        "--quick", action="store_true", help="short windows (under a minute in all)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results" / "latest.json",
        help="where to write the results (default bench/results/latest.json)",
    )
    parser.add_argument(
        "--targets", nargs="+", choices=[t.name for t in TARGETS], help="only these targets"
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="add LiteLLM's proxy and claude-code-router (installed under .tools/bench-peers) "
        f"and run them with {' and '.join(PEER_RUN[:2])}",
    )
    parser.add_argument("--duration", type=float, help="timed window per scenario, seconds")
    parser.add_argument("--warmup", type=float, help="warm-up per scenario, seconds")
    parser.add_argument(
        "--rounds", type=int, help="windows per target and scenario, the targets taking turns"
    )
    parser.add_argument(
        "--chunks", type=int, default=50, help="streamed chunks per answer (default 50)"
    )
    parser.add_argument(
        "--delay-ms", type=float, default=0.0, help="upstream pause before each chunk"
    )
    parser.add_argument("--tool", action="store_true", help="answers are a tool call, not text")
    parser.add_argument("--raw", action="store_true", help="also save every request's timings")
    parser.add_argument(
        "--log-level",
        default=LOG_LEVEL,
        choices=["debug", "info", "warning", "error"],
        help=f"lynkr's LOG_LEVEL (default {LOG_LEVEL}, lynkr's own default, as users run it)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    results["meta"]["elapsed_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(render(results))
    print(f"\nsaved {args.out} ({results['meta']['elapsed_s']} s)")
    errors = sum(entry["errors"] for entry in results["scenarios"])
    if results["failures"] or errors:
        print(
            f"bench: {len(results['failures'])} target(s) failed to start, {errors} request error(s)",
            file=sys.stderr,
        )
        return 1
    return 0
