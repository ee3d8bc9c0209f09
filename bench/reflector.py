"""What lynkr-reflector costs: ``python -m bench.reflector [--turns 20] [--hook-calls 20000]``
(``nox -s bench_reflector``).

A synthetic Claude Code session of ``--turns`` turns (each: run the failing test, search,
read, edit, run the tests again, answer; every third one corrected by the user) is built
as the CLI sends it (the captured CLI's system prompt and tools, the whole history on
every request) and measured four ways:

- reading one exchange into the playbook, as the background worker does (``reflect``:
  the new messages, the thread's state and the delta, in one SQLite transaction on the
  worker's thread), and the pure part of it alone (``episodes.read``);
- the exchange hook, the only part that runs when a request finishes, with the reflector
  on (it queues the exchange) and off (the request was not prepared by a reflector);
- the preparer, the only part on the request path, with injection off (it leaves a note
  for the hook) and on (it picks and appends up to five hints).

Figures are wall time on this machine, per call: p50, p99 and max.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import lynkr_reflector
import structlog
from lynkr_reflector import episodes, transcript
from lynkr_reflector.config import load_settings, workspace_of
from lynkr_reflector.reflector import Reflector

from lynkr_core import Exchange, ModelClient, RequestContext, Services, Settings, anthropic

ROOT = Path(__file__).resolve().parent.parent
CAPTURED = ROOT / "tests" / "fixtures" / "claude_code" / "turn1.json"
CWD = "/home/dev/invoicer"
SESSION = "5e551012-0000-4000-8000-00000000bench"

PROMPTS = (
    "The total is wrong when a discount is applied; test_discount_{n} fails. Please fix it.",
    "Add tests for format_row_{n} covering empty notes and negative amounts.",
    "Refactor exporter_{n}: extract the row formatting into its own function.",
    "Document the rounding rule of total_{n} in its docstring.",
    "Add a --currency option number {n} to the export command.",
)


# --------------------------------------------------------------------------- the session


def session_calls(turns: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(request body, answer)`` for every model call of a ``turns``-turn session."""
    base = json.loads(CAPTURED.read_text())
    base["system"] = [{**b, "text": b["text"].replace("/WORKDIR", CWD)} for b in base["system"]]
    messages: list[dict[str, Any]] = []
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    counter = 0

    def ask(answer: list[dict[str, Any]]) -> None:
        body = copy.deepcopy(base)
        body["messages"] = copy.deepcopy(messages)
        found.append((body, {"content": answer,
                             "stop_reason": "tool_use" if answer[-1]["type"] == "tool_use" else "end_turn"}))
        messages.append({"role": "assistant", "content": answer})

    def call(name: str, arguments: dict[str, Any], result: str, is_error: bool = False) -> None:
        nonlocal counter
        counter += 1
        tool_id = f"toolu_bench{counter:05d}"
        ask([{"type": "text", "text": "Next step."},
             {"type": "tool_use", "id": tool_id, "name": name, "input": arguments}])
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_id, "content": result}
        if is_error:
            block["is_error"] = True
        messages.append({"role": "user", "content": [block]})

    for n in range(1, turns + 1):
        prompt = PROMPTS[(n - 1) % len(PROMPTS)].format(n=n)
        if n % 3 == 0:
            prompt = "No, that's wrong, revert it. " + prompt
        content = [{"type": "text", "text": "<system-reminder>\ncontext\n</system-reminder>\n"}] if n == 1 else []
        messages.append({"role": "user", "content": [*content, {"type": "text", "text": prompt}]})
        failing = "Exit code 1\n..F.\nFAILED tests/test_totals.py::test_x - AssertionError\n" + "E   detail\n" * 40
        call("Bash", {"command": "uv run pytest -q tests/test_totals.py", "description": "run"},
             failing + "1 failed, 3 passed in 0.08s", is_error=True)
        call("Bash", {"command": f'rg -n "total_{n}" src', "description": "search"}, "src/invoicer/totals.py:21: x")
        call("Read", {"file_path": f"{CWD}/src/invoicer/totals.py"},
             "\n".join(f"{i:6}\tline {i} of the module" for i in range(1, 200)))
        call("Edit", {"file_path": f"{CWD}/src/invoicer/totals.py", "old_string": f"a{n}", "new_string": f"b{n}",
                      "replace_all": False}, "The file has been updated.")
        call("Bash", {"command": "uv run pytest -q", "description": "run"}, "....\n4 passed in 0.05s")
        ask([{"type": "text", "text": f"Done with turn {n}."}])
    return found


def exchange_of(settings: Settings, body: dict[str, Any], answer: dict[str, Any]) -> tuple[Exchange, RequestContext]:
    """The ``Exchange`` the core hands the hook for one call."""
    request = anthropic.decode_request(json.dumps(body).encode())
    context = RequestContext(request_id="req_bench", http=None, settings=settings,  # type: ignore[arg-type]
                             log=structlog.get_logger("bench"), session_id=SESSION)
    step = context.begin_step(request)
    step.response = anthropic.decode_response(json.dumps({
        "id": "msg_bench", "type": "message", "role": "assistant", "model": body["model"],
        "content": answer["content"], "stop_reason": answer["stop_reason"],
        "usage": {"input_tokens": 20000, "output_tokens": 200},
    }).encode())
    step.finish()
    exchange = Exchange(request=request, client_request=request, context=context, streamed=True,
                        response=step.response, duration=3.0)
    return exchange, context


# --------------------------------------------------------------------------- measuring


def summary(name: str, seconds: list[float], unit: str) -> dict[str, Any]:
    scale = {"ms": 1e3, "µs": 1e6}[unit]
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"measure": name, "n": len(seconds), "unit": unit, "p50": statistics.median(ordered) * scale,
            "p99": p99 * scale, "max": ordered[-1] * scale}


async def timed(function: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await function()
    return time.perf_counter() - started


async def measure(turns: int, hook_calls: int) -> dict[str, Any]:
    calls = session_calls(turns)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LYNKR_HOME": f"{tmp}/home", "WORKSPACE_ROOT": tmp, "REFLECTOR_QUEUE_SIZE": str(hook_calls + 1)}
        settings = Settings(env)
        exchanges = [exchange_of(settings, body, answer) for body, answer in calls]

        async def no_model(request: Any, purpose: str) -> Any:
            raise RuntimeError("heuristic mode asks no model")

        services = Services(settings=settings, http=None, model=ModelClient(no_model))  # type: ignore[arg-type]
        reflector = Reflector(load_settings(settings), workspace_of(settings))
        await reflector.start(services)
        try:
            analysed = [await timed(lambda e=e: reflector.reflect(e)) for e, _ in exchanges]
            hints = len(reflector._open().hints(reflector.workspace))
            active = len(reflector.hints)
        finally:
            await reflector.close()

        thread = episodes.new_thread(SESSION, "bench")
        pure = []
        for exchange, _ in exchanges:
            request = exchange.client_request
            started = time.perf_counter()
            episodes.read(thread, request.messages, usage=episodes.Usage(),
                          answered=transcript.answered(exchange.response), workspace=tmp, cwd=CWD)
            pure.append(time.perf_counter() - started)

        # the hook: on (queues the exchange), off (no reflector prepared the request)
        reflector = Reflector(load_settings(settings), workspace_of(settings))
        await reflector.start(services)
        exchange, context = exchanges[-1]
        await reflector.prepare(exchange.request, context)
        hook_on = _hook_timings(exchange, services, hook_calls)
        assert reflector.dropped == 0
        queue = reflector._queue  # the copies queued are all replays: drop them unread
        while queue is not None and not queue.empty():
            queue.get_nowait()
            queue.task_done()
        await reflector.close()
        bare, _ = exchange_of(settings, *calls[-1])
        hook_off = _hook_timings(bare, services, hook_calls)

        # the preparer, on the request path
        request = exchanges[-1][0].request
        prepare_off = await _prepare_timings(Settings(env), services, request, 2000)
        prepare_on = await _prepare_timings(Settings({**env, "REFLECTOR_INJECT": "true"}), services, request, 2000)

    last = calls[-1][0]
    return {
        "session": {"turns": turns, "exchanges": len(calls), "last_request_kb": round(len(json.dumps(last)) / 1024),
                    "last_request_messages": len(last["messages"]), "hints": hints, "active_hints": active},
        "rows": [
            summary("read one exchange into the playbook (worker)", analysed, "ms"),
            summary("  of which the pure reading (episodes.read)", pure, "ms"),
            summary("exchange hook, reflector on (queues)", hook_on, "µs"),
            summary("exchange hook, reflector off", hook_off, "µs"),
            summary("preparer, injection off (request path)", prepare_off[0], "µs"),
            summary(f"preparer, injection on, {prepare_on[1]} hints (request path)", prepare_on[0], "µs"),
        ],
    }


def _hook_timings(exchange: Exchange, services: Services, n: int) -> list[float]:
    hook = lynkr_reflector.lynkr_exchange_finished
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        hook(exchange=exchange, services=services)
        timings.append(time.perf_counter() - started)
    return timings


async def _prepare_timings(configured: Settings, services: Services, request: anthropic.MessagesRequest,
                           n: int) -> tuple[list[float], int]:
    reflector = Reflector(load_settings(configured), workspace_of(configured))
    await reflector.start(services)
    try:
        context = RequestContext(request_id="req", http=None, settings=configured,  # type: ignore[arg-type]
                                 log=structlog.get_logger("bench"), session_id=SESSION)
        prepared = await reflector.prepare(request, context)
        shown = 0 if prepared is None else prepared.system_text().count("\n- ")
        timings = []
        for _ in range(n):
            started = time.perf_counter()
            await reflector.prepare(request, context)
            timings.append(time.perf_counter() - started)
        return timings, shown
    finally:
        await reflector.close()


def render(results: dict[str, Any]) -> str:
    session = results["session"]
    lines = [
        f"lynkr-reflector: a {session['turns']}-turn Claude Code session, {session['exchanges']} exchanges "
        f"(last request {session['last_request_kb']} KB, {session['last_request_messages']} messages); "
        f"{session['hints']} hints learnt, {session['active_hints']} active",
        "",
        f"{'measure':<58} {'n':>6} {'p50':>10} {'p99':>10} {'max':>10}",
    ]
    for row in results["rows"]:
        unit = row["unit"]
        cells = [f"{row[q]:.3f} {unit}" if unit == "ms" else f"{row[q]:.2f} {unit}" for q in ("p50", "p99", "max")]
        lines.append(f"{row['measure']:<58} {row['n']:>6} {cells[0]:>10} {cells[1]:>10} {cells[2]:>10}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reflector", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20, help="turns of the session (default 20)")
    parser.add_argument("--hook-calls", type=int, default=20000, help="hook calls timed (default 20000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings only
    results = asyncio.run(measure(args.turns, args.hook_calls))
    print(json.dumps(results, indent=2) if args.json else render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
