"""lynkr: a Claude Code-compatible gateway, built as a plugin framework.

What plugins may import is exported here; everything else in ``lynkr_core``
is internal and may change.
"""

from lynkr_core import translate
from lynkr_core.config import ConfigError, Settings
from lynkr_core.contracts import (
    Command,
    Denial,
    Exchange,
    ExtraRoute,
    HealthCheck,
    Permit,
    Policy,
    Provider,
    RequestContext,
    RequestPreparer,
)
from lynkr_core.egress import EgressPolicy, UrlRefused
from lynkr_core.errors import (
    AuthenticationFailed,
    InvalidRequest,
    LynkrError,
    NotFound,
    PermissionDenied,
    RequestTooLarge,
    UpstreamError,
    error_type_for_status,
    status_for_error_type,
)
from lynkr_core.hookspecs import hookimpl
from lynkr_core.http import provider_timeout
from lynkr_core.openai_chat import OpenAIChatProvider
from lynkr_core.tools import (
    GUARDED_ACTIONS,
    Tool,
    ToolCall,
    ToolContext,
    ToolEffects,
    ToolError,
    ToolLedger,
    ToolResult,
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
    "AuthenticationFailed",
    "Command",
    "ConfigError",
    "Denial",
    "EgressPolicy",
    "Exchange",
    "ExtraRoute",
    "HealthCheck",
    "InvalidRequest",
    "LynkrError",
    "NotFound",
    "OpenAIChatProvider",
    "OutsideWorkspace",
    "PermissionDenied",
    "Permit",
    "Policy",
    "Provider",
    "RequestContext",
    "RequestPreparer",
    "RequestTooLarge",
    "SSEParser",
    "ServerSentEvent",
    "Settings",
    "TargetOptions",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolEffects",
    "ToolError",
    "ToolLedger",
    "ToolResult",
    "Translated",
    "UpstreamError",
    "UrlRefused",
    "__version__",
    "anthropic",
    "confine",
    "error_from_exception",
    "error_from_response",
    "error_type_for_status",
    "events",
    "hookimpl",
    "input_schema",
    "openai",
    "provider_timeout",
    "retry_after",
    "status_for_error_type",
    "translate",
]
