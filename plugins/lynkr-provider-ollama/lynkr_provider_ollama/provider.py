"""The ``ollama`` provider: ``/api/chat`` with NDJSON streaming and tools."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import msgspec

from lynkr_core import (
    HealthCheck,
    OpenAIChatProvider,
    RequestContext,
    SettingHelp,
    Settings,
    TargetOptions,
    UpstreamError,
    anthropic,
    openai,
    provider_timeout,
    translate,
)
from lynkr_provider_ollama import native
from lynkr_provider_ollama.config import SETTINGS_HELP, OllamaSettings

#: After ``OLLAMA_MODEL_REASONING``: every model is asked to think (``think``); one that
#: cannot is remembered and asked no more (``cannot_think``).
THINKING_MODELS = (translate.ModelReasoning("*", effort=True),)

#: A line holds a whole tool call (a file's content, say): far above aiohttp's 128 KiB default.
MAX_LINE_BYTES = 64 * 1024 * 1024


class _Tags(msgspec.Struct):
    models: list[dict] = []


class OllamaProvider(OpenAIChatProvider):
    """Chat requests to Ollama's native API.

    Requests are translated to OpenAI chat Structs by the core and reshaped
    for ``/api/chat``; answer lines are reshaped into OpenAI chunks, so the
    core's stream translation does the rest. Small local models often print
    tool calls as text; those become real calls unless
    ``OLLAMA_TEXT_TOOL_CALLS=false``.
    """

    def __init__(self, settings: OllamaSettings, core: Settings) -> None:
        base = settings.endpoint.rstrip("/")
        super().__init__(
            "ollama",
            url=base + "/api/chat",
            model=settings.model,
            options=TargetOptions(
                model="",
                max_output_tokens=settings.max_output_tokens,
                context_window=settings.context_window or settings.num_ctx,
                model_limits=translate.parse_model_limits(settings.model_limits, "OLLAMA_MODEL_LIMITS"),
                reasoning="effort",
                model_reasoning=translate.parse_model_reasoning(settings.model_reasoning, "OLLAMA_MODEL_REASONING") + THINKING_MODELS,
                think_tags=settings.think_tags,
                stream_usage=False,
                parallel_tool_calls=False,
                text_tool_calls=settings.text_tool_calls,
            ),
            model_variable="OLLAMA_MODEL",
            timeout=provider_timeout(core, settings.timeout_ms),
            missing=None if base.strip() else {"endpoint": "OLLAMA_ENDPOINT"},
        )
        self.base = base
        self.settings = settings
        #: Models that answered "does not support thinking": ``think`` is not sent to them.
        self.cannot_think: set[str] = set()

    def settings_help(self) -> list[SettingHelp]:
        """What ``lynkr init`` asks for (``config.settings_help``)."""
        return list(SETTINGS_HELP)

    def encode_body(self, translated: translate.Translated) -> bytes:
        """The native ``/api/chat`` body."""
        body = native.chat_body(
            translated.request, keep_alive=self.settings.keep_alive, num_ctx=self.settings.num_ctx
        )
        if translated.request.model in self.cannot_think:
            body.pop("think", None)
        return msgspec.json.encode(body)

    async def complete(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> anthropic.MessageResponse:
        """The whole answer; asked again without ``think`` when the model cannot think."""
        try:
            return await super().complete(request, context)
        except UpstreamError as exc:
            if not self._learn_cannot_think(exc, request, context):
                raise
        return await super().complete(request, context)

    async def stream(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> AsyncIterator[bytes]:
        """The answer's events; asked again without ``think`` when the model cannot think
        (Ollama refuses that with a 400 before anything is streamed)."""
        frames = super().stream(request, context)
        try:
            try:
                first = await anext(frames)
            except UpstreamError as exc:
                if not self._learn_cannot_think(exc, request, context):
                    raise
                frames = super().stream(request, context)
                first = await anext(frames)
            yield first
            async for frame in frames:
                yield frame
        finally:
            await frames.aclose()

    def _learn_cannot_think(
        self, error: UpstreamError, request: anthropic.MessagesRequest, context: RequestContext
    ) -> bool:
        """Whether ``error`` is Ollama refusing ``think`` for a model not yet known to refuse
        it; if so, remember the model (Claude Code asks every model to think)."""
        if error.status != 400 or not error.message.endswith("does not support thinking"):
            return False
        model = self.target(request, context).model
        if model in self.cannot_think:
            return False
        self.cannot_think.add(model)
        context.log.info("thinking_unsupported", provider=self.name, model=model)
        return True

    def parse_completion(self, body: bytes) -> openai.ChatCompletion:
        """A non-streamed answer."""
        return native.completion(native.decode_line(body))

    async def chunks(
        self, response: aiohttp.ClientResponse
    ) -> AsyncIterator[openai.ChatCompletionChunk | None]:
        """NDJSON lines as OpenAI chunks, up to the ``done`` line; ``None`` while Ollama
        is silent (a ping for the client)."""
        converter = native.ChunkConverter()
        partial: list[bytes] = []  # a line still arriving, kept in pieces (no quadratic joins)
        pending = b""
        async for piece in self.pieces(response):
            if piece is None:
                yield None
                continue
            if b"\n" not in piece:
                partial.append(piece)
                if sum(map(len, partial)) > MAX_LINE_BYTES:
                    raise UpstreamError(f"ollama sent a line over {MAX_LINE_BYTES} bytes")
                continue
            *lines, pending = b"".join([*partial, piece]).split(b"\n")
            partial = [pending]
            for raw_line in lines:
                line = raw_line.strip()
                if not line:
                    continue
                parsed = native.decode_line(line)
                yield converter.chunk(parsed)
                if parsed.done:
                    return
        rest = b"".join(partial).strip()
        if rest:
            yield converter.chunk(native.decode_line(rest))

    def not_a_stream(self, content_type: str, body: bytes) -> UpstreamError:
        """Ollama streams NDJSON, never SSE."""
        return UpstreamError(f"ollama answered with {content_type}: {body[:300]!r}")

    async def list_models(self, context: RequestContext) -> list[anthropic.ModelInfo]:
        """The models Ollama has pulled (``/api/tags``)."""
        try:
            async with context.http.get(self.base + "/api/tags") as response:
                tags = msgspec.json.decode(await response.read(), type=_Tags)
        except (aiohttp.ClientError, TimeoutError, msgspec.MsgspecError) as exc:
            context.log.warning("list_models_failed", provider=self.name, error=str(exc))
            return await super().list_models(context)
        names = [str(m.get("name") or m.get("model")) for m in tags.models]
        return [anthropic.ModelInfo(id=name, display_name=f"{name} (ollama)") for name in names]

    async def check(self, context: RequestContext) -> HealthCheck:
        """Ollama answers, and has the configured model pulled."""
        if self._missing or not self.model:
            missing = [*self._missing.values(), *([] if self.model else ["OLLAMA_MODEL"])]
            return HealthCheck(ok=False, detail="missing settings: " + ", ".join(missing))
        try:
            async with context.http.get(self.base + "/api/tags") as response:
                if response.status != 200:
                    return HealthCheck(ok=False, detail=f"{self.base}/api/tags: HTTP {response.status}")
                tags = msgspec.json.decode(await response.read(), type=_Tags)
        except (aiohttp.ClientError, TimeoutError, msgspec.MsgspecError) as exc:
            return HealthCheck(ok=False, detail=f"{self.base}: {type(exc).__name__}: {exc}")
        names = {str(m.get("name") or m.get("model")) for m in tags.models}
        if self.model not in names and f"{self.model}:latest" not in names:
            return HealthCheck(
                ok=False, detail=f"model {self.model} is not pulled (run: ollama pull {self.model})"
            )
        return HealthCheck(ok=True, detail=f"{self.base}: {self.model} available")
