"""What restoring hidden tool turns costs on the request path.

    uv run python plugins/lynkr-sessions/bench/restore_bench.py [--turns 100] [--result-bytes 8000]

A Claude Code-like history of ``--turns`` turns (user text, assistant answer), every
other turn's answer produced by an exchange that ran one of lynkr's tools; the session's
hidden turns are in memory (``RecentTurns``), as after the store recorded them. Prints
the median time of one ``restore`` (what the preparer does per request) under the
default bound and without one, and of decoding one stored ``HiddenTurns`` (what a
database read after a restart does per exchange).
"""

from __future__ import annotations

import argparse
import statistics
import time

from lynkr_sessions.hidden import HiddenResult, HiddenStep, HiddenTurns, decode, encode, fingerprint
from lynkr_sessions.recent import RecentTurns
from lynkr_sessions.restore import restore

from lynkr_core import anthropic


def history(turns: int, result_bytes: int) -> tuple[list[anthropic.Message], RecentTurns]:
    recent = RecentTurns(1 << 30)
    messages: list[anthropic.Message] = []
    for n in range(turns):
        messages.append(anthropic.Message(role="user", content=[
            anthropic.raw({"type": "text", "text": f"question {n} " + "q" * 400})]))
        answer = [anthropic.raw({"type": "text", "text": f"Reading file {n}."}),
                  anthropic.raw({"type": "text", "text": f"answer {n} " + "a" * 1500})]
        if n % 2 == 0:
            call = anthropic.raw({"type": "tool_use", "id": f"toolu_{n}", "name": "workspace_read",
                                  "input": {"path": f"src/file_{n}.py"}})
            turns_ = HiddenTurns(
                position=len(messages), fingerprint=fingerprint(answer), blocks=2, drop_blocks=1, drop_texts=1,
                steps=[HiddenStep(content=[answer[0], call],
                                  results=[HiddenResult(tool_use_id=f"toolu_{n}", content="r" * result_bytes)])])
            text = encode(turns_)
            recent.remember("s", f"req_{n}", decode(text), len(text), position=len(messages), began_here=n == 0)
        messages.append(anthropic.Message(role="assistant", content=answer))
    messages.append(anthropic.Message(role="user", content="next"))
    return messages, recent


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--result-bytes", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    messages, recent = history(args.turns, args.result_bytes)
    session = recent.get("s")
    assert session is not None
    for bound in (128 * 1024, 0):
        restored, count = restore(messages, session.at, bound)
        seconds = median_seconds(lambda: restore(messages, session.at, bound), args.runs)  # noqa: B023
        size = len(anthropic.encode(restored))
        print(f"restore, bound {bound or 'none'}: {count} exchanges into {len(messages)} messages -> "
              f"{len(restored)} messages, {size / 1024:.0f} KiB: {seconds * 1e3:.2f} ms median")
    stored = encode(session.at(1)[0])
    seconds = median_seconds(lambda: decode(stored), args.runs * 10)
    print(f"decode one stored exchange ({len(stored) / 1024:.1f} KiB): {seconds * 1e6:.1f} us median")


if __name__ == "__main__":
    main()
