"""A Responses API request (``POST /v1/responses``, what the Codex CLI sends) translated into
the core's Messages request.

``input`` is a string or a list of items: messages (``input_text``,
``input_image``, ``output_text`` parts), ``function_call`` and
``function_call_output`` items, and ``reasoning`` items (sent back as
thinking when they carry the signature lynkr put in ``encrypted_content``).
``instructions`` become the system prompt; ``previous_response_id``'s
conversation is put in front by the route (``prepend``); function tools,
``tool_choice``, ``text.format``, ``reasoning.effort``,
``max_output_tokens`` and ``user`` map as in Chat Completions. Functions
inside ``namespace`` tool groups are offered flat (``function_namespaces``
says which group each came from, for the answer's calls). Tools of other
types (web search, file search...) are dropped: lynkr's own tools serve
those in server mode.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw

from lynkr_core.errors import InvalidRequest
from lynkr_core.openai_api import build
from lynkr_core.openai_api.decode import decode_body
from lynkr_core.wire import anthropic


class ReasoningIn(msgspec.Struct, kw_only=True):
    """``reasoning``: the effort, and whether a summary is wanted."""

    effort: str | None = None
    summary: str | None = None


class TextConfigIn(msgspec.Struct, kw_only=True):
    """``text``: the output ``format`` (``text``, ``json_object``, ``json_schema``)."""

    format: dict[str, Any] | None = None


class ResponsesRequestIn(msgspec.Struct, kw_only=True):
    """``POST /v1/responses`` as a client sends it (unknown fields are ignored)."""

    model: str
    input: str | list[dict[str, Any]] = ""
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    stream: bool | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    reasoning: ReasoningIn | None = None
    text: TextConfigIn | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None

    @property
    def stored(self) -> bool:
        """Whether the answer may be kept (``store`` defaults to true)."""
        return self.store is not False


_decoder = msgspec.json.Decoder(ResponsesRequestIn)


def decode_responses_request(body: bytes) -> ResponsesRequestIn:
    """Decode and check a Responses API body; ``InvalidRequest`` says what is wrong."""
    request = decode_body(body, _decoder)
    if not request.model.strip():
        raise InvalidRequest("model: must not be empty")
    return request


def response_echo(request: ResponsesRequestIn) -> dict[str, Any]:
    """The request's fields a response object repeats."""
    reasoning = request.reasoning or ReasoningIn()
    return {
        "instructions": request.instructions,
        "previous_response_id": request.previous_response_id,
        "store": request.stored,
        "tools": request.tools or [],
        "tool_choice": request.tool_choice if request.tool_choice is not None else "auto",
        "parallel_tool_calls": request.parallel_tool_calls is not False,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_output_tokens": request.max_output_tokens,
        "reasoning": {"effort": reasoning.effort, "summary": reasoning.summary},
        "text": {"format": request.text.format or {"type": "text"}} if request.text else {"format": {"type": "text"}},
        "user": request.user,
        "metadata": request.metadata or {},
    }


def to_messages_request(
    request: ResponsesRequestIn, prepend: list[anthropic.Message] | None = None
) -> anthropic.MessagesRequest:
    """The Messages request the pipeline runs for ``request``, after the turns of
    ``prepend`` (the conversation of ``previous_response_id``)."""
    conversation = build.Conversation()
    for message in prepend or ():
        conversation.add(message.role, _as_blocks(message.content))
    if request.instructions:
        conversation.add_system(request.instructions)
    _add_input(conversation, request.input)
    fields: dict[str, Any] = {}
    max_tokens = build.max_tokens_for(request.model, request.max_output_tokens, "max_output_tokens")
    tools = _tools(request.tools or [])
    if tools:
        fields["tools"] = tools
        choice = build.tool_choice(_choice(request.tool_choice), request.parallel_tool_calls, "tool_choice")
        if choice is not None:
            fields["tool_choice"] = choice
    if request.temperature is not None:
        fields["temperature"] = request.temperature
    if request.top_p is not None:
        fields["top_p"] = request.top_p
    if request.user:
        fields["metadata"] = anthropic.raw({"user_id": request.user})
    effort = request.reasoning.effort if request.reasoning is not None else None
    thinking = build.thinking_for(effort, max_tokens, "reasoning.effort")
    if thinking is not None:
        fields["thinking"] = thinking
    fmt = request.text.format if request.text is not None else None
    if fmt:
        kind = fmt.get("type")
        if kind == "json_object":
            conversation.add_system(build.JSON_OBJECT_INSTRUCTION)
        elif kind == "json_schema":
            fields["output_config"] = build.output_format("json_schema", fmt.get("schema"), "text.format")
        elif kind != "text":
            raise InvalidRequest(f"text.format.type: unknown format {kind!r}")
    system, messages = conversation.finish()
    return anthropic.MessagesRequest(
        model=request.model, messages=messages, max_tokens=max_tokens, system=system,
        stream=bool(request.stream), **fields,
    )


def _as_blocks(content: str | list[Raw]) -> list[Raw]:
    return [build.text_block(content)] if isinstance(content, str) else list(content)


def _choice(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """The Responses API names a forced function at the top level: ``{"type": "function", "name"}``."""
    if isinstance(choice, dict) and choice.get("type") not in (None, "function"):
        return "required"  # a hosted tool forced: some tool
    return choice


def function_namespaces(request: ResponsesRequestIn) -> dict[str, str]:
    """The namespace of each function offered inside a ``namespace`` tool group (Codex sends
    its sub-agent tools so), by function name; a top-level function of the same name wins."""
    top = {tool.get("name") for tool in request.tools or () if tool.get("type") == "function"}
    found: dict[str, str] = {}
    for group in request.tools or ():
        if group.get("type") != "namespace" or not isinstance(group.get("name"), str):
            continue
        for tool in group.get("tools") or ():
            name = tool.get("name") if isinstance(tool, dict) and tool.get("type") == "function" else None
            if isinstance(name, str) and name and name not in top:
                found.setdefault(name, group["name"])
    return found


def _tools(tools: list[dict[str, Any]]) -> list[Raw]:
    """The function tools, those of ``namespace`` groups flattened (the call names its
    namespace again on the way back); hosted tools are left out."""
    definitions: dict[str, Raw] = {}
    for index, tool in enumerate(tools):
        if tool.get("type") == "function":
            name = _name(tool, f"tools[{index}]")
            definitions[name] = _definition(name, tool)
    for index, group in enumerate(tools):
        if group.get("type") != "namespace" or not isinstance(group.get("tools"), list):
            continue
        for inner, tool in enumerate(group["tools"]):
            if isinstance(tool, dict) and tool.get("type") == "function":
                name = _name(tool, f"tools[{index}].tools[{inner}]")
                if name not in definitions:
                    definitions[name] = _definition(name, tool)
    return list(definitions.values())


def _name(tool: dict[str, Any], where: str) -> str:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"{where}.name: a function tool needs a name")
    return name


def _definition(name: str, tool: dict[str, Any]) -> Raw:
    parameters = tool.get("parameters")
    description = tool.get("description")
    return build.tool_definition(name, description if isinstance(description, str) else None,
                                 parameters if isinstance(parameters, dict) else None)


def _add_input(conversation: build.Conversation, items: str | list[dict[str, Any]]) -> None:
    if isinstance(items, str):
        if items:
            conversation.add("user", [build.text_block(items)])
        return
    for index, item in enumerate(items):
        where = f"input[{index}]"
        kind = item.get("type", "message")
        if kind == "message":
            _add_message(conversation, item, where)
        elif kind == "function_call":
            call_id, name = item.get("call_id"), item.get("name")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise InvalidRequest(f"{where}: a function_call needs call_id and name")
            arguments = item.get("arguments")
            block = build.tool_use_block(call_id, name, arguments if isinstance(arguments, str) else "", where)
            conversation.add("assistant", [block])
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str):
                raise InvalidRequest(f"{where}.call_id: a function_call_output needs the id of its call")
            conversation.add("user", [build.tool_result_block(call_id, _output_text(item.get("output"), where))])
        elif kind == "reasoning":
            block = _thinking(item)
            if block is not None:
                conversation.add("assistant", [block])
        else:
            raise InvalidRequest(f"{where}.type: input item {kind!r} is not supported")


def _add_message(conversation: build.Conversation, item: dict[str, Any], where: str) -> None:
    role = item.get("role")
    content = item.get("content")
    if role in ("system", "developer"):
        conversation.add_system(_output_text(content, where))
    elif role in ("user", "assistant"):
        conversation.add(role, _content_blocks(content, where))
    else:
        raise InvalidRequest(f"{where}.role: unknown role {role!r}")


def _content_blocks(content: Any, where: str) -> list[Raw]:
    if isinstance(content, str):
        return [build.text_block(content)] if content else []
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content: must be a string or a list of parts")
    blocks = []
    for index, part in enumerate(content):
        place = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            if part["text"]:
                blocks.append(build.text_block(part["text"]))
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            blocks.append(build.text_block(part["refusal"]))
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str):
                raise InvalidRequest(f"{place}.image_url: an input_image needs an image_url (file ids are not supported)")
            blocks.append(build.image_block(url, f"{place}.image_url"))
        else:
            raise InvalidRequest(f"{place}.type: content part {kind!r} is not supported")
    return blocks


def _output_text(output: Any, where: str) -> str:
    """A tool output or system content: a string, or the text of a list of text parts."""
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        texts = [p.get("text") for p in output if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(texts)
    raise InvalidRequest(f"{where}: expected text")


def _thinking(item: dict[str, Any]) -> Raw | None:
    """A reasoning item lynkr returned as a thinking block (its signature is in
    ``encrypted_content``); ``None`` for one without it (it cannot be sent back)."""
    signature = item.get("encrypted_content")
    if not isinstance(signature, str) or not signature:
        return None
    parts = item.get("content") or item.get("summary") or []
    text = "".join(p.get("text", "") for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
    return build.raw_block({"type": "thinking", "thinking": text, "signature": signature})
