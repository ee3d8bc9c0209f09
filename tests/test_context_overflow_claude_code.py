"""The real Claude Code CLI compacts its conversation when an OpenAI-format upstream's
context window is full, and completes the task.

The scripted upstream has a small window (counted as it counts tokens). The CLI reads
two files; with the second, the conversation no longer fits. The upstream
says so in OpenAI's words, as an HTTP 400 or inside a 200 stream; or lynkr knows the
window (``OPENAI_MODEL_LIMITS``) and answers before sending. Either way the CLI must get
Anthropic's ``prompt is too long`` error, compact (its summary request is answered with
a summary), retry, and finish.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_core import RequestContext, RequestPreparer
from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.scripted import count_input_tokens
from lynkr_core.testing.server import make_test_app, serving_in_thread
from lynkr_core.tokens import estimate_input_tokens
from lynkr_core.wire.anthropic import MessagesRequest

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-operator-upstream"
LINES = 600
#: How Claude Code's compaction request starts its instructions.
COMPACT_MARK = "Respond with TEXT ONLY"


def _window(first: int, after_one_file: int) -> int:
    """A window that holds the conversation with one file read, not with two: Claude Code's
    prompt differs between versions, so it is learnt from the first two requests."""
    return after_one_file + (after_one_file - first) // 2


class SmallWindowModel:
    """A model that reads ``files`` one per turn, has a small context window (when
    ``enforce``, counted as the scripted servers count), summarises when asked, then
    finishes. Records what it was asked."""

    def __init__(self, files: list[Path], *, enforce: bool, in_stream: bool) -> None:
        self.files = files
        self.enforce = enforce
        self.in_stream = in_stream
        self.compacted = False
        self.sizes: list[int] = []
        self.turns: list[tuple[str, int]] = []

    def __call__(self, body: dict[str, Any]) -> ChatReply | ErrorReply:
        tokens = count_input_tokens(body)
        kind, reply = self._answer(body, tokens)
        self.turns.append((kind, tokens))
        return reply

    def _answer(self, body: dict[str, Any], tokens: int) -> tuple[str, ChatReply | ErrorReply]:
        if len(self.sizes) < 2:
            self.sizes.append(tokens)
        window = _window(*self.sizes) if len(self.sizes) == 2 else None
        if self.enforce and window is not None and tokens > window:
            message = (
                f"This model's maximum context length is {window} tokens. However, your messages "
                f"resulted in {tokens} tokens. Please reduce the length of the messages."
            )
            return "overflow", ErrorReply(400, message, code="context_length_exceeded", in_stream=self.in_stream)
        if COMPACT_MARK in json.dumps(body["messages"][-1]):
            self.compacted = True
            return "compact", ChatReply("<summary>The user asked to read a.txt and b.txt; both were read.</summary>")
        if self.compacted:
            return "final", ChatReply("Both files are read: 600 lines each.")
        read = sum(message["role"] == "tool" for message in body["messages"])
        if read < len(self.files):
            return "read", ChatReply("Reading.", tool_calls=[ToolCallSpec("Read", {"file_path": str(self.files[read])})])
        return "final without compaction", ChatReply("Both files are read, no compaction.")


class LearnedWindow(RequestPreparer):
    """Gives the ``openai`` provider the same kind of small window, in lynkr's own count
    (``lynkr_core.tokens``), as a ``*_MODEL_LIMITS`` setting would: lynkr must then refuse
    the request that does not fit before sending it."""

    name = "learned-window"

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.app: Any = None

    async def prepare(self, request: MessagesRequest, context: RequestContext) -> None:
        """Learn the window from the first two model calls of the conversation."""
        if context.purpose != "messages" or not request.tools or len(self.sizes) >= 2:
            return
        self.sizes.append(estimate_input_tokens(request))
        if len(self.sizes) == 2:
            provider = self.app.state.pipeline.providers.get("openai")
            provider.options = dataclasses.replace(provider.options, context_window=_window(*self.sizes))


@pytest.mark.parametrize("overflow", ["http_400", "in_stream", "known_window"])
def test_claude_code_compacts_when_the_window_is_full_and_finishes(tmp_path, overflow):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    files = []
    for name in ("a.txt", "b.txt"):
        path = workdir / name
        path.write_text("\n".join(f"{name} line {i}: the quick brown fox jumps over the lazy dog" for i in range(LINES)))
        files.append(path)
    model = SmallWindowModel(files, enforce=overflow != "known_window", in_stream=overflow == "in_stream")
    learned = LearnedWindow()
    upstream = FakeOpenAI(model, dialect="openai", api_key=UPSTREAM_KEY)
    base = upstream.run_in_thread()
    try:
        app = learned.app = make_test_app(
            {
                "MODEL_PROVIDER": "openai",
                "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
                "OPENAI_API_KEY": UPSTREAM_KEY,
                "OPENAI_MODEL": "small-window-model",
                "LYNKR_API_KEYS": CLIENT_KEY,
                "TOOL_EXECUTION_MODE": "client",
            },
            plugins=[("learned-window", inline_plugin(preparers=[learned]))] if overflow == "known_window" else [],
        )
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "Read a.txt, then b.txt, and summarise them.", api_key=CLIENT_KEY)
    finally:
        upstream.stop_thread()

    kinds = [kind for kind, _ in model.turns]
    assert result.returncode == 0, (kinds, result.stdout + result.stderr)
    assert "600 lines each" in result.stdout, model.turns
    assert "compact" in kinds and kinds[-1] == "final", model.turns
    if overflow == "known_window":
        assert "overflow" not in kinds  # lynkr answered before sending
        assert len(kinds) == 4  # read, read, compact, final: the request that did not fit was not sent
    else:
        assert kinds.count("overflow") == 1  # not retried
