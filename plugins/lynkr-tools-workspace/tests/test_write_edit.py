"""workspace_write and workspace_edit: atomic writes, kept modes, limits and clear errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import lynkr_tools_workspace.atomic
import pytest


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".lynkr-tmp")]


async def test_write_creates_parents_and_reports(bench, workspace):
    result = await bench.call("workspace_write", path="src/deep/new.py", content="print('hé')\n")
    assert not result.is_error
    assert result.text == "Created src/deep/new.py: 13 bytes written (1 line)."
    assert (workspace / "src/deep/new.py").read_text() == "print('hé')\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((workspace / "src/deep/new.py").stat().st_mode) == 0o666 & ~umask
    assert _leftovers(workspace / "src/deep") == []


async def test_write_replaces_and_keeps_the_mode(bench, workspace):
    script = workspace / "run.sh"
    script.write_text("#!/bin/sh\necho old\n")
    script.chmod(0o750)
    inode = script.stat().st_ino
    result = await bench.call("workspace_write", path="run.sh", content="#!/bin/sh\necho new\n")
    assert result.text.startswith("Replaced run.sh: 19 bytes written (2 lines).")
    assert script.read_text() == "#!/bin/sh\necho new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert script.stat().st_ino != inode  # a new file was renamed over the old one
    assert _leftovers(workspace) == []


async def test_write_through_an_inside_symlink_replaces_its_target(bench, workspace):
    (workspace / "real.txt").write_text("old")
    (workspace / "alias.txt").symlink_to("real.txt")
    result = await bench.call("workspace_write", path="alias.txt", content="new")
    assert not result.is_error
    assert (workspace / "alias.txt").is_symlink()
    assert (workspace / "real.txt").read_text() == "new"


async def test_a_failed_write_leaves_the_file_and_no_temporary(bench, workspace, monkeypatch):
    (workspace / "keep.txt").write_text("original")

    def broken_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lynkr_tools_workspace.atomic.os, "replace", broken_replace)
    result = await bench.call("workspace_write", path="keep.txt", content="changed")
    assert result.is_error
    assert "No space left on device" in result.text and "unchanged" in result.text
    assert (workspace / "keep.txt").read_text() == "original"
    assert _leftovers(workspace) == []


async def test_write_limit(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_WRITE_BYTES="10")
    result = await bench.call("workspace_write", path="a.txt", content="x" * 11)
    assert result.is_error and "over the 10 B write limit" in result.text
    assert not (workspace / "a.txt").exists()
    assert bench.context.ledger.bytes_written == 0
    ok = await bench.call("workspace_write", path="a.txt", content="é" * 5)
    assert not ok.is_error
    assert bench.context.ledger.bytes_written == 10


async def test_write_errors(bench, workspace):
    (workspace / "dir").mkdir()
    (workspace / "file.txt").write_text("x")
    on_dir = await bench.call("workspace_write", path="dir", content="x")
    assert on_dir.is_error and "is a directory" in on_dir.text
    under_file = await bench.call("workspace_write", path="file.txt/child.txt", content="x")
    assert under_file.is_error and "Not a directory" in under_file.text


async def test_write_effects_count_bytes(bench):
    tool = bench.tools.get("workspace_write")
    effects = tool.effects(tool.parse_input({"path": "a", "content": "héllo"}))
    assert effects.writes == ("a",) and effects.bytes_written == 6 and not effects.read_only


# --------------------------------------------------------------------------- edit


async def test_edit_replaces_one_occurrence(bench, workspace):
    path = workspace / "app.py"
    path.write_text("def a():\n    return 1\n\ndef b():\n    return 2\n")
    path.chmod(0o640)
    result = await bench.call("workspace_edit", path="app.py", old_string="return 2", new_string="return 3")
    assert not result.is_error
    assert result.text.startswith("Edited app.py: replaced 1 occurrence (line 5)")
    assert path.read_text() == "def a():\n    return 1\n\ndef b():\n    return 3\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert _leftovers(workspace) == []


async def test_edit_refuses_ambiguous_text_unless_replace_all(bench, workspace):
    path = workspace / "a.txt"
    path.write_text("x = 1\nx = 1\ny = 2\nx = 1\n")
    result = await bench.call("workspace_edit", path="a.txt", old_string="x = 1", new_string="x = 9")
    assert result.is_error and "occurs 3 times" in result.text and "replace_all" in result.text
    assert path.read_text() == "x = 1\nx = 1\ny = 2\nx = 1\n"
    every = await bench.call(
        "workspace_edit", path="a.txt", old_string="x = 1", new_string="x = 9", replace_all=True
    )
    assert "replaced 3 occurrences (lines 1, 2, 4)" in every.text
    assert path.read_text() == "x = 9\nx = 9\ny = 2\nx = 9\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("", "x", "old_string is empty"),
        ("same", "same", "old_string and new_string are the same"),
        ("absent", "x", "old_string was not found in 'a.txt'"),
    ],
)
async def test_edit_errors(bench, workspace, old, new, message):
    (workspace / "a.txt").write_text("same text\n")
    result = await bench.call("workspace_edit", path="a.txt", old_string=old, new_string=new)
    assert result.is_error and message in result.text
    assert (workspace / "a.txt").read_text() == "same text\n"


async def test_edit_hints_at_crlf(bench, workspace):
    (workspace / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    result = await bench.call("workspace_edit", path="win.txt", old_string="one\ntwo", new_string="x")
    assert result.is_error and "CRLF" in result.text
    fixed = await bench.call("workspace_edit", path="win.txt", old_string="one\r\ntwo", new_string="x")
    assert not fixed.is_error
    assert (workspace / "win.txt").read_bytes() == b"x\r\n"


async def test_edit_refuses_missing_binary_and_oversized(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_WRITE_BYTES="100")
    missing = await bench.call("workspace_edit", path="nope.txt", old_string="a", new_string="b")
    assert missing.is_error and "no such file" in missing.text
    (workspace / "blob").write_bytes(b"a\x00b")
    binary = await bench.call("workspace_edit", path="blob", old_string="a", new_string="b")
    assert binary.is_error and "NUL bytes" in binary.text
    (workspace / "big.txt").write_text("a" * 200)
    big = await bench.call("workspace_edit", path="big.txt", old_string="a", new_string="b", replace_all=True)
    assert big.is_error and "over the 100 B write limit" in big.text
    (workspace / "grows.txt").write_text("a" * 60)
    grows = await bench.call("workspace_edit", path="grows.txt", old_string="a", new_string="bb", replace_all=True)
    assert grows.is_error and "would be 120 B" in grows.text
    assert (workspace / "grows.txt").read_text() == "a" * 60


async def test_edit_effects_count_new_string_bytes(bench):
    tool = bench.tools.get("workspace_edit")
    effects = tool.effects(tool.parse_input({"path": "a", "old_string": "x", "new_string": "ünï"}))
    assert effects.writes == ("a",) and effects.bytes_written == 5
