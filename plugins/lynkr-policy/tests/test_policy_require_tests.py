"""POLICY_GIT_REQUIRE_TESTS: the test gate before commits and pushes, and its tree cache."""

from __future__ import annotations

import os

from lynkr_policy.fingerprint import RecentTrees, tree_fingerprint

from lynkr_core import ToolCall

GATED = {"POLICY_GIT_REQUIRE_TESTS": "true", "POLICY_GIT_ALLOW_PUSH": "true"}


async def test_tests_are_not_run_unless_required(make_bench, fakes):
    bench = make_bench(POLICY_GIT_ALLOW_PUSH="true")
    assert not (await bench.call("fake_commit", message="x")).is_error
    assert not (await bench.call("fake_push")).is_error
    assert fakes.tests.runs == 0


async def test_a_commit_runs_after_the_tests_pass(make_bench, fakes, tmp_path):
    (tmp_path / "app.py").write_text("print(1)\n")
    bench = make_bench(**GATED)
    result = await bench.call("fake_commit", message="feat: x")
    assert not result.is_error, result.text
    assert fakes.tests.runs == 1
    assert len(fakes.commit.runs) == 1


async def test_a_commit_is_refused_when_the_tests_fail_with_the_end_of_their_output(
    make_bench, fakes
):
    fakes.tests.passing = False
    bench = make_bench(**GATED)
    result = await bench.call("fake_commit", message="feat: x")
    assert result.is_error
    assert "POLICY_GIT_REQUIRE_TESTS" in result.text and "workspace_test_run failed" in result.text
    assert "failure line 30" in result.text and "failure line 11" in result.text
    assert "failure line 10\n" not in result.text and "earlier output cut" in result.text
    assert fakes.commit.runs == []
    assert fakes.tests.runs == 1


async def test_a_failure_is_not_remembered(make_bench, fakes):
    fakes.tests.passing = False
    bench = make_bench(**GATED)
    assert (await bench.call("fake_commit", message="x")).is_error
    fakes.tests.passing = True
    assert not (await bench.call("fake_commit", message="x")).is_error
    assert fakes.tests.runs == 2


async def test_a_push_is_gated_too(make_bench, fakes):
    fakes.tests.passing = False
    bench = make_bench(**GATED)
    assert (await bench.call("fake_push")).is_error
    assert fakes.push.runs == []


async def test_a_commit_then_a_push_on_the_same_tree_runs_the_tests_once(
    make_bench, fakes, tmp_path
):
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / ".git").mkdir()
    bench = make_bench(**GATED)
    assert not (await bench.call("fake_commit", message="x")).is_error
    (tmp_path / ".git" / "COMMIT_EDITMSG").write_text("x")  # a commit changes only .git
    assert not (await bench.call("fake_push")).is_error
    assert fakes.tests.runs == 1
    assert len(fakes.push.runs) == 1


async def test_the_cache_outlives_the_request(make_bench, fakes, tmp_path):
    bench = make_bench(**GATED)
    assert not (await bench.call("fake_commit", message="x")).is_error
    bench.new_request()
    assert not (await bench.call("fake_push")).is_error
    assert fakes.tests.runs == 1


async def test_touching_a_file_runs_the_tests_again(make_bench, fakes, tmp_path):
    app = tmp_path / "app.py"
    app.write_text("print(1)\n")
    bench = make_bench(**GATED)
    assert not (await bench.call("fake_commit", message="x")).is_error
    stat = app.stat()
    os.utime(app, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert not (await bench.call("fake_push")).is_error
    assert fakes.tests.runs == 2


async def test_a_new_file_written_by_a_tool_runs_the_tests_again(make_bench, fakes):
    bench = make_bench(**GATED)
    assert not (await bench.call("fake_commit", message="x")).is_error
    assert not (await bench.call("fake_write", path="src/new.py", content="x = 1\n")).is_error
    assert not (await bench.call("fake_commit", message="y")).is_error
    assert fakes.tests.runs == 2


async def test_files_the_test_run_writes_do_not_force_a_second_run(make_bench, fakes, tmp_path):
    original_run = fakes.tests.run

    async def run_writing_a_cache(args, context):
        (tmp_path / ".pytest_cache").mkdir(exist_ok=True)
        (tmp_path / ".pytest_cache" / "lastfailed").write_text(str(fakes.tests.runs))
        return await original_run(args, context)

    fakes.tests.run = run_writing_a_cache
    bench = make_bench(**GATED)
    assert not (await bench.call("fake_commit", message="x")).is_error
    assert not (await bench.call("fake_push")).is_error
    assert fakes.tests.runs == 1


async def test_a_missing_test_tool_is_a_clear_denial(make_bench, fakes):
    bench = make_bench(without=("workspace_test_run",), **GATED)
    result = await bench.call("fake_commit", message="x")
    assert result.is_error
    assert "no installed plugin provides that tool" in result.text
    assert "POLICY_GIT_REQUIRE_TESTS=false" in result.text
    assert fakes.commit.runs == []


async def test_a_context_that_cannot_invoke_tools_is_a_clear_denial(make_bench, fakes):
    bench = make_bench(**GATED)
    bench.context.invoke = None
    policy = bench.policies.get("lynkr-policy")
    call = ToolCall(
        id="t",
        name="fake_commit",
        args=fakes.commit.Input(message="x"),
        effects=fakes.commit.effects(None),
        tool=fakes.commit,
    )
    verdict = await policy.check_tool(call, bench.context)
    assert verdict is not None and "cannot run the test tool" in verdict.reason
    assert fakes.tests.runs == 0


async def test_other_refusals_come_before_running_the_tests(make_bench, fakes):
    bench = make_bench(POLICY_GIT_REQUIRE_TESTS="true", POLICY_GIT_COMMIT_REGEX="^feat")
    assert (await bench.call("fake_commit", message="wip")).is_error
    assert (await bench.call("fake_push")).is_error  # push is off
    assert fakes.tests.runs == 0


def test_the_fingerprint_sees_edits_creations_deletions_and_renames_but_not_git(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    seen = {tree_fingerprint(tmp_path)}
    assert tree_fingerprint(tmp_path) in seen  # stable
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "sub" / ".git").write_text("gitdir: elsewhere\n")
    assert tree_fingerprint(tmp_path) in seen
    steps = [
        lambda: (tmp_path / "sub" / "b.txt").write_text("bb"),
        lambda: (tmp_path / "sub" / "c.txt").write_text(""),
        lambda: (tmp_path / "sub" / "c.txt").rename(tmp_path / "sub" / "d.txt"),
        lambda: (tmp_path / "a.txt").unlink(),
        lambda: os.symlink("sub", tmp_path / "link"),
    ]
    for step in steps:
        step()
        fingerprint = tree_fingerprint(tmp_path)
        assert fingerprint not in seen
        seen.add(fingerprint)


def test_recent_trees_keeps_only_the_last_few():
    recent = RecentTrees(size=3)
    for name in "abcd":
        recent.add(name)
    assert "a" not in recent and all(name in recent for name in "bcd")
    recent.add("b")  # b becomes the most recent; c is now the oldest
    recent.add("e")
    assert "c" not in recent and all(name in recent for name in "bde")
    assert len(recent) == 3
