"""The reasoning of an earlier assistant turn, sent back as the upstream takes it.

Only thinking blocks lynkr vouches for (``thinking.ThinkingSigner.verify``) get
here. Each provider has its own field:

- OpenAI-compatible servers with a thinking mode (DeepSeek, Kimi, vLLM, llama.cpp):
  ``reasoning_content``, the text. DeepSeek refuses an assistant turn with tool
  calls that lacks the field, so such a turn gets it even when no vouched
  reasoning is left (empty: the reasoning was lost, not forged);
- OpenRouter: ``reasoning_details`` as it gave them (signed text, encrypted data),
  when they came from OpenRouter, and ``reasoning``, the text;
- Databricks (Claude): a ``reasoning`` content part with Claude's signature, only
  for reasoning that came from Databricks with one (Claude checks it).
"""

from __future__ import annotations

from msgspec import UNSET

from lynkr_core.translate.options import TargetOptions
from lynkr_core.translate.thinking import Vouched
from lynkr_core.wire import openai

__all__ = ["reasoning_back"]


def reasoning_back(
    message: openai.ChatMessage, thoughts: list[Vouched], target: TargetOptions, provider: str
) -> None:
    """Put ``thoughts`` (the vouched thinking of the assistant turn ``message``, in order)
    on ``message`` as ``target``'s upstream takes them; ``provider`` is the provider the
    request goes to (an upstream's own signatures and details go back only to it)."""
    text = "\n\n".join(thought.text for thought in thoughts if thought.text)
    if target.reasoning == "databricks":
        summary = [
            openai.SummaryText(text=thought.text, signature=thought.signature)
            for thought in thoughts
            if thought.signature and thought.provider == provider
        ]
        if summary:
            parts: list[openai.ContentPart] = [openai.ReasoningContentPart(summary=summary)]
            if isinstance(message.content, str) and message.content:
                parts.append(openai.TextPart(text=message.content))
            message.content = parts
        return
    if target.reasoning == "openrouter":
        details = [item for thought in thoughts if thought.provider == provider for item in thought.details]
        if details:
            message.reasoning_details = details
        if text:
            message.reasoning = text
        return
    if text or message.tool_calls is not UNSET:
        message.reasoning_content = text
