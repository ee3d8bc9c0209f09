"""A provider for upstreams that speak OpenAI Chat Completions.

Provider plugins (Databricks, Azure OpenAI, OpenRouter, llama.cpp, any
OpenAI-compatible server) subclass ``OpenAIChatProvider`` and say where to
send a request, how to authenticate and what their upstream accepts; the
translation both ways, streaming included, is done here with
``lynkr_core.translate``. A provider with its own wire format close to this
one (Ollama's native API) overrides ``encode_body``, ``parse_completion`` and
``chunks``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import aiohttp
import msgspec

from lynkr_core.context import RequestContext
from lynkr_core.contracts import HealthCheck, Provider
from lynkr_core.errors import ContextOverflow, LynkrError, PromptTooLong, UpstreamError
from lynkr_core.thinking_key import thinking_key
from lynkr_core.tokens import approximate_input_tokens, estimate_input_tokens
from lynkr_core.translate import (
    StreamTranslator,
    TargetOptions,
    Translated,
    extractor_factory,
    from_openai,
    translate_request,
    translate_stream,
)
from lynkr_core.translate.limits import target_context_window
from lynkr_core.translate.overflow import find_overflow_in_body
from lynkr_core.translate.pieces import ToolTextFactory
from lynkr_core.translate.response import upstream_error
from lynkr_core.translate.think_tags import ThinkTagMode
from lynkr_core.translate.thinking import ThinkingSigner
from lynkr_core.translate.tool_names import ToolNames
from lynkr_core.upstream import error_from_exception, error_from_response
from lynkr_core.wire import anthropic, openai
from lynkr_core.wire.sse import SSEParser

JSON = "application/json"



@functools.lru_cache(maxsize=256)
def _signer(key: bytes, provider: str, model: str) -> ThinkingSigner:
    """One signer per key, provider and model (asked twice per request; the models are the
    few that settings name)."""
    return ThinkingSigner(key, provider=provider, model=model)

class OpenAIChatProvider(Provider):
    """Sends translated requests to a Chat Completions ``url``.

    ``model`` is the upstream model used when routing names none; ``options``
    says what the upstream accepts (its ``model`` field is ignored);
    ``timeout`` overrides the process-wide upstream timeouts; ``missing``
    maps settings that must be set to their variable names
    (``missing_settings``), so that lynkr says at start and on each request
    which to set; ``model_variable`` names the variable of ``model``, for the
    error a request gets when neither routing nor settings give a model.
    Subclasses list what ``lynkr init`` asks for in ``settings_help``.
    """

    #: The translation refuses Anthropic's server tools (a 400): the upstream cannot run them.
    runs_server_tools = False

    def __init__(
        self,
        name: str,
        *,
        url: str,
        api_key: str = "",
        model: str = "",
        options: TargetOptions | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
        missing: Mapping[str, str] | None = None,
        model_variable: str = "",
        ping_interval: float = 10.0,
    ) -> None:
        self.name = name
        self.url = url
        self._api_key = api_key
        self.model = model
        self.options = options or TargetOptions(model="")
        self.timeout = timeout
        self._missing = dict(missing or {})
        self.model_variable = model_variable
        self.ping_interval = ping_interval

    # ------------------------------------------------------- what subclasses say

    def endpoint(self, context: RequestContext) -> str:
        """The URL a chat request is posted to."""
        return self.url

    def auth_headers(self) -> dict[str, str]:
        """Authentication headers (``Authorization: Bearer`` by default)."""
        return {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def extra_headers(self, context: RequestContext) -> dict[str, str]:
        """Further headers the upstream wants (attribution, organisation...)."""
        return {}

    def target(self, request: anthropic.MessagesRequest, context: RequestContext) -> TargetOptions:
        """What the translation aims at: the routed model, else the configured one."""
        model = context.model or self.model
        if not model:
            hint = f": set {self.model_variable}" if self.model_variable else ""
            raise LynkrError(f"provider {self.name} has no model configured{hint}", status=500)
        context.model = model  # what the exchange log reports
        return self._options_for(self.options, model)

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def _options_for(options: TargetOptions, model: str) -> TargetOptions:
        """``options`` aimed at ``model``, kept: the models are the few that settings name."""
        return dataclasses.replace(options, model=model)

    def thinking_signer(self, context: RequestContext, target: TargetOptions) -> ThinkingSigner:
        """Signs the thinking of this provider's answers for ``target`` and checks the
        thinking that comes back (``translate.thinking``), with the key of ``LYNKR_HOME``."""
        return _signer(thinking_key(context.settings), self.name, target.model)

    def encode_body(self, translated: Translated) -> bytes:
        """The request body sent upstream."""
        return openai.encode_request(translated.request, translated.extra)

    def parse_completion(self, body: bytes) -> openai.ChatCompletion:
        """A complete (non-streaming) answer body."""
        return openai.decode_completion(body)

    async def chunks(
        self, response: aiohttp.ClientResponse
    ) -> AsyncIterator[list[openai.ChatCompletionChunk] | None]:
        """The stream's chunks, from ``data:`` lines up to ``[DONE]`` (comments skipped),
        a list per read of the upstream; ``None`` while it is silent (see ``pieces``)."""
        if not response.content_type.startswith("text/event-stream"):
            raise self.not_a_stream(response.content_type, await response.read())
        parser = SSEParser()
        async for piece in self.pieces(response):
            if piece is None:
                yield None
                continue
            batch = []
            for event in parser.feed(piece):
                data = event.data.strip()
                if data == "[DONE]":
                    if batch:
                        yield batch
                    return
                if not data:
                    continue
                try:
                    batch.append(self.decode_chunk(data))
                except UpstreamError:
                    if batch:  # the chunks before the bad one still go out
                        yield batch
                    raise
            if batch:
                yield batch

    async def pieces(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes | None]:
        """The answer's bytes as they arrive, and ``None`` each ``ping_interval`` seconds
        of silence (a ping for the client). A timed-out ``readany`` consumes nothing, so
        waiting again loses no data; no task or timer is made per chunk beyond the
        timeout's own handle. aiohttp's read timeout (``sock_read``) is a
        ``TimeoutError`` too: that one is raised, the upstream has stalled."""
        reader = response.content
        interval = self.ping_interval if self.ping_interval > 0 else None
        while True:
            try:
                async with asyncio.timeout(interval) as ping_due:
                    piece = await reader.readany()
            except TimeoutError:
                if not ping_due.expired():
                    raise
                yield None
                continue
            if not piece:
                return
            yield piece

    def decode_chunk(self, data: str) -> openai.ChatCompletionChunk:
        """One ``data:`` of the stream; ``UpstreamError`` when it cannot be read."""
        try:
            return openai.decode_chunk(data)
        except msgspec.MsgspecError as exc:
            raise UpstreamError(f"upstream sent an unreadable stream chunk: {exc}") from exc

    def error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        """An HTTP error answer as the client's error; a ``ContextOverflow`` when it says
        the prompt does not fit the model's context window (never retried)."""
        error = error_from_response(status, body, headers)
        overflow = find_overflow_in_body(body) if 400 <= status < 600 else None
        if overflow is None:
            return error
        return ContextOverflow(error.message, tokens=overflow.tokens, maximum=overflow.maximum)

    # ------------------------------------------------------------------ calls

    async def complete(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> anthropic.MessageResponse:
        """Translate, post, translate the whole answer back."""
        self._require_configured()
        target = self.target(request, context)
        try:
            translated = await self._translate(request, target, context, stream=False)
            data = await self._post(translated, context)
            return self.message_from(
                data,
                model=request.model,
                stop_sequences=_stop_sequences(request),
                tool_text=self._tool_text(request, translated),
                tool_names=translated.tool_names,
                signer=self.thinking_signer(context, target),
                think_tags=target.think_tags,
            )
        except ContextOverflow as exc:
            raise await self.prompt_too_long(exc, request, target) from exc

    def message_from(
        self,
        data: bytes,
        *,
        model: str,
        stop_sequences: Sequence[str] = (),
        tool_text: ToolTextFactory | None = None,
        tool_names: ToolNames | None = None,
        signer: ThinkingSigner | None = None,
        think_tags: ThinkTagMode = "off",
    ) -> anthropic.MessageResponse:
        """A complete answer body as a Messages API message; ``UpstreamError`` when it
        cannot be read. ``tool_names``: the client's names of renamed tools; ``signer``
        signs its thinking blocks; ``think_tags``: see ``TargetOptions.think_tags``."""
        try:
            completion = self.parse_completion(data)
        except msgspec.MsgspecError as exc:
            raise UpstreamError(f"upstream sent an unreadable answer: {exc}") from exc
        return from_openai(
            completion, model=model, stop_sequences=stop_sequences, tool_text=tool_text, tool_names=tool_names,
            signer=signer, think_tags=think_tags,
        )

    async def stream(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> AsyncIterator[bytes]:
        """Translate, post, and turn the upstream's chunks into Messages API events as they come."""
        self._require_configured()
        target = self.target(request, context)
        frames = self._stream(request, target, context)
        try:
            async for frame in frames:
                yield frame
        except ContextOverflow as exc:
            raise await self.prompt_too_long(exc, request, target) from exc
        finally:
            await frames.aclose()

    async def _stream(
        self, request: anthropic.MessagesRequest, target: TargetOptions, context: RequestContext
    ) -> AsyncIterator[bytes]:
        translated = await self._translate(request, target, context, stream=True)
        url = self.endpoint(context)
        try:
            async with context.http.post(
                url, data=self.encode_body(translated), headers=self._headers(context), **self._timeout()
            ) as response:
                if response.status >= 400:
                    raise self.error(response.status, await response.read(), response.headers)
                translator = StreamTranslator(
                    model=request.model,
                    stop_sequences=_stop_sequences(request),
                    tool_text=self._tool_text(request, translated),
                    tool_names=translated.tool_names,
                    signer=self.thinking_signer(context, target),
                    think_tags=target.think_tags,
                )
                async for frame in translate_stream(self.chunks(response), translator):
                    yield frame
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_exception(exc, url) from exc

    async def list_models(self, context: RequestContext) -> list[anthropic.ModelInfo]:
        """The configured model."""
        if not self.model:
            return []
        return [anthropic.ModelInfo(id=self.model, display_name=f"{self.model} ({self.name})")]

    async def check(self, context: RequestContext) -> HealthCheck:
        """Reachable and the key accepted: a one-token completion."""
        if self._missing:
            return HealthCheck(ok=False, detail="missing settings: " + ", ".join(self.missing_settings()))
        probe = anthropic.decode_request(
            b'{"model":"probe","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}'
        )
        try:
            await self.complete(probe, context)
        except LynkrError as exc:
            return HealthCheck(ok=False, detail=f"{self.url}: HTTP {exc.status} {exc.message}")
        return HealthCheck(ok=True, detail=f"{self.url}: answered")

    def describe(self) -> Mapping[str, str]:
        """Endpoint and model (never the key)."""
        return {"url": self.url, "model": self.model or "(none)"}

    def missing_settings(self) -> list[str]:
        """The variables of the required settings that are unset (``missing``)."""
        return list(self._missing.values())

    # --------------------------------------------------------------- helpers

    def not_a_stream(self, content_type: str, body: bytes) -> UpstreamError:
        """A 200 answer to a streaming request that is not a stream: often an error body."""
        try:
            error = self.parse_completion(body).error
        except msgspec.MsgspecError:
            error = None
        if error is not None and error.message:
            return upstream_error(error)
        text = body[:300].decode("utf-8", errors="replace")
        return UpstreamError(
            f"upstream answered a streaming request with {content_type or 'no content type'}: {text}"
        )

    def _require_configured(self) -> None:
        """The core says so first (``missing_settings``); this guards direct calls."""
        if self._missing:
            needed = ", ".join(self.missing_settings())
            raise LynkrError(f"provider {self.name} is not configured: set {needed}", status=500)

    async def prompt_too_long(
        self, overflow: ContextOverflow, request: anthropic.MessagesRequest, target: TargetOptions
    ) -> PromptTooLong:
        """Anthropic's prompt-too-long error for an upstream's ``overflow``: its numbers
        where it gave them, else the request's tokens counted here and the model's
        known context window."""
        if isinstance(overflow, PromptTooLong):
            return overflow
        tokens = overflow.tokens
        if tokens is None:
            tokens = await asyncio.to_thread(estimate_input_tokens, request)
        maximum = overflow.maximum or target_context_window(target) or max(tokens - 1, 0)
        return PromptTooLong(tokens, maximum)

    async def input_tokens(self, request: anthropic.MessagesRequest, target: TargetOptions) -> int | None:
        """The prompt's size when ``target``'s context window is known, ``PromptTooLong``
        when it does not fit. A request well inside the window is measured by its bytes
        (microseconds); one near or over it with the tokenizer (``lynkr_core.tokens``)."""
        window = target_context_window(target)
        if window is None:
            return None
        tokens = approximate_input_tokens(request)
        if tokens * 2 >= window:
            tokens = await asyncio.to_thread(estimate_input_tokens, request)
            if tokens >= window:
                raise PromptTooLong(tokens, window)
        return tokens

    async def _translate(
        self,
        request: anthropic.MessagesRequest,
        target: TargetOptions,
        context: RequestContext,
        *,
        stream: bool,
    ) -> Translated:
        input_tokens = await self.input_tokens(request, target)
        dropped: list[str] = []
        translated = translate_request(
            request, target, dropped.append, stream=stream, input_tokens=input_tokens,
            session_id=context.session_id, signer=self.thinking_signer(context, target),
        )
        if dropped:
            context.log.warning("translation_dropped", provider=self.name, dropped=sorted(set(dropped)))
        return translated

    async def _post(self, translated: Translated, context: RequestContext) -> bytes:
        """Post a non-streaming request; the whole answer body, or its error."""
        url = self.endpoint(context)
        try:
            async with context.http.post(
                url, data=self.encode_body(translated), headers=self._headers(context), **self._timeout()
            ) as response:
                data = await response.read()
                if response.status >= 400:
                    raise self.error(response.status, data, response.headers)
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_exception(exc, url) from exc

    def _headers(self, context: RequestContext) -> dict[str, str]:
        return {
            "content-type": JSON,
            "accept": "application/json, text/event-stream",
            **self.auth_headers(),
            **self.extra_headers(context),
        }

    def _timeout(self) -> dict[str, Any]:
        """``timeout=`` for a request when this provider has its own, else nothing."""
        return {} if self.timeout is None else {"timeout": self.timeout}

    def _tool_text(self, request: anthropic.MessagesRequest, translated: Translated) -> ToolTextFactory | None:
        if not self.options.text_tool_calls or not translated.request.tools:
            return None
        tools = {tool.function.name: tool.function.parameters for tool in translated.request.tools}
        return extractor_factory(tools)


def _stop_sequences(request: anthropic.MessagesRequest) -> list[str]:
    return list(request.stop_sequences) if isinstance(request.stop_sequences, list) else []
