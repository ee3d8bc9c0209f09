"""The conversation of an Anthropic Messages request as OpenAI chat messages.

The conversation is rebuilt so that the upstream never rejects it: one
leading system message, and every assistant ``tool_calls`` message followed
by exactly one tool message per call. Content the target cannot take is
dropped, and each drop that changes the answer is reported through ``warn``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from msgspec import UNSET

from lynkr_core.translate.caching import cache_control, takes_breakpoints
from lynkr_core.translate.models import needs_reasoning_history
from lynkr_core.translate.options import TargetOptions, Warn
from lynkr_core.translate.reasoning_history import reasoning_back
from lynkr_core.translate.thinking import ThinkingSigner, Vouched, is_lynkr_signature
from lynkr_core.translate.tool_names import ToolNames
from lynkr_core.wire import anthropic, openai

log = structlog.get_logger("lynkr.translate")

#: The content of the tool message added for a call the client did not answer.
NO_RESULT = "[no result: the call was not answered]"
#: What stands in a tool message for an image it cannot carry.
IMAGE_OMITTED = "[image omitted]"
#: A block naming a deferred tool that tool search loaded (Anthropic's advanced tool use).
TOOL_REFERENCE = "tool_reference"


class ConversationTranslator:
    """Rebuilds the message list, pairing tool calls with their results.

    One instance per request: ``translate`` gives the OpenAI messages.
    """

    def __init__(
        self,
        target: TargetOptions,
        warn: Warn,
        names: ToolNames | None = None,
        signer: ThinkingSigner | None = None,
    ) -> None:
        self.target = target
        self.warn = warn
        #: Checks the thinking blocks of assistant turns: only lynkr's own go back upstream,
        #: and only to a model that wants its reasoning back (``reasoning_history``).
        self.signer = signer
        self.reasoning_history = signer is not None and needs_reasoning_history(target)
        #: Tool names as the upstream takes them (``tool_names``); the calls in the
        #: history are sent under the same names as the tools.
        self.names = names if names is not None else ToolNames()
        self.system: list[openai.TextPart] = []
        #: Whether the client's ``cache_control`` breakpoints go upstream (``caching``).
        self.breakpoints = takes_breakpoints(target)
        self.messages: list[openai.ChatMessage] = []
        # The calls of the last assistant message, until a user message answers them.
        self.pending: list[openai.ToolCall] = []

    def translate(
        self, messages: list[anthropic.Message], system: str | list[openai.TextPart]
    ) -> list[openai.ChatMessage]:
        """The whole conversation, with the system prompt (a text, or its parts with their
        breakpoints) and every system message folded into one leading system message."""
        if isinstance(system, str):
            system = [openai.TextPart(text=system)] if system else []
        self.system.extend(system)
        for message in messages:
            if message.role == "assistant":
                self._assistant(message)
            elif message.role == "system":
                self._system(message)
            else:
                if message.role != "user":
                    self.warn(f"message role {message.role!r} sent as user")
                self._user(message)
        self._answer_pending({})
        if self.system:
            content = _system_content(self.system, self.breakpoints)
            head = openai.ChatMessage(role="system", content=content)
            return [head, *self.messages]
        return self.messages

    def _system(self, message: anthropic.Message) -> None:
        texts = [b.text for b in message.blocks() if isinstance(b, anthropic.TextBlock)]
        text = "\n\n".join(t for t in texts if t)
        if text:
            self.system.append(openai.TextPart(text=text))

    def _assistant(self, message: anthropic.Message) -> None:
        self._answer_pending({})
        texts: list[str] = []
        calls: list[openai.ToolCall] = []
        thoughts: list[Vouched] = []
        for block in message.blocks():
            if isinstance(block, anthropic.TextBlock):
                texts.append(block.text)
            elif isinstance(block, anthropic.ToolUseBlock):
                calls.append(_tool_call(block, self.names))
            elif isinstance(block, anthropic.ThinkingBlock) and self.reasoning_history:
                vouched = self._vouched(block)
                if vouched is not None:
                    thoughts.append(vouched)
            elif isinstance(block, anthropic.ThinkingBlock | anthropic.RedactedThinkingBlock):
                log.debug("translate_dropped", block=_block_kind(block))
            else:
                self.warn(f"dropped assistant content block {_block_kind(block)!r}")
        content = "".join(texts) or None
        if content is None and not calls:
            log.debug("translate_dropped", message="empty assistant message")
            return
        message_out = openai.ChatMessage(role="assistant", content=content, tool_calls=calls or UNSET)
        if self.reasoning_history:
            assert self.signer is not None
            reasoning_back(message_out, thoughts, self.target, self.signer.provider)
        self.messages.append(message_out)
        self.pending = calls

    def _vouched(self, block: anthropic.ThinkingBlock) -> Vouched | None:
        """What lynkr's signature on ``block`` vouches for; ``None`` (and a debug line) for a
        block lynkr did not sign or that was changed since: it is dropped."""
        assert self.signer is not None
        vouched = self.signer.verify(block.thinking, block.signature)
        if vouched is None:
            foreign = "foreign" if not is_lynkr_signature(block.signature) else "tampered"
            log.debug("translate_dropped", block="thinking", reason=f"{foreign} signature")
        return vouched

    def _user(self, message: anthropic.Message) -> None:
        if isinstance(message.content, str):
            self._answer_pending({})
            self.messages.append(openai.ChatMessage(role="user", content=message.content))
            return
        expected = {call.id for call in self.pending}
        answers: dict[str, anthropic.ToolResultBlock] = {}
        parts: list[openai.ContentPart] = []
        for block in message.blocks():
            if isinstance(block, anthropic.ToolResultBlock):
                if block.tool_use_id in expected and block.tool_use_id not in answers:
                    answers[block.tool_use_id] = block
                else:
                    parts.extend(self._orphan_result(block))
            else:
                parts.extend(self._marked(self._user_parts(block), block))
        self._answer_pending(answers)
        if parts:
            self.messages.append(
                openai.ChatMessage(role="user", content=_user_content(parts, self.breakpoints))
            )

    def _answer_pending(self, answers: dict[str, anthropic.ToolResultBlock]) -> None:
        """One tool message per pending call, in call order, then the images the
        results carried (a tool message takes text only) in one user message."""
        images: list[openai.ContentPart] = []
        for call in self.pending:
            result = answers.get(call.id)
            if result is None:
                self.warn(f"tool call {call.id} was not answered: sent a placeholder result")
                text = NO_RESULT
            else:
                text, result_images = self._result_content(result)
                if result_images:
                    images.append(openai.TextPart(text=f"Images from the result of {call.id}:"))
                    images.extend(result_images)
            self.messages.append(
                openai.ChatMessage(
                    role="tool", content=self._tool_content(text, result), tool_call_id=call.id
                )
            )
        self.pending = []
        if images:
            self.messages.append(openai.ChatMessage(role="user", content=images))

    def _marked(self, parts: list[openai.ContentPart], block: object) -> list[openai.ContentPart]:
        """``parts`` with ``block``'s breakpoint on the last text part, for a target that
        takes breakpoints."""
        marker = cache_control(block) if self.breakpoints else None
        if marker is not None and parts and isinstance(parts[-1], openai.TextPart):
            parts[-1].cache_control = marker
        return parts

    def _tool_content(
        self, text: str, result: anthropic.ToolResultBlock | None
    ) -> str | list[openai.ContentPart]:
        """A tool message's content: its text; for a target that takes breakpoints, one
        text part, marked when the result carries one (Claude Code marks the latest result)."""
        if not self.breakpoints:
            return text
        marker = cache_control(result) if result is not None else None
        return [openai.TextPart(text=text, cache_control=marker or UNSET)]

    def _orphan_result(self, block: anthropic.ToolResultBlock) -> list[openai.ContentPart]:
        """A tool result that answers no call of the preceding assistant message, as user text."""
        self.warn(
            f"tool result for {block.tool_use_id} answers no preceding tool call: sent as text"
        )
        text, images = self._result_content(block)
        return [openai.TextPart(text=f"[tool result for {block.tool_use_id}]: {text}"), *images]

    def _result_content(
        self, block: anthropic.ToolResultBlock
    ) -> tuple[str, list[openai.ContentPart]]:
        """A tool result's text (images replaced by a marker) and its images as parts."""
        texts: list[str] = []
        images: list[openai.ContentPart] = []
        if isinstance(block.content, str):
            texts.append(block.content)
        elif isinstance(block.content, list):
            for raw in block.content:
                item = anthropic.decode_block(raw)
                if isinstance(item, anthropic.ImageBlock):
                    texts.append(IMAGE_OMITTED)
                    part = self._image(item, placeholder=False)
                    if part is not None:
                        images.append(part)
                elif isinstance(item, anthropic.TextBlock):
                    texts.append(item.text)
                else:
                    texts.extend(
                        p.text for p in self._user_parts(item) if isinstance(p, openai.TextPart)
                    )
        text = "\n".join(texts)
        if block.is_error is True and not text.startswith("Error:"):
            text = f"Error: {text}" if text else "Error"
        return text, images

    def _user_parts(
        self, block: anthropic.ContentBlock | dict[str, Any]
    ) -> list[openai.ContentPart]:
        """A user content block (not a tool result) as content parts."""
        if isinstance(block, anthropic.TextBlock):
            return [openai.TextPart(text=block.text)]
        if isinstance(block, anthropic.ImageBlock):
            part = self._image(block, placeholder=True)
            return [] if part is None else [part]
        if isinstance(block, anthropic.DocumentBlock):
            text = self._document_text(block)
            return [] if text is None else [openai.TextPart(text=text)]
        if isinstance(block, anthropic.SearchResultBlock):
            return [openai.TextPart(text=_search_result_text(block))]
        if isinstance(block, anthropic.ThinkingBlock | anthropic.RedactedThinkingBlock):
            log.debug("translate_dropped", block=_block_kind(block))
            return []
        if isinstance(block, dict) and block.get("type") == TOOL_REFERENCE:
            return [openai.TextPart(text=_tool_reference_text(block))]
        self.warn(f"dropped user content block {_block_kind(block)!r}")
        return []

    def _image(
        self, block: anthropic.ImageBlock, *, placeholder: bool
    ) -> openai.ContentPart | None:
        """An image part; ``None`` (and a warning) when it cannot be sent. With
        ``placeholder``, an image the target does not accept becomes a text part."""
        source = block.source
        if isinstance(source, anthropic.FileSource):
            self.warn("dropped an image given as a Files API file_id")
            return None
        media_type = source.media_type if isinstance(source, anthropic.Base64Source) else "url"
        if not self.target.images:
            self.warn("image omitted: the target does not accept images")
            return openai.TextPart(text=f"[image omitted: {media_type}]") if placeholder else None
        if isinstance(source, anthropic.Base64Source):
            url = f"data:{source.media_type};base64,{source.data}"
        else:
            url = source.url
        return openai.ImagePart(image_url=openai.ImageUrl(url=url))

    def _document_text(self, block: anthropic.DocumentBlock) -> str | None:
        """A text document's text, headed by its title; ``None`` (and a warning) otherwise."""
        source = block.source
        if isinstance(source, anthropic.TextSource):
            text = source.data
        elif isinstance(source, anthropic.ContentSource):
            text = _blocks_text(source.content)
        else:
            if isinstance(source, anthropic.Base64Source):
                kind = source.media_type
            else:
                kind = "url" if isinstance(source, anthropic.UrlSource) else "file"
            self.warn(f"dropped a document ({kind}): only text documents can be sent")
            return None
        return f"{block.title}\n\n{text}" if block.title else text


def _tool_call(block: anthropic.ToolUseBlock, names: ToolNames) -> openai.ToolCall:
    """A tool_use block as an OpenAI tool call (arguments as a JSON string)."""
    arguments = msgspec.json.encode({} if block.input is None else block.input).decode()
    return openai.ToolCall(
        id=block.id, function=openai.FunctionCall(name=names.add(block.name), arguments=arguments)
    )


def _user_content(
    parts: list[openai.ContentPart], breakpoints: bool = False
) -> str | list[openai.ContentPart]:
    """A single text part as a plain string, anything else as a list of parts. For a target
    that takes breakpoints always a list: a message keeps its bytes when the client's
    breakpoint moves on to a later one (a cached prefix would end there otherwise)."""
    if len(parts) == 1 and isinstance(parts[0], openai.TextPart) and not breakpoints:
        return parts[0].text
    return parts


def _system_content(
    parts: list[openai.TextPart], breakpoints: bool = False
) -> str | list[openai.ContentPart]:
    """The leading system message's content: the texts joined by blank lines, or, for a
    target that takes breakpoints, the parts themselves."""
    if breakpoints:
        return list(parts)
    return "\n\n".join(part.text for part in parts)


def _blocks_text(content: str | list[msgspec.Raw]) -> str:
    """The text of a string or of the text blocks of a list of raw blocks."""
    if isinstance(content, str):
        return content
    blocks = (anthropic.decode_block(raw) for raw in content)
    return "\n".join(b.text for b in blocks if isinstance(b, anthropic.TextBlock))


def _tool_reference_text(block: dict[str, Any]) -> str:
    """A ``tool_reference`` (a deferred tool the client's tool search loaded; Claude Code's
    ToolSearch answers with them) as text: the tool itself arrives in the request's tools."""
    return f"[tool loaded: {block.get('tool_name')}]"


def _search_result_text(block: anthropic.SearchResultBlock) -> str:
    """A search result as text: title, source, then its text."""
    return f"{block.title}\n{block.source}\n\n{_blocks_text(block.content)}"


def _block_kind(block: Any) -> str:
    """The ``type`` of a typed or unknown content block."""
    if isinstance(block, dict):
        return str(block.get("type"))
    return str(type(block).__struct_config__.tag)
