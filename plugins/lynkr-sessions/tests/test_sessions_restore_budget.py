"""``SESSION_RESTORE_MAX_BYTES``: the oldest restored results are cut first, to a marker, in
steps that leave the restored prefix unchanged for many turns; and what is left of the
client's copy of an answer when it kept or dropped thinking blocks."""

from __future__ import annotations

import msgspec
from lynkr_sessions.hidden import HiddenResult, HiddenStep, HiddenTurns, fingerprint
from lynkr_sessions.restore import cut_marker, restore, tail_of

from lynkr_core import anthropic


def answer(n: int) -> list:
    return [anthropic.raw({"type": "text", "text": f"answer {n}"})]


def turns_for(n: int, position: int, size: int) -> HiddenTurns:
    call = anthropic.raw({"type": "tool_use", "id": f"toolu_{n}", "name": "read", "input": {}})
    step = HiddenStep(content=[call], results=[HiddenResult(tool_use_id=f"toolu_{n}", content="x" * size)])
    return HiddenTurns(position=position, fingerprint=fingerprint(answer(n)), blocks=1, drop_blocks=0,
                       drop_texts=0, steps=[step])


def history(turns: int) -> list[anthropic.Message]:
    messages = []
    for n in range(turns):
        messages += [anthropic.Message(role="user", content=f"q{n}"),
                     anthropic.Message(role="assistant", content=answer(n))]
    return [*messages, anthropic.Message(role="user", content="next")]


def restored_results(turns: int, max_bytes: int) -> list[str]:
    recorded = {2 * n + 1: [turns_for(n, 2 * n + 1, 400)] for n in range(turns)}
    messages, count = restore(history(turns), lambda position: recorded.get(position, []), max_bytes)
    assert count == turns
    return [msgspec.json.decode(block)["content"]
            for message in messages if message.role == "user" and isinstance(message.content, list)
            for block in message.content]


def test_the_oldest_results_are_cut_to_half_the_bound_when_it_is_passed():
    whole, cut = "x" * 400, cut_marker(400)
    assert restored_results(2, 1000) == [whole, whole]  # 800: fits
    assert restored_results(3, 1000) == [cut, cut, whole]  # 1200: cut until 400 <= 500
    assert restored_results(4, 1000) == [cut, cut, whole, whole]  # 800: the prefix did not change
    assert restored_results(5, 1000) == [cut, cut, cut, cut, whole]
    assert restored_results(5, 0) == [whole] * 5  # 0: no bound
    assert "400 bytes" in cut and "SESSION_RESTORE_MAX_BYTES" in cut


def test_a_restored_history_is_the_same_bytes_every_time():
    recorded = {1: [turns_for(0, 1, 10)]}
    first, _ = restore(history(2), lambda p: recorded.get(p, []), 1000)
    second, _ = restore(history(2), lambda p: recorded.get(p, []), 1000)
    assert anthropic.encode(first) == anthropic.encode(second)
    assert [m.role for m in first] == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]


def test_what_is_left_of_the_clients_copy():
    thinking = anthropic.raw({"type": "thinking", "thinking": "t", "signature": "s"})
    early, late = anthropic.raw({"type": "text", "text": "Reading."}), anthropic.raw({"type": "text", "text": "Done."})
    turns = HiddenTurns(position=1, fingerprint=fingerprint([early, late]), blocks=4, drop_blocks=2,
                        drop_texts=1, steps=[])
    # the client kept every block: the hidden step's two go
    assert tail_of([thinking, early, thinking, late], turns) == [thinking, late]
    # it dropped the thinking blocks: cut after the hidden step's text
    assert tail_of([early, late], turns) == [late]
    # nothing of the last step left: nothing to restore around
    assert tail_of([thinking, early], turns) is None
    assert tail_of("Done.", turns) is None
