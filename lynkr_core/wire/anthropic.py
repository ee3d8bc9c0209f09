"""The Anthropic Messages API as msgspec Structs.

Content blocks, tools and other nested objects stay as ``msgspec.Raw`` in a
request until something needs them typed: they keep their exact bytes when a
request is passed on to an Anthropic-format upstream, so block types and
fields lynkr does not know (yet) are never lost. ``decode_block`` and
``decode_tool`` give the typed view on demand. Top-level request fields lynkr
does not know are kept in ``MessagesRequest.extra_fields`` and written back by
``encode_request``.

Optional fields default to ``UNSET`` and are left out when encoding, so a
round trip gives back what the client sent.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec
from msgspec import UNSET, Raw, UnsetType

# --------------------------------------------------------------------------- #
# Shared pieces


class CacheControl(msgspec.Struct, kw_only=True):
    """``{"type": "ephemeral", "ttl": "5m" | "1h"}``."""

    type: str = "ephemeral"
    ttl: str | UnsetType = UNSET


class Base64Source(msgspec.Struct, tag="base64", tag_field="type", kw_only=True):
    """Inline data: an image or a PDF."""

    media_type: str
    data: str


class UrlSource(msgspec.Struct, tag="url", tag_field="type", kw_only=True):
    """A URL the model provider fetches."""

    url: str


class FileSource(msgspec.Struct, tag="file", tag_field="type", kw_only=True):
    """A file uploaded through the Files API."""

    file_id: str


class TextSource(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    """Plain text given as a document."""

    media_type: str
    data: str


class ContentSource(msgspec.Struct, tag="content", tag_field="type", kw_only=True):
    """A document made of content blocks."""

    content: str | list[Raw]


ImageSource = Base64Source | UrlSource | FileSource
DocumentSource = Base64Source | UrlSource | FileSource | TextSource | ContentSource

# --------------------------------------------------------------------------- #
# Content blocks


class TextBlock(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    """Text, with optional citations."""

    text: str
    cache_control: CacheControl | UnsetType | None = UNSET
    citations: list[Raw] | UnsetType | None = UNSET


class ImageBlock(msgspec.Struct, tag="image", tag_field="type", kw_only=True):
    """An image: base64, URL or uploaded file."""

    source: ImageSource
    cache_control: CacheControl | UnsetType | None = UNSET


class DocumentBlock(msgspec.Struct, tag="document", tag_field="type", kw_only=True):
    """A document (PDF, plain text, content blocks)."""

    source: DocumentSource
    title: str | UnsetType | None = UNSET
    context: str | UnsetType | None = UNSET
    citations: Raw | UnsetType = UNSET
    cache_control: CacheControl | UnsetType | None = UNSET


class SearchResultBlock(msgspec.Struct, tag="search_result", tag_field="type", kw_only=True):
    """A search result the client supplies for citation."""

    source: str
    title: str
    content: list[Raw]
    citations: Raw | UnsetType = UNSET
    cache_control: CacheControl | UnsetType | None = UNSET


class ToolUseBlock(msgspec.Struct, tag="tool_use", tag_field="type", kw_only=True):
    """The model calls a tool; ``input`` is the parsed JSON arguments (an object, as the
    Messages API requires: anything else is the client's error, not a call to pass on)."""

    id: str
    name: str
    input: dict[str, Any] | None
    cache_control: CacheControl | UnsetType | None = UNSET


class ToolResultBlock(msgspec.Struct, tag="tool_result", tag_field="type", kw_only=True):
    """The result of a tool call, as a string or content blocks."""

    tool_use_id: str
    content: str | list[Raw] | UnsetType = UNSET
    is_error: bool | UnsetType = UNSET
    cache_control: CacheControl | UnsetType | None = UNSET


class ThinkingBlock(msgspec.Struct, tag="thinking", tag_field="type", kw_only=True):
    """Extended thinking, with the signature that must travel back unchanged."""

    thinking: str
    signature: str | UnsetType = UNSET


class RedactedThinkingBlock(msgspec.Struct, tag="redacted_thinking", tag_field="type", kw_only=True):
    """Encrypted thinking, passed back as it came."""

    data: str


class ServerToolUseBlock(msgspec.Struct, tag="server_tool_use", tag_field="type", kw_only=True):
    """A call of one of Anthropic's server tools (web search, code execution...)."""

    id: str
    name: str
    input: Any
    cache_control: CacheControl | UnsetType | None = UNSET


class WebSearchToolResultBlock(
    msgspec.Struct, tag="web_search_tool_result", tag_field="type", kw_only=True
):
    """Results of Anthropic's web search server tool."""

    tool_use_id: str
    content: Raw
    cache_control: CacheControl | UnsetType | None = UNSET


ContentBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | SearchResultBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
)

KNOWN_BLOCK_TYPES = frozenset(
    cls.__struct_config__.tag for cls in ContentBlock.__args__  # type: ignore[attr-defined]
)


class _BlockHead(msgspec.Struct):
    type: str


_block_decoder = msgspec.json.Decoder(ContentBlock)
_head_decoder = msgspec.json.Decoder(_BlockHead)
_any_decoder = msgspec.json.Decoder()


def block_type(raw: Raw | bytes) -> str:
    """The ``type`` of a raw content block, without decoding the rest."""
    return _head_decoder.decode(raw).type


def decode_block(raw: Raw | bytes) -> ContentBlock | dict[str, Any]:
    """A raw block as its typed Struct, or as a plain dict when its type is unknown.

    Raises ``msgspec.ValidationError`` when a known block type is malformed.
    """
    try:
        return _block_decoder.decode(raw)  # the common case: one pass
    except msgspec.ValidationError:
        if block_type(raw) in KNOWN_BLOCK_TYPES:
            raise
    return _any_decoder.decode(raw)


# --------------------------------------------------------------------------- #
# Tools and request options


class CustomTool(msgspec.Struct, kw_only=True):
    """A client-defined tool: a name, a description and a JSON schema."""

    name: str
    input_schema: Raw
    description: str | UnsetType = UNSET
    type: Literal["custom"] | UnsetType | None = UNSET
    cache_control: CacheControl | UnsetType | None = UNSET


class ServerTool(msgspec.Struct, kw_only=True):
    """One of Anthropic's versioned server tools (``web_search_20250305``, ``bash_20250124``...).

    Only ``type`` and ``name`` are typed; the rest of its options are kept in
    the raw bytes it came in.
    """

    type: str
    name: str


class _ToolHead(msgspec.Struct):
    type: str | UnsetType | None = UNSET


_tool_head_decoder = msgspec.json.Decoder(_ToolHead)
_custom_tool_decoder = msgspec.json.Decoder(CustomTool)
_server_tool_decoder = msgspec.json.Decoder(ServerTool)


class _ToolName(msgspec.Struct):
    name: str


_tool_name_decoder = msgspec.json.Decoder(_ToolName)
#: ``{"name":"<plain name>"`` at the very start of a tool definition, as clients write it.
_LEADING_NAME = re.compile(rb'\{\s*"name"\s*:\s*"([A-Za-z0-9_.:-]{1,128})"\s*,')


def tool_name(raw: Raw | bytes) -> str:
    """The ``name`` of a raw tool definition. Claude Code's tools carry large schemas;
    when the name is the first key (it is in every client seen) it is read from the
    first bytes instead of scanning the whole definition (a definition that repeats its
    top-level ``name`` key is malformed; the first one is taken then)."""
    leading = _LEADING_NAME.match(memoryview(raw))
    if leading is not None:
        return leading.group(1).decode()
    return _tool_name_decoder.decode(raw).name


def decode_tool(raw: Raw | bytes) -> CustomTool | ServerTool:
    """A raw tool definition as a ``CustomTool`` or a ``ServerTool``."""
    kind = _tool_head_decoder.decode(raw).type
    if kind in (UNSET, None, "custom"):
        return _custom_tool_decoder.decode(raw)
    return _server_tool_decoder.decode(raw)


class ToolChoiceAuto(msgspec.Struct, tag="auto", tag_field="type", kw_only=True):
    """The model decides whether to call tools."""

    disable_parallel_tool_use: bool | UnsetType = UNSET


class ToolChoiceAny(msgspec.Struct, tag="any", tag_field="type", kw_only=True):
    """The model must call some tool."""

    disable_parallel_tool_use: bool | UnsetType = UNSET


class ToolChoiceTool(msgspec.Struct, tag="tool", tag_field="type", kw_only=True):
    """The model must call the named tool."""

    name: str
    disable_parallel_tool_use: bool | UnsetType = UNSET


class ToolChoiceNone(msgspec.Struct, tag="none", tag_field="type", kw_only=True):
    """The model must not call tools."""


ToolChoice = ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone


class ThinkingEnabled(msgspec.Struct, tag="enabled", tag_field="type", kw_only=True):
    """Extended thinking with a token budget."""

    budget_tokens: int
    display: str | UnsetType = UNSET


class ThinkingDisabled(msgspec.Struct, tag="disabled", tag_field="type", kw_only=True):
    """No extended thinking."""


class ThinkingAdaptive(msgspec.Struct, tag="adaptive", tag_field="type", kw_only=True):
    """The model decides how much to think (what Claude Code sends)."""

    display: str | UnsetType = UNSET


ThinkingConfig = ThinkingEnabled | ThinkingDisabled | ThinkingAdaptive


class Metadata(msgspec.Struct, kw_only=True):
    """Request metadata; Claude Code puts a JSON string in ``user_id``."""

    user_id: str | UnsetType | None = UNSET


# --------------------------------------------------------------------------- #
# The request


class Message(msgspec.Struct, kw_only=True):
    """One conversation turn. ``role`` is user or assistant, and ``system`` for
    the mid-conversation system messages Claude Code sends."""

    role: str
    content: str | list[Raw]

    def blocks(self) -> list[ContentBlock | dict[str, Any]]:
        """The content as typed blocks (a string becomes one text block)."""
        if isinstance(self.content, str):
            return [TextBlock(text=self.content)]
        return [decode_block(raw) for raw in self.content]

    def texts(self) -> list[str]:
        """The text of its text blocks, in order; only those are decoded, and one that
        does not decode is left out (a plugin reading the conversation never fails on a
        block it does not need: the request goes on as it came)."""
        if isinstance(self.content, str):
            return [self.content]
        texts = []
        for raw in self.content:
            try:
                if block_type(raw) != "text":
                    continue
                block = decode_block(raw)
            except (msgspec.MsgspecError, UnicodeDecodeError):
                continue
            if isinstance(block, TextBlock):
                texts.append(block.text)
        return texts


class MessagesRequest(msgspec.Struct, kw_only=True, dict=True):
    """``POST /v1/messages`` (and, without ``max_tokens``, ``count_tokens``)."""

    model: str
    messages: list[Message]
    max_tokens: int | UnsetType = UNSET
    system: str | list[Raw] | UnsetType = UNSET
    tools: list[Raw] | UnsetType = UNSET
    tool_choice: Raw | UnsetType = UNSET
    stop_sequences: list[str] | UnsetType = UNSET
    stream: bool | UnsetType = UNSET
    temperature: float | UnsetType = UNSET
    top_p: float | UnsetType = UNSET
    top_k: int | UnsetType = UNSET
    metadata: Raw | UnsetType = UNSET
    thinking: Raw | UnsetType = UNSET
    service_tier: str | UnsetType = UNSET
    container: Raw | UnsetType = UNSET
    mcp_servers: list[Raw] | UnsetType = UNSET
    context_management: Raw | UnsetType = UNSET
    output_config: Raw | UnsetType = UNSET

    @property
    def extra_fields(self) -> dict[str, Raw]:
        """Top-level fields lynkr has no type for, kept to be passed on as they came."""
        return self.__dict__.get("_extra_fields", {})

    def tool_choice_config(self) -> ToolChoice | None:
        """``tool_choice`` typed (``None`` when absent)."""
        return None if self.tool_choice is UNSET else _tool_choice_decoder.decode(self.tool_choice)

    def thinking_config(self) -> ThinkingConfig | dict[str, Any] | None:
        """``thinking`` typed, or a plain dict for a thinking type lynkr does not know."""
        if self.thinking is UNSET:
            return None
        if _head_decoder.decode(self.thinking).type in _THINKING_TYPES:
            return _thinking_decoder.decode(self.thinking)
        return _any_decoder.decode(self.thinking)

    def metadata_config(self) -> Metadata | None:
        """``metadata`` typed (``None`` when absent)."""
        return None if self.metadata is UNSET else _metadata_decoder.decode(self.metadata)

    @property
    def is_streaming(self) -> bool:
        """Whether the client asked for an SSE stream."""
        return self.stream is True

    def replace(self, **changes: Any) -> MessagesRequest:
        """A copy with ``changes`` applied, keeping the unknown fields."""
        copy = msgspec.structs.replace(self, **changes)
        if self.extra_fields:
            copy.__dict__["_extra_fields"] = self.extra_fields
        return copy

    def system_text(self) -> str:
        """The system prompt as plain text (text blocks joined by blank lines)."""
        if self.system is UNSET:
            return ""
        if isinstance(self.system, str):
            return self.system
        parts = []
        for raw in self.system:
            block = decode_block(raw)
            if isinstance(block, TextBlock):
                parts.append(block.text)
        return "\n\n".join(parts)


_tool_choice_decoder = msgspec.json.Decoder(ToolChoice)
_thinking_decoder = msgspec.json.Decoder(ThinkingConfig)
_metadata_decoder = msgspec.json.Decoder(Metadata)
_THINKING_TYPES = frozenset(
    cls.__struct_config__.tag for cls in ThinkingConfig.__args__  # type: ignore[attr-defined]
)


class _StrictMessagesRequest(MessagesRequest, forbid_unknown_fields=True):
    """Decoded first: the common case, a request with no unknown top-level field."""


_strict_request_decoder = msgspec.json.Decoder(_StrictMessagesRequest)
_request_decoder = msgspec.json.Decoder(MessagesRequest)
_top_level_decoder = msgspec.json.Decoder(dict[str, Raw])
_known_request_fields = frozenset(MessagesRequest.__struct_fields__)


def decode_request(body: bytes) -> MessagesRequest:
    """Decode a Messages API request body.

    Raises ``msgspec.ValidationError`` or ``msgspec.DecodeError`` on malformed
    input (the app turns them into 400 ``invalid_request_error``), and
    ``UnicodeDecodeError`` or ``RecursionError`` on invalid UTF-8 in a string
    or nesting deeper than the interpreter's recursion limit. Objects kept raw
    (``tool_choice``, ``metadata``, ``thinking``) are checked here too, so their
    errors name their path, and so is each tool's ``name`` (every part of lynkr
    that looks at tools reads it). Content blocks are not: ``request_problem``
    says what is wrong with them when a part of lynkr that decodes them fails.
    """
    request = _decode_keeping_extras(body, _strict_request_decoder, _request_decoder, _known_request_fields)
    _check_tool_names(request.tools)
    request = _with_anthropic_tool_choice(request)
    _check_nested(request.tool_choice, _tool_choice_decoder, "tool_choice")
    _check_nested(request.metadata, _metadata_decoder, "metadata")
    if request.thinking is not UNSET:
        _check_nested(request.thinking, _head_decoder, "thinking")
        if _head_decoder.decode(request.thinking).type in _THINKING_TYPES:
            _check_nested(request.thinking, _thinking_decoder, "thinking")
    return request


def _decode_keeping_extras(body: bytes, strict: Any, lenient: Any, known: frozenset[str]) -> Any:
    try:
        return strict.decode(body)
    except msgspec.ValidationError as strict_error:
        if "unknown field" not in str(strict_error):
            raise
    value = lenient.decode(body)
    extra = {k: v for k, v in _top_level_decoder.decode(body).items() if k not in known}
    value.__dict__["_extra_fields"] = extra
    return value


def _check_nested(raw_value: Any, decoder: msgspec.json.Decoder, path: str) -> None:
    if raw_value is UNSET:
        return
    try:
        decoder.decode(raw_value)
    except msgspec.ValidationError as exc:
        raise msgspec.ValidationError(_relocated(str(exc), path)) from None


#: OpenAI's string ``tool_choice`` values and their Anthropic equivalents.
_OPENAI_TOOL_CHOICES = {"auto": "auto", "required": "any", "none": "none"}


def _with_anthropic_tool_choice(request: MessagesRequest) -> MessagesRequest:
    """``request`` with an OpenAI-shaped ``tool_choice`` (``{"type": "function", "function":
    {"name": ...}}``, or ``"auto"``, ``"required"``, ``"none"``), which clients used to both
    APIs send in Messages requests too, rewritten in Anthropic's shape; any other value
    unchanged (and checked by the caller)."""
    if request.tool_choice is UNSET:
        return request
    text = bytes(memoryview(request.tool_choice))
    if text.lstrip().startswith(b"{") and b'"function"' not in text:
        return request  # the usual case, Anthropic's own shape: no decoding
    try:
        value = _any_decoder.decode(request.tool_choice)
    except msgspec.DecodeError:
        return request
    if isinstance(value, str) and value in _OPENAI_TOOL_CHOICES:
        choice: dict[str, Any] = {"type": _OPENAI_TOOL_CHOICES[value]}
    elif isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("function"), dict) \
            and isinstance(value["function"].get("name"), str):
        choice = {"type": "tool", "name": value["function"]["name"]}
    else:
        return request
    return request.replace(tool_choice=Raw(msgspec.json.encode(choice)))


def _check_tool_names(tools: list[Raw] | UnsetType) -> None:
    """Every tool is an object with a string ``name`` (a few µs: the name is read from
    the first bytes of a definition written the usual way)."""
    if tools is UNSET:
        return
    for index, raw in enumerate(tools):
        if _LEADING_NAME.match(memoryview(raw)) is not None:
            continue
        try:
            _tool_name_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise msgspec.ValidationError(_relocated(str(exc), f"tools[{index}]")) from None


def _relocated(message: str, path: str) -> str:
    """A msgspec error message about a value found at ``path`` of the request."""
    if " - at `$" in message:
        return message.replace("`$", f"`$.{path}", 1)
    return f"{message} - at `$.{path}`"


# --------------------------------------------------------------------------- #
# What is wrong with a request's content

#: What decoding a malformed part of a request raises: msgspec's errors, invalid UTF-8
#: inside a raw value, nesting deeper than the interpreter's recursion limit.
DECODE_ERRORS = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)


class _Problem(Exception):
    """A malformed part of a request, as ``path: reason``."""


def request_problem(request: MessagesRequest) -> str | None:
    """What is wrong with the raw parts of a decoded request, as ``path: reason``
    (``messages[1].content[0].source: Object missing required field `media_type```),
    or ``None`` when every one of them decodes.

    ``decode_request`` leaves content blocks, tools and ``output_config`` raw; this
    decodes all of them (blocks inside ``tool_result``, documents and search results
    too) the way translators and token counters do. Call it when such a decode
    failed (one of ``DECODE_ERRORS``) to tell the client's malformed request (a 400
    that names the place) from a bug of lynkr's own (``None``).
    """
    try:
        if isinstance(request.system, list):
            _check_blocks(request.system, "system")
        for index, message in enumerate(request.messages):
            if isinstance(message.content, list):
                _check_blocks(message.content, f"messages[{index}].content")
        for index, raw_tool in enumerate(request.tools or ()):
            tool = _decoded(decode_tool, raw_tool, f"tools[{index}]")
            if isinstance(tool, CustomTool):
                _decoded(_any_decoder.decode, tool.input_schema, f"tools[{index}].input_schema")
        if request.output_config is not UNSET:
            _decoded(_any_decoder.decode, request.output_config, "output_config")
    except _Problem as problem:
        return str(problem)
    except RecursionError:  # blocks inside blocks inside blocks...
        return "content blocks are nested too deeply"
    return None


def _check_blocks(blocks: list[Raw], path: str) -> None:
    for index, raw_block in enumerate(blocks):
        where = f"{path}[{index}]"
        block = _decoded(decode_block, raw_block, where)
        if isinstance(block, ToolResultBlock | SearchResultBlock) and isinstance(block.content, list):
            _check_blocks(block.content, f"{where}.content")
        elif isinstance(block, DocumentBlock) and isinstance(block.source, ContentSource):
            if isinstance(block.source.content, list):
                _check_blocks(block.source.content, f"{where}.source.content")


def _decoded(decode: Any, raw_value: Raw | bytes, where: str) -> Any:
    try:
        return decode(raw_value)
    except msgspec.ValidationError as exc:
        text, _, inner = _relocated(str(exc), where).rpartition(" - at ")
        raise _Problem(f"{inner.strip('`').removeprefix('$.')}: {text}") from None
    except msgspec.DecodeError as exc:
        raise _Problem(f"{where}: {exc}") from None
    except UnicodeDecodeError:
        raise _Problem(f"{where}: not valid UTF-8") from None
    except RecursionError:
        raise _Problem(f"{where}: nested too deeply") from None


_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    """Encode a wire Struct (or plain data) as JSON, with a request's or response's
    unknown top-level fields written back."""
    body = _encoder.encode(value)
    extra = getattr(value, "extra_fields", None)
    if not extra:
        return body
    tail = _encoder.encode(extra)  # b'{"k":v,...}'
    if body == b"{}":
        return tail
    return body[:-1] + b"," + tail[1:]


def encode_request(request: MessagesRequest) -> bytes:
    """Encode a request, with its unknown top-level fields written back."""
    return encode(request)


# --------------------------------------------------------------------------- #
# The response


class Usage(msgspec.Struct, kw_only=True):
    """Token counts; the cache fields appear when prompt caching was involved."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | UnsetType | None = UNSET
    cache_read_input_tokens: int | UnsetType | None = UNSET
    cache_creation: Raw | UnsetType = UNSET
    server_tool_use: Raw | UnsetType = UNSET
    service_tier: str | UnsetType | None = UNSET
    inference_geo: str | UnsetType | None = UNSET
    output_tokens_details: Raw | UnsetType = UNSET


def add_usage(total: Usage, step: Usage) -> None:
    """Add one step's token counts to ``total`` (a cache count only where ``step`` has one:
    unset or ``None`` leaves ``total``'s as it is)."""
    total.input_tokens += step.input_tokens
    total.output_tokens += step.output_tokens
    created, read = step.cache_creation_input_tokens, step.cache_read_input_tokens
    if isinstance(created, int):
        total.cache_creation_input_tokens = _count(total.cache_creation_input_tokens) + created
    if isinstance(read, int):
        total.cache_read_input_tokens = _count(total.cache_read_input_tokens) + read


def _count(value: int | UnsetType | None) -> int:
    return value if isinstance(value, int) else 0


class MessageResponse(msgspec.Struct, tag="message", tag_field="type", kw_only=True, dict=True):
    """A complete assistant message, as ``POST /v1/messages`` returns it."""

    id: str
    role: str = "assistant"
    model: str
    content: list[Raw]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    stop_details: Raw | UnsetType = UNSET
    container: Raw | UnsetType = UNSET
    context_management: Raw | UnsetType = UNSET

    @property
    def extra_fields(self) -> dict[str, Raw]:
        """Top-level fields lynkr has no type for, kept to be passed on as they came."""
        return self.__dict__.get("_extra_fields", {})

    def blocks(self) -> list[ContentBlock | dict[str, Any]]:
        """The content as typed blocks."""
        return [decode_block(raw) for raw in self.content]

    def text(self) -> str:
        """All text blocks joined together."""
        return "".join(b.text for b in self.blocks() if isinstance(b, TextBlock))


class _StrictMessageResponse(MessageResponse, forbid_unknown_fields=True):
    """Decoded first: the common case, a response with no unknown top-level field."""


_strict_response_decoder = msgspec.json.Decoder(_StrictMessageResponse)
_response_decoder = msgspec.json.Decoder(MessageResponse)
_known_response_fields = frozenset(MessageResponse.__struct_fields__) | {"type"}


def decode_response(body: bytes) -> MessageResponse:
    """Decode a complete message (a non-streaming response body), keeping unknown fields."""
    return _decode_keeping_extras(body, _strict_response_decoder, _response_decoder, _known_response_fields)


def raw(value: Any) -> Raw:
    """A Struct or plain value as ``Raw`` JSON, to put in a Raw-typed field."""
    return Raw(_encoder.encode(value))


# --------------------------------------------------------------------------- #
# count_tokens and models


class TokenCount(msgspec.Struct, kw_only=True):
    """The answer of ``POST /v1/messages/count_tokens``."""

    input_tokens: int


class ModelInfo(msgspec.Struct, tag="model", tag_field="type", kw_only=True):
    """One entry of ``GET /v1/models``."""

    id: str
    display_name: str
    created_at: str = "1970-01-01T00:00:00Z"


class ModelList(msgspec.Struct, kw_only=True):
    """The answer of ``GET /v1/models``."""

    data: list[ModelInfo]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
