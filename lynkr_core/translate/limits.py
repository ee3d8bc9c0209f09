"""Known context windows and maximum output tokens of model families, and the clamp
of ``max_tokens``.

Claude Code asks for 64000 (32000 for a model name it does not know); many
upstreams reject a ``max_tokens`` above their model's output limit, or above
what is left of the context window once the prompt is in, instead of lowering
it, so the translation clamps it to both. Only limits documented by the
model's vendor are listed; a model that is not listed is left as asked.
Settings win over the tables: a per-model entry (``ModelLimit``), then the
provider's ``context_window`` / ``max_output_tokens``.
"""

from __future__ import annotations

import re

from lynkr_core.translate.options import ModelLimit, TargetOptions

# A family name must start the model name or follow a separator, so that
# provider prefixes match ("openai/gpt-4o", "databricks-gpt-oss-120b",
# "anthropic.claude-opus-4-1-20250805-v1:0") and "chatgpt-4o" does not match "gpt-4o".
_START = r"(?:^|[/:._\-\s])"

#: (pattern, max output tokens), most specific first; the first match wins.
_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(_START + pattern), limit)
    for pattern, limit in (
        # OpenAI, "Max output tokens" on each model's page at platform.openai.com/docs/models
        (r"gpt-4o-2024-05-13", 4096),  # the first gpt-4o snapshot
        (r"(?:chat)?gpt-4o(?![0-9])", 16384),  # gpt-4o, gpt-4o-mini, chatgpt-4o-latest
        (r"gpt-4\.1(?![0-9])", 32768),  # gpt-4.1, -mini, -nano
        (r"gpt-4-turbo", 4096),
        (r"gpt-4-[0-9]{4}-preview", 4096),  # gpt-4-1106-preview, gpt-4-0125-preview
        (r"gpt-3\.5-turbo", 4096),
        (r"o1-mini", 65536),
        (r"o1-preview", 32768),
        (r"o1(?![0-9])", 100000),  # o1, o1-pro
        (r"o3(?![0-9])", 100000),  # o3, o3-mini, o3-pro
        (r"o4-mini", 100000),
        (r"gpt-5[0-9.]*-chat", 16384),  # gpt-5-chat-latest, gpt-5.1-chat-latest
        (r"gpt-5(?![0-9])", 128000),  # gpt-5, -mini, -nano, gpt-5.1, gpt-5.2, -codex
        # gpt-oss allows more on some servers; 32768 is accepted by every host seen so far.
        (r"gpt-oss", 32768),
        # Google, ai.google.dev/gemini-api/docs/models ("Output token limit")
        (r"gemini-2\.5-(?:pro|flash)", 65536),
        (r"gemini-2\.0-flash", 8192),
        (r"gemini-1\.5-(?:pro|flash)", 8192),
        # DeepSeek, api-docs.deepseek.com/quick_start/pricing (the API's two model names;
        # deepseek-chat rejects max_tokens above 8192)
        (r"deepseek-chat$", 8192),
        (r"deepseek-reasoner$", 65536),
    )
)

# Anthropic, platform.claude.com/docs/en/about-claude/models/overview ("Max output"),
# keyed by (family, major, minor). 4.6 and later: 128K (Opus 4.6 model page; the
# Effect-TS AI SDK changelog, PR #7129, for Opus 4.7 and 4.8).
_CLAUDE_LIMITS: dict[tuple[str, int, int], int] = {
    ("opus", 4, 8): 128000,
    ("opus", 4, 7): 128000,
    ("opus", 4, 6): 128000,
    ("sonnet", 4, 6): 128000,
    ("opus", 4, 5): 64000,
    ("sonnet", 4, 5): 64000,
    ("haiku", 4, 5): 64000,
    ("opus", 4, 1): 32000,
    ("opus", 4, 0): 32000,
    ("sonnet", 4, 0): 64000,
    ("sonnet", 3, 7): 64000,  # without the output-128k beta
    ("sonnet", 3, 5): 8192,
    ("haiku", 3, 5): 8192,
    ("opus", 3, 0): 4096,
    ("sonnet", 3, 0): 4096,
    ("haiku", 3, 0): 4096,
}

# A minor version is one or two digits; a longer number is a snapshot date.
_VERSION = r"(\d)(?:[-.](\d{1,2})(?!\d))?"
# claude-opus-4-1-20250805, databricks-claude-sonnet-4-5, anthropic/claude-opus-4.1
_CLAUDE_NEW = re.compile(r"claude-(opus|sonnet|haiku)-" + _VERSION)
# claude-3-5-sonnet-20241022, claude-3-opus-20240229
_CLAUDE_OLD = re.compile(r"claude-" + _VERSION + r"-(opus|sonnet|haiku)")


def output_limit(model: str) -> int | None:
    """The documented maximum output tokens of ``model``'s family, ``None`` when unknown.

    Matched on the lower-cased name, so provider prefixes and snapshot dates
    do not matter (``openai/gpt-4o-2024-08-06``, ``databricks-claude-sonnet-4``).
    """
    name = model.lower()
    for pattern, limit in _LIMITS:
        if pattern.search(name):
            return limit
    return _claude_limit(name)


def clamp_max_tokens(requested: int | None, target: TargetOptions, input_tokens: int | None = None) -> int | None:
    """``requested`` lowered to the target's output limit (``target_output_limit``) and,
    when ``input_tokens`` and the context window are known, to what the window has left
    after the prompt (at least 1).

    With no known limit, ``requested`` is kept; with nothing requested (a
    ``count_tokens``-style body), ``None``: the field is left out.
    """
    if requested is None:
        return None
    limit = target_output_limit(target)
    window = target_context_window(target)
    if window is not None and input_tokens is not None:
        room = max(window - input_tokens, 1)
        limit = room if limit is None else min(limit, room)
    return requested if limit is None else min(requested, limit)


def target_output_limit(target: TargetOptions) -> int | None:
    """The maximum output of ``target``: its model's setting, the provider's, the family's."""
    setting = _setting(target)
    if setting is not None and setting.max_output_tokens is not None:
        return setting.max_output_tokens
    return target.max_output_tokens or output_limit(target.model)


def target_context_window(target: TargetOptions) -> int | None:
    """The context window of ``target``: its model's setting, the provider's, the family's."""
    setting = _setting(target)
    if setting is not None and setting.context_window is not None:
        return setting.context_window
    return target.context_window or context_window(target.model)


def _setting(target: TargetOptions) -> ModelLimit | None:
    return next((limit for limit in target.model_limits if limit.matches(target.model)), None)


#: (pattern, context window in tokens), most specific first; the first match wins.
_WINDOWS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(_START + pattern), window)
    for pattern, window in (
        # OpenAI, "Context window" on each model's page at platform.openai.com/docs/models
        (r"(?:chat)?gpt-4o(?![0-9])", 128000),
        (r"gpt-4\.1(?![0-9])", 1047576),
        (r"gpt-4-turbo", 128000),
        (r"gpt-4-[0-9]{4}-preview", 128000),
        (r"gpt-3\.5-turbo", 16385),
        (r"o1-mini", 128000),
        (r"o1-preview", 128000),
        (r"o1(?![0-9])", 200000),
        (r"o3(?![0-9])", 200000),
        (r"o4-mini", 200000),
        (r"gpt-5[0-9.]*-chat", 128000),
        (r"gpt-5(?![0-9])", 400000),
        # openai/gpt-oss model card (huggingface.co/openai/gpt-oss-120b): 128k (131072)
        (r"gpt-oss", 131072),
        # Google, ai.google.dev/gemini-api/docs/models ("Input token limit")
        (r"gemini-2\.[05]-(?:pro|flash)", 1048576),
        (r"gemini-1\.5-pro", 2097152),
        (r"gemini-1\.5-flash", 1048576),
        # DeepSeek, api-docs.deepseek.com/quick_start/pricing ("Context length: 128K")
        (r"deepseek-(?:chat|reasoner)$", 131072),
        # Anthropic, platform.claude.com/docs/en/about-claude/models/overview: 200K
        # (1M only with a beta header, which translated requests do not carry)
        (r"claude-", 200000),
    )
)


def context_window(model: str) -> int | None:
    """The documented context window of ``model``'s family, ``None`` when unknown (local
    models: their server decides, see the providers' ``*_CONTEXT_WINDOW`` settings)."""
    name = model.lower()
    for pattern, window in _WINDOWS:
        if pattern.search(name):
            return window
    return None


def _claude_limit(name: str) -> int | None:
    """The output limit of a Claude model name, ``None`` for an unknown version."""
    if match := _CLAUDE_NEW.search(name):
        family, major, minor = match.group(1), match.group(2), match.group(3)
    elif match := _CLAUDE_OLD.search(name):
        major, minor, family = match.group(1), match.group(2), match.group(3)
    else:
        return None
    return _CLAUDE_LIMITS.get((family, int(major), int(minor or 0)))
