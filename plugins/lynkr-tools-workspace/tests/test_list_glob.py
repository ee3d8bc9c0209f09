"""workspace_list and workspace_glob: order, types, depth, skipped directories and caps."""

from __future__ import annotations

from pathlib import Path

import pytest
from lynkr_tools_workspace.patterns import compile_glob, expand_braces


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


async def test_list_directories_first_with_types_and_sizes(bench, workspace):
    _tree(workspace, {"b.txt": "12345", "a.txt": "", "src/main.py": "x", ".git/config": "[core]"})
    (workspace / "docs").mkdir()
    (workspace / "link").symlink_to("b.txt")
    result = await bench.call("workspace_list")
    assert result.text.splitlines() == [
        "./: 5 entries",
        "docs/  dir",
        "src/  dir",
        "a.txt  file  0 B",
        "b.txt  file  5 B",
        "link  symlink",
    ]


async def test_list_depth(bench, workspace):
    _tree(workspace, {"src/pkg/mod.py": "x" * 2048, "src/top.py": "", "node_modules/lib/index.js": ""})
    result = await bench.call("workspace_list", depth=3)
    assert result.text.splitlines() == [
        "./: 5 entries, 3 levels deep",
        "node_modules/  dir",
        "src/  dir",
        "  pkg/  dir",
        "    mod.py  file  2.0 KiB",
        "  top.py  file  0 B",
    ]
    inside = await bench.call("workspace_list", path="node_modules", depth=2)
    assert "  index.js  file  0 B" in inside.text.splitlines()


async def test_list_cap_and_errors(bench, workspace):
    for n in range(510):
        (workspace / f"f{n:03}.txt").write_text("")
    result = await bench.call("workspace_list")
    lines = result.text.splitlines()
    assert lines[0] == "./: 500 entries"
    assert lines[-1].startswith("[cut at the limit of 500 entries")
    not_dir = await bench.call("workspace_list", path="f000.txt")
    assert not_dir.is_error and "is a file" in not_dir.text
    missing = await bench.call("workspace_list", path="nowhere")
    assert missing.is_error and "no such directory" in missing.text
    too_deep = await bench.call("workspace_list", depth=6)
    assert too_deep.is_error and "depth" in too_deep.text


async def test_list_empty_directory(bench, workspace):
    (workspace / "empty").mkdir()
    result = await bench.call("workspace_list", path="empty")
    assert result.text == "empty/: 0 entries (empty)"


# --------------------------------------------------------------------------- glob

FILES = {
    "setup.py": "",
    "src/app.py": "",
    "src/app.ts": "",
    "src/pkg/util.py": "",
    "src/pkg/deep/er.py": "",
    "tests/test_app.py": "",
    "node_modules/lib/index.py": "",
    ".venv/lib/site.py": "",
    "README.md": "",
}


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*.py", ".", ["setup.py", "src/app.py", "src/pkg/deep/er.py", "src/pkg/util.py", "tests/test_app.py"]),
        ("*.py", ".", ["setup.py"]),
        ("src/*.py", ".", ["src/app.py"]),
        ("src/**/*.py", ".", ["src/app.py", "src/pkg/deep/er.py", "src/pkg/util.py"]),
        ("src/app.{py,ts}", ".", ["src/app.py", "src/app.ts"]),
        ("*.py", "src/pkg", ["src/pkg/util.py"]),
        ("**/test_*.py", ".", ["tests/test_app.py"]),
        ("src/*", ".", ["src/app.py", "src/app.ts", "src/pkg/"]),
        ("node_modules/**/*.py", ".", ["node_modules/lib/index.py"]),
        ("**/*.rs", ".", []),
        ("src/", ".", ["src/"]),
        ("./src/pkg/*.py", ".", ["src/pkg/util.py"]),
        ("missing/**/*.py", ".", []),
    ],
)
async def test_glob(bench, workspace, pattern, path, expected):
    _tree(workspace, FILES)
    result = await bench.call("workspace_glob", pattern=pattern, path=path)
    assert not result.is_error, result.text
    if expected:
        assert result.text.splitlines()[1:] == expected
        assert result.text.splitlines()[0].startswith(f"{len(expected)} match")
    else:
        assert result.text.startswith("No paths match")


async def test_glob_does_not_enter_symlinked_directories(bench, workspace):
    _tree(workspace, {"real/a.py": ""})
    (workspace / "alias").symlink_to(workspace / "real")
    result = await bench.call("workspace_glob", pattern="**/*.py")
    assert result.text.splitlines()[1:] == ["real/a.py"]


async def test_glob_cap(bench, workspace):
    for n in range(510):
        (workspace / f"f{n:03}.txt").write_text("")
    result = await bench.call("workspace_glob", pattern="*.txt")
    lines = result.text.splitlines()
    assert len(lines) == 502 and lines[-1].startswith("[cut at 500 matches")
    assert lines[1:501] == sorted(lines[1:501])


@pytest.mark.parametrize("pattern", ["", "  ", "."])
async def test_glob_empty_pattern(bench, pattern):
    result = await bench.call("workspace_glob", pattern=pattern)
    assert result.is_error and "pattern is empty" in result.text


async def test_glob_base_must_be_a_directory(bench, workspace):
    (workspace / "a.txt").write_text("")
    result = await bench.call("workspace_glob", pattern="*", path="a.txt")
    assert result.is_error and "not a directory" in result.text


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("**/*.py", ["a.py", "x/a.py", "x/y/a.py"], ["a.pyc", "x/a.txt"]),
        ("*.py", ["a.py", ".hidden.py"], ["x/a.py"]),
        ("x/**", ["x/", "x/a", "x/y/z"], ["y/a"]),
        ("a?c", ["abc"], ["ac", "a/c"]),
        ("[ab]*", ["a1", "b2"], ["c3"]),
        ("[!ab]*", ["c3"], ["a1", "/x"]),
        ("{src,lib}/**/*.{js,ts}", ["src/a.js", "lib/x/b.ts"], ["test/a.js", "src/a.py"]),
        ("a+b(c).txt", ["a+b(c).txt"], ["aab(c).txt"]),
    ],
)
def test_glob_translation(pattern, matches, misses):
    regex = compile_glob(pattern)
    for path in matches:
        assert regex.match(path), (pattern, path)
    for path in misses:
        assert not regex.match(path), (pattern, path)


def test_brace_expansion():
    assert sorted(expand_braces("a{b,c{d,e}}f")) == ["abf", "acdf", "acef"]
    assert expand_braces("{single}") == ["{single}"]
