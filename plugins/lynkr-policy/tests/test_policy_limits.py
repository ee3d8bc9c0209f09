"""Tool lists and per-request caps, through the core's tool runner."""

from __future__ import annotations

import pytest

from lynkr_core import ConfigError


async def test_every_tool_runs_when_no_list_is_set(make_bench, fakes):
    bench = make_bench()
    result = await bench.call("fake_echo")
    assert not result.is_error, result.text
    assert len(fakes.echo.runs) == 1


async def test_a_disallowed_tool_is_denied_and_the_reason_names_the_setting(make_bench, fakes):
    bench = make_bench(POLICY_DISALLOWED_TOOLS="fake_read, fake_echo")
    result = await bench.call("fake_echo")
    assert result.is_error
    assert "denied by policy 'lynkr-policy'" in result.text
    assert "POLICY_DISALLOWED_TOOLS" in result.text
    assert fakes.echo.runs == []
    assert not (await bench.call("fake_pull")).is_error


async def test_only_allowed_tools_run_when_the_allow_list_is_set(make_bench, fakes):
    bench = make_bench(POLICY_ALLOWED_TOOLS="fake_echo,fake_pull")
    assert not (await bench.call("fake_echo")).is_error
    denied = await bench.call("fake_read", path="a.txt")
    assert denied.is_error
    assert "not in POLICY_ALLOWED_TOOLS (fake_echo, fake_pull)" in denied.text
    assert fakes.read.runs == []


async def test_tool_names_match_exactly(make_bench, fakes):
    bench = make_bench(POLICY_DISALLOWED_TOOLS="fake", POLICY_ALLOWED_TOOLS="FAKE_ECHO,fake_echo")
    assert not (await bench.call("fake_echo")).is_error
    assert (await bench.call("fake_pull")).is_error  # not allowed (and "fake" denies nothing)


async def test_the_deny_list_wins_over_the_allow_list(make_bench, fakes):
    bench = make_bench(POLICY_ALLOWED_TOOLS="fake_echo", POLICY_DISALLOWED_TOOLS="fake_echo")
    result = await bench.call("fake_echo")
    assert result.is_error and "POLICY_DISALLOWED_TOOLS" in result.text
    assert fakes.echo.runs == []


async def test_the_twelfth_call_runs_and_the_thirteenth_is_denied_by_default(make_bench, fakes):
    bench = make_bench()
    for _ in range(12):
        result = await bench.call("fake_echo")
        assert not result.is_error, result.text
    result = await bench.call("fake_echo")
    assert result.is_error
    assert "limit of 12 tool calls (POLICY_MAX_TOOL_CALLS=12)" in result.text
    assert len(fakes.echo.runs) == 12


async def test_the_call_cap_is_configurable_and_per_request(make_bench, fakes):
    bench = make_bench(POLICY_MAX_TOOL_CALLS="2")
    assert not (await bench.call("fake_echo")).is_error
    assert not (await bench.call("fake_echo")).is_error
    assert (await bench.call("fake_echo")).is_error
    bench.new_request()
    assert not (await bench.call("fake_echo")).is_error
    assert len(fakes.echo.runs) == 3


async def test_denied_calls_count_towards_the_call_cap(make_bench, fakes):
    bench = make_bench(POLICY_MAX_TOOL_CALLS="2")
    assert (await bench.call("fake_read", path=".env")).is_error
    assert not (await bench.call("fake_echo")).is_error
    assert "POLICY_MAX_TOOL_CALLS=2" in (await bench.call("fake_echo")).text


async def test_writing_exactly_the_byte_cap_passes_and_one_more_byte_is_denied(
    make_bench, fakes, tmp_path
):
    bench = make_bench(POLICY_MAX_BYTES_WRITTEN="10")
    assert not (await bench.call("fake_write", path="a.txt", content="123456")).is_error
    assert not (await bench.call("fake_write", path="b.txt", content="7890")).is_error  # 10
    result = await bench.call("fake_write", path="c.txt", content="x")
    assert result.is_error
    assert "POLICY_MAX_BYTES_WRITTEN=10" in result.text
    assert "would write 1 bytes after 10 already written" in result.text
    assert not (tmp_path / "c.txt").exists()
    assert not (await bench.call("fake_write", path="d.txt", content="")).is_error


async def test_a_single_call_over_the_byte_cap_is_denied(make_bench, fakes, tmp_path):
    bench = make_bench(POLICY_MAX_BYTES_WRITTEN="10")
    assert (await bench.call("fake_write", path="a.txt", content="x" * 11)).is_error
    assert not (tmp_path / "a.txt").exists()
    assert not (await bench.call("fake_write", path="a.txt", content="x" * 10)).is_error


async def test_the_default_byte_cap_is_5_mib(make_bench, fakes):
    bench = make_bench()
    assert not (await bench.call("fake_write", path="a.bin", content="x" * 5242880)).is_error
    result = await bench.call("fake_write", path="b.bin", content="x")
    assert result.is_error and "POLICY_MAX_BYTES_WRITTEN=5242880" in result.text


async def test_the_byte_cap_is_per_request(make_bench, fakes):
    bench = make_bench(POLICY_MAX_BYTES_WRITTEN="4")
    assert not (await bench.call("fake_write", path="a.txt", content="abcd")).is_error
    assert (await bench.call("fake_write", path="a.txt", content="e")).is_error
    bench.new_request()
    assert not (await bench.call("fake_write", path="a.txt", content="efgh")).is_error


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"POLICY_MAX_TOOL_CALLS": "0"}, "POLICY_MAX_TOOL_CALLS"),
        ({"POLICY_MAX_TOOL_CALLS": "many"}, "POLICY_MAX_TOOL_CALLS"),
        ({"POLICY_MAX_BYTES_WRITTEN": "-1"}, "POLICY_MAX_BYTES_WRITTEN"),
        ({"POLICY_GIT_ALLOW_PUSH": "perhaps"}, "POLICY_GIT_ALLOW_PUSH"),
    ],
)
def test_a_malformed_setting_is_a_config_error_naming_it(make_bench, env, names):
    with pytest.raises(ConfigError, match=names):
        make_bench(**env)
