"""The spans lynkr exports after real requests through the real server, to a collector on
loopback: JSON, a stream with a failover and lynkr's tool calls, a caller's
``traceparent``; what is never exported; nothing at all while tracing is off."""

from __future__ import annotations

import os
import subprocess
import sys

import anthropic
import openai
from lynkr_otel import lynkr_register_observers

from lynkr_core import Settings
from lynkr_core.testing.exchange_parts import WHISPER_DENIAL, CannedAnswer, recording_plugin
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app

from .conftest import UPSTREAM_KEY, SpanSeen, tracing

PROMPT = "the secret plan is in the attic"
CLIENT_TOOL = {"name": "Read", "description": "client side read",
               "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}
SESSION = "5b0c8d9e-session-of-claude-code"


def tools_plugin():
    return recording_plugin()


def client(url, **headers):
    return anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0, default_headers=headers)


class Tree:
    """The exported spans of one trace, by parent."""

    def __init__(self, spans: list[SpanSeen]) -> None:
        self.spans = spans
        roots = [span for span in spans if span.kind == "server"]
        assert len(roots) == 1, [span.name for span in spans]
        self.root = roots[0]
        assert all(span.trace_id == self.root.trace_id for span in spans)

    def children(self, parent: SpanSeen) -> list[SpanSeen]:
        return sorted((span for span in self.spans if span.parent_id == parent.span_id),
                      key=lambda span: (span.start, span.name))

    def names(self, parent: SpanSeen) -> list[str]:
        return [span.name for span in self.children(parent)]


def assert_within(child: SpanSeen, parent: SpanSeen) -> None:
    assert parent.start <= child.start <= child.end <= parent.end, (child.name, parent.name)


def traces(spans: list[SpanSeen]) -> list[Tree]:
    by_trace: dict[str, list[SpanSeen]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    return sorted((Tree(group) for group in by_trace.values()), key=lambda tree: tree.root.start)


def assert_nothing_private(spans: list[SpanSeen]) -> None:
    """No message content, tool input or output, key or raw session id in any attribute."""
    for span in spans:
        text = repr(span.attributes) + span.status_message + repr(span.events)
        for private in (PROMPT, "attic", UPSTREAM_KEY, SESSION, "HELLO", WHISPER_DENIAL):
            assert private not in text, (span.name, private)


async def test_a_json_request_is_a_server_span_with_a_step_and_an_attempt(gateway, collector):
    fake = FakeAnthropic([Reply.text("plain json", model="claude-sonnet-4-6-20260101",
                                     usage={"input_tokens": 11, "output_tokens": 5,
                                            "cache_read_input_tokens": 7})])
    # a short batch delay: the spans are exported while lynkr runs, not only at shutdown
    async with gateway(fake, **tracing(collector, OTEL_BSP_SCHEDULE_DELAY="50",
                                       OTEL_SERVICE_NAME="gateway-under-test")) as url:
        async with client(url, **{"x-claude-code-session-id": SESSION}) as sdk:
            await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=50,
                                      messages=[{"role": "user", "content": PROMPT}])
        spans = await collector.until(lambda spans: len(spans) == 3)
        # the SDK was shown lynkr's OTEL_* settings while it was built, nothing is left behind
        assert not [name for name in os.environ if name.startswith("OTEL_")]

    assert set(collector.paths) == {"/v1/traces"}
    assert set(collector.content_types) == {"application/x-protobuf"}
    (tree,) = traces(spans)
    root = tree.root
    assert (root.name, root.parent_id) == ("POST /v1/messages", "")
    assert root.resource["service.name"] == "gateway-under-test"
    assert root.attributes["http.request.method"] == "POST"
    assert root.attributes["http.route"] == "/v1/messages"
    assert root.attributes["http.response.status_code"] == 200
    assert root.attributes["gen_ai.operation.name"] == "chat"
    assert root.attributes["gen_ai.request.model"] == "claude-sonnet-4-6"
    assert root.attributes["gen_ai.response.model"] == "claude-sonnet-4-6-20260101"
    assert root.attributes["gen_ai.usage.input_tokens"] == 11
    assert root.attributes["gen_ai.usage.output_tokens"] == 5
    assert root.attributes["gen_ai.usage.cache_read.input_tokens"] == 7
    assert root.attributes["lynkr.provider"] == "anthropic"
    assert root.attributes["lynkr.status"] == "200"
    assert root.attributes["lynkr.streamed"] is False
    assert len(root.attributes["gen_ai.conversation.id"]) == 16
    assert root.status == "unset"

    (step,) = tree.children(root)
    assert (step.name, step.kind, step.attributes["lynkr.step.index"]) == ("step 0", "internal", 0)
    (attempt,) = tree.children(step)
    assert (attempt.name, attempt.kind) == ("chat claude-sonnet-4-6", "client")
    assert attempt.attributes["gen_ai.provider.name"] == "anthropic"
    assert attempt.attributes["gen_ai.system"] == "anthropic"
    assert attempt.attributes["gen_ai.request.model"] == "claude-sonnet-4-6"
    assert attempt.attributes["gen_ai.response.model"] == "claude-sonnet-4-6-20260101"
    assert attempt.attributes["gen_ai.usage.output_tokens"] == 5
    assert attempt.attributes["lynkr.attempt.outcome"] == "ok"
    assert attempt.status == "unset"
    assert_within(step, root)
    assert_within(attempt, step)
    assert_nothing_private(spans)


async def test_a_stream_with_a_failover_and_tool_calls(gateway, collector):
    fake = FakeAnthropic([
        ErrorReply(529, message="overloaded right now"),
        Reply([{"type": "text", "text": "On it."},
               {"type": "tool_use", "id": "toolu_w", "name": "lynkr_whisper", "input": {"text": "Hi"}},
               {"type": "tool_use", "id": "toolu_u", "name": "lynkr_upper", "input": {"text": "hello"}}],
              usage={"input_tokens": 100, "output_tokens": 20}),
        Reply.text("HELLO", usage={"input_tokens": 150, "output_tokens": 7}),
    ])
    async with gateway(fake, tools_plugin(), FALLBACK_PROVIDER="anthropic:fallback-model",
                       **tracing(collector)) as url:
        async with client(url) as sdk, sdk.messages.stream(
            model="claude-sonnet-4-6", max_tokens=50, tools=[CLIENT_TOOL],
            messages=[{"role": "user", "content": PROMPT}],
        ) as stream:
            assert (await stream.get_final_message()).content[-1].text == "HELLO"
    # stopping lynkr flushed the batch processor: everything is there, nothing waits
    (tree,) = traces(collector.snapshot())
    root = tree.root
    assert root.attributes["lynkr.streamed"] is True
    assert root.attributes["lynkr.steps"] == 2
    assert root.attributes["gen_ai.usage.input_tokens"] == 250
    assert root.attributes["gen_ai.usage.output_tokens"] == 27
    assert root.attributes["lynkr.target"] == "anthropic"  # step 1 went to the first target again
    assert tree.names(root) == ["step 0", "step 1"]
    first, second = tree.children(root)
    assert second.start >= first.end

    # step 0: the 529, the failover (a sibling attempt), then lynkr's two tool calls
    failed, answered, *calls = tree.children(first)
    assert (failed.name, failed.kind) == ("chat claude-sonnet-4-6", "client")
    assert failed.status == "error"
    assert failed.status_message == "overloaded_error (529)"
    assert failed.attributes["error.type"] == "overloaded_error"
    assert failed.attributes["lynkr.attempt.outcome"] == "overloaded_error"
    assert failed.attributes["lynkr.attempt.index"] == 0
    assert (answered.name, answered.kind) == ("chat fallback-model", "client")
    assert answered.attributes["lynkr.target"] == "anthropic:fallback-model"
    assert answered.attributes["lynkr.attempt.index"] == 1
    assert answered.attributes["gen_ai.usage.input_tokens"] == 100
    assert [name for name, _ in answered.events] == ["first token"]
    assert answered.start <= answered.events[0][1] <= answered.end
    assert failed.end <= answered.start

    by_tool = {call.attributes["gen_ai.tool.name"]: call for call in calls}
    assert sorted(by_tool) == ["lynkr_upper", "lynkr_whisper"]
    upper, whisper = by_tool["lynkr_upper"], by_tool["lynkr_whisper"]
    assert (upper.name, upper.kind) == ("execute_tool lynkr_upper", "internal")
    assert upper.attributes["gen_ai.operation.name"] == "execute_tool"
    assert upper.attributes["gen_ai.tool.call.id"] == "toolu_u"
    assert upper.attributes["lynkr.tool.outcome"] == "ok"
    assert whisper.attributes["lynkr.tool.outcome"] == "denied"
    assert whisper.attributes["lynkr.tool.denied_by"] == "no-whispers"
    assert "error.type" not in whisper.attributes
    for call in calls:
        assert answered.end <= call.start
        assert_within(call, first)
    assert [name for name, _ in first.events] == ["model answered"]

    (last,) = tree.children(second)
    assert last.attributes["lynkr.attempt.outcome"] == "ok"
    assert last.attributes["gen_ai.usage.output_tokens"] == 7
    for span in tree.spans:
        if span is not root:
            assert_within(span, next(s for s in tree.spans if s.span_id == span.parent_id))
    assert_nothing_private(tree.spans)


async def test_the_callers_traceparent_makes_the_request_a_child_of_its_trace(gateway, collector):
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two")])
    async with gateway(fake, **tracing(collector)) as url:
        async with client(url, traceparent=f"00-{trace_id}-{parent_id}-01") as sdk:
            await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                      messages=[{"role": "user", "content": "hi"}])
        async with client(url, traceparent="00-not-a-trace-01") as sdk:
            await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                      messages=[{"role": "user", "content": "hi"}])
    joined, own = traces(collector.snapshot())
    assert (joined.root.trace_id, joined.root.parent_id) == (trace_id, parent_id)
    assert len(joined.spans) == 3
    # a malformed header is ignored: a trace of its own
    assert own.root.trace_id != trace_id
    assert own.root.parent_id == ""


async def test_an_openai_chat_completion_is_traced_under_its_own_route(gateway, collector):
    fake = FakeAnthropic([Reply.text("from chat completions", usage={"input_tokens": 4, "output_tokens": 3})])
    async with gateway(fake, **tracing(collector)) as url:
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0) as sdk:
            completion = await sdk.chat.completions.create(
                model="claude-sonnet-4-6", messages=[{"role": "user", "content": PROMPT}])
    assert completion.choices[0].message.content == "from chat completions"
    (tree,) = traces(collector.snapshot())
    assert tree.root.name == "POST /v1/chat/completions"
    assert tree.root.attributes["http.route"] == "/v1/chat/completions"
    assert tree.root.attributes["gen_ai.usage.output_tokens"] == 3
    assert tree.names(tree.root) == ["step 0"]
    assert_nothing_private(tree.spans)


async def test_a_step_an_interceptor_answered_has_no_attempt(gateway, collector):
    fake = FakeAnthropic([])
    async with gateway(fake, ("canned", inline_plugin(interceptors=[CannedAnswer()])), **tracing(collector)) as url:
        async with client(url) as sdk:
            await sdk.messages.create(model="canned", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    (tree,) = traces(collector.snapshot())
    assert tree.root.attributes["lynkr.provider"] == "canned"
    assert "lynkr.target" not in tree.root.attributes
    (step,) = tree.children(tree.root)
    assert step.attributes["lynkr.step.answered_by"] == "canned"
    assert step.attributes["gen_ai.usage.input_tokens"] == 3
    assert tree.children(step) == []
    assert fake.message_requests == []


async def test_an_upstream_error_marks_the_request_span(gateway, collector):
    fake = FakeAnthropic([ErrorReply(500, message="upstream broke")])
    async with gateway(fake, **tracing(collector)) as url:
        async with client(url) as sdk:
            try:
                await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                          messages=[{"role": "user", "content": "hi"}])
            except anthropic.APIStatusError as exc:
                status = exc.status_code
    (tree,) = traces(collector.snapshot())
    assert tree.root.attributes["http.response.status_code"] == status
    assert tree.root.attributes["error.type"] == "api_error"
    assert tree.root.status == "error"
    (step,) = tree.children(tree.root)
    assert step.status == "error"
    (attempt,) = tree.children(step)
    assert attempt.attributes["lynkr.attempt.status"] == 500
    assert "upstream broke" not in repr(tree.spans)


async def test_tracing_is_off_unless_enabled(gateway, collector):
    # the standard endpoint variable alone does not turn it on
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url}
    registered: list[object] = []
    lynkr_register_observers(register=registered.append, settings=Settings(env))
    assert registered == []
    lynkr_register_observers(register=registered.append,
                             settings=Settings({**env, "LYNKR_OTEL_ENABLED": "true", "OTEL_SDK_DISABLED": "true"}))
    assert registered == []

    app = make_test_app({**env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-otel",
                         "MODEL_PROVIDER": "anthropic"})
    assert app.state.plugin_manager.statuses["lynkr-otel"].enabled
    observers = app.state.pipeline.observers
    assert observers.observers == ()
    assert observers.active is False  # lynkr keeps nothing for observers

    fake = FakeAnthropic([Reply.text("untraced")])
    async with gateway(fake, **env) as url:
        async with client(url) as sdk:
            await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                      messages=[{"role": "user", "content": "hi"}])
    assert collector.posts == 0


def test_while_off_the_sdk_is_not_even_imported():
    """Every ``lynkr`` command (the status line Claude Code runs on each refresh) loads the
    plugin: while tracing is off it costs no SDK import."""
    script = (
        "import sys\n"
        "from lynkr_core import Settings\n"
        "import lynkr_otel\n"
        "registered = []\n"
        "lynkr_otel.lynkr_register_observers(register=registered.append, settings=Settings({}))\n"
        "assert registered == []\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', 'opentelemetry.exporter'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

