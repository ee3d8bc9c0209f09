"""Where a lynkr target's CPU goes, function by function: ``python -m bench.profile
[--target lynkr-operating] [--mode json] [--requests 2000] [--top 30]``.

The target runs as in ``python -m bench`` (same settings, same upstream, lynkr at its
default log level) but under ``cProfile``; the bench's load generator sends
``--requests`` validated requests at concurrency 1 after a warm-up, then the target is
stopped with SIGTERM (lynkr shuts down cleanly, so cProfile writes its file) and the
functions are listed by their own time. The profile covers the whole process life
(start-up and warm-up included): compare two profiles of the same length, and check a
change with the instruction count (``python -m bench.instructions``), which profiling
overhead does not distort. ``--save FILE`` keeps the profile for ``pstats`` or snakeviz.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

from bench.instructions import drive
from bench.load import Expect
from bench.run import (
    LOG_LEVEL,
    MODES,
    TARGETS,
    Proc,
    free_port,
    start_upstream,
    target_command,
    wait_ready,
)
from bench.upstream import Script

WARMUP_REQUESTS = 100


async def profile(target_name: str, mode: str, requests: int, log_level: str, out: Path, work: Path) -> None:
    """Run ``target_name`` under cProfile for ``requests`` requests of ``mode``; the profile in ``out``."""
    target = next(t for t in TARGETS if t.name == target_name)
    script = Script(chunks=50)
    expect = Expect.of(script)
    upstream, upstream_port = start_upstream(script, work)
    try:
        await wait_ready(upstream, f"http://127.0.0.1:{upstream_port}/health")
        port = free_port()
        command = target_command(target, port, upstream_port, work, log_level)
        module = command.argv.index("-m")
        argv = [*command.argv[:module], "-m", "cProfile", "-o", str(out), *command.argv[module:]]
        proc = Proc(target.name, argv, command.env, command.cwd, work)
        try:
            await wait_ready(proc, f"http://127.0.0.1:{port}{command.health}")
            url = f"http://127.0.0.1:{port}/v1/messages"
            await drive(url, MODES[mode], WARMUP_REQUESTS, expect)
            await drive(url, MODES[mode], requests, expect)
        finally:
            proc.stop()
    finally:
        upstream.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="lynkr-operating",
                        choices=[t.name for t in TARGETS if t.kind in ("reference", "lynkr") and t.workers == 1])
    parser.add_argument("--mode", default="json", choices=list(MODES))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--log-level", default=LOG_LEVEL, choices=["debug", "info", "warning", "error"])
    parser.add_argument("--top", type=int, default=30, help="functions listed (by own time)")
    parser.add_argument("--save", type=Path, help="also keep the profile in this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lynkr-profile-") as tmp:
        out = Path(tmp) / "profile.out"
        asyncio.run(profile(args.target, args.mode, args.requests, args.log_level, out, Path(tmp)))
        if not out.exists():
            print(f"{args.target} wrote no profile (see its log above)", file=sys.stderr)
            return 1
        if args.save:
            shutil.copyfile(out, args.save)
        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text)
        stats.sort_stats("tottime").print_stats(args.top)
    print(f"{args.target} {args.mode}, {args.requests} requests (+{WARMUP_REQUESTS} warm-up), "
          f"lynkr at {args.log_level}\n{text.getvalue()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
