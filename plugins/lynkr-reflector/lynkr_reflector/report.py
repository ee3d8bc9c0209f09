"""``lynkr reflect report``: the workspace's playbook with its evidence, as a plain-text
table (or JSON), and what the finished tasks cost by task type."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from lynkr_core import Settings
from lynkr_reflector.config import db_path, load_settings, workspace_of
from lynkr_reflector.playbook import Evidence, Hint, Playbook, TaskStats

MAX_EVIDENCE_SHOWN = 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``lynkr reflect report [--json] [--workspace DIR]``."""
    actions = parser.add_subparsers(dest="reflect_action", required=True)
    report = actions.add_parser("report", help="print the playbook with its evidence")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.add_argument("--workspace", help="the workspace (default WORKSPACE_ROOT)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the report of ``--workspace`` (default ``WORKSPACE_ROOT``); 0."""
    config = load_settings(settings)
    workspace = str(Path(args.workspace).expanduser().resolve()) if args.workspace else workspace_of(settings)
    path = db_path(settings.core.home)
    if not path.exists():
        if args.json:
            print(json.dumps({"workspace": workspace, "db": str(path), "hints": [], "tasks": []}, indent=2))
        else:
            print(f"no playbook yet: {path} does not exist (the reflector writes it as it learns)")
        return 0
    playbook = Playbook(path)
    try:
        hints = playbook.hints(workspace)
        evidence = {hint.id: playbook.evidence(hint.id) for hint in hints}
        stats = playbook.task_stats(workspace)
    finally:
        playbook.close()
    if args.json:
        print(json.dumps(as_json(workspace, path, hints, evidence, stats, config.min_evidence), indent=2))
    else:
        print(as_text(workspace, path, hints, evidence, stats, config.min_evidence))
    return 0


def as_json(workspace: str, path: Path, hints: list[Hint], evidence: dict[int, list[Evidence]],
            stats: list[TaskStats], min_evidence: int) -> dict[str, object]:
    """The report as JSON data."""
    return {
        "workspace": workspace,
        "db": str(path),
        "min_evidence": min_evidence,
        "hints": [
            {"id": hint.id, "key": hint.key, "kind": hint.kind, "task_type": hint.task_type,
             "text": hint.text, "supports": hint.supports, "contradicts": hint.contradicts,
             "weight": hint.weight, "active": hint.active(min_evidence),
             "evidence": [{"session": e.session_id, "thread": e.thread, "turn": e.turn,
                           "support": e.support, "note": e.note} for e in evidence[hint.id]]}
            for hint in hints
        ],
        "tasks": [
            {"task_type": s.task_type, "episodes": s.episodes, "median_steps": s.median_steps,
             "median_tokens": s.median_tokens, "median_seconds": s.median_seconds,
             "tests_passed": s.tests_passed, "corrected": s.corrected}
            for s in stats
        ],
    }


def as_text(workspace: str, path: Path, hints: list[Hint], evidence: dict[int, list[Evidence]],
            stats: list[TaskStats], min_evidence: int) -> str:
    """The report as plain-text tables."""
    active = sum(1 for hint in hints if hint.active(min_evidence))
    lines = [f"playbook for {workspace}", f"  {path}: {len(hints)} hints, {active} active "
             f"(at least {min_evidence} supporting episodes, more supports than contradictions)", ""]
    if hints:
        rows = [
            [str(hint.id), "active" if hint.active(min_evidence) else "candidate", hint.kind,
             hint.task_type or "any", str(hint.supports), str(hint.contradicts), hint.text,
             _evidence_cell(evidence[hint.id])]
            for hint in hints
        ]
        headers = ["ID", "STATE", "KIND", "TASK", "+", "-", "HINT", "EVIDENCE (session#turn)"]
        lines.append(table(headers, rows))
    else:
        lines.append("no hints yet")
    if stats:
        lines += ["", "tasks by type"]
        rows = [[s.task_type, str(s.episodes), f"{s.median_steps:g}", f"{s.median_tokens:g}",
                 f"{s.median_seconds:g}", str(s.tests_passed), str(s.corrected)] for s in stats]
        lines.append(table(["TYPE", "EPISODES", "MEDIAN STEPS", "MEDIAN TOKENS", "MEDIAN S",
                            "TESTS PASSED", "CORRECTED"], rows))
    return "\n".join(lines)


def _evidence_cell(evidence: list[Evidence]) -> str:
    shown = [f"{'+' if e.support else '-'}{e.session_id[:8]}#{e.turn}" for e in evidence[:MAX_EVIDENCE_SHOWN]]
    if len(evidence) > MAX_EVIDENCE_SHOWN:
        shown.append(f"(+{len(evidence) - MAX_EVIDENCE_SHOWN} more)")
    return " ".join(shown)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, the last one left ragged."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
