"""``MEMORY_EXTRACTION_MODE=model``: the model's add/update/delete, and the heuristic
fallback when its answer is unusable."""

from __future__ import annotations

import json

from lynkr_core import UpstreamError, anthropic


def answer(text: str) -> anthropic.MessageResponse:
    return anthropic.decode_response(json.dumps({
        "id": "msg", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1}}).encode())


async def test_the_model_adds_updates_and_deletes(memory_factory):
    asked: list[str] = []
    replies = iter([
        {"operations": [{"op": "add", "type": "preference", "content": "The user prefers Python for data work."},
                        {"op": "none"}]},
        {"operations": [{"op": "update", "id": 1, "type": "preference", "content": "The user prefers Rust for data work."},
                        {"op": "delete", "id": 999}]},
        {"operations": [{"op": "delete", "id": 2}]},
    ])

    async def model(request: anthropic.MessagesRequest, purpose: str) -> anthropic.MessageResponse:
        assert purpose == "memory"
        asked.append(request.messages[0].content)
        return answer("Here you go:\n" + json.dumps(next(replies)))

    memory = await memory_factory(model=model, MEMORY_EXTRACTION_MODE="model")
    await memory.tell("python is what I like for data stuff")
    assert await memory.recall("data work") == ["The user prefers Python for data work."]
    await memory.tell("hmm, rust for data stuff from now on")
    assert "[1] (preference) The user prefers Python for data work." in asked[1]
    assert await memory.recall("data work") == ["The user prefers Rust for data work."]
    await memory.tell("forget what I said about data work")
    assert await memory.recall("data work") == []
    assert memory.store().stats().active == 0


async def test_an_unusable_answer_falls_back_to_the_heuristics(memory_factory):
    failures = iter([lambda: answer("I think the user is nice."), lambda: (_ for _ in ()).throw(UpstreamError(500, "api_error", "down"))])

    async def model(request, purpose):
        return next(failures)()

    memory = await memory_factory(model=model, MEMORY_EXTRACTION_MODE="model")
    await memory.tell("I prefer Python for data processing.")
    await memory.tell("We decided to use PostgreSQL for the database.")
    assert memory.memory.model_failures == 2
    assert memory.store().stats().by_type == {"decision": 1, "preference": 1}
