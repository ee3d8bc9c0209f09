"""Pure translation between the Anthropic Messages API and OpenAI Chat Completions.

No I/O here: providers call these functions at their edges.
``translate_request`` builds the upstream request for a ``TargetOptions``;
``from_openai`` turns a complete answer back into an Anthropic message;
``StreamTranslator`` and ``translate_stream`` do the same for a stream,
event by event.
"""

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.limits import clamp_max_tokens, output_limit
from lynkr_core.translate.models import is_claude_model, is_reasoning_model
from lynkr_core.translate.options import ReasoningStyle, TargetOptions, Warn, ignore_warning
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
from lynkr_core.translate.tool_text import (
    TextToolCallExtractor,
    extract_tool_calls,
    extractor_factory,
)

__all__ = [
    "MalformedArguments",
    "Piece",
    "ReasoningStyle",
    "StreamTranslator",
    "TargetOptions",
    "TextPiece",
    "TextToolCallExtractor",
    "ToolCallPiece",
    "ToolTextExtractor",
    "ToolTextFactory",
    "Translated",
    "Warn",
    "clamp_max_tokens",
    "clean_schema",
    "extract_tool_calls",
    "extractor_factory",
    "from_openai",
    "ignore_warning",
    "is_claude_model",
    "is_reasoning_model",
    "output_limit",
    "parse_arguments",
    "to_openai",
    "translate_request",
    "translate_stream",
]
