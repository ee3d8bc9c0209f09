"""workspace_read: whole files, line ranges, the read limit, binary refusal."""

from __future__ import annotations

import os
import time

import pytest


async def test_whole_file_with_header(bench, workspace):
    (workspace / "a.txt").write_text("one\ntwo\nthree\n")
    result = await bench.call("workspace_read", path="a.txt")
    assert not result.is_error
    header, _, text = result.text.partition("\n")
    assert header == "[a.txt: lines 1-3 of 3; whole file]"
    assert text == "one\ntwo\nthree\n"


async def test_last_line_without_newline_is_counted(bench, workspace):
    (workspace / "a.txt").write_text("one\ntwo")
    result = await bench.call("workspace_read", path="a.txt")
    assert result.text == "[a.txt: lines 1-2 of 2; whole file]\none\ntwo"


async def test_empty_file(bench, workspace):
    (workspace / "empty.txt").write_text("")
    result = await bench.call("workspace_read", path="empty.txt")
    assert not result.is_error
    assert result.text == "[empty.txt: empty file, 0 lines]\n"


async def test_offset_and_limit(bench, workspace):
    (workspace / "a.txt").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    result = await bench.call("workspace_read", path="a.txt", offset=4, limit=2)
    assert result.text == "[a.txt: lines 4-5 of 10; more from offset=6]\nline 4\nline 5\n"
    tail = await bench.call("workspace_read", path="a.txt", offset=9)
    assert tail.text == "[a.txt: lines 9-10 of 10]\nline 9\nline 10\n"


async def test_offset_past_the_end(bench, workspace):
    (workspace / "a.txt").write_text("1\n2\n")
    result = await bench.call("workspace_read", path="a.txt", offset=5)
    assert result.is_error
    assert "offset 5 is past the end of 'a.txt', which has 2 lines" in result.text


@pytest.mark.parametrize("arguments", [{"offset": 0}, {"limit": 0}, {"offset": -1}])
async def test_offset_and_limit_must_be_positive(bench, workspace, arguments):
    (workspace / "a.txt").write_text("x\n")
    result = await bench.call("workspace_read", path="a.txt", **arguments)
    assert result.is_error
    assert "invalid input" in result.text and next(iter(arguments)) in result.text


async def test_file_over_the_limit_is_refused_whole(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_READ_BYTES="1000")
    (workspace / "big.txt").write_text("".join(f"line {n}\n" for n in range(1, 501)))
    result = await bench.call("workspace_read", path="big.txt")
    assert result.is_error
    assert "over the 1000 B read limit" in result.text
    assert "offset" in result.text and "limit" in result.text


async def test_part_of_a_big_file_total_unknown(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_READ_BYTES="1000")
    (workspace / "big.txt").write_text("".join(f"line {n}\n" for n in range(1, 501)))
    result = await bench.call("workspace_read", path="big.txt", offset=100, limit=3)
    header, _, text = result.text.partition("\n")
    assert header.startswith("[big.txt: lines 100-102 of ? (a ")
    assert header.endswith("more from offset=103]")
    assert text == "line 100\nline 101\nline 102\n"


async def test_end_of_a_big_file_gives_the_total(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_READ_BYTES="1000")
    (workspace / "big.txt").write_text("".join(f"line {n}\n" for n in range(1, 501)))
    result = await bench.call("workspace_read", path="big.txt", offset=499, limit=5)
    assert result.text == "[big.txt: lines 499-500 of 500]\nline 499\nline 500\n"
    exact = await bench.call("workspace_read", path="big.txt", offset=499, limit=2)
    assert exact.text.startswith("[big.txt: lines 499-500 of 500]")
    past = await bench.call("workspace_read", path="big.txt", offset=600, limit=5)
    assert past.is_error and "which has 500 lines" in past.text


async def test_a_big_range_is_cut_at_the_read_limit(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_READ_BYTES="1000")
    (workspace / "big.txt").write_text("".join(f"line {n:04}\n" for n in range(1, 501)))
    result = await bench.call("workspace_read", path="big.txt", offset=1, limit=400)
    header, _, text = result.text.partition("\n")
    assert "cut at the 1000 B read limit" in header
    assert len(text.encode()) <= 1000
    shown = text.count("\n")
    assert shown == 100  # 10 bytes a line
    assert f"lines 1-{shown} of ?" in header and f"more from offset={shown + 1}" in header


async def test_a_line_longer_than_the_limit_is_shown_in_part(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_READ_BYTES="1000")
    (workspace / "minified.js").write_text("é" * 3000 + "\nnext\n")
    result = await bench.call("workspace_read", path="minified.js", offset=1, limit=1)
    header, _, text = result.text.partition("\n")
    assert not result.is_error
    assert "line 1 is longer than the read limit and shown only in part" in header
    assert text == "é" * 500


async def test_a_huge_sparse_file_is_read_only_where_asked(bench, workspace):
    path = workspace / "huge.log"
    with path.open("wb") as handle:
        handle.write(b"".join(b"entry %d\n" % n for n in range(2000)))
        handle.truncate(1024**3)  # 1 GiB, sparse: reading it all would take seconds
    started = time.monotonic()
    result = await bench.call("workspace_read", path="huge.log", offset=1000, limit=2)
    assert time.monotonic() - started < 2
    assert result.text == "[huge.log: lines 1000-1001 of ? (a 1.0 GiB file); more from offset=1002]\nentry 999\nentry 1000\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x7fELF\x02\x01\x00\x00binary", "contains NUL bytes"),
        ("caf\u00e9\n".encode("latin-1"), "is not UTF-8 text"),
    ],
)
async def test_binary_files_are_refused(bench, workspace, content, message):
    (workspace / "blob.bin").write_bytes(content)
    result = await bench.call("workspace_read", path="blob.bin")
    assert result.is_error
    assert message in result.text


async def test_binary_file_over_the_limit_is_refused_in_part_too(make_bench, workspace):
    bench = make_bench(WORKSPACE_MAX_READ_BYTES="1000")
    (workspace / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(5000))
    result = await bench.call("workspace_read", path="image.png", offset=1, limit=1)
    assert result.is_error and "NUL bytes" in result.text


async def test_directories_and_missing_files(bench, workspace):
    (workspace / "src").mkdir()
    directory = await bench.call("workspace_read", path="src")
    assert directory.is_error and "is a directory; use workspace_list" in directory.text
    missing = await bench.call("workspace_read", path="nope.txt")
    assert missing.is_error and "no such file" in missing.text


async def test_read_effects(bench):
    tool = bench.tools.get("workspace_read")
    effects = tool.effects(tool.parse_input({"path": "a.txt"}))
    assert effects.reads == ("a.txt",) and effects.read_only
