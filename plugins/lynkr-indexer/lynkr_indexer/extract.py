"""Definitions, references and imports of one source file, from its tree-sitter tree.

Pure and process-safe: the indexer runs ``extract`` in worker processes, so it takes
bytes and returns plain tuples (cheap to pickle), and never touches the database.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tree_sitter import Node, QueryCursor

from lynkr_indexer.languages import grammar

#: Kinds whose definitions turn a nested function into a method.
_TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "union", "scope"})
_SIGNATURE_LIMIT = 200
_DOC_LIMIT = 160
#: Nodes that wrap a definition, so its comment sits above the wrapper.
_WRAPPERS = ("export_statement", "decorated_definition", "template_declaration", "type_declaration")
_COMMENT_MARKERS = re.compile(r"^\s*(?:/\*\*?|\*/|\*|///?|//!|#+|--)\s?")


class Definition(NamedTuple):
    """A symbol defined in the file (lines are 1-based, inclusive)."""

    name: str
    kind: str
    qualified_name: str
    start_line: int
    end_line: int
    signature: str
    doc: str


class Reference(NamedTuple):
    """A use of a name: ``call``, ``import``, ``inherit`` or ``type``; ``scope`` is the
    qualified name of the definition it sits in ("" at top level)."""

    name: str
    kind: str
    line: int
    scope: str


class Import(NamedTuple):
    """A module the file imports, as written (``os.path``, ``./util``, ``stdio.h``)."""

    module: str
    line: int


class Extracted(NamedTuple):
    definitions: list[Definition]
    references: list[Reference]
    imports: list[Import]
    error_nodes: bool


def extract(language: str, source: bytes) -> Extracted:
    """Parse ``source`` as ``language`` and collect its definitions, references and imports."""
    loaded = grammar(language)
    tree = loaded.parser.parse(source)
    root = tree.root_node
    definitions: list[tuple[Node, Node, str]] = []
    scopes: list[tuple[Node, Node]] = []
    raw_references: list[tuple[Node, str]] = []
    imports: list[Import] = []
    for _, captures in QueryCursor(loaded.query).matches(root):
        names = captures.get("name")
        if "import" in captures:
            for node in captures["import"]:
                imports.append(Import(_module_text(node), node.start_point[0] + 1))
            continue
        for capture, nodes in captures.items():
            if capture.startswith("def.") and names:
                definitions.append((nodes[0], names[0], capture[4:]))
            elif capture == "scope" and names:
                scopes.append((nodes[0], names[0]))
            elif capture.startswith("ref.") and names:
                raw_references.extend((name, capture[4:]) for name in names)
    defs = _qualify(definitions, scopes, source, language)
    name_nodes = {(d[1].start_byte, d[1].end_byte) for d in definitions}
    references = _references(raw_references, name_nodes, defs, source)
    return Extracted([d[0] for d in defs], references, _unique(imports), root.has_error)


def _qualify(
    found: list[tuple[Node, Node, str]], scopes: list[tuple[Node, Node]], source: bytes, language: str
) -> list[tuple[Definition, int, int]]:
    """Definitions in source order with their qualified names (enclosing definitions and
    scopes joined by dots); a function inside a type becomes a method."""
    seen: set[int] = set()
    items: list[tuple[int, int, Node, Node, str]] = []
    for node, name, kind in found:
        if node.id in seen:
            continue  # the same node matched by a more general pattern
        seen.add(node.id)
        items.append((node.start_byte, -node.end_byte, node, name, kind))
    for node, name in scopes:
        items.append((node.start_byte, -node.end_byte, node, name, "scope"))
    items.sort(key=lambda item: (item[0], item[1]))
    stack: list[tuple[int, str, str]] = []  # (end_byte, qualified name, kind)
    result: list[tuple[Definition, int, int]] = []
    for start, _, node, name_node, kind in items:
        while stack and stack[-1][0] <= start:
            stack.pop()
        name = _text(name_node, source)
        parent = stack[-1] if stack else None
        prefix = _receiver(node, source) if language == "go" and kind == "method" else ""
        if not prefix and parent:
            prefix = parent[1]
        if "::" in name:  # C++ out-of-class definition: Type::method
            prefix, name = (f"{prefix}." if prefix else "") + name.rsplit("::", 1)[0].replace("::", "."), name.rsplit("::", 1)[1]
        qualified = f"{prefix}.{name}" if prefix else name
        if kind == "function" and parent and parent[2] in _TYPE_KINDS:
            kind = "method"
        stack.append((node.end_byte, qualified, kind))
        if kind == "scope":
            continue
        end_line = node.end_point[0] + (1 if node.end_point[1] or node.end_point[0] == node.start_point[0] else 0)
        definition = Definition(
            name, kind, qualified, node.start_point[0] + 1, end_line,
            _signature(node, source), _doc(node, source, language),
        )
        result.append((definition, node.start_byte, node.end_byte))
    return result


def _references(
    raw: list[tuple[Node, str]], definition_names: set[tuple[int, int]],
    defs: list[tuple[Definition, int, int]], source: bytes,
) -> list[Reference]:
    """References in source order, each with the innermost definition it sits in; a name
    that is itself a definition's name is left out."""
    seen: set[tuple[int, str]] = set()
    ordered = sorted(raw, key=lambda item: item[0].start_byte)
    spans = [(start, end, d.qualified_name) for d, start, end in defs]  # in source order
    open_spans: list[tuple[int, str]] = []  # (end byte, qualified name), innermost last
    next_span = 0
    result = []
    for node, kind in ordered:
        position = node.start_byte
        while next_span < len(spans) and spans[next_span][0] <= position:
            start, end, qualified = spans[next_span]
            while open_spans and open_spans[-1][0] <= start:
                open_spans.pop()
            open_spans.append((end, qualified))
            next_span += 1
        while open_spans and open_spans[-1][0] <= position:
            open_spans.pop()
        if (position, node.end_byte) in definition_names or (position, kind) in seen:
            continue
        seen.add((position, kind))
        scope = open_spans[-1][1] if open_spans else ""
        result.append(Reference(_text(node, source), kind, node.start_point[0] + 1, scope))
    return result


def _text(node: Node, source: bytes) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _module_text(node: Node) -> str:
    text = (node.text or b"").decode("utf-8", "replace").strip()
    return text.strip("\"'<>`").removesuffix(";").strip()


def _receiver(node: Node, source: bytes) -> str:
    """A Go method's receiver type (``func (s *Server) Run()`` gives ``Server``)."""
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return ""
    match = re.search(rb"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*\)\s*$", source[receiver.start_byte:receiver.end_byte])
    return match.group(1).decode() if match else ""


def _signature(node: Node, source: bytes) -> str:
    """The definition's head on one line: its text up to the body (comments left out)."""
    holder = node
    body = node.child_by_field_name("body")
    if body is None and (value := node.child_by_field_name("value")) is not None:
        holder, body = value, value.child_by_field_name("body")
    end = node.end_byte
    if body is not None:
        end = node.start_byte
        for child in holder.children:
            if child.start_byte >= body.start_byte or "comment" in child.type:
                break
            end = child.end_byte
        end = max(end, holder.start_byte) if holder is not node else end
    head = source[node.start_byte:min(end, node.start_byte + 4 * _SIGNATURE_LIMIT)]
    text = " ".join(head.decode("utf-8", "replace").split())
    if body is None and "{" in text:
        text = text.split("{", 1)[0]
    return text.rstrip(" :{=;").rstrip()[:_SIGNATURE_LIMIT]


def _doc(node: Node, source: bytes, language: str) -> str:
    """The first line of the definition's docstring (Python) or of the comment right above it."""
    if language == "python":
        body = node.child_by_field_name("body")
        first = body.named_children[0] if body is not None and body.named_children else None
        if first is not None and first.type == "expression_statement" and first.named_children:
            string = first.named_children[0]
            content = [c for c in string.named_children if c.type == "string_content"]
            if string.type == "string" and content:
                return _first_line(_text(content[0], source))
        return ""
    anchor = node
    while anchor.parent is not None and anchor.parent.type in _WRAPPERS:
        anchor = anchor.parent
    comment = anchor.prev_named_sibling
    if comment is None or "comment" not in comment.type or comment.end_point[0] < anchor.start_point[0] - 1:
        return ""
    lines = [comment]
    while (previous := lines[-1].prev_named_sibling) is not None and "comment" in previous.type \
            and previous.end_point[0] >= lines[-1].start_point[0] - 1:
        lines.append(previous)
    return _first_line(_text(lines[-1], source))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        cleaned = _COMMENT_MARKERS.sub("", line).strip().strip("*/").strip()
        if cleaned:
            return cleaned[:_DOC_LIMIT]
    return ""


def _unique(imports: list[Import]) -> list[Import]:
    seen: set[str] = set()
    result = []
    for item in sorted(imports, key=lambda i: i.line):
        if item.module and item.module not in seen:
            seen.add(item.module)
            result.append(item)
    return result
