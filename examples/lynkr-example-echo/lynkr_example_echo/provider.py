"""The ``echo`` provider: answers with the last user message's text."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse

from lynkr_core import Provider, RequestContext, anthropic, events

TextBlock = anthropic.TextBlock


class EchoSettings(msgspec.Struct, kw_only=True):
    """The plugin's settings: a prefix for every answer."""

    prefix: str = ""


def info_endpoint(settings: EchoSettings):
    """A Starlette endpoint that shows ``settings``."""

    async def info(request: Request) -> JSONResponse:
        return JSONResponse({"provider": "echo", "prefix": settings.prefix})

    return info


class EchoProvider(Provider):
    """Echoes the text of the last user message, with an optional prefix."""

    name = "echo"

    def __init__(self, settings: EchoSettings) -> None:
        self.prefix = settings.prefix

    def _answer(self, request: anthropic.MessagesRequest) -> str:
        for message in reversed(request.messages):
            if message.role == "user":
                text = " ".join(b.text for b in message.blocks() if isinstance(b, TextBlock))
                return self.prefix + text
        return self.prefix

    def _message(self, request: anthropic.MessagesRequest, text: str) -> anthropic.MessageResponse:
        content = [anthropic.raw(TextBlock(text=text))] if text else []
        return anthropic.MessageResponse(
            id=f"msg_echo_{uuid.uuid4().hex[:20]}",
            model=request.model,
            content=content,
            stop_reason="end_turn",
            usage=anthropic.Usage(input_tokens=0, output_tokens=len(text.split())),
        )

    async def complete(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> anthropic.MessageResponse:
        """The whole echo at once."""
        return self._message(request, self._answer(request))

    async def stream(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> AsyncIterator[bytes]:
        """The echo as an event stream, one word per delta."""
        text = self._answer(request)
        start = self._message(request, text)
        start.content = []
        start.stop_reason = None
        yield events.event_frame(events.MessageStart(message=start))
        yield events.event_frame(
            events.ContentBlockStart(index=0, content_block=anthropic.raw(TextBlock(text="")))
        )
        words = text.split(" ")
        for position, word in enumerate(words):
            piece = word if position == len(words) - 1 else word + " "
            yield events.event_frame(events.ContentBlockDelta(index=0, delta=events.TextDelta(piece)))
        yield events.event_frame(events.ContentBlockStop(index=0))
        yield events.event_frame(
            events.MessageDelta(
                delta=events.MessageDeltaBody(stop_reason="end_turn"),
                usage=events.MessageDeltaUsage(output_tokens=len(text.split())),
            )
        )
        yield events.event_frame(events.MessageStop())

    async def list_models(self, context: RequestContext) -> list[anthropic.ModelInfo]:
        """One model, ``echo``."""
        return [anthropic.ModelInfo(id="echo", display_name="Echo")]
