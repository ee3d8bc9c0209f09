"""OpenAI Chat Completions as msgspec Structs: what lynkr sends, what comes back.

The request side is what ``lynkr_core.translate`` builds: optional fields
default to ``UNSET`` and are left out when encoding, because many
OpenAI-compatible servers reject fields they do not know. Provider-specific
keys (OpenRouter's ``reasoning``, Databricks' ``thinking``...) are added by
``encode_request(request, extra)``.

The response side is decoded leniently: unknown fields are ignored and most
fields may be ``null``, as OpenAI-compatible servers differ in what they fill.
``content`` may be a string or, on Databricks' Claude endpoints, a list of
parts (``text`` and ``reasoning``), kept as ``Raw`` for the translator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec
from msgspec import UNSET, Raw, UnsetType

# --------------------------------------------------------------------------- #
# Request


class ImageUrl(msgspec.Struct, kw_only=True):
    """An image as an ``https:`` or ``data:`` URL."""

    url: str
    detail: str | UnsetType = UNSET


class CacheControl(msgspec.Struct, kw_only=True):
    """A prompt-cache breakpoint on a content part (OpenRouter, for Anthropic and Gemini
    models): ``{"type": "ephemeral"}``, optionally with a ``ttl`` (``"5m"``, ``"1h"``)."""

    type: str = "ephemeral"
    ttl: str | UnsetType = UNSET


class TextPart(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    """A text content part; ``cache_control`` marks the end of a prefix to cache."""

    text: str
    cache_control: CacheControl | UnsetType = UNSET


class ImagePart(msgspec.Struct, tag="image_url", tag_field="type", kw_only=True):
    """An image content part."""

    image_url: ImageUrl


class SummaryText(msgspec.Struct, tag="summary_text", tag_field="type", kw_only=True, omit_defaults=True):
    """One item of a Databricks reasoning part: the text and Claude's signature of it."""

    text: str
    signature: str | UnsetType = UNSET


class ReasoningContentPart(msgspec.Struct, tag="reasoning", tag_field="type", kw_only=True):
    """Databricks' reasoning content part of an assistant message (Claude's thinking, sent
    back with its signature)."""

    summary: list[SummaryText]


ContentPart = TextPart | ImagePart | ReasoningContentPart


class FunctionCall(msgspec.Struct, kw_only=True):
    """A function call: its name and its arguments as a JSON string."""

    name: str
    arguments: str


class ToolCall(msgspec.Struct, kw_only=True):
    """One tool call of an assistant message."""

    id: str
    function: FunctionCall
    type: Literal["function"] = "function"


class ChatMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One message of a chat: ``system``, ``user``, ``assistant`` or ``tool``."""

    role: str
    content: str | list[ContentPart] | None = None
    name: str | UnsetType = UNSET
    tool_calls: list[ToolCall] | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET
    #: An assistant turn's reasoning sent back: DeepSeek, vLLM, Kimi (``reasoning_content``);
    #: OpenRouter (``reasoning``, and ``reasoning_details`` as it gave them).
    reasoning_content: str | UnsetType = UNSET
    reasoning: str | UnsetType = UNSET
    reasoning_details: list[Any] | UnsetType = UNSET


class FunctionDefinition(msgspec.Struct, kw_only=True):
    """A function the model may call, with its JSON Schema."""

    name: str
    parameters: dict[str, Any]
    description: str | UnsetType = UNSET
    strict: bool | UnsetType = UNSET


class FunctionTool(msgspec.Struct, kw_only=True, dict=True):
    """``{"type": "function", "function": {...}}``.

    ``pre_encoded`` may attach the tool's own JSON, which ``encode_request`` then
    copies instead of encoding the schema again.
    """

    function: FunctionDefinition
    type: Literal["function"] = "function"


def pre_encoded(tool: FunctionTool) -> FunctionTool:
    """``tool`` with its JSON attached, for a tool that is reused and never changed
    again (translated tool definitions are cached: Claude Code sends the same ones,
    tens of KB of schema, every turn). Returns ``tool``."""
    tool.__dict__["_json"] = _encoder.encode(tool)
    return tool


class NamedFunction(msgspec.Struct, kw_only=True):
    """The function a named ``tool_choice`` forces."""

    name: str


class NamedToolChoice(msgspec.Struct, kw_only=True):
    """``{"type": "function", "function": {"name": ...}}``."""

    function: NamedFunction
    type: Literal["function"] = "function"


class JsonSchemaFormat(msgspec.Struct, kw_only=True):
    """The schema of a ``json_schema`` response format."""

    name: str
    schema: dict[str, Any]
    strict: bool | UnsetType = UNSET
    description: str | UnsetType = UNSET


class ResponseFormat(msgspec.Struct, kw_only=True):
    """``response_format``: ``text``, ``json_object`` or ``json_schema``."""

    type: str
    json_schema: JsonSchemaFormat | UnsetType = UNSET


class StreamOptions(msgspec.Struct, kw_only=True):
    """``stream_options``: ask for a final usage-only chunk."""

    include_usage: bool = True


class ChatCompletionRequest(msgspec.Struct, kw_only=True):
    """``POST /chat/completions``."""

    model: str
    messages: list[ChatMessage]
    max_tokens: int | UnsetType = UNSET
    max_completion_tokens: int | UnsetType = UNSET
    temperature: float | UnsetType = UNSET
    top_p: float | UnsetType = UNSET
    stop: list[str] | UnsetType = UNSET
    stream: bool | UnsetType = UNSET
    stream_options: StreamOptions | UnsetType = UNSET
    tools: list[FunctionTool] | UnsetType = UNSET
    tool_choice: str | NamedToolChoice | UnsetType = UNSET
    parallel_tool_calls: bool | UnsetType = UNSET
    response_format: ResponseFormat | UnsetType = UNSET
    reasoning_effort: str | UnsetType = UNSET
    user: str | UnsetType = UNSET
    #: OpenAI: requests with the same key go to the servers that cache their prefix.
    prompt_cache_key: str | UnsetType = UNSET


_encoder = msgspec.json.Encoder()


def encode_request(request: ChatCompletionRequest, extra: Mapping[str, Any] | None = None) -> bytes:
    """Encode a request, with provider-specific top-level keys in ``extra`` added."""
    tools = _tools_json(request.tools)
    body = _encoder.encode(request if tools is None else msgspec.structs.replace(request, tools=tools))
    if not extra:
        return body
    return body[:-1] + b"," + _encoder.encode(dict(extra))[1:]


def _tools_json(tools: list[FunctionTool] | UnsetType) -> msgspec.Raw | None:
    """The JSON of ``tools`` when every one of them is ``pre_encoded``, else None."""
    if not tools:
        return None
    parts = []
    for tool in tools:
        encoded = tool.__dict__.get("_json")
        if encoded is None:
            return None
        parts.append(encoded)
    return msgspec.Raw(b"[" + b",".join(parts) + b"]")


def to_builtins(request: ChatCompletionRequest) -> dict[str, Any]:
    """A request as plain JSON data (for providers that reshape it, and tests)."""
    return msgspec.json.decode(_encoder.encode(request))


# --------------------------------------------------------------------------- #
# Response


class FunctionCallOut(msgspec.Struct, kw_only=True):
    """A function call as a provider returns it; ``arguments`` may be partial in a stream."""

    name: str | None = None
    arguments: str | None = None


class ToolCallOut(msgspec.Struct, kw_only=True):
    """A tool call in a response message or a stream delta.

    In a stream, ``index`` says which call a fragment belongs to; ``id`` and
    ``function.name`` come with the first fragment only.
    """

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallOut | None = None


class MessageOut(msgspec.Struct, kw_only=True):
    """An assistant message, or a stream delta of one.

    Reasoning arrives as ``reasoning_content`` (DeepSeek, vLLM, llama.cpp),
    ``reasoning`` (OpenRouter, Ollama's OpenAI API) or, on Databricks, as a
    ``reasoning`` part inside a list ``content``.
    """

    role: str | None = None
    content: str | list[Raw] | None = None
    tool_calls: list[ToolCallOut] | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    #: OpenRouter: the reasoning as the model gave it (text with signatures, encrypted data).
    reasoning_details: list[Any] | None = None
    refusal: str | None = None


class Choice(msgspec.Struct, kw_only=True):
    """One choice of a complete response."""

    index: int = 0
    message: MessageOut = msgspec.field(default_factory=MessageOut)
    finish_reason: str | None = None
    #: vLLM: the stop string (or stop token id) that ended the output, when one did.
    stop_reason: str | int | None = None


class PromptTokensDetails(msgspec.Struct, kw_only=True):
    """Prompt tokens read from the provider's cache (``cached_tokens``) and written to it
    (``cache_write_tokens``: OpenRouter, OpenAI, llama.cpp); both are part of
    ``prompt_tokens``."""

    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionTokensDetails(msgspec.Struct, kw_only=True):
    """Output tokens spent on reasoning."""

    reasoning_tokens: int | None = None


class UsageOut(msgspec.Struct, kw_only=True):
    """Token usage, as every OpenAI-compatible server reports it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    #: DeepSeek: the prompt tokens read from its cache, and the rest.
    prompt_cache_hit_tokens: int | None = None
    prompt_cache_miss_tokens: int | None = None


class ErrorOut(msgspec.Struct, kw_only=True):
    """An error object: OpenAI's ``{"message", "type", "param", "code"}``, and
    OpenRouter's ``{"code", "message", "metadata"}`` inside a 200 body."""

    message: str = ""
    type: str | None = None
    code: int | str | None = None
    param: str | None = None
    metadata: dict[str, Any] | None = None


class ChatCompletion(msgspec.Struct, kw_only=True):
    """A complete (non-streaming) response."""

    id: str = ""
    model: str = ""
    choices: list[Choice] = []
    usage: UsageOut | None = None
    error: ErrorOut | None = None


class ChunkChoice(msgspec.Struct, kw_only=True):
    """One choice of a stream chunk."""

    index: int = 0
    delta: MessageOut = msgspec.field(default_factory=MessageOut)
    finish_reason: str | None = None
    #: vLLM: the stop string (or stop token id) that ended the output, when one did.
    stop_reason: str | int | None = None


class ChatCompletionChunk(msgspec.Struct, kw_only=True):
    """One ``data:`` of a stream. The last may carry ``usage`` and no choices."""

    id: str = ""
    model: str = ""
    choices: list[ChunkChoice] = []
    usage: UsageOut | None = None
    error: ErrorOut | None = None


class ErrorResponse(msgspec.Struct, kw_only=True):
    """An error body: ``{"error": {...}}``."""

    error: ErrorOut


_completion_decoder = msgspec.json.Decoder(ChatCompletion)
_chunk_decoder = msgspec.json.Decoder(ChatCompletionChunk)


def decode_completion(body: bytes | str) -> ChatCompletion:
    """Decode a complete response body.

    Raises only ``msgspec`` errors. Bytes that are not UTF-8 are replaced by
    U+FFFD first, as in a stream (the SSE parser does the same): msgspec
    would raise ``UnicodeDecodeError``, and not at all for a bad byte inside
    a part of a list ``content``, kept raw until the translator reads it.
    """
    if not isinstance(body, str):
        body = bytes(body).decode("utf-8", errors="replace")
    return _decode(_completion_decoder, body)


def decode_chunk(data: bytes | str) -> ChatCompletionChunk:
    """Decode the ``data:`` of one stream event; raises only ``msgspec`` errors
    (bytes that are not UTF-8 are replaced, as in ``decode_completion``)."""
    if not isinstance(data, str):
        data = bytes(data).decode("utf-8", errors="replace")
    return _decode(_chunk_decoder, data)


def _decode(decoder: msgspec.json.Decoder[Any], text: str) -> Any:
    try:
        return decoder.decode(text)
    except RecursionError:
        # msgspec recurses once per level of nesting inside fields it keeps untyped
        raise msgspec.DecodeError("JSON is nested too deeply") from None
