"""What the model reads after a test run: a summary, then the tail of the output."""

from __future__ import annotations

import re

from lynkr_core import ToolResult
from lynkr_tools_workspace.process import Outcome
from lynkr_tools_workspace.testcommand import SuiteCommand
from lynkr_tools_workspace.units import plural

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)\b")
_DURATION = re.compile(r"\bin \d+(?:\.\d+)?s\b")
_CANONICAL = {"error": "errors", "warning": "warnings"}
#: The counts always reported when pytest's final line is found.
MAIN_COUNTS = ("passed", "failed", "errors", "skipped")


def pytest_counts(output: str) -> dict[str, int] | None:
    """The counts of pytest's final line (``3 passed, 1 failed in 0.12s``), or None if there is none."""
    for line in reversed(output.splitlines()[-50:]):
        if not _DURATION.search(line):
            continue
        found = _COUNT.findall(line)
        if found:
            counts = dict.fromkeys(MAIN_COUNTS, 0)
            for number, word in found:
                counts[_CANONICAL.get(word, word)] = int(number)
            return counts
        if "no tests ran" in line:
            return dict.fromkeys(MAIN_COUNTS, 0)
    return None


def render(command: SuiteCommand, outcome: Outcome, *, tail_lines: int, tail_bytes: int) -> ToolResult:
    """The summary lines and the last ``tail_lines`` lines (at most ``tail_bytes``); an error unless it passed."""
    output = _ANSI.sub("", outcome.tail.decode("utf-8", errors="replace"))
    lines = output.splitlines()
    if outcome.trimmed and lines:
        lines = lines[1:]  # the first kept line starts mid-line
    summary = [f"$ {command.shown}    ({command.source})"]
    if outcome.start_error:
        summary.append(f"could not start: {outcome.start_error}")
        return ToolResult("\n".join(summary), is_error=True)
    if outcome.timed_out:
        summary.append(
            f"TIMED OUT after {outcome.seconds:.1f} s: the whole process group was killed "
            "(WORKSPACE_TEST_TIMEOUT_MS sets the limit)"
        )
    else:
        verdict = "passed" if outcome.exit_code == 0 else "FAILED"
        summary.append(f"exit code {outcome.exit_code} after {outcome.seconds:.1f} s: {verdict}")
    counts = pytest_counts("\n".join(lines))
    if counts is not None:
        summary.append("pytest: " + ", ".join(f"{value} {name}" for name, value in counts.items()))
    shown = _tail(lines, tail_lines, tail_bytes)
    if not outcome.total_lines:
        summary.append("(no output)")
    elif len(shown) < outcome.total_lines:
        summary.append(f"--- last {plural(len(shown), 'line')} of {outcome.total_lines} ---")
    else:
        summary.append(f"--- output ({plural(len(shown), 'line')}) ---")
    return ToolResult("\n".join([*summary, *shown]), is_error=outcome.failed)


def _tail(lines: list[str], most: int, budget: int) -> list[str]:
    kept: list[str] = []
    used = 0
    for line in reversed(lines[-most:]):
        size = len(line.encode()) + 1
        if used + size > budget:
            if not kept:
                kept.append("…" + line[-(budget // 4) :])
            break
        kept.append(line)
        used += size
    kept.reverse()
    return kept
