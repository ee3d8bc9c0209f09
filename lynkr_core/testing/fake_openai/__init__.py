"""Scripted fakes of OpenAI-format chat completion upstreams, for tests.

`FakeOpenAI` is a small aiohttp server on 127.0.0.1 that speaks the Chat Completions
wire format of one provider ("dialect"): OpenAI itself, Azure OpenAI, Databricks model
serving, OpenRouter or llama.cpp's llama-server. Each dialect has its own paths, auth
header, error envelope, ids and stream quirks (Azure's prompt-filter chunk, OpenRouter's
SSE comments and HTTP-200 errors, Databricks' list content, llama.cpp's timings).
Chat calls are answered from a script of `ChatReply`, `ErrorReply` and `CutStream`
items; every request is recorded.

    async with FakeOpenAI([ChatReply("hi")], dialect="openrouter", api_key="k") as fake:
        ...  # POST fake.base_url + "/api/v1/chat/completions"
        assert fake.chat_requests[0].json["model"] == "anthropic/claude-sonnet-4.5"

The server plumbing (lifecycle, recording, script) is `lynkr_core.testing.scripted`'s
`ScriptedServer`, shared with `fake_anthropic` and `fake_ollama`.

The package's modules, one job each: `replies` (the script items), `frames` (the
dialect-neutral wire pieces of a reply), `turn` (what one chat call is answered with),
`dialect` (the dialect interface, as OpenAI speaks it), `azure`, `bare`, `databricks`,
`openrouter` and `llamacpp` (the other dialects), `registry` (the dialects by name) and
`server` (`FakeOpenAI`).
"""

from lynkr_core.testing.fake_openai.azure import _FILTER_CATEGORIES as _FILTER_CATEGORIES
from lynkr_core.testing.fake_openai.azure import _Azure as _Azure
from lynkr_core.testing.fake_openai.azure import _azure_filter as _azure_filter
from lynkr_core.testing.fake_openai.azure import _azure_prompt_filter as _azure_prompt_filter
from lynkr_core.testing.fake_openai.bare import _Bare as _Bare
from lynkr_core.testing.fake_openai.databricks import (
    DATABRICKS_ERROR_CODES as DATABRICKS_ERROR_CODES,
)
from lynkr_core.testing.fake_openai.databricks import _Databricks as _Databricks
from lynkr_core.testing.fake_openai.dialect import _Dialect as _Dialect
from lynkr_core.testing.fake_openai.dialect import _Error as _Error
from lynkr_core.testing.fake_openai.frames import DONE_FRAME as DONE_FRAME
from lynkr_core.testing.fake_openai.frames import _databricks_reasoning as _databricks_reasoning
from lynkr_core.testing.fake_openai.frames import _tool_fragments as _tool_fragments
from lynkr_core.testing.fake_openai.frames import completion_message as completion_message
from lynkr_core.testing.fake_openai.frames import data_frame
from lynkr_core.testing.fake_openai.frames import stream_deltas as stream_deltas
from lynkr_core.testing.fake_openai.frames import usage_object as usage_object
from lynkr_core.testing.fake_openai.llamacpp import LLAMACPP_ERROR_TYPES as LLAMACPP_ERROR_TYPES
from lynkr_core.testing.fake_openai.llamacpp import _LlamaCpp as _LlamaCpp
from lynkr_core.testing.fake_openai.openrouter import OPENROUTER_COMMENT as OPENROUTER_COMMENT
from lynkr_core.testing.fake_openai.openrouter import _OpenRouter as _OpenRouter
from lynkr_core.testing.fake_openai.registry import _DIALECT_CLASSES as _DIALECT_CLASSES
from lynkr_core.testing.fake_openai.registry import DIALECTS
from lynkr_core.testing.fake_openai.replies import ChatReply, CutStream, ErrorReply, ToolCallSpec
from lynkr_core.testing.fake_openai.replies import ScriptItem as ScriptItem
from lynkr_core.testing.fake_openai.server import FakeOpenAI
from lynkr_core.testing.fake_openai.turn import _reply_usage as _reply_usage
from lynkr_core.testing.fake_openai.turn import _Route as _Route
from lynkr_core.testing.fake_openai.turn import _Turn as _Turn
from lynkr_core.testing.fake_openai.turn import _wants_usage as _wants_usage
from lynkr_core.testing.scripted import RecordedRequest, ScriptedServer, send_frames
from lynkr_core.testing.scripted import count_input_tokens as count_input_tokens
from lynkr_core.testing.scripted import drop_connection as drop_connection
from lynkr_core.testing.scripted import dumps as dumps
from lynkr_core.testing.scripted import estimate_tokens as estimate_tokens
from lynkr_core.testing.scripted import json_response as json_response
from lynkr_core.testing.scripted import new_id as new_id
from lynkr_core.testing.scripted import pieces as pieces
from lynkr_core.testing.scripted import retry_after_header as retry_after_header
from lynkr_core.testing.scripted import wait_while_connected as wait_while_connected

__all__ = [
    "DIALECTS",
    "ChatReply",
    "CutStream",
    "ErrorReply",
    "FakeOpenAI",
    "RecordedRequest",
    "ScriptedServer",
    "ToolCallSpec",
    "data_frame",
    "send_frames",
]
