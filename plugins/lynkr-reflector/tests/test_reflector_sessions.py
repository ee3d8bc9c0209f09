"""Claude Code sessions fed turn by turn: which hints the reflector learns, with which
evidence, and what it refuses to count."""

from __future__ import annotations

import copy

from lynkr_reflector.config import load_settings, workspace_of
from lynkr_reflector.reflector import Reflector

from lynkr_core import ToolCallRecord

A = "3f2a91c0-6d1e-4b7a-9c52-1e8f0a7d4b21"  # debug discount, then docs
B = "77bd01e2-2c4f-4f0e-8a63-5b9d3e6c1f08"  # debug dates, corrected
C = "c41e9a77-0b3d-4e25-b8f1-9a2c6d0e5f13"  # refactor, tests, corrected

RECOVERY = "recovery:pytest|command not found->uv run pytest"
VERIFY = "verify:uv run pytest"
TEST_FIRST = "workflow:debug:test-before-edit"


def counts(feeder) -> dict[str, tuple[int, int]]:
    return {key: (hint.supports, hint.contradicts) for key, hint in feeder.hints().items()}


async def test_three_sessions_teach_hints_with_their_evidence(feeder_factory, claude_code):
    feeder = await feeder_factory()
    for session in claude_code.sessions():
        await feeder.play(session)

    active = {hint.key for hint in feeder.reflector.hints}
    assert active == {RECOVERY, VERIFY, TEST_FIRST}
    # pytest was not on the PATH in two sessions; uv run pytest worked both times
    assert feeder.evidence(RECOVERY) == [(A, 1, True), (B, 1, True)]
    assert feeder.hints()[RECOVERY].text == "If `pytest` fails (command not found), run `uv run pytest` instead"
    # running the failing test first went with a fix in A, and in B until the user corrected it
    assert feeder.evidence(TEST_FIRST) == [(A, 1, True), (B, 1, True), (B, 1, False)]
    assert feeder.hints()[TEST_FIRST].text == "For debug tasks, run the failing test before editing"
    # the passing test runs after edits, two of them in tasks the user then corrected
    assert counts(feeder)[VERIFY] == (6, 2)
    assert (B, 1, False) in feeder.evidence(VERIFY) and (C, 2, False) in feeder.evidence(VERIFY)


async def test_one_event_makes_no_active_hint(feeder_factory, claude_code):
    feeder = await feeder_factory()
    await feeder.play(claude_code.load("session_debug_discount"))

    learnt = counts(feeder)
    assert learnt[RECOVERY] == learnt[VERIFY] == learnt[TEST_FIRST] == (1, 0)
    assert learnt["sequence:debug:test>search>read>edit>test"] == (1, 0)
    assert feeder.reflector.hints == ()  # nothing seen twice yet


async def test_turns_of_one_session_are_separate_episodes(feeder_factory, claude_code):
    feeder = await feeder_factory()
    await feeder.play(claude_code.load("session_refactor_tests_corrected"))

    learnt = counts(feeder)
    assert learnt["recovery:Edit|old_string matches several places->unique"] == (1, 0)
    assert learnt["workflow:refactor:search-first"] == (1, 0)
    assert learnt["retry:uv run pytest"] == (1, 0)  # the failing run repeated unchanged
    assert learnt["corrected:tests/test_exporter.py"] == (1, 0)  # "Revert the change to the fixture"
    # tests passed after the edits of turns 1, 2 and 3; the user corrected turn 2
    assert feeder.evidence(VERIFY) == [(C, 1, True), (C, 2, True), (C, 2, False), (C, 3, True)]
    assert [hint.key for hint in feeder.reflector.hints] == [VERIFY]


async def test_two_turns_of_one_session_are_two_episodes(feeder_factory, claude_code):
    feeder = await feeder_factory()
    session = claude_code.load("session_debug_discount")
    # the same debugging again as a later turn of the same session
    again = copy.deepcopy(session)
    turn_one = again["messages"][:session["messages"].index(next(
        m for m in session["messages"][2:] if m["role"] == "user" and m["content"][0]["type"] == "text"))]
    tail = [m for m in turn_one if m["role"] != "system"]
    tail[0] = {"role": "user", "content": [{"type": "text", "text": "The discount test fails again after the merge, fix it please."}]}
    again["messages"] = session["messages"] + [{"role": "assistant", "content": session["final"]["content"]}] + tail
    await feeder.play(again)

    assert feeder.evidence(RECOVERY) == [(A, 1, True), (A, 3, True)]
    assert RECOVERY in {hint.key for hint in feeder.reflector.hints}


async def test_sending_the_history_again_counts_nothing_twice(feeder_factory, lynkr_env, claude_code):
    feeder = await feeder_factory()
    session = claude_code.load("session_debug_dates_corrected")
    await feeder.play(session)
    learnt = counts(feeder)
    episodes = feeder.reflector._open().episodes(feeder.reflector.workspace)

    for call in claude_code.calls(session):  # the client retries every request
        await feeder.send(call, B)
    last = claude_code.calls(session)[-1]
    for _ in range(3):
        await feeder.send(last, B)
    assert counts(feeder) == learnt

    # a restarted gateway finds the cursor in the database
    await feeder.reflector.close()
    restarted = await feeder_factory()
    await restarted.play(session)
    assert counts(restarted) == learnt
    assert restarted.reflector._open().episodes(restarted.reflector.workspace) == episodes


async def test_contradictions_lower_a_hint_and_enough_prune_it(feeder_factory, claude_code):
    feeder = await feeder_factory()
    for session in claude_code.sessions():
        await feeder.play(session)
    assert counts(feeder)[TEST_FIRST] == (2, 1)

    # the same debugging, but the tests still fail at the end: the habit did not help
    failing = claude_code.load("session_debug_discount")
    last_run = max(i for i, m in enumerate(failing["messages"])
                   if m["role"] == "user" and m["content"][0]["type"] == "tool_result"
                   and "4 passed" in m["content"][0]["content"])
    failing["messages"][last_run]["content"][0].update(
        content="Exit code 1\n...F\nFAILED tests/test_totals.py::test_rounding_half_up\n1 failed, 3 passed in 0.07s",
        is_error=True)
    failing["messages"] = failing["messages"][: last_run + 1]
    failing["final"] = {"content": [{"type": "text", "text": "One rounding test still fails."}], "stop_reason": "end_turn"}

    await feeder.play(failing, session_id="0d5c3b8e-1111-4c2a-9e0f-000000000001")
    assert counts(feeder)[TEST_FIRST] == (2, 2)  # lowered: no longer active
    assert TEST_FIRST not in {hint.key for hint in feeder.reflector.hints}
    assert TEST_FIRST in feeder.hints()

    await feeder.play(failing, session_id="0d5c3b8e-1111-4c2a-9e0f-000000000002")
    assert TEST_FIRST not in feeder.hints()  # weight -1 < REFLECTOR_PRUNE_BELOW (0): pruned
    evidence_left = feeder.reflector._open().db.execute(
        "SELECT count(*) FROM evidence e LEFT JOIN hints h ON h.id = e.hint_id WHERE h.id IS NULL").fetchone()[0]
    assert evidence_left == 0


async def test_prune_threshold_is_a_setting(feeder_factory, claude_code):
    feeder = await feeder_factory(REFLECTOR_PRUNE_BELOW="-5")
    session = claude_code.load("session_debug_dates_corrected")
    await feeder.play(session)
    await feeder.play(session, session_id="9e1a0000-0000-4000-8000-00000000000b")
    # each play: supported at the close, contradicted by "No, that's wrong"
    assert counts(feeder)["sequence:debug:test>read>edit>test"] == (2, 2)
    assert feeder.evidence("corrected:src/invoicer/dates.py") == [
        (B, 1, True), (B, 2, False),
        ("9e1a0000-0000-4000-8000-00000000000b", 1, True), ("9e1a0000-0000-4000-8000-00000000000b", 2, False),
    ]


async def test_a_sub_agent_conversation_keeps_its_own_cursor(feeder_factory, claude_code):
    feeder = await feeder_factory()
    main = claude_code.load("session_debug_discount")
    sub = claude_code.load("session_debug_dates_corrected")
    sub["cwd"] = main["cwd"]
    main_calls, sub_calls = claude_code.calls(main), claude_code.calls(sub)
    # the sub-agent's requests carry the parent's session id and interleave with it
    for index in range(max(len(main_calls), len(sub_calls))):
        if index < len(main_calls):
            await feeder.send(main_calls[index], A)
        if index < len(sub_calls):
            await feeder.send(sub_calls[index], A)

    assert feeder.evidence(RECOVERY) == [(A, 1, True), (A, 1, True)]  # one per conversation
    threads = {e.thread for e in feeder.reflector._open().evidence(feeder.hints()[RECOVERY].id)}
    assert len(threads) == 2
    assert RECOVERY in {hint.key for hint in feeder.reflector.hints}


async def test_a_rewound_conversation_starts_over_without_counting_twice(feeder_factory, claude_code):
    feeder = await feeder_factory()
    session = claude_code.load("session_debug_discount")
    all_calls = claude_code.calls(session)
    for call in all_calls:
        await feeder.send(call, A)
    learnt = counts(feeder)
    # the user rewinds to the second prompt and asks something else (Esc Esc in the CLI)
    docs_call = next(call for call in all_calls if "document the rounding" in str(call.body["messages"][-1]))
    rewound = copy.deepcopy(docs_call)
    rewound.body["messages"][-1]["content"][-1]["text"] = "Also add a test for a 100% discount."
    rewound.answer = {"content": [{"type": "text", "text": "Added."}], "stop_reason": "end_turn"}
    await feeder.send(rewound, A)
    assert counts(feeder) == learnt
    turns = [(e.turn, e.kind) for e in feeder.reflector._open().episodes(feeder.reflector.workspace)]
    assert turns == [(1, "debug"), (2, "docs"), (3, "test")]  # the new prompt is a new episode


async def test_lynkr_s_own_tool_calls_count_in_server_mode(feeder_factory, claude_code):
    feeder = await feeder_factory()
    session = claude_code.load("session_debug_discount")
    first = claude_code.calls(session)[0]
    prompt_only = copy.deepcopy(first)
    answer = {"type": "text", "text": "Fixed: the discount now applies before tax; the tests pass."}
    prompt_only.answer = {"content": [answer], "stop_reason": "end_turn"}
    loop = [
        ToolCallRecord(id="t1", name="workspace_test_run", input={"paths": ["tests/test_totals.py"]},
                       result="FAILED tests/test_totals.py::test_discount_is_applied_before_tax\n1 failed, 3 passed",
                       is_error=True),
        ToolCallRecord(id="t2", name="workspace_search", input={"pattern": "discount"}, result="src/invoicer/totals.py:21"),
        ToolCallRecord(id="t3", name="workspace_read", input={"path": "src/invoicer/totals.py"}, result="..."),
        ToolCallRecord(id="t4", name="workspace_edit", input={"path": "src/invoicer/totals.py", "old_string": "a",
                                                              "new_string": "b"}, result="edited"),
        ToolCallRecord(id="t5", name="workspace_test_run", input={"paths": ["tests/test_totals.py"]},
                       result="4 passed in 0.05s"),
    ]
    for session_id in (A, B):
        await feeder.send(prompt_only, session_id, tool_calls=loop)

    assert feeder.evidence("verify:workspace_test_run") == [(A, 1, True), (B, 1, True)]
    assert feeder.evidence(TEST_FIRST) == [(A, 1, True), (B, 1, True)]
    assert counts(feeder)["sequence:debug:test>search>read>edit>test"] == (2, 0)
    episode = feeder.reflector._open().episodes(feeder.reflector.workspace)[0]
    assert episode.actions[0] == "test workspace_test_run FAILED (test failures)"
    assert episode.steps == 1 and episode.tests == "passed"


async def test_what_is_not_an_agent_turn_is_left_alone(feeder_factory, claude_code):
    feeder = await feeder_factory()
    first = claude_code.calls(claude_code.load("session_debug_discount"))[0]
    await feeder.send(first, None)  # no session id
    title = copy.deepcopy(first)
    title.body["tools"] = []  # the CLI's title request declares no tools
    await feeder.send(title, A)
    failed = copy.deepcopy(first)
    await feeder.send(failed, B, error=RuntimeError("upstream down"))

    assert feeder.reflector.processed == 1  # only the failed one, which has a history to read
    assert feeder.hints() == {}


async def test_disabled_registers_nothing(lynkr_env):
    import lynkr_reflector

    from lynkr_core import Settings

    registered: list[object] = []
    lynkr_reflector.lynkr_register_preparers(registered.append, Settings({**lynkr_env, "REFLECTOR_ENABLED": "false"}))
    assert registered == []
    lynkr_reflector.lynkr_register_preparers(registered.append, Settings(lynkr_env))
    assert [type(item) for item in registered] == [Reflector]
    settings = Settings(lynkr_env)
    assert registered[0].workspace == workspace_of(settings) == lynkr_env["WORKSPACE_ROOT"]
    assert load_settings(settings).min_evidence == 2


async def test_a_correction_while_the_task_runs_makes_it_a_bad_episode(feeder_factory, claude_code):
    feeder = await feeder_factory()
    session = claude_code.load("session_debug_discount")
    read_result = next(m for m in session["messages"] if m["role"] == "user"
                       and m["content"][0]["type"] == "tool_result" and "CENT = " in m["content"][0]["content"])
    read_result["content"].append({"type": "text", "text": "No, don't change the rounding, only the discount."})
    await feeder.play(session)

    # the tests passed, but the user had to step in: the habits of that task count against
    assert TEST_FIRST not in feeder.hints()  # a contradiction never creates a hint
    assert feeder.evidence(VERIFY) == [(A, 1, True)]  # the test command still checked the change
    episode = feeder.reflector._open().episodes(feeder.reflector.workspace)[0]
    assert (episode.outcome, episode.tests) == ("bad", "passed")
    assert episode.corrected == "No, don't change the rounding, only the discount."
