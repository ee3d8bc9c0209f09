"""workspace_search: grep-like results, filters, skipped files and directories, caps."""

from __future__ import annotations

from pathlib import Path

import lynkr_tools_workspace
import pytest

from lynkr_core import Policy
from lynkr_core.testing.tools import ToolBench


def _tree(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


async def test_matches_as_path_line_text(bench, workspace):
    _tree(workspace, {"src/a.py": "import os\ndef login():\n    pass\n", "b.txt": "LOGIN here\r\n"})
    result = await bench.call("workspace_search", pattern=r"def \w+\(")
    assert result.text.splitlines() == ["1 match in 1 file (2 files searched):", "src/a.py:2: def login():"]
    loose = await bench.call("workspace_search", pattern="login", case_sensitive=False)
    assert loose.text.splitlines()[1:] == ["b.txt:1: LOGIN here", "src/a.py:2: def login():"]


async def test_literal_and_invalid_regex(bench, workspace):
    _tree(workspace, {"a.py": "call(x)\ncall y\n"})
    invalid = await bench.call("workspace_search", pattern="call(")
    assert invalid.is_error and "invalid regular expression 'call('" in invalid.text
    assert "literal=true" in invalid.text
    literal = await bench.call("workspace_search", pattern="call(", literal=True)
    assert literal.text.splitlines()[1:] == ["a.py:1: call(x)"]
    empty = await bench.call("workspace_search", pattern="")
    assert empty.is_error and "pattern is empty" in empty.text


async def test_glob_filter_and_path(bench, workspace):
    _tree(workspace, {"src/a.py": "needle\n", "src/a.js": "needle\n", "src/sub/b.py": "needle\n", "c.py": "needle\n"})
    by_name = await bench.call("workspace_search", pattern="needle", glob="*.py")
    assert by_name.text.splitlines()[1:] == ["c.py:1: needle", "src/a.py:1: needle", "src/sub/b.py:1: needle"]
    by_path = await bench.call("workspace_search", pattern="needle", path="src", glob="sub/*.py")
    assert by_path.text.splitlines()[1:] == ["src/sub/b.py:1: needle"]
    one_file = await bench.call("workspace_search", pattern="needle", path="src/a.js")
    assert one_file.text.splitlines()[1:] == ["src/a.js:1: needle"]
    missing = await bench.call("workspace_search", pattern="needle", path="nowhere")
    assert missing.is_error and "no such file or directory" in missing.text


async def test_skipped_directories_binary_and_large_files(bench, workspace):
    files: dict[str, str | bytes] = {"keep.txt": "needle\n", "blob.bin": b"needle\x00\x01"}
    for skipped in (".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", "dist", "build"):
        files[f"{skipped}/x.txt"] = "needle\n"
        files[f"src/{skipped}/y.txt"] = "needle\n"
    files["huge.txt"] = "needle\n" + "x" * (1024 * 1024)
    _tree(workspace, files)
    result = await bench.call("workspace_search", pattern="needle")
    lines = result.text.splitlines()
    assert lines[:2] == ["1 match in 1 file (1 file searched):", "keep.txt:1: needle"]
    assert lines[2] == "[skipped 1 binary file and 1 file over 1.0 MiB]"
    inside = await bench.call("workspace_search", pattern="needle", path="node_modules")
    assert inside.text.splitlines()[1:] == ["node_modules/x.txt:1: needle"]


async def test_max_results_and_hard_cap(bench, workspace):
    _tree(workspace, {"many.txt": "hit\n" * 700})
    three = await bench.call("workspace_search", pattern="hit", max_results=3)
    lines = three.text.splitlines()
    assert lines[1:4] == ["many.txt:1: hit", "many.txt:2: hit", "many.txt:3: hit"]
    assert lines[4].startswith("[stopped at 3 matches")
    capped = await bench.call("workspace_search", pattern="hit", max_results=10_000)
    assert capped.text.count("many.txt:") == 500
    assert "max_results is capped at 500" in capped.text
    exact = await bench.call("workspace_search", pattern="hit", max_results=700)
    assert exact.text.count("many.txt:") == 500
    invalid = await bench.call("workspace_search", pattern="hit", max_results=0)
    assert invalid.is_error and "max_results" in invalid.text


async def test_long_lines_are_cut_around_the_match(bench, workspace):
    _tree(workspace, {"min.js": "a" * 5000 + "NEEDLE" + "b" * 5000 + "\n"})
    result = await bench.call("workspace_search", pattern="NEEDLE")
    line = result.text.splitlines()[1]
    assert line.startswith("min.js:1: …") and line.endswith("…")
    assert "NEEDLE" in line and len(line) < 350


async def test_anchors_match_per_line(bench, workspace):
    _tree(workspace, {"a.txt": "first\nsecond\n"})
    result = await bench.call("workspace_search", pattern="^second$")
    assert result.text.splitlines()[1:] == ["a.txt:2: second"]


async def test_no_matches(bench, workspace):
    _tree(workspace, {"a.txt": "nothing\n"})
    result = await bench.call("workspace_search", pattern="absent")
    assert not result.is_error
    assert result.text == "No matches for 'absent' in '.' (1 file searched)."


@pytest.mark.parametrize("name", ["workspace_search", "workspace_glob", "workspace_list", "workspace_read"])
def test_reading_tools_are_read_only(bench, name):
    tool = bench.tools.get(name)
    arguments = {"pattern": "x", "path": "src"} if name != "workspace_read" else {"path": "src"}
    if name == "workspace_list":
        arguments = {"path": "src"}
    effects = tool.effects(tool.parse_input(arguments))
    assert effects.read_only and effects.reads == ("src",)


class HideSecrets(Policy):
    """A policy hiding ``*.secret`` files and the ``private`` directory from walking tools."""

    name = "hide-secrets"

    def hides(self, path: str) -> bool:
        return path.endswith(".secret") or path == "private" or path.startswith("private/")


async def test_paths_a_policy_hides_stay_out_of_search_list_and_glob(workspace):
    (workspace / "app.py").write_text("TOKEN = 'visible-token'\n")
    (workspace / "keys.secret").write_text("TOKEN = 'hidden-token'\n")
    (workspace / "private").mkdir()
    (workspace / "private" / "notes.txt").write_text("TOKEN = 'hidden-too'\n")
    bench = ToolBench(workspace, plugins=[lynkr_tools_workspace], policies=[HideSecrets()],
                      env={"LYNKR_HOME": str(workspace.parent / "home")})

    search = await bench.call("workspace_search", pattern="TOKEN")
    listing = await bench.call("workspace_list", path=".", depth=3)
    glob = await bench.call("workspace_glob", pattern="**/*")

    assert "visible-token" in search.text and "hidden" not in search.text
    assert "app.py" in listing.text and "keys.secret" not in listing.text and "private" not in listing.text
    assert "[2 entries hidden by a policy]" in listing.text
    assert "app.py" in glob.text and "secret" not in glob.text and "private" not in glob.text
