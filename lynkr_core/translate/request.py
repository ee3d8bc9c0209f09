"""An Anthropic Messages request as an OpenAI Chat Completions request.

Pure functions: everything the target cannot take is dropped, and each drop
that changes the answer is reported through ``warn``. This module maps the
request's options (tools, tool_choice, thinking, response_format...); the
messages are rebuilt by ``history.ConversationTranslator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from msgspec import UNSET

from lynkr_core.errors import InvalidRequest
from lynkr_core.translate import caching
from lynkr_core.translate.history import IMAGE_OMITTED, NO_RESULT, ConversationTranslator
from lynkr_core.translate.limits import clamp_max_tokens
from lynkr_core.translate.models import takes_reasoning_effort
from lynkr_core.translate.options import TargetOptions, Warn, ignore_warning
from lynkr_core.translate.schema import clean_schema, tool_parameters
from lynkr_core.translate.server_tools import server_tool_refused
from lynkr_core.translate.thinking import ThinkingSigner
from lynkr_core.translate.tool_names import ToolNames, upstream_tool_name
from lynkr_core.wire import anthropic, openai
from lynkr_core.wire.anthropic import DECODE_ERRORS

log = structlog.get_logger("lynkr.translate")

__all__ = [
    "ADAPTIVE_THINKING_BUDGET",
    "IMAGE_OMITTED",
    "MAX_STOP_SEQUENCES",
    "MAX_USER_ID",
    "MIN_THINKING_BUDGET",
    "NO_RESULT",
    "Translated",
    "to_openai",
    "translate_request",
]

#: OpenAI accepts at most this many stop sequences.
MAX_STOP_SEQUENCES = 4
#: Metadata ``user_id`` values longer than this are not sent as ``user``.
MAX_USER_ID = 64
#: Databricks (Claude) takes no thinking budget below this.
MIN_THINKING_BUDGET = 1024
#: The thinking budget given to Databricks for adaptive thinking, at most.
ADAPTIVE_THINKING_BUDGET = 10240

_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "high", "xhigh": "high"}


@dataclass(frozen=True, slots=True)
class Translated:
    """A translated request, and the provider-specific top-level keys to add
    when encoding it (``openai.encode_request(t.request, t.extra)``)."""

    request: openai.ChatCompletionRequest
    extra: dict[str, Any] = field(default_factory=dict)
    #: The client's names of the tools that go upstream under another name (``tool_names``).
    tool_names: ToolNames = field(default_factory=ToolNames)


def translate_request(
    request: anthropic.MessagesRequest,
    target: TargetOptions,
    warn: Warn = ignore_warning,
    *,
    stream: bool | None = None,
    input_tokens: int | None = None,
    session_id: str | None = None,
    signer: ThinkingSigner | None = None,
) -> Translated:
    """Translate ``request`` for ``target``; ``stream=None`` follows ``request.stream``.
    ``signer`` checks the assistant turns' thinking blocks: the ones lynkr signed go back
    as reasoning to a model that wants it (``reasoning_history``), the rest never.
    ``input_tokens`` (an estimate of the prompt) lets ``max_tokens`` be clamped to
    what the target's context window has left (``limits.clamp_max_tokens``).
    ``session_id`` (the client's conversation) gives the ``prompt_cache_key`` of a
    target that takes one (``caching``).

    Raises ``InvalidRequest`` (400) when a content block, a tool or
    ``output_config`` is malformed or nested too deeply to translate, or when a
    tool is one of Anthropic's server tools (``server_tools``): the client's
    error, named by its place in the request.
    """
    try:
        streaming = request.is_streaming if stream is None else stream
        return _translate(request, target, warn, streaming, input_tokens, session_id, signer)
    except RecursionError:
        raise InvalidRequest("request is nested too deeply to translate") from None
    except DECODE_ERRORS:
        problem = anthropic.request_problem(request)
        if problem is None:
            raise
        raise InvalidRequest(problem) from None


def _translate(
    request: anthropic.MessagesRequest,
    target: TargetOptions,
    warn: Warn,
    streaming: bool,
    input_tokens: int | None = None,
    session_id: str | None = None,
    signer: ThinkingSigner | None = None,
) -> Translated:
    names = ToolNames()
    messages = ConversationTranslator(target, warn, names, signer).translate(
        request.messages, caching.system_parts(request, target)
    )
    if caching.cap_breakpoints(messages):
        warn(f"cache_control: kept {caching.MAX_BREAKPOINTS} breakpoints, the first three and the last")
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}

    max_tokens = clamp_max_tokens(
        None if request.max_tokens is UNSET else request.max_tokens, target, input_tokens
    )
    if max_tokens is not None:
        fields[target.token_field] = max_tokens

    tools = _tools(request, target, warn, names)
    if tools:
        fields["tools"] = tools
        fields.update(_tool_choice(request, tools, target, warn))

    if request.stop_sequences:
        stop = list(request.stop_sequences)
        if len(stop) > MAX_STOP_SEQUENCES:
            warn(f"stop_sequences: kept the first {MAX_STOP_SEQUENCES} of {len(stop)}")
        fields["stop"] = stop[:MAX_STOP_SEQUENCES]
    if request.temperature is not UNSET:
        fields["temperature"] = request.temperature
    if request.top_p is not UNSET:
        fields["top_p"] = request.top_p
    if request.top_k is not UNSET:
        log.debug("translate_dropped", field="top_k")

    output_config = _output_config(request)
    response_format = _response_format(output_config, target, warn)
    if response_format is not None:
        fields["response_format"] = response_format

    thinking = _requested_thinking(request, output_config)
    if thinking is not None and not takes_reasoning_effort(target):
        log.debug("translate_dropped", field="thinking", reason="the model takes no reasoning setting")
    elif thinking is not None and target.reasoning == "effort":
        fields["reasoning_effort"] = thinking.effort
    elif thinking is not None:
        extra.update(_reasoning_extra(thinking, request, messages, max_tokens, target, warn))

    user = _user_id(request)
    if user is not None:
        fields["user"] = user
    if target.prompt_cache_key and session_id:
        fields["prompt_cache_key"] = caching.prompt_cache_key(session_id)

    fields["stream"] = streaming
    if streaming and target.stream_usage:
        fields["stream_options"] = openai.StreamOptions(include_usage=True)

    chat = openai.ChatCompletionRequest(model=target.model, messages=messages, **fields)
    return Translated(chat, extra, names)


def to_openai(
    request: anthropic.MessagesRequest,
    target: TargetOptions,
    warn: Warn = ignore_warning,
    *,
    stream: bool | None = None,
) -> openai.ChatCompletionRequest:
    """``translate_request(...).request``: the request without provider-specific keys."""
    return translate_request(request, target, warn, stream=stream).request


# --------------------------------------------------------------------------- #
# Tools


def _tools(
    request: anthropic.MessagesRequest, target: TargetOptions, warn: Warn, names: ToolNames
) -> list[openai.FunctionTool]:
    """The client's own tools as functions (their names as the upstream takes them, see
    ``tool_names``); one of Anthropic's server tools is the client's error
    (``server_tools``), never dropped silently."""
    if not request.tools:
        return []
    tools: list[openai.FunctionTool] = []
    for raw in request.tools:
        tool, name = _TOOLS.translated(bytes(raw), target.strip_schema_keys)
        if isinstance(tool, anthropic.ServerTool):
            raise server_tool_refused(tool)
        names.add(name)
        tools.append(tool)
    return tools


class _ToolCache:
    """Translated tool definitions by their bytes: Claude Code sends the same ~25 tools,
    ~60 KB of schema, on every turn. A result is shared, so it must never be mutated.

    ``functools.lru_cache`` would hash every definition in full on every request
    (22 µs for Claude Code's tools, a quarter of translating its request). Here the
    key is a definition's length and its first and last bytes, and a hit is checked
    against the whole definition (a ``memcmp``). The cache is direct-mapped: a
    definition whose key is taken by a different one replaces it, so definitions
    crafted to share a key cost a retranslation each, never a longer search.
    """

    EDGE = 64  # bytes of each end in the key
    LIMIT = 4096  # entries; emptied when full

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[bytes, tuple[openai.FunctionTool | anthropic.ServerTool, str]]] = {}

    def translated(
        self, raw: bytes, strip_keys: frozenset[str]
    ) -> tuple[openai.FunctionTool | anthropic.ServerTool, str]:
        """The function for the tool definition ``raw`` (or the server tool it is), and
        the tool's name as the client gave it."""
        key = (len(raw), raw[: self.EDGE], raw[-self.EDGE :], strip_keys)
        entry = self._entries.get(key)
        if entry is not None and entry[0] == raw:
            return entry[1]
        tool = _function_tool(raw, strip_keys)
        if len(self._entries) >= self.LIMIT:
            self._entries.clear()
        self._entries[key] = (raw, tool)
        return tool


_TOOLS = _ToolCache()


def _function_tool(
    raw: bytes, strip_keys: frozenset[str]
) -> tuple[openai.FunctionTool | anthropic.ServerTool, str]:
    """One tool definition as a function (pre-encoded), or the server tool it is; and
    its name."""
    tool = anthropic.decode_tool(raw)
    if isinstance(tool, anthropic.ServerTool):
        return tool, tool.name
    definition = openai.FunctionDefinition(
        name=upstream_tool_name(tool.name),
        description=tool.description,
        parameters=tool_parameters(msgspec.json.decode(tool.input_schema), strip_keys),
    )
    return openai.pre_encoded(openai.FunctionTool(function=definition)), tool.name


def _tool_choice(
    request: anthropic.MessagesRequest,
    tools: list[openai.FunctionTool],
    target: TargetOptions,
    warn: Warn,
) -> dict[str, Any]:
    """``tool_choice`` and ``parallel_tool_calls``, for a request that has tools."""
    choice = request.tool_choice_config()
    fields: dict[str, Any] = {}
    if isinstance(choice, anthropic.ToolChoiceAuto):
        fields["tool_choice"] = "auto"
    elif isinstance(choice, anthropic.ToolChoiceAny):
        fields["tool_choice"] = "required"
    elif isinstance(choice, anthropic.ToolChoiceNone):
        fields["tool_choice"] = "none"
    elif isinstance(choice, anthropic.ToolChoiceTool):
        name = upstream_tool_name(choice.name)
        if any(tool.function.name == name for tool in tools):
            fields["tool_choice"] = openai.NamedToolChoice(function=openai.NamedFunction(name=name))
        else:
            warn(f"tool_choice dropped: tool {choice.name!r} is not among the tools sent")
    disable_parallel = getattr(choice, "disable_parallel_tool_use", UNSET)
    if disable_parallel is True and target.parallel_tool_calls:
        fields["parallel_tool_calls"] = False
    return fields


# --------------------------------------------------------------------------- #
# Options: output format, thinking, user


def _output_config(request: anthropic.MessagesRequest) -> dict[str, Any]:
    """``output_config`` as a dict (empty when absent or not an object)."""
    if request.output_config is UNSET:
        return {}
    value = msgspec.json.decode(request.output_config)
    return value if isinstance(value, dict) else {}


def _response_format(
    output_config: dict[str, Any], target: TargetOptions, warn: Warn
) -> openai.ResponseFormat | None:
    """``output_config.format`` as a ``json_schema`` response format."""
    fmt = output_config.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        kind = fmt.get("type") if isinstance(fmt, dict) else fmt
        warn(f"output_config.format dropped: unknown format {kind!r}")
        return None
    if not target.structured_output:
        warn("output_config.format dropped: the target has no structured output")
        return None
    schema = fmt.get("schema")
    schema = clean_schema(schema, target.strip_schema_keys) if isinstance(schema, dict) else {}
    return openai.ResponseFormat(
        type="json_schema", json_schema=openai.JsonSchemaFormat(name="output", schema=schema)
    )


@dataclass(frozen=True, slots=True)
class _Thinking:
    """What the client asked of extended thinking: a token budget (``None`` for
    adaptive thinking) and the matching OpenAI reasoning effort."""

    budget: int | None
    effort: str


def _requested_thinking(
    request: anthropic.MessagesRequest, output_config: dict[str, Any]
) -> _Thinking | None:
    """The thinking the client asked for, ``None`` when off. ``output_config.effort``
    alone (Anthropic's effort parameter, no ``thinking``) asks for that effort."""
    config = request.thinking_config()
    if config is None:
        effort = output_config.get("effort")
        return _Thinking(None, _EFFORTS[effort]) if isinstance(effort, str) and effort in _EFFORTS else None
    if isinstance(config, anthropic.ThinkingDisabled):
        return None
    if isinstance(config, anthropic.ThinkingEnabled):
        budget: Any = config.budget_tokens
    elif isinstance(config, dict):
        if config.get("type") == "disabled":
            return None
        budget = config.get("budget_tokens")
    else:
        budget = None
    if isinstance(budget, int) and not isinstance(budget, bool):
        return _Thinking(budget, _budget_effort(budget))
    effort = output_config.get("effort")
    return _Thinking(None, _EFFORTS.get(effort, "medium") if isinstance(effort, str) else "medium")


def _budget_effort(budget: int) -> str:
    """A thinking budget as a reasoning effort."""
    if budget < 4096:
        return "low"
    if budget < 16384:
        return "medium"
    return "high"


def _reasoning_extra(
    thinking: _Thinking,
    request: anthropic.MessagesRequest,
    messages: list[openai.ChatMessage],
    max_tokens: int | None,
    target: TargetOptions,
    warn: Warn,
) -> dict[str, Any]:
    """The provider-specific top-level keys that ask for ``thinking`` (OpenRouter's
    ``reasoning``, Databricks' ``thinking``); none for a target without such a key."""
    if target.reasoning == "openrouter":
        if thinking.budget is not None:
            return {"reasoning": {"max_tokens": thinking.budget}}
        return {"reasoning": {"effort": thinking.effort}}
    if target.reasoning == "databricks":
        budget = _databricks_budget(thinking, request, messages, max_tokens, warn)
        if budget is not None:
            return {"thinking": {"type": "enabled", "budget_tokens": budget}}
        return {}
    log.debug("translate_dropped", field="thinking", reason="target has no reasoning setting")
    return {}


def _databricks_budget(
    thinking: _Thinking,
    request: anthropic.MessagesRequest,
    messages: list[openai.ChatMessage],
    max_tokens: int | None,
    warn: Warn,
) -> int | None:
    """The thinking budget to send to a Databricks Claude endpoint, ``None`` to send none.

    Claude rejects thinking that continues a tool loop whose last assistant turn
    does not start with its signed thinking (sent back only when it came from
    Databricks, see ``reasoning_history``), thinking with a forced tool choice,
    and thinking with a temperature other than 1.
    """
    last = next((m for m in reversed(messages) if m.role == "assistant"), None)
    if last is not None and last.tool_calls and not _starts_with_reasoning(last):
        log.debug("translate_dropped", field="thinking", reason="tool loop without signed thinking")
        return None
    choice = request.tool_choice_config()
    if isinstance(choice, anthropic.ToolChoiceAny | anthropic.ToolChoiceTool):
        warn("thinking dropped: Claude does not think with a forced tool choice")
        return None
    if request.temperature is not UNSET and request.temperature != 1:
        warn("thinking dropped: Claude does not think with a temperature other than 1")
        return None
    budget = thinking.budget
    if budget is None:
        budget = ADAPTIVE_THINKING_BUDGET
        if max_tokens is not None:
            budget = min(budget, max_tokens - 1)
    if budget < MIN_THINKING_BUDGET or (max_tokens is not None and budget >= max_tokens):
        warn(
            f"thinking dropped: budget {budget} must be at least {MIN_THINKING_BUDGET}"
            f" and below max_tokens ({max_tokens})"
        )
        return None
    return budget


def _starts_with_reasoning(message: openai.ChatMessage) -> bool:
    """Whether an assistant message's content starts with a Databricks reasoning part."""
    content = message.content
    return isinstance(content, list) and bool(content) and isinstance(content[0], openai.ReasoningContentPart)


def _user_id(request: anthropic.MessagesRequest) -> str | None:
    """``metadata.user_id`` when it is a short plain string (Claude Code sends JSON: not that)."""
    metadata = request.metadata_config()
    user_id = None if metadata is None else metadata.user_id
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
        return None
    try:
        decoded = msgspec.json.decode(user_id)
    except msgspec.DecodeError:
        return user_id
    return None if isinstance(decoded, dict | list) else user_id
