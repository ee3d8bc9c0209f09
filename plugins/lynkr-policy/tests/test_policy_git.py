"""The git switches and the commit message rule."""

from __future__ import annotations

import pytest

from lynkr_core import ConfigError, Permit, ToolCall


async def test_push_is_denied_by_default_and_does_not_run(make_bench, fakes):
    bench = make_bench()
    result = await bench.call("fake_push")
    assert result.is_error
    assert "denied by policy 'lynkr-policy'" in result.text
    assert "pushing is turned off" in result.text and "POLICY_GIT_ALLOW_PUSH=true" in result.text
    assert fakes.push.runs == []


async def test_push_is_permitted_when_allowed_and_runs(make_bench, fakes):
    bench = make_bench(POLICY_GIT_ALLOW_PUSH="true")
    result = await bench.call("fake_push")
    assert not result.is_error, result.text
    assert len(fakes.push.runs) == 1


async def test_an_allowed_push_gets_an_explicit_permit(make_bench, fakes):
    bench = make_bench(POLICY_GIT_ALLOW_PUSH="true")
    policy = bench.policies.get("lynkr-policy")
    call = ToolCall(
        id="t", name="fake_push", args=None, effects=fakes.push.effects(None), tool=fakes.push
    )
    verdict = await policy.check_tool(call, bench.context)
    assert isinstance(verdict, Permit) and "POLICY_GIT_ALLOW_PUSH" in verdict.reason


async def test_a_push_that_also_runs_a_shell_command_is_not_permitted_by_this_policy(
    make_bench, fakes
):
    bench = make_bench(POLICY_GIT_ALLOW_PUSH="true")
    result = await bench.call("fake_shell_push")
    assert result.is_error
    assert "shell.run needs an explicit permission" in result.text
    assert fakes.shell_push.runs == []


async def test_pull_is_allowed_by_default_and_can_be_turned_off(make_bench, fakes):
    assert not (await make_bench().call("fake_pull")).is_error
    result = await make_bench(POLICY_GIT_ALLOW_PULL="false").call("fake_pull")
    assert result.is_error and "POLICY_GIT_ALLOW_PULL=true" in result.text
    assert len(fakes.pull.runs) == 1


async def test_commit_is_allowed_by_default_and_can_be_turned_off(make_bench, fakes):
    assert not (await make_bench().call("fake_commit", message="x")).is_error
    result = await make_bench(POLICY_GIT_ALLOW_COMMIT="false").call("fake_commit", message="x")
    assert result.is_error and "POLICY_GIT_ALLOW_COMMIT=true" in result.text
    assert len(fakes.commit.runs) == 1


async def test_other_tools_are_not_affected_by_the_git_switches(make_bench, fakes):
    bench = make_bench(POLICY_GIT_ALLOW_PULL="false", POLICY_GIT_ALLOW_COMMIT="false")
    assert not (await bench.call("fake_echo")).is_error


@pytest.mark.parametrize(
    ("regex", "message", "allowed"),
    [
        ("", "anything at all", True),
        ("^(feat|fix|docs)(\\(.+\\))?: ", "feat(api): add x", True),
        ("^(feat|fix|docs)(\\(.+\\))?: ", "fix: y", True),
        ("^(feat|fix|docs)(\\(.+\\))?: ", "added stuff", False),
        ("^(feat|fix|docs)(\\(.+\\))?: ", "wip\nfeat: hidden on line 2", False),
        ("JIRA-\\d+", "fix the bug (JIRA-123)", True),  # re.search: anywhere
        ("JIRA-\\d+", "fix the bug", False),
        ("\\A[A-Z][^\\n]{0,49}\\Z", "Short summary", True),
        ("\\A[A-Z][^\\n]{0,49}\\Z", "Short summary\n\nwith a body", False),
    ],
)
async def test_the_commit_message_rule(make_bench, fakes, regex, message, allowed):
    bench = make_bench(POLICY_GIT_COMMIT_REGEX=regex)
    result = await bench.call("fake_commit", message=message)
    assert result.is_error is not allowed, result.text
    if not allowed:
        assert f"POLICY_GIT_COMMIT_REGEX={regex!r}" in result.text
        assert repr(message) in result.text


async def test_a_commit_without_a_message_fails_the_message_rule(make_bench, fakes):
    bench = make_bench(POLICY_GIT_COMMIT_REGEX="^feat")
    result = await bench.call("fake_commit")
    assert result.is_error and "gives no message" in result.text
    assert fakes.commit.runs == []


async def test_the_message_rule_applies_only_to_commits(make_bench, fakes):
    bench = make_bench(POLICY_GIT_COMMIT_REGEX="^feat", POLICY_GIT_ALLOW_PUSH="true")
    assert not (await bench.call("fake_push")).is_error


async def test_a_long_message_is_shown_cut(make_bench, fakes):
    bench = make_bench(POLICY_GIT_COMMIT_REGEX="^feat")
    result = await bench.call("fake_commit", message="x" * 5000)
    assert result.is_error and len(result.text) < 1000 and "..." in result.text


@pytest.mark.parametrize("regex", ["(unclosed", "*star", "[z-a]"])
def test_an_invalid_commit_regex_is_a_config_error_at_startup(make_bench, regex):
    with pytest.raises(ConfigError, match=r"POLICY_GIT_COMMIT_REGEX .* is not a valid regular"):
        make_bench(POLICY_GIT_COMMIT_REGEX=regex)
