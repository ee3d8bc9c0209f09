"""Running the project's test command is a guarded action: permitted when the operator
named the command or set ``POLICY_ALLOW_TEST_COMMAND=true``, refused otherwise."""

from __future__ import annotations

import pytest


async def test_a_guessed_test_command_is_refused_by_default(make_bench, fakes):
    result = await make_bench().call("workspace_test_run")
    assert result.is_error
    assert "POLICY_ALLOW_TEST_COMMAND=true" in result.text and "POLICY_GIT_TEST_COMMAND" in result.text
    assert fakes.tests.runs == 0


@pytest.mark.parametrize("env", [
    {"POLICY_GIT_TEST_COMMAND": "pytest -q"},
    {"WORKSPACE_TEST_COMMAND": "npm test"},
    {"POLICY_ALLOW_TEST_COMMAND": "true"},
])
async def test_a_named_command_or_the_switch_permits_it(make_bench, fakes, env):
    result = await make_bench(**env).call("workspace_test_run")
    assert not result.is_error, result.text
    assert fakes.tests.runs == 1


async def test_the_switch_can_refuse_even_a_named_command(make_bench, fakes):
    bench = make_bench(POLICY_GIT_TEST_COMMAND="pytest -q", POLICY_ALLOW_TEST_COMMAND="false")
    result = await bench.call("workspace_test_run")
    assert result.is_error and fakes.tests.runs == 0


async def test_the_commit_gate_runs_the_tests_even_when_the_model_may_not(make_bench, fakes):
    bench = make_bench(POLICY_GIT_REQUIRE_TESTS="true")
    assert not (await bench.call("fake_commit", message="x")).is_error
    assert fakes.tests.runs == 1
