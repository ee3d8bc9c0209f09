"""Pure translation between the Anthropic Messages API and OpenAI Chat Completions.

No I/O here: providers call these functions at their edges.
``translate_request`` builds the upstream request for a ``TargetOptions``;
``from_openai`` turns a complete answer back into an Anthropic message;
``StreamTranslator`` and ``translate_stream`` do the same for a stream,
event by event.
"""

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.limits import (
    clamp_max_tokens,
    context_window,
    output_limit,
    target_context_window,
    target_output_limit,
)
from lynkr_core.translate.models import (
    is_claude_model,
    is_reasoning_model,
    needs_reasoning_history,
    takes_reasoning_effort,
)
from lynkr_core.translate.options import (
    ModelLimit,
    ModelReasoning,
    ReasoningStyle,
    TargetOptions,
    Warn,
    ignore_warning,
    parse_model_limits,
    parse_model_reasoning,
)
from lynkr_core.translate.overflow import Overflow, find_overflow, find_overflow_in_body
from lynkr_core.translate.pieces import (
    Piece,
    TextPiece,
    ToolCallPiece,
    ToolTextExtractor,
    ToolTextFactory,
)
from lynkr_core.translate.request import Translated, to_openai, translate_request
from lynkr_core.translate.response import from_openai
from lynkr_core.translate.schema import clean_schema
from lynkr_core.translate.stream import StreamTranslator, translate_stream
from lynkr_core.translate.streamed_arguments import StreamedArguments
from lynkr_core.translate.think_tags import ThinkTagMode, ThinkTagSplitter
from lynkr_core.translate.thinking import ThinkingSigner, Vouched, is_lynkr_signature
from lynkr_core.translate.tool_names import ToolNames, upstream_tool_name
from lynkr_core.translate.tool_text import (
    TextToolCallExtractor,
    extract_tool_calls,
    extractor_factory,
)

__all__ = [
    "MalformedArguments",
    "ModelLimit",
    "ModelReasoning",
    "Overflow",
    "Piece",
    "ReasoningStyle",
    "StreamTranslator",
    "StreamedArguments",
    "TargetOptions",
    "TextPiece",
    "TextToolCallExtractor",
    "ThinkTagMode",
    "ThinkTagSplitter",
    "ThinkingSigner",
    "ToolCallPiece",
    "ToolNames",
    "ToolTextExtractor",
    "ToolTextFactory",
    "Translated",
    "Vouched",
    "Warn",
    "clamp_max_tokens",
    "clean_schema",
    "context_window",
    "extract_tool_calls",
    "extractor_factory",
    "find_overflow",
    "find_overflow_in_body",
    "from_openai",
    "ignore_warning",
    "is_claude_model",
    "is_lynkr_signature",
    "is_reasoning_model",
    "needs_reasoning_history",
    "output_limit",
    "parse_arguments",
    "parse_model_limits",
    "parse_model_reasoning",
    "takes_reasoning_effort",
    "target_context_window",
    "target_output_limit",
    "to_openai",
    "translate_request",
    "translate_stream",
    "upstream_tool_name",
]
