"""Running a command in its own process group, with a timeout and a bounded output tail.

stdin is ``/dev/null``; stdout and stderr are merged. On a timeout, a
cancellation, or when the command ends while its children live on, the
whole process group is killed, so no test process outlives the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: How long to wait for the output pipe to close once the group is dead (a process
#: that left the group with setsid may hold it open; it is then given up on).
DRAIN_SECONDS = 2.0


@dataclass(slots=True)
class Outcome:
    """How a command ended and the end of what it printed."""

    exit_code: int | None = None
    timed_out: bool = False
    start_error: str = ""
    seconds: float = 0.0
    tail: bytes = b""
    trimmed: bool = False
    total_lines: int = 0

    @property
    def failed(self) -> bool:
        """True unless the command started, finished in time and exited with 0."""
        return bool(self.start_error) or self.timed_out or self.exit_code != 0


class _Tail:
    """The last ``keep`` bytes of a stream, and how many lines went by."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.buffer = bytearray()
        self.trimmed = False
        self.lines = 0
        self.last = b"\n"

    async def consume(self, stream: asyncio.StreamReader) -> None:
        """Read ``stream`` to its end, keeping only its tail."""
        while chunk := await stream.read(64 * 1024):
            self.lines += chunk.count(b"\n")
            self.last = chunk[-1:]
            self.buffer += chunk
            if len(self.buffer) > 2 * self.keep:
                del self.buffer[: -self.keep]
                self.trimmed = True

    def total_lines(self) -> int:
        """Lines seen, a last one without a newline included."""
        return self.lines + (0 if self.last == b"\n" else 1)

    def value(self) -> tuple[bytes, bool]:
        """The kept tail, and whether anything before it was dropped."""
        trimmed = self.trimmed or len(self.buffer) > self.keep
        return bytes(self.buffer[-self.keep :]), trimmed


async def run_in_group(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], time_limit: float, keep_bytes: int
) -> Outcome:
    """Run ``argv`` in ``cwd`` as the leader of a new process group, killed after ``time_limit`` seconds."""
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
    except OSError as exc:
        return Outcome(start_error=f"{argv[0]}: {exc.strerror or exc}", seconds=time.monotonic() - started)
    assert process.stdout is not None
    tail = _Tail(keep_bytes)
    reader = asyncio.create_task(tail.consume(process.stdout))
    timed_out = False
    try:
        try:
            await asyncio.wait_for(_exit(process), time_limit)
        except TimeoutError:
            timed_out = True
    finally:
        kill_group(process.pid)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(process.wait(), reader), DRAIN_SECONDS)
    data, trimmed = tail.value()
    return Outcome(
        exit_code=None if timed_out else process.returncode, timed_out=timed_out,
        seconds=time.monotonic() - started, tail=data, trimmed=trimmed, total_lines=tail.total_lines(),
    )


async def _exit(process: asyncio.subprocess.Process) -> None:
    """Return once the process itself has exited.

    ``Process.wait()`` also waits for its output pipe to close, which a
    child left running in the background may hold open for ever.
    """
    delay = 0.005
    while True:
        if process.returncode is not None:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (nothing if it is gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
