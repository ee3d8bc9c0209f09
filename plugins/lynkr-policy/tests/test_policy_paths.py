"""POLICY_FILE_BLOCKED_PATHS and POLICY_FILE_ALLOWED_PATHS through the core's tool runner."""

from __future__ import annotations

import os

import pytest

from lynkr_core import ConfigError


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "./.env",
        "sub//.env",
        "sub/./.env",
        ".ENV",
        ".env.local",
        "a/b/.env.test",
        "certs/server.pem",
        "deploy.key",
        ".ssh/id_rsa",
        "id_ed25519",
    ],
)
async def test_default_blocked_paths_are_neither_read_nor_written(
    make_bench, fakes, tmp_path, path
):
    bench = make_bench()
    read = await bench.call("fake_read", path=path)
    assert read.is_error
    assert "in POLICY_FILE_BLOCKED_PATHS" in read.text and repr(path) in read.text
    written = await bench.call("fake_write", path=path, content="SECRET=1")
    assert written.is_error and "POLICY_FILE_BLOCKED_PATHS" in written.text
    assert fakes.read.runs == [] and fakes.write.runs == []
    assert not any(tmp_path.rglob("*")), "nothing may have been written"


@pytest.mark.parametrize("path", ["README.md", "src/app.py", ".envrc", "env.py", "id_rsa.pub"])
async def test_other_paths_are_read_and_written(make_bench, fakes, path):
    bench = make_bench()
    assert not (await bench.call("fake_read", path=path)).is_error
    assert not (await bench.call("fake_write", path=path, content="ok")).is_error


async def test_the_blocked_list_replaces_the_defaults(make_bench, fakes):
    bench = make_bench(POLICY_FILE_BLOCKED_PATHS="secrets/,*.sqlite")
    assert not (await bench.call("fake_read", path=".env")).is_error
    assert (await bench.call("fake_read", path="secrets/prod.txt")).is_error
    assert (await bench.call("fake_read", path="data/app.sqlite")).is_error


async def test_an_empty_blocked_list_blocks_nothing(make_bench, fakes):
    bench = make_bench(POLICY_FILE_BLOCKED_PATHS="")
    assert not (await bench.call("fake_read", path=".env")).is_error


async def test_writes_are_confined_to_the_allowed_paths(make_bench, fakes, tmp_path):
    bench = make_bench(POLICY_FILE_ALLOWED_PATHS="src/**,docs/*.md")
    assert not (await bench.call("fake_write", path="src/pkg/a.py", content="x")).is_error
    assert not (await bench.call("fake_write", path="./docs/a.md", content="x")).is_error
    for path in ["setup.py", "docs/a.txt", "lib/src/a.py", "SRC/a.py"]:
        result = await bench.call("fake_write", path=path, content="x")
        assert result.is_error, path
        assert "matches none of POLICY_FILE_ALLOWED_PATHS (src/**, docs/*.md)" in result.text
        assert not (tmp_path / path).exists()


async def test_the_allowed_paths_do_not_limit_reads(make_bench, fakes):
    bench = make_bench(POLICY_FILE_ALLOWED_PATHS="src/**")
    assert not (await bench.call("fake_read", path="setup.py")).is_error


async def test_blocked_wins_over_allowed(make_bench, fakes):
    bench = make_bench(POLICY_FILE_ALLOWED_PATHS="config/**")
    result = await bench.call("fake_write", path="config/.env", content="x")
    assert result.is_error and "POLICY_FILE_BLOCKED_PATHS" in result.text


async def test_a_symlink_to_a_blocked_file_is_blocked(make_bench, fakes, tmp_path):
    (tmp_path / ".env").write_text("SECRET=1")
    os.symlink(".env", tmp_path / "notes.txt")
    bench = make_bench()
    result = await bench.call("fake_read", path="notes.txt")
    assert result.is_error
    assert "'notes.txt' (really .env, through a symlink) matches '.env'" in result.text


async def test_a_write_through_a_symlink_out_of_the_allowed_paths_is_denied(
    make_bench, fakes, tmp_path
):
    (tmp_path / "src").mkdir()
    (tmp_path / "setup.py").write_text("")
    os.symlink("../setup.py", tmp_path / "src" / "link.py")
    bench = make_bench(POLICY_FILE_ALLOWED_PATHS="src/**")
    result = await bench.call("fake_write", path="src/link.py", content="x")
    assert result.is_error
    assert "(really setup.py, through a symlink)" in result.text
    assert (tmp_path / "setup.py").read_text() == ""


@pytest.mark.parametrize("allowed", ["", "src/**"])
@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "~/x", "a\x00b", "\ud800"])
async def test_paths_confinement_refuses_get_an_error_not_a_crash(make_bench, fakes, path, allowed):
    bench = make_bench(POLICY_FILE_ALLOWED_PATHS=allowed)
    result = await bench.call("fake_write", path=path, content="x")
    assert result.is_error
    assert "policy 'lynkr-policy' failed" not in result.text
    assert fakes.write.runs == []


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"POLICY_FILE_BLOCKED_PATHS": ".env,./"}, "POLICY_FILE_BLOCKED_PATHS"),
        ({"POLICY_FILE_ALLOWED_PATHS": "/"}, "POLICY_FILE_ALLOWED_PATHS"),
    ],
)
def test_a_pattern_that_names_no_path_is_a_config_error(make_bench, env, variable):
    with pytest.raises(ConfigError, match=f"{variable}: pattern .* names no path"):
        make_bench(**env)


@pytest.mark.parametrize(("path", "hidden"), [
    (".env", True), ("sub/.env", True), ("deploy/.env.prod", True), ("certs/server.pem", True),
    ("src/app.py", False), ("README.md", False), ("environment.py", False),
])
def test_blocked_paths_are_hidden_from_walking_tools(make_bench, path, hidden):
    policy = make_bench().policies.get("lynkr-policy")
    assert policy.hides(path) is hidden
