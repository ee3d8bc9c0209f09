"""Recognising an upstream's "the prompt does not fit the context window" error.

Every server words it its own way; Claude Code compacts its conversation
only on Anthropic's wording (``prompt is too long: N tokens > M maximum``),
so each must be recognised and reworded (``lynkr_core.errors.PromptTooLong``).
Known forms, with the numbers taken from them:

- Anthropic: ``prompt is too long: 40000 tokens > 32768 maximum``, and the older
  ``input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000``;
- OpenAI, Azure OpenAI, DeepSeek, vLLM, OpenRouter (code ``context_length_exceeded``):
  ``This model's maximum context length is 8192 tokens. However, your messages
  resulted in 9000 tokens`` / ``you requested (about) 9000 tokens``; vLLM's newer
  ``... maximum context length is 4096 tokens and your request has 3500 input tokens``
  and ``The decoder prompt (length 5000) is longer than the maximum model length of 4096``;
- llama.cpp (type ``exceed_context_size_error``, with ``n_prompt_tokens`` and
  ``n_ctx`` beside the message): ``request (4476 tokens) exceeds the available
  context size (4096 tokens)``, older builds without the numbers;
- Gemini: ``The input token count (1200000) exceeds the maximum number of tokens
  allowed (1048576)``; Mistral: ``Prompt contains 40000 tokens ... too large for model
  with 32768 maximum context length``; TGI: ``... must be <= 4096. Given: 4000 `inputs`
  tokens and 1000 `max_new_tokens```; LM Studio: ``... keep the first 9000 tokens ...
  context length of only 8192 tokens``;
- without numbers: Ollama's ``input length exceeds the context length``, OpenAI's
  ``Your input exceeds the context window of this model``, Bedrock's ``Input is too
  long for requested model``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

#: Error codes and types that always mean the context window was exceeded.
OVERFLOW_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error"})


@dataclass(frozen=True, slots=True)
class Overflow:
    """A context-window error: the prompt's tokens and the window, where the upstream said."""

    tokens: int | None = None
    maximum: int | None = None


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I | re.S)


# (pattern, group of the tokens, group of the maximum, groups added to the tokens)
_WITH_NUMBERS: tuple[tuple[re.Pattern[str], int | None, int | None, tuple[int, ...]], ...] = (
    (_p(r"prompt is too long:\D*?(\d+) tokens? > (\d+)"), 1, 2, ()),
    (_p(r"exceed context limit: (\d+) \+ (\d+) > (\d+)"), None, 3, (1, 2)),
    (_p(r"maximum context length is (\d+) tokens.*?(?:resulted in|requested(?: about)?) (\d+) tokens"), 2, 1, ()),
    (_p(r"too large: (\d+)\..*?maximum context length is (\d+) tokens.*?has (\d+) input tokens"), None, 2, (3, 1)),
    (_p(r"maximum context length is (\d+) tokens"), None, 1, ()),
    (_p(r"prompt \(length (\d+)\) is longer than the maximum model length of (\d+)"), 1, 2, ()),
    (_p(r"input prompt \((\d+) tokens\) is too long and exceeds limit of (\d+)"), 1, 2, ()),
    (_p(r"request \((\d+) tokens\) exceeds the available context size \((\d+) tokens\)"), 1, 2, ()),
    (_p(r"input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)"), 1, 2, ()),
    (_p(r"prompt contains (\d+) tokens.*?too large for model with (\d+) maximum context length"), 1, 2, ()),
    (_p(r"must be <= (\d+)\. given: (\d+) `inputs` tokens and (\d+) `max_new_tokens`"), None, 1, (2, 3)),
    (_p(r"keep the first (\d+) tokens.*?context length of only (\d+) tokens"), 1, 2, ()),
)

_WITHOUT_NUMBERS = _p(
    r"context[ _-]length[ _-]exceeded"
    r"|exceeds? (?:the |its )?(?:available |maximum |model'?s? )*context (?:length|size|window)"
    r"|context window (?:is )?(?:full|exceeded)"
    r"|prompt (?:is )?too long"
    r"|input is too long for"
)


def find_overflow(message: str, *codes: object) -> Overflow | None:
    """The ``Overflow`` an error ``message`` (with its ``codes``: the upstream's error
    code and type) reports, ``None`` when it is another error."""
    for pattern, tokens_group, maximum_group, summed in _WITH_NUMBERS:
        match = pattern.search(message)
        if match is None:
            continue
        tokens = int(match.group(tokens_group)) if tokens_group else None
        if summed:
            tokens = sum(int(match.group(group)) for group in summed)
        return Overflow(tokens, int(match.group(maximum_group)) if maximum_group else None)
    if any(isinstance(code, str) and code.lower() in OVERFLOW_CODES for code in codes):
        return Overflow()
    if _WITHOUT_NUMBERS.search(message):
        return Overflow()
    return None


def find_overflow_in_body(body: bytes) -> Overflow | None:
    """The ``Overflow`` an HTTP error body reports, in any of the error envelopes
    (OpenAI's, Anthropic's, OpenRouter's with its ``metadata.raw``, Databricks',
    Ollama's, llama.cpp's with ``n_prompt_tokens`` and ``n_ctx``)."""
    try:
        data = msgspec.json.decode(body.decode("utf-8", errors="replace"))
    except (msgspec.DecodeError, RecursionError):
        return find_overflow(body[:2000].decode("utf-8", errors="replace"))
    if not isinstance(data, dict):
        return None
    error: Any = data.get("error")
    if isinstance(error, str):  # Ollama
        return find_overflow(error)
    if isinstance(error, dict):
        found = find_overflow(_error_text(error), error.get("code"), error.get("type"))
        if found is None:
            return None
        tokens, maximum = error.get("n_prompt_tokens"), error.get("n_ctx")  # llama.cpp
        return Overflow(
            found.tokens if found.tokens is not None else _count(tokens),
            found.maximum if found.maximum is not None else _count(maximum),
        )
    return find_overflow(str(data.get("message") or ""), data.get("error_code"))  # Databricks


def _error_text(error: dict[str, Any]) -> str:
    """An error object's message, with OpenRouter's provider message (``metadata.raw``)."""
    message = str(error.get("message") or "")
    metadata = error.get("metadata")
    raw = metadata.get("raw") if isinstance(metadata, dict) else None
    return f"{message} {raw}" if isinstance(raw, str) else message


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
