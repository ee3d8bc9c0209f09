"""The reflector in a running gateway: loaded from its entry point, fed by the anthropic SDK
streaming each turn of the Claude Code sessions with their session header through
lynkr-provider-anthropic to a scripted upstream; its hints offered back to the model."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic as anthropic_sdk
import pytest
from lynkr_reflector.inject import HEADER
from lynkr_reflector.model_mode import SYSTEM as REFLECTOR_SYSTEM

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

RECOVERY_TEXT = "If `pytest` fails (command not found), run `uv run pytest` instead"
VERIFY_TEXT = "After editing, run `uv run pytest` to check the change"
TEST_FIRST_TEXT = "For debug tasks, run the failing test before editing"


class Upstream:
    """Answers each Claude Code request with the session's next assistant message (by the
    session id in ``metadata`` and the number of messages), and the reflector's own
    requests with ``reflector(body)``."""

    def __init__(self, sessions: list[dict[str, Any]], calls: Callable[..., Any]) -> None:
        self.answers = {
            (session["session_id"], len(call.body["messages"])): call.answer
            for session in sessions for call in calls(session)
        }
        self.reflector: Callable[[dict[str, Any]], Any] = lambda body: Reply.text("{}")
        self.reflector_bodies: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        if body.get("system") == REFLECTOR_SYSTEM:
            self.reflector_bodies.append(body)
            return self.reflector(body)
        session_id = json.loads(body["metadata"]["user_id"])["session_id"]
        answer = self.answers[(session_id, len(body["messages"]))]
        return Reply(answer["content"], stop_reason=answer["stop_reason"])


@contextlib.asynccontextmanager
async def gateway(fake: FakeAnthropic, lynkr_env: dict[str, str], **env: str) -> AsyncIterator[anthropic_sdk.AsyncAnthropic]:
    """lynkr with only the Anthropic provider and the reflector, from their entry points,
    in front of ``fake``; the server stops (and the reflector drains) on the way out."""
    app = make_test_app({
        **lynkr_env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-reflector",
        "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": "upstream-key", "LYNKR_UPSTREAM_RETRIES": "0", **env,
    })
    async with serving(app) as url:
        async with anthropic_sdk.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
            yield sdk


async def send(sdk: anthropic_sdk.AsyncAnthropic, body: dict[str, Any], session_id: str) -> Any:
    """``body`` streamed as the CLI streams it, with its session header."""
    fields = dict(body)
    fields.pop("stream", None)
    extra = {name: fields.pop(name) for name in ("context_management", "output_config") if name in fields}
    async with sdk.messages.stream(**fields, extra_body=extra,
                                   extra_headers={"x-claude-code-session-id": session_id}) as stream:
        return await stream.get_final_message()


async def play(sdk: anthropic_sdk.AsyncAnthropic, sessions: list[dict[str, Any]], calls: Callable[..., Any]) -> None:
    for session in sessions:
        for call in calls(session):
            await send(sdk, call.body, session["session_id"])


def report(lynkr_command: Callable[..., tuple[int, str]]) -> dict[str, Any]:
    """``lynkr reflect report --json``, as the user runs it."""
    code, out = lynkr_command("reflect", "report", "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture
def all_sessions(claude_code) -> list[dict[str, Any]]:
    return list(claude_code.sessions())


async def test_sessions_through_the_gateway_teach_the_playbook(lynkr_env, claude_code, all_sessions, lynkr_command):
    upstream = Upstream(all_sessions, claude_code.calls)
    async with FakeAnthropic(upstream) as fake, gateway(fake, lynkr_env) as sdk:
        await play(sdk, all_sessions, claude_code.calls)
        sent = [request.json for request in fake.requests if request.path == "/v1/messages"]

    # injection is off: the upstream got the client's system prompt as it was
    client_bodies = [call.body for session in all_sessions for call in claude_code.calls(session)]
    assert [body["system"] for body in sent] == [body["system"] for body in client_bodies]
    hints = {hint["text"]: hint for hint in report(lynkr_command)["hints"]}
    active = {text for text, hint in hints.items() if hint["active"]}
    assert active == {RECOVERY_TEXT, VERIFY_TEXT, TEST_FIRST_TEXT}
    evidence = [(e["session"][:8], e["turn"], e["support"]) for e in hints[RECOVERY_TEXT]["evidence"]]
    assert evidence == [("3f2a91c0", 1, True), ("77bd01e2", 1, True)]
    assert (hints[TEST_FIRST_TEXT]["supports"], hints[TEST_FIRST_TEXT]["contradicts"]) == (2, 1)


async def test_injected_hints_are_byte_stable_and_fit_the_task(lynkr_env, claude_code, all_sessions):
    upstream = Upstream(all_sessions, claude_code.calls)
    async with FakeAnthropic(upstream) as fake:
        async with gateway(fake, lynkr_env) as sdk:
            await play(sdk, all_sessions, claude_code.calls)
        debug = claude_code.calls(all_sessions[1])[3]  # mid-task of "test_parse_due_date fails"
        refactor = claude_code.calls(all_sessions[2])[1]  # mid-task of "Refactor the CSV exporter"
        async with gateway(fake, lynkr_env, REFLECTOR_INJECT="true") as sdk:
            first = len(fake.requests)
            for call, session in ((debug, all_sessions[1]), (debug, all_sessions[1]), (refactor, all_sessions[2])):
                await send(sdk, call.body, session["session_id"])
            twice_a, twice_b, other = fake.requests[first:]
        async with gateway(fake, lynkr_env, REFLECTOR_INJECT="true", REFLECTOR_MAX_HINTS="1") as sdk:
            await send(sdk, debug.body, all_sessions[1]["session_id"])
            one = fake.requests[-1]

    assert twice_a.body == twice_b.body  # byte for byte: the prompt cache keeps hitting
    system = twice_a.json["system"]
    assert system[:-1] == debug.body["system"]  # the client's blocks, cache_control and all
    assert "cache_control" not in system[-1]
    assert system[-1]["text"] == "\n".join([HEADER, f"- {TEST_FIRST_TEXT}", f"- {VERIFY_TEXT}", f"- {RECOVERY_TEXT}"])
    # a refactor gets the workspace-wide hints, not the debugging one
    assert other.json["system"][-1]["text"] == "\n".join([HEADER, f"- {VERIFY_TEXT}", f"- {RECOVERY_TEXT}"])
    assert one.json["system"][-1]["text"] == "\n".join([HEADER, f"- {VERIFY_TEXT}"])  # the strongest


async def test_model_mode_applies_the_delta_where_the_evidence_is(lynkr_env, claude_code, all_sessions, lynkr_command):
    sessions = all_sessions[:2]
    upstream = Upstream(sessions, claude_code.calls)

    def delta(body: dict[str, Any]) -> Reply:
        text = body["messages"][0]["content"]
        ids = {line.split("]")[0].strip(" ["): line for line in text.splitlines() if line.startswith("  [")}
        recovery = next((int(i) for i, line in ids.items() if "uv run pytest` instead" in line), 999)
        proposal = {
            "add": [
                {"text": "Run tests with `uv run pytest`: pytest is not on the PATH here", "turn": 1},
                {"text": "A lesson about an episode nobody saw", "turn": 42},
            ],
            "support": [{"id": recovery, "turn": 1}, {"id": 4242, "turn": 1}],
            "contradict": [{"id": recovery, "turn": 1}],  # the heuristics saw it work
        }
        return Reply.text("Here is the delta:\n```json\n" + json.dumps(proposal) + "\n```")

    upstream.reflector = delta
    async with FakeAnthropic(upstream) as fake, gateway(fake, lynkr_env, REFLECTOR_MODE="model") as sdk:
        await play(sdk, sessions, claude_code.calls)

    assert upstream.reflector_bodies, "the model was never asked"
    asked = upstream.reflector_bodies[0]["messages"][0]["content"]
    assert "turn 1 (debug task)" in asked and "FAILED (command not found)" in asked
    hints = {hint["text"]: hint for hint in report(lynkr_command)["hints"]}
    added = hints["Run tests with `uv run pytest`: pytest is not on the PATH here"]
    assert added["kind"] == "model" and added["task_type"] == "debug" and added["active"]
    assert [(e["session"][:8], e["turn"]) for e in added["evidence"]] == [("3f2a91c0", 1), ("77bd01e2", 1)]
    assert "A lesson about an episode nobody saw" not in hints
    assert (hints[RECOVERY_TEXT]["supports"], hints[RECOVERY_TEXT]["contradicts"]) == (2, 0)


@pytest.mark.parametrize("answer", ["garbage", "error"])
async def test_model_mode_falls_back_to_the_heuristics(lynkr_env, claude_code, all_sessions, lynkr_command, answer):
    import structlog

    from lynkr_core.testing.fake_anthropic import ErrorReply

    sessions = all_sessions[:2]
    upstream = Upstream(sessions, claude_code.calls)
    upstream.reflector = (lambda body: Reply.text("The agent did well, keep going!")) if answer == "garbage" \
        else (lambda body: ErrorReply(500, message="upstream melted"))
    with structlog.testing.capture_logs() as logs:
        async with FakeAnthropic(upstream) as fake, gateway(fake, lynkr_env, REFLECTOR_MODE="model") as sdk:
            await play(sdk, sessions, claude_code.calls)

    assert upstream.reflector_bodies
    fallbacks = [entry for entry in logs if entry["event"] == "reflector_model_unusable"]
    assert len(fallbacks) == len(upstream.reflector_bodies)
    assert fallbacks[0]["fallback"] == "heuristic delta only"
    hints = {hint["text"]: hint for hint in report(lynkr_command)["hints"]}
    assert all(hint["kind"] != "model" for hint in hints.values())
    assert {text for text, hint in hints.items() if hint["active"]} == {RECOVERY_TEXT, VERIFY_TEXT, TEST_FIRST_TEXT}
