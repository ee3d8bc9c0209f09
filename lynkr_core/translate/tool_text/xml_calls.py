"""Reading calls printed as XML-like tags: Qwen3-Coder ``<parameter=...>`` and GLM ``<arg_key>``."""

from __future__ import annotations

import re
from typing import Any

from lynkr_core.translate.pieces import ToolCallPiece
from lynkr_core.translate.tool_text.markers import FUNCTION_END
from lynkr_core.translate.tool_text.tools import DeclaredTools
from lynkr_core.translate.tool_text.typed_values import typed

FUNCTION_HEAD = re.compile(r"<function=(?P<name>[^>\n]*)>")
_SPACE = re.compile(r"\s*")
_PARAMETER = re.compile(
    r"<parameter=(?P<key>[^>\n]*)>(?P<value>.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.S
)
_GLM_NAME = re.compile(r"(?P<name>[^\s<]+)\s*")
_GLM_PAIR = re.compile(
    r"<arg_key>(?P<key>.*?)</arg_key>\s*<arg_value>(?P<value>.*?)</arg_value>\s*", re.S
)


def qwen_calls(text: str, tools: DeclaredTools) -> list[ToolCallPiece] | None:
    """``<function=Name><parameter=key>value</parameter>...</function>``, one or more."""
    calls: list[ToolCallPiece] = []
    i = 0
    while i < len(text):
        head = FUNCTION_HEAD.match(text, i)
        close = text.find(FUNCTION_END, head.end()) if head else -1
        if head is None or close < 0:
            return None
        name = tools.resolve(head.group("name").strip())
        arguments = _qwen_parameters(text[head.end() : close], name, tools)
        if name is None or arguments is None:
            return None
        calls.append(ToolCallPiece(name=name, arguments=arguments))
        i = _SPACE.match(text, close + len(FUNCTION_END)).end()
    return calls or None


def _qwen_parameters(body: str, tool: str | None, tools: DeclaredTools) -> dict[str, Any] | None:
    """The ``<parameter=key>value</parameter>`` pairs of a Qwen3 function body."""
    arguments: dict[str, Any] = {}
    i = _SPACE.match(body).end()
    while i < len(body):
        parameter = _PARAMETER.match(body, i)
        if parameter is None or tool is None:
            return None
        key = parameter.group("key").strip()
        arguments[key] = typed(_strip_newline(parameter.group("value")), tools, tool, key)
        i = _SPACE.match(body, parameter.end()).end()
    return arguments


def glm_calls(content: str, tools: DeclaredTools) -> list[ToolCallPiece] | None:
    """``Name<arg_key>key</arg_key><arg_value>value</arg_value>...`` (GLM-4.5) as one call."""
    head = _GLM_NAME.match(content)
    name = tools.resolve(head.group("name")) if head else None
    if head is None or name is None:
        return None
    arguments: dict[str, Any] = {}
    i = head.end()
    while i < len(content):
        pair = _GLM_PAIR.match(content, i)
        if pair is None:
            return None
        key = pair.group("key").strip()
        arguments[key] = typed(_strip_newline(pair.group("value")), tools, name, key)
        i = pair.end()
    return [ToolCallPiece(name=name, arguments=arguments)]


def _strip_newline(value: str) -> str:
    """``value`` without one leading and one trailing newline."""
    for newline in ("\r\n", "\n"):
        if value.startswith(newline):
            value = value[len(newline) :]
            break
    for newline in ("\r\n", "\n"):
        if value.endswith(newline):
            value = value[: -len(newline)]
            break
    return value
