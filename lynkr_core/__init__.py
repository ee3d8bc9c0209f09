"""lynkr: a Claude Code-compatible gateway, built as a plugin framework.

What plugins may import is exported here; everything else in ``lynkr_core``
is internal and may change.
"""

from lynkr_core import translate
from lynkr_core.accumulate import MessageAccumulator
from lynkr_core.anthropic_thinking import without_foreign_thinking
from lynkr_core.background import BackgroundQueue, QueueStatus, background_queues
from lynkr_core.breaker import CircuitOpen, CircuitState
from lynkr_core.config import ConfigError, Settings
from lynkr_core.context import RequestContext
from lynkr_core.contracts import (
    Command,
    EmbeddingRequest,
    Embeddings,
    ExchangeObserver,
    ExtraRoute,
    Finding,
    HealthCheck,
    Provider,
    RequestPreparer,
    SettingHelp,
)
from lynkr_core.egress import EgressPolicy, UrlRefused, is_loopback
from lynkr_core.embeddings import openai_embeddings
from lynkr_core.errors import (
    AuthenticationFailed,
    ContextOverflow,
    InvalidRequest,
    LynkrError,
    NotFound,
    PermissionDenied,
    PromptTooLong,
    RateLimited,
    RequestTooLarge,
    UpstreamError,
    error_type_for_status,
    status_for_error_type,
)
from lynkr_core.exchange import Attempt, Exchange, Step, ToolCallRecord
from lynkr_core.hookspecs import hookimpl, hookspec
from lynkr_core.http import provider_timeout
from lynkr_core.interceptors import CompleteNext, Interceptor, StreamNext
from lynkr_core.middleware import api_key_id
from lynkr_core.openai_chat import OpenAIChatProvider
from lynkr_core.plugins import HookCall
from lynkr_core.policy import Denial, Permit, Policy
from lynkr_core.services import ModelClient, Services
from lynkr_core.shedding import LoadStatus
from lynkr_core.sqlite import insert_rows, open_sqlite, write_transaction
from lynkr_core.stores import SessionStore, SessionSummary, StoredExchange
from lynkr_core.streams import EventTap, message_events, message_frames, message_from_frames, tap
from lynkr_core.tools import (
    GUARDED_ACTIONS,
    Tool,
    ToolCall,
    ToolContext,
    ToolEffects,
    ToolError,
    ToolLedger,
    ToolResult,
    ToolSource,
    input_schema,
)
from lynkr_core.translate import TargetOptions, Translated
from lynkr_core.upstream import error_from_exception, error_from_response, retry_after
from lynkr_core.wire import anthropic, events, openai
from lynkr_core.wire.sse import ServerSentEvent, SSEParser
from lynkr_core.workspace import OutsideWorkspace, confine

__version__ = "0.1.0"

__all__ = [
    "GUARDED_ACTIONS",
    "Attempt",
    "AuthenticationFailed",
    "BackgroundQueue",
    "CircuitOpen",
    "CircuitState",
    "Command",
    "CompleteNext",
    "ConfigError",
    "ContextOverflow",
    "Denial",
    "EgressPolicy",
    "EmbeddingRequest",
    "Embeddings",
    "EventTap",
    "Exchange",
    "ExchangeObserver",
    "ExtraRoute",
    "Finding",
    "HealthCheck",
    "HookCall",
    "Interceptor",
    "InvalidRequest",
    "LoadStatus",
    "LynkrError",
    "MessageAccumulator",
    "ModelClient",
    "NotFound",
    "OpenAIChatProvider",
    "OutsideWorkspace",
    "PermissionDenied",
    "Permit",
    "Policy",
    "PromptTooLong",
    "Provider",
    "QueueStatus",
    "RateLimited",
    "RequestContext",
    "RequestPreparer",
    "RequestTooLarge",
    "SSEParser",
    "ServerSentEvent",
    "Services",
    "SessionStore",
    "SessionSummary",
    "SettingHelp",
    "Settings",
    "Step",
    "StoredExchange",
    "StreamNext",
    "TargetOptions",
    "Tool",
    "ToolCall",
    "ToolCallRecord",
    "ToolContext",
    "ToolEffects",
    "ToolError",
    "ToolLedger",
    "ToolResult",
    "ToolSource",
    "Translated",
    "UpstreamError",
    "UrlRefused",
    "__version__",
    "anthropic",
    "api_key_id",
    "background_queues",
    "confine",
    "error_from_exception",
    "error_from_response",
    "error_type_for_status",
    "events",
    "hookimpl",
    "hookspec",
    "input_schema",
    "insert_rows",
    "is_loopback",
    "message_events",
    "message_frames",
    "message_from_frames",
    "open_sqlite",
    "openai",
    "openai_embeddings",
    "provider_timeout",
    "retry_after",
    "status_for_error_type",
    "tap",
    "translate",
    "without_foreign_thinking",
    "write_transaction",
]
