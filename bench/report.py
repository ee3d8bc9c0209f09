"""Markdown tables of a results file: ``python -m bench.report bench/results/latest.json``.

`markdown_table` is the main table (throughput, latency, TTFB, CPU, RSS, errors,
with ratios against the reference proxy and TTFB added over the direct floor);
`cpu_table` shows where the machine's cores went (proxy, upstream, load
generator); `render` is both under a line saying what was run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _key(entry: dict[str, Any]) -> tuple[str, int]:
    return entry["mode"], entry["concurrency"]


def _by_target(results: dict[str, Any], name: str) -> dict[tuple[str, int], dict[str, Any]]:
    return {_key(e): e for e in results["scenarios"] if e["target"] == name}


def _window_range(entry: dict[str, Any], reference: dict[str, Any]) -> str:
    """`` (lo-hi)``: the CPU ratio's range over the rounds, each window against the
    reference's window of the same round; empty for the reference or one round."""
    mine = entry.get("proxy_cpu_ms_per_request_by_window") or []
    theirs = reference.get("proxy_cpu_ms_per_request_by_window") or []
    if entry is reference or len(mine) < 2 or len(mine) != len(theirs):
        return ""
    ratios = [a / b for a, b in zip(mine, theirs, strict=True) if b]
    return f" ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else ""


def markdown_table(results: dict[str, Any]) -> str:
    """One row per (target, mode, concurrency)."""
    reference = _by_target(results, "reference")
    direct = _by_target(results, "direct")
    rows = [
        "| target | mode | C | req/s | p50 ms | p99 ms | TTFB p50 ms | TTFB added vs direct ms "
        "| proxy CPU ms/req | CPU vs reference (range over rounds) | CPU µs/chunk | peak RSS MB | errors |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for e in results["scenarios"]:
        ref, floor = reference.get(_key(e)), direct.get(_key(e))
        cpu = e["proxy_cpu_ms_per_request"]
        ratio = "-"
        if cpu is not None and ref and ref["proxy_cpu_ms_per_request"]:
            ratio = f"{cpu / ref['proxy_cpu_ms_per_request']:.2f}x" + _window_range(e, ref)
        ttfb = e["ttfb_ms"]["p50"]
        if e["target"] == "direct":
            added = "floor"
        elif ttfb is not None and floor and floor["ttfb_ms"]["p50"] is not None:
            added = f"+{ttfb - floor['ttfb_ms']['p50']:.2f}"
        else:
            added = "-"
        errors = str(e["errors"]) + (
            f" (+{e['warmup_errors']} warm-up)" if e.get("warmup_errors") else ""
        )
        rows.append(
            f"| {e['target']} | {e['mode']} | {e['concurrency']} | {_num(e['rps'], 0)} "
            f"| {_num(e['latency_ms']['p50'])} | {_num(e['latency_ms']['p99'])} | {_num(ttfb)} | {added} "
            f"| {_num(cpu)} | {ratio} | {_num(e['proxy_cpu_us_per_chunk'], 1)} "
            f"| {_num(e['proxy_rss_peak_mb'], 0)} | {errors} |"
        )
    return "\n".join(rows)


def cpu_table(results: dict[str, Any]) -> str:
    """Where the cores went in each timed window (100% = one core)."""
    rows = [
        "| target | mode | C | proxy CPU % | upstream CPU % | load generator CPU % "
        "| upstream ms/req | load generator ms/req | upstream calls / requests "
        "| proxy processes | proxy PSS MB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for e in results["scenarios"]:
        calls = f"{e['upstream_requests']} / {e['requests']}"
        rows.append(
            f"| {e['target']} | {e['mode']} | {e['concurrency']} | {_num(e['proxy_cpu_percent'], 0)} "
            f"| {_num(e['upstream_cpu_percent'], 0)} | {_num(e['client_cpu_percent'], 0)} "
            f"| {_num(e['upstream_cpu_ms_per_request'], 3)} | {_num(e['client_cpu_ms_per_request'], 3)} "
            f"| {calls} | {e.get('proxy_processes') or '-'} | {_num(e.get('proxy_pss_end_mb'), 0)} |"
        )
    return "\n".join(rows)


def _windows(plan: dict[str, Any]) -> str:
    rounds = plan.get("rounds", 1)
    if rounds == 1:
        return f"{plan['duration']} s window after {plan['warmup']} s warm-up per scenario"
    return (
        f"{plan['duration']} s per target and scenario in {rounds} windows, the targets taking "
        f"turns, each window after {plan['warmup'] / rounds:g} s of warm-up"
    )


def describe(results: dict[str, Any]) -> str:
    """One line: what was run, where."""
    m = results["meta"]
    plan, upstream = m["plan"], m["upstream"]
    answer = f"{upstream['chunks']} chunks" + (", tool call" if upstream["tool"] else "")
    if upstream["delay_ms"]:
        answer += f", {upstream['delay_ms']} ms apart"
    return (
        f"lynkr {m['lynkr_version']} ({m['git'] or 'no git'}), Python {m['python']}, {m['cpus']} CPUs; "
        f"{'quick: ' if m['quick'] else ''}{_windows(plan)}; "
        f"request {m['request_bytes']['stream'] / 1024:.1f} KB; answer {answer}."
    )


def render(results: dict[str, Any]) -> str:
    """Both tables under the description, and any target that failed to start."""
    parts = [
        describe(results),
        "",
        markdown_table(results),
        "",
        "Where the cores went in each timed window (100% = one core):",
        "",
        cpu_table(results),
    ]
    for failure in results.get("failures", []):
        parts += [
            "",
            f"**{failure['target']} failed to start**: {failure['error'].splitlines()[0]}",
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("results", type=Path, nargs="?", default=Path("bench/results/latest.json"))
    parser.add_argument("--main-only", action="store_true", help="only the main table")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    print(markdown_table(results) if args.main_only else render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
