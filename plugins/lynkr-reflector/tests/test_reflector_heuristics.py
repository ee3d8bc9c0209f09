"""The keyword heuristics and the hint block, piece by piece."""

from __future__ import annotations

import msgspec
import pytest
from lynkr_reflector import classify, inject
from lynkr_reflector.playbook import Hint

from lynkr_core import anthropic


@pytest.mark.parametrize(("prompt", "kind"), [
    ("The invoice total is wrong when a discount is applied: test_discount fails. Can you fix it?", "debug"),
    ("Fix the failing test in tests/test_api.py", "debug"),
    ("I get a KeyError traceback when I run the export", "debug"),
    ("Add tests for format_row covering empty notes", "test"),
    ("Improve the coverage of the parser module", "test"),
    ("Refactor the CSV exporter: extract the row formatting into its own function", "refactor"),
    ("Rename Invoice.total to Invoice.amount_due everywhere", "refactor"),
    ("Update the README with the new install steps", "docs"),
    ("Add a docstring to apply_discount explaining the rounding", "docs"),
    ("Implement a --currency option for the export command", "feature"),
    ("What does this repository do?", "other"),
])
def test_task_type(prompt, kind):
    assert classify.task_type(prompt) == kind


@pytest.mark.parametrize(("text", "corrects"), [
    ("No, that's wrong: don't strip the timezone", True),
    ("no. use the helper", True),
    ("Revert the change to the fixture", True),
    ("Please undo the last edit", True),
    ("That is not what I asked for", True),
    ("Why did you delete the test?", True),
    ("[Request interrupted by user for tool use]", True),
    ("Thanks. Please also document the rounding rule", False),
    ("Looks good, now add a changelog entry", False),
    ("Now fix the wrong total in the PDF export too", False),
    ("Add an undo button to the invoice editor", False),
    ("Add a restore command for deleted invoices", False),
])
def test_correction(text, corrects):
    assert classify.is_correction(text) is corrects


@pytest.mark.parametrize(("command", "signature", "category"), [
    ("pytest tests/test_totals.py -q", "pytest", "test"),
    ("cd app && uv run --frozen pytest -x tests/a.py", "uv run pytest", "test"),
    ("python -m pytest -k discount", "python -m pytest", "test"),
    ("npm run test -- --watch=false", "npm run test", "test"),
    ("CI=1 timeout 120 cargo test --all", "cargo test", "test"),
    ("git status --short", "git status", "git"),
    ('rg -n "def export_csv" src/', "rg", "search"),
    ("grep -rn discount src | head", "grep", "search"),
    ("sed -n 1,40p src/invoicer/totals.py", "sed", "read"),
    ("sed -i s/a/b/ x.py", "sed", "run"),
    ("uv sync", "uv sync", "run"),
    ("uv run ruff check . && uv run pytest -q", "uv run pytest", "test"),  # the test in a chain
    ("cd app\nuv run pytest -q 2>&1 | tail -20", "uv run pytest", "test"),
])
def test_command_signature_and_category(command, signature, category):
    assert classify.command_signature(command) == signature
    assert classify.command_category(command) == category


@pytest.mark.parametrize(("tool", "category"), [
    ("Read", "read"), ("Edit", "edit"), ("Write", "edit"), ("Grep", "search"), ("Glob", "search"),
    ("WebFetch", "web"), ("Agent", "delegate"), ("TodoWrite", "other"), ("TaskList", "other"),
    ("workspace_read", "read"), ("workspace_test_run", "test"), ("workspace_git_status", "git"),
    ("workspace_list", "search"), ("mcp__github__search_code", "search"),
])
def test_tool_category(tool, category):
    assert classify.category(tool) == category


@pytest.mark.parametrize(("text", "is_error", "verdict"), [
    ("....\n4 passed in 0.05s", False, (True, "")),
    ("Exit code 1\n..F.\nFAILED tests/a.py::t - AssertionError\n1 failed, 3 passed in 0.08s", True, (False, "test failures")),
    ("..F.\n1 failed, 3 passed in 0.08s", False, (False, "test failures")),  # `pytest | tail` exits 0
    ("Exit code 127\n/bin/bash: line 1: pytest: command not found", True, (False, "command not found")),
    ("ImportError while importing test module\nModuleNotFoundError: No module named 'invoicer'\n1 error in 0.1s",
     True, (False, "module not found")),
])
def test_test_verdict(text, is_error, verdict):
    assert classify.test_verdict(text, is_error) == verdict


@pytest.mark.parametrize(("text", "kind"), [
    ("<tool_use_error>String to replace not found in file.</tool_use_error>", "old_string not found"),
    ("<tool_use_error>Found 2 matches of the string to replace, but replace_all is false.", "old_string matches several places"),
    ("<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>", "file not read first"),
    ("Exit code 2\nls: cannot access 'nope': No such file or directory", "no such file"),
    ("Exit code 3\nsomething else", "exit code 3"),
])
def test_error_class(text, kind):
    assert classify.error_class(text) == kind


def hint(id: int, text: str, task_type: str = "", supports: int = 2, contradicts: int = 0) -> Hint:
    return Hint(id=id, key=f"k{id}", kind="x", task_type=task_type, text=text, supports=supports,
                contradicts=contradicts)


HINTS = (hint(1, "debug one", "debug", supports=5), hint(2, "any one", supports=3),
         hint(3, "refactor one", "refactor"), hint(4, "debug two", "debug", supports=2))


def request(system: object, prompt: str = "Fix the failing test", tools: object = None) -> anthropic.MessagesRequest:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": prompt}],
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}] if tools is None else tools}
    if system is not msgspec.UNSET:
        body["system"] = system
    return anthropic.decode_request(msgspec.json.encode(body))


def test_select_keeps_the_strongest_in_the_order_learnt():
    assert [h.id for h in inject.select(HINTS, "debug", 5)] == [1, 2, 4]
    assert [h.id for h in inject.select(HINTS, "debug", 2)] == [1, 2]
    assert [h.id for h in inject.select(HINTS, "docs", 5)] == [2]


def test_the_block_goes_after_the_client_s_blocks_without_a_cache_mark():
    cached = [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}]
    prepared = inject.inject(request(cached), HINTS, 5)
    system = msgspec.json.decode(anthropic.encode_request(prepared))["system"]
    assert system[0] == cached[0]
    assert system[1] == {"type": "text", "text": f"{inject.HEADER}\n- debug one\n- any one\n- debug two"}
    assert anthropic.encode_request(inject.inject(request(cached), HINTS, 5)) == anthropic.encode_request(prepared)


@pytest.mark.parametrize("system", ["Be brief.", "", msgspec.UNSET])
def test_a_string_or_missing_system_prompt(system):
    prepared = inject.inject(request(system), HINTS, 5)
    blocks = msgspec.json.decode(anthropic.encode_request(prepared))["system"]
    assert [b["text"] for b in blocks[:-1]] == ([system] if system else [])
    assert blocks[-1]["text"].startswith(inject.HEADER)


def test_nothing_is_added_to_requests_without_tools_or_hints():
    assert inject.inject(request("s", tools=[]), HINTS, 5) is None  # a title request
    assert inject.inject(request("s"), (), 5) is None
    assert inject.inject(request("s", prompt="Update the README"), HINTS[:1], 5) is None  # none fits
