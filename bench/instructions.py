"""Instructions per request under callgrind: the proxies' CPU work without the noise.

``python -m bench.instructions [--requests 200] [--out bench/results/instructions.json]``
(``nox -s bench_instructions``; needs valgrind).

CPU time per request on a shared 2-core machine moves 10-30% between runs and even
between windows of one run (clock speed, other tenants, caches). Counted
instructions do not: each target runs under ``valgrind --tool=callgrind`` with
instrumentation off, so it starts and warms up at a usable speed, then counting is
switched on (``callgrind_control -i on``) for exactly ``--requests`` requests of each
mode at concurrency 1, sent and validated by the bench's load generator, and the
count is dumped (``callgrind_control -d``). The same request count gives the same
figure to within about 1%, run after run. It counts work, not time: cache misses
and stalls, which a larger program suffers more, are not in it; the CPU-time ratios
of ``python -m bench`` are the ones users feel. Stream figures flatter whoever
batches: a proxy slowed down by valgrind finds the upstream's chunks already
waiting and reads many at a time, so per-read costs shrink. JSON figures are the
like-for-like comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.load import Expect, open_session, run_load
from bench.run import (
    LOG_LEVEL,
    MODES,
    ROOT,
    TARGETS,
    Proc,
    free_port,
    git_revision,
    start_upstream,
    target_command,
    wait_ready,
)
from bench.upstream import Script

DEFAULT_TARGETS = ("reference", "lynkr-provider", "lynkr-operating", "lynkr-all")
WARMUP_REQUESTS = 50
#: valgrind runs a program tens of times slower while counting; the rest of the time, a few times.
READY_LIMIT_S = 300.0


def callgrind(argv: list[str], out_dir: Path) -> list[str]:
    """``argv`` run under callgrind, counting nothing until told to."""
    return [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out_dir}/callgrind.%p",
        *argv,
    ]


def control(pid: int, *args: str) -> None:
    """``callgrind_control`` on the process ``pid``."""
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def counted_instructions(out_dir: Path, pid: int, dump: int) -> int:
    """The instruction total of the ``dump``-th dump of process ``pid``."""
    for line in (out_dir / f"callgrind.{pid}.{dump}").read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in callgrind dump {dump} of {pid}")


async def drive(url: str, stream: bool, requests: int, expect: Expect) -> None:
    """``requests`` requests one after another, every answer validated."""
    async with open_session(1) as session:
        result = await run_load(
            session, url, stream=stream, concurrency=1, duration=3600, max_requests=requests, expect=expect
        )
    if result.succeeded != requests:
        raise RuntimeError(f"{result.completed - result.succeeded} failed: {result.error_samples[:2]}")


async def measure(
    names: list[str], requests: int, work: Path, log_level: str = LOG_LEVEL
) -> list[dict[str, Any]]:
    """Instructions per request of every target in ``names``, JSON and stream (lynkr at
    ``log_level``)."""
    script = Script(chunks=50)
    expect = Expect.of(script)
    upstream, upstream_port = start_upstream(script, work)
    rows: list[dict[str, Any]] = []
    try:
        await wait_ready(upstream, f"http://127.0.0.1:{upstream_port}/health")
        for target in [t for t in TARGETS if t.name in names]:
            port = free_port()
            command = target_command(target, port, upstream_port, work, log_level)
            proc = Proc(target.name, callgrind(command.argv, work), command.env, command.cwd, work)
            try:
                await wait_ready(proc, f"http://127.0.0.1:{port}{command.health}", limit_s=READY_LIMIT_S)
                url = f"http://127.0.0.1:{port}/v1/messages"
                for dump, (mode, stream) in enumerate(MODES.items(), start=1):
                    await drive(url, stream, WARMUP_REQUESTS, expect)
                    control(proc.popen.pid, "-i", "on")
                    await drive(url, stream, requests, expect)
                    control(proc.popen.pid, "-d")
                    control(proc.popen.pid, "-i", "off")
                    total = counted_instructions(work, proc.popen.pid, dump)
                    rows.append({"target": target.name, "mode": mode, "requests": requests,
                                 "instructions_per_request": total // requests})
                    print(f"{target.name:16} {mode:6} {total // requests:>12,} instructions/request",
                          file=sys.stderr)
            finally:
                proc.stop()
    finally:
        upstream.stop()
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    """A markdown table with ratios against the reference proxy."""
    reference = {r["mode"]: r["instructions_per_request"] for r in rows if r["target"] == "reference"}
    lines = ["| target | mode | instructions/request | vs reference |", "|---|---|--:|--:|"]
    for row in rows:
        base = reference.get(row["mode"])
        ratio = f"{row['instructions_per_request'] / base:.2f}x" if base else "-"
        lines.append(f"| {row['target']} | {row['mode']} | {row['instructions_per_request']:,} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="counted requests per target and mode")
    parser.add_argument("--targets", nargs="+", default=list(DEFAULT_TARGETS),
                        choices=[t.name for t in TARGETS if t.kind in ("reference", "lynkr") and t.workers == 1])
    parser.add_argument("--log-level", default=LOG_LEVEL, choices=["debug", "info", "warning", "error"],
                        help=f"lynkr's LOG_LEVEL (default {LOG_LEVEL}, as users run it)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "instructions.json")
    parser.add_argument("--keep-dumps", type=Path, metavar="DIR",
                        help="copy the callgrind dumps here, for `callgrind_annotate DIR/callgrind.PID.1` "
                             "(instructions by function: C functions, SQLite's and msgspec's included, "
                             "and every thread, where cProfile sees Python on the main thread only)")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("valgrind", "callgrind_control") if shutil.which(tool) is None]
    if missing:
        print(f"bench.instructions needs {' and '.join(missing)} (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="lynkr-instructions-") as tmp:
        rows = asyncio.run(measure(args.targets, args.requests, Path(tmp), args.log_level))
        if args.keep_dumps:
            args.keep_dumps.mkdir(parents=True, exist_ok=True)
            for dump in Path(tmp).glob("callgrind.*"):
                shutil.copy(dump, args.keep_dumps / dump.name)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"git": git_revision(), "log_level": args.log_level, "rows": rows}, indent=1) + "\n"
    )
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
