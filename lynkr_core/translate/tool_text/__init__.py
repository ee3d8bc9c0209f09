"""Tool calls that local models print as text, recognised while the text streams.

Small models served by Ollama or llama.cpp often write a tool call into their
answer text instead of returning a structured call. ``TextToolCallExtractor``
finds the common forms and gives them back as ``ToolCallPiece``s:

1. Hermes / Qwen2.5: ``<tool_call>{"name": "Bash", "arguments": {...}}</tool_call>``
   (the closing tag may be missing at the end of the message).
2. A bare JSON call object, or a list of them, that is the whole message,
   optionally in a ```` ```json ```` fence. ``"parameters"`` may stand for
   ``"arguments"`` (Llama 3.x), and the arguments may be a JSON string.
3. Llama 3.1: ``<function=Write>{"file_path": "/x"}</function>``.
4. Mistral: ``[TOOL_CALLS] [{"name": ..., "arguments": {...}}]`` and
   ``[TOOL_CALLS]Bash[ARGS]{...}`` (optionally ``[CALL_ID]id`` before ``[ARGS]``).
5. Qwen3-Coder: ``<tool_call><function=Write><parameter=file_path>/x</parameter>
   </function></tool_call>``.
6. GLM-4.5: ``<tool_call>Write<arg_key>file_path</arg_key><arg_value>/x</arg_value>
   </tool_call>``.

A call counts only when its name is one of the declared tools (exactly, or
else case-insensitively when that picks out one tool) and its arguments are a
JSON object. Everything else is given back as ``TextPiece``s, byte for byte,
with one exception: whitespace-only text between two calls, or between a call
and the start or end of the message, is dropped (it would make an empty text
block).

Text is given back as soon as it cannot be part of a call; only text from a
possible start of a call (``<tool_call>``, ``<function=``, ``[TOOL_CALLS]``, or
``{``, ``[``, a fence as the first thing in the message) is held back, and for
at most ``MAX_CANDIDATE`` characters. Every decision depends on the text only,
never on how it was split into fragments, so feeding fragments then calling
``finish`` gives the same pieces as ``extract_tool_calls`` on the whole text.

The package's modules, one job each: ``extractor`` (the streaming extractor
and the public API), ``markers`` (finding where a call may start),
``scanners`` (finding where a piece of structure ends, fed in fragments),
``candidates`` and ``whole_message`` (one class per form, from its start to
its end), ``json_calls`` and ``xml_calls`` (reading the calls out of a
candidate's text), ``json_text`` (lenient JSON decoding), ``typed_values``
(typing XML parameter values with the tool's schema) and ``tools`` (the
declared tools).
"""

from lynkr_core.translate.tool_text.extractor import (
    MAX_CANDIDATE,
    TextToolCallExtractor,
    extract_tool_calls,
    extractor_factory,
)

__all__ = [
    "MAX_CANDIDATE",
    "TextToolCallExtractor",
    "extract_tool_calls",
    "extractor_factory",
]
