"""Plugin objects that give an exchange record one entry of each kind, for tests of what
reads the record (the record itself, metrics, traces): a lynkr tool that runs
(``lynkr_upper``), one a policy denies (``lynkr_whisper``, denied by ``no-whispers`` with
``WHISPER_DENIAL``), and an interceptor that answers the model ``canned`` itself, as a
cache would (``CannedAnswer``)::

    app = make_test_app(env, plugins=[recording_plugin(canned=True)])
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from lynkr_core import Denial, Interceptor, Policy, Tool, ToolEffects, anthropic
from lynkr_core.testing.plugins import inline_plugin

#: Why ``NoWhispers`` refuses ``lynkr_whisper``.
WHISPER_DENIAL = "whispering is not allowed"


class TextInput(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(description="text")]


class UpperTool(Tool):
    """``lynkr_upper``: the text upper-cased."""

    name = "lynkr_upper"
    description = "Upper-case the text."
    Input = TextInput

    def effects(self, args: Any) -> ToolEffects:
        return ToolEffects()

    async def run(self, args: Any, context: Any) -> str:
        return args.text.upper()


class WhisperTool(UpperTool):
    """``lynkr_whisper``: the text lower-cased (``NoWhispers`` never lets it run)."""

    name = "lynkr_whisper"
    description = "Lower-case the text."

    async def run(self, args: Any, context: Any) -> str:
        return args.text.lower()


class NoWhispers(Policy):
    """Denies every ``lynkr_whisper`` call."""

    name = "no-whispers"

    async def check_tool(self, call: Any, context: Any) -> Denial | None:
        return Denial(WHISPER_DENIAL) if call.name == "lynkr_whisper" else None


class CannedAnswer(Interceptor):
    """Answers the model ``canned`` itself ("from the cache", 3 tokens in, 2 out), as a
    cache would; every other model goes on upstream."""

    name = "canned"

    async def complete(self, request: Any, context: Any, call_next: Any) -> anthropic.MessageResponse:
        if request.model != "canned":
            return await call_next(request)
        context.steps[-1].answered_by = self.name
        return anthropic.decode_response(msgspec.json.encode({
            "id": "msg_c", "type": "message", "role": "assistant", "model": request.model,
            "content": [{"type": "text", "text": "from the cache"}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2}}))


def recording_plugin(*, canned: bool = False, **hooks: Any) -> tuple[str, Any]:
    """``("tools", plugin)``: the two tools and the policy (and ``CannedAnswer`` when
    ``canned``), with ``hooks`` as extra hook implementations."""
    return ("tools", inline_plugin(tools=[UpperTool(), WhisperTool()], policies=[NoWhispers()],
                                   interceptors=[CannedAnswer()] if canned else [], hooks=hooks or None))
