"""An MCP tool result as what the model reads: Anthropic content blocks, capped in size.

Text becomes text blocks; images (the types Anthropic accepts) image blocks; an
embedded text resource a text block headed by its URI, an embedded image an image
block, other binary resources and audio a short note; a resource link its URI.
Structured content is kept as JSON text when no text block already says the same
(its JSON, or the plain value of a ``{"result": value}`` wrapper).
Together the blocks stay under ``MCP_MAX_RESULT_BYTES`` (text counted in UTF-8 bytes,
images by their base64 size): text is cut with a note, images that do not fit are
left out with a note.
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as mcp_types

from lynkr_core import ToolResult

#: Image types a ``tool_result`` may carry.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def to_tool_result(result: mcp_types.CallToolResult, limit: int) -> ToolResult:
    """``result`` as a ``ToolResult`` (``is_error`` kept) of at most ``limit`` bytes."""
    blocks = [block for item in result.content for block in _blocks(item)]
    structured = result.structured_content
    if structured is not None and not any(
        b["type"] == "text" and _says_the_same(b["text"], structured) for b in blocks
    ):
        blocks.append(_text(json.dumps(structured, ensure_ascii=False)))
    blocks = _capped(blocks, limit)
    text = "\n".join(b["text"] if b["type"] == "text" else f"[{b['source']['media_type']} image]"
                     for b in blocks)
    has_image = any(b["type"] == "image" for b in blocks)
    return ToolResult(text or "(no output)", is_error=bool(result.is_error),
                      blocks=blocks if has_image else None)


def _says_the_same(text: str, structured: dict[str, Any]) -> bool:
    """Whether a text block already carries the structured content: as its JSON, or, for
    the ``{"result": value}`` servers wrap a plain value in, as that value."""
    candidates = [structured]
    if set(structured) == {"result"}:
        candidates.append(structured["result"])
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return any(text == c or (parsed is not None and parsed == c) for c in candidates)


def _blocks(item: Any) -> list[dict[str, Any]]:
    if isinstance(item, mcp_types.TextContent):
        return [_text(item.text)]
    if isinstance(item, mcp_types.ImageContent):
        return [_image(item.mime_type, item.data)]
    if isinstance(item, mcp_types.AudioContent):
        return [_text(f"[audio ({item.mime_type}) left out: the model cannot hear it]")]
    if isinstance(item, mcp_types.ResourceLink):
        return [_text(f"[resource {item.uri}" + (f": {item.name}" if item.name else "") + "]")]
    if isinstance(item, mcp_types.EmbeddedResource):
        resource = item.resource
        if isinstance(resource, mcp_types.TextResourceContents):
            return [_text(f"[resource {resource.uri}]\n{resource.text}")]
        if isinstance(resource, mcp_types.BlobResourceContents):
            if resource.mime_type in IMAGE_TYPES:
                return [_image(resource.mime_type, resource.blob)]
            return [_text(f"[resource {resource.uri} ({resource.mime_type or 'binary'}, "
                          f"{len(resource.blob) * 3 // 4} bytes) left out]")]
    return [_text(f"[{getattr(item, 'type', type(item).__name__)} content left out]")]


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _image(mime_type: str, data: str) -> dict[str, Any]:
    if mime_type not in IMAGE_TYPES:
        return _text(f"[image ({mime_type}) left out: not a type the model reads]")
    return {"type": "image", "source": {"type": "base64", "media_type": mime_type, "data": data}}


def _capped(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    left = limit
    for block in blocks:
        if block["type"] == "image":
            size = len(block["source"]["data"])
            if size <= left:
                kept.append(block)
                left -= size
            else:
                kept.append(_text(f"[image left out: {size} bytes, over MCP_MAX_RESULT_BYTES={limit}]"))
            continue
        encoded = block["text"].encode()
        if len(encoded) <= left:
            kept.append(block)
            left -= len(encoded)
            continue
        cut = encoded[: max(left, 0)].decode(errors="ignore")
        kept.append(_text(f"{cut}\n[truncated: {len(encoded) - len(cut.encode())} more bytes, "
                          f"over MCP_MAX_RESULT_BYTES={limit}]"))
        left = 0
    return kept
