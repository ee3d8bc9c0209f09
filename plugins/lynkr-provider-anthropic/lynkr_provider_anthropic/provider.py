"""A provider for upstreams that speak the Anthropic Messages API themselves.

Requests go on as the client sent them (unknown fields and block types
included), except thinking blocks Anthropic cannot verify (``without_foreign_thinking``);
streams come back frame by frame as they arrive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

import aiohttp
import msgspec

from lynkr_core import (
    HealthCheck,
    LynkrError,
    Provider,
    RequestContext,
    SettingHelp,
    SSEParser,
    UpstreamError,
    anthropic,
    error_from_exception,
    error_from_response,
    without_foreign_thinking,
)
from lynkr_provider_anthropic.passthrough import error_in_body, passable

JSON = "application/json"
#: Client headers passed on unchanged (the API version and beta features it asked for).
PASSED_HEADERS = ("anthropic-beta",)


class AnthropicFormatProvider(Provider):
    """Sends Anthropic requests to ``url`` with the key in ``key_headers``."""

    def __init__(
        self,
        name: str,
        *,
        url: str,
        api_key: str,
        version: str,
        key_headers: tuple[str, ...],
        model_override: str = "",
        missing: Mapping[str, str] | None = None,
        settings_help: Sequence[SettingHelp] = (),
    ) -> None:
        self.name = name
        self.url = url
        self._api_key = api_key
        self.version = version
        self.key_headers = key_headers
        self.model_override = model_override
        self._missing = dict(missing or {})
        self._settings_help = list(settings_help)

    # ----------------------------------------------------------------- calls

    async def complete(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> anthropic.MessageResponse:
        """Post the request and decode the whole message."""
        body = self._body(request, context)
        try:
            async with context.http.post(self.url, data=body, headers=self._headers(context)) as response:
                data = await response.read()
                if response.status >= 400:
                    raise error_from_response(response.status, data, response.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_exception(exc, self.url) from exc
        try:
            return anthropic.decode_response(data)
        except msgspec.MsgspecError as exc:
            raise error_in_body(data) or UpstreamError(
                f"upstream sent an unreadable message: {exc}", status=502
            ) from exc

    async def stream(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> AsyncIterator[bytes]:
        """Post the request and pass the event stream on, whole frames as they arrive."""
        body = self._body(request, context)
        try:
            async with context.http.post(self.url, data=body, headers=self._headers(context)) as response:
                if response.status >= 400:
                    raise error_from_response(
                        response.status, await response.read(), response.headers
                    )
                if not response.content_type.startswith("text/event-stream"):
                    raise _not_a_stream(response.content_type, await response.read())
                parser = SSEParser()
                started = finished = False
                async for chunk in response.content.iter_any():
                    events = parser.feed(chunk)
                    if not events:
                        continue
                    frames, failure = passable(events, started=started)
                    if frames:
                        started = True
                        finished = finished or any(e.event in ("message_stop", "error") for e in events)
                        yield frames
                    if failure is not None:
                        raise failure
                if not finished:
                    raise UpstreamError("upstream stream ended before message_stop", status=502)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_exception(exc, self.url) from exc

    async def count_tokens(
        self, request: anthropic.MessagesRequest, context: RequestContext
    ) -> int | None:
        """Ask the upstream's ``count_tokens``; ``None`` (core estimate) if it has none, or
        if its 200 answer carries no ``input_tokens`` (Azure's Foundry answers so)."""
        url = self._require_url().removesuffix("/v1/messages") + "/v1/messages/count_tokens"
        counted = without_foreign_thinking(request).replace(
            max_tokens=msgspec.UNSET, stream=msgspec.UNSET, model=self._model(request, context)
        )
        try:
            async with context.http.post(
                url, data=anthropic.encode_request(counted), headers=self._headers(context)
            ) as response:
                data = await response.read()
                if response.status in (404, 405):
                    return None
                if response.status >= 400:
                    raise error_from_response(response.status, data, response.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_exception(exc, url) from exc
        try:
            return msgspec.json.decode(data, type=anthropic.TokenCount).input_tokens
        except msgspec.MsgspecError as exc:
            context.log.warning("count_tokens_unreadable", provider=self.name, error=str(exc), body=data[:200])
            return None

    async def list_models(self, context: RequestContext) -> list[anthropic.ModelInfo]:
        """The upstream's model list, or the configured model when it has none."""
        url = self._require_url().removesuffix("/v1/messages") + "/v1/models"
        try:
            async with context.http.get(url, headers=self._headers(context)) as response:
                if response.status == 200:
                    return msgspec.json.decode(await response.read(), type=anthropic.ModelList).data
        except (aiohttp.ClientError, TimeoutError, msgspec.MsgspecError) as exc:
            context.log.warning("list_models_failed", provider=self.name, error=str(exc))
        if self.model_override:
            return [anthropic.ModelInfo(id=self.model_override, display_name=self.model_override)]
        return []

    async def check(self, context: RequestContext) -> HealthCheck:
        """Reachable and the key accepted: a ``count_tokens`` call on a one-word request."""
        if self._missing:
            return HealthCheck(ok=False, detail="missing settings: " + ", ".join(self.missing_settings()))
        probe = anthropic.decode_request(
            b'{"model":"' + (self.model_override or "claude-haiku-4-5").encode()
            + b'","messages":[{"role":"user","content":"hi"}]}'
        )
        try:
            counted = await self.count_tokens(probe, context)
        except UpstreamError as exc:
            return HealthCheck(ok=False, detail=f"{self.url}: HTTP {exc.status} {exc.message}")
        detail = f"{self.url}: reachable" + ("" if counted is None else ", key accepted")
        return HealthCheck(ok=True, detail=detail)

    def describe(self) -> Mapping[str, str]:
        """Endpoint, API version and model override (never the key)."""
        return {"url": self.url, "version": self.version, "model": self.model_override or "(client's)"}

    def missing_settings(self) -> list[str]:
        """The variables of the required settings that are unset (``missing``)."""
        return list(self._missing.values())

    def settings_help(self) -> list[SettingHelp]:
        """The settings given at construction (``config.settings_help``)."""
        return list(self._settings_help)

    # --------------------------------------------------------------- helpers

    def _require_url(self) -> str:
        if self._missing:  # the core says so first (``missing_settings``); this guards direct calls
            needed = ", ".join(self.missing_settings())
            raise LynkrError(f"provider {self.name} is not configured: set {needed}", status=500)
        return self.url

    def _model(self, request: anthropic.MessagesRequest, context: RequestContext) -> str:
        """The routed model, else ``MODEL_DEFAULT``-style override, else the client's."""
        return context.model or self.model_override or request.model

    def _body(self, request: anthropic.MessagesRequest, context: RequestContext) -> bytes:
        """The request as sent: the routed model, and no thinking block Anthropic would refuse
        (lynkr's own or unsigned ones, from an OpenAI-format provider before a failover)."""
        self._require_url()
        request = without_foreign_thinking(request)
        model = self._model(request, context)
        if request.model != model:
            request = request.replace(model=model)
        return anthropic.encode_request(request)

    def _headers(self, context: RequestContext) -> dict[str, str]:
        headers = {
            "content-type": JSON,
            "accept": "application/json, text/event-stream",
            "anthropic-version": context.headers.get("anthropic-version", self.version),
        }
        for name in PASSED_HEADERS:
            if name in context.headers:
                headers[name] = context.headers[name]
        if self._api_key:
            for name in self.key_headers:
                headers[name] = self._api_key
        return headers


def _not_a_stream(content_type: str, body: bytes) -> UpstreamError:
    """A 200 answer to a streaming request that is not an event stream (often an error body,
    then with the status of its type)."""
    error = error_in_body(body) or error_from_response(502, body, {})
    error.message = f"upstream answered a streaming request with {content_type or 'no content type'}: {error.message}"
    return error
