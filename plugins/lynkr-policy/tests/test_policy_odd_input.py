"""Whatever a tool declares, the policy answers (a refusal, a permit or nothing) and never raises."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lynkr_core import Denial, Permit, ToolCall, ToolEffects

paths = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            ".env",
            "./.env",
            "sub//.env",
            "../x",
            "/etc/passwd",
            "~",
            "a\x00b",
            "\ud800",
            "//",
            ".",
            "",
            "src/**",
            "[",
            "*",
        ]
    ),
)
values = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.booleans(),
    paths,
    st.binary(max_size=10),
    st.lists(st.one_of(paths, st.integers(), st.none(), st.binary(max_size=5)), max_size=4),
    st.frozensets(st.sampled_from(["git.push", "git.pull", "git.commit", "shell.run", "x"])),
)


@dataclass
class OddEffects:
    """Effects as a careless tool might declare them."""

    reads: object
    writes: object
    bytes_written: object
    actions: object


@dataclass
class OddArgs:
    message: object


@settings(
    database=None,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(reads=values, writes=values, size=values, actions=values, message=values, name=values)
async def test_odd_declarations_never_make_the_policy_raise(
    make_bench, fakes, reads, writes, size, actions, message, name
):
    bench = make_bench(
        POLICY_GIT_COMMIT_REGEX="^feat",
        POLICY_FILE_ALLOWED_PATHS="src/**",
        POLICY_ALLOWED_TOOLS="fake_echo",
        POLICY_GIT_REQUIRE_TESTS="true",
    )
    policy = bench.policies.get("lynkr-policy")
    call = ToolCall(
        id="t",
        name=name,
        args=OddArgs(message),
        effects=OddEffects(reads, writes, size, actions),
        tool=fakes.echo,
    )
    verdict = await policy.check_tool(call, bench.context)
    assert verdict is None or isinstance(verdict, Denial | Permit)


async def test_a_call_with_no_effects_or_args_at_all_gets_an_answer(make_bench, fakes):
    bench = make_bench()
    policy = bench.policies.get("lynkr-policy")
    call = ToolCall(id="t", name="fake_echo", args=None, effects=None, tool=fakes.echo)
    assert await policy.check_tool(call, bench.context) is None


async def test_a_negative_or_fractional_byte_count_is_not_a_way_around_the_cap(make_bench, fakes):
    bench = make_bench(POLICY_MAX_BYTES_WRITTEN="10")
    policy = bench.policies.get("lynkr-policy")
    bench.context.ledger.bytes_written = 10
    for size, denied in [(-5, False), (0.5, True), (float("nan"), False)]:
        call = ToolCall(
            id="t",
            name="fake_write",
            args=None,
            effects=ToolEffects(writes=("a.txt",), bytes_written=size),  # type: ignore[arg-type]
            tool=fakes.write,
        )
        verdict = await policy.check_tool(call, bench.context)
        assert isinstance(verdict, Denial) is denied, size
