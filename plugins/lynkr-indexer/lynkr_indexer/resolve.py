"""Resolution: an import to the workspace file it names, a reference to the definition it
most likely means.

A reference resolves to a definition of its name in the same file, else in a file the
referring file imports, else to the only definition of that name in the workspace; a
name defined in several unrelated places stays unresolved (the repo map still counts it,
spread over its definitions).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence

_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


class FileLookup:
    """The indexed paths, by exact path and by file name (for suffix matches)."""

    def __init__(self, paths: dict[str, int]) -> None:
        self.ids = paths
        self.by_name: dict[str, list[str]] = defaultdict(list)
        #: Every tail of every folder ("a/b/c", "b/c", "c") to the first file of the
        #: shortest such folder: Go imports name packages, which are folders.
        self.folder_tails: dict[str, tuple[int, str]] = {}
        for path in sorted(paths):
            self.by_name[posixpath.basename(path)].append(path)
            parts = posixpath.dirname(path).split("/")
            for start in range(len(parts)):
                tail = "/".join(parts[start:])
                known = self.folder_tails.get(tail)
                if known is None or len(path) < len(known[1]):
                    self.folder_tails[tail] = (paths[path], path)

    def exact(self, path: str) -> int | None:
        return self.ids.get(posixpath.normpath(path)) if not path.startswith("..") else None

    def suffix(self, tail: str) -> int | None:
        """The shortest indexed path ending with ``/tail`` (or equal to it)."""
        matches = [p for p in self.by_name.get(posixpath.basename(tail), ())
                   if p == tail or p.endswith("/" + tail)]
        return self.ids[min(matches, key=lambda p: (len(p), p))] if matches else None

    def folder(self, tail: str) -> int | None:
        """A file of the folder ending with ``tail`` (a Go package)."""
        found = self.folder_tails.get(tail)
        return found[0] if found else None


def resolve_import(lookup: FileLookup, language: str, importer: str, module: str) -> int | None:
    """The id of the workspace file ``module`` (imported by ``importer``) names, if any."""
    folder = posixpath.dirname(importer)
    if language == "python":
        dots = len(module) - len(module.lstrip("."))
        parts = [p for p in module.lstrip(".").split(".") if p]
        if dots:
            base = folder
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            stem = posixpath.join(base, *parts) if parts else base
            return lookup.exact(stem + ".py") or lookup.exact(posixpath.join(stem, "__init__.py"))
        for end in range(len(parts), 0, -1):
            stem = "/".join(parts[:end])
            found = lookup.suffix(stem + ".py") or lookup.suffix(stem + "/__init__.py")
            if found:
                return found
        return None
    if language in ("javascript", "typescript", "tsx"):
        if not module.startswith("."):
            return None
        stem = posixpath.normpath(posixpath.join(folder, module))
        root, extension = posixpath.splitext(stem)
        options = [stem] if extension else []
        options += [(root if extension in _JS_EXTENSIONS else stem) + ext for ext in _JS_EXTENSIONS]
        options += [posixpath.join(stem, "index" + ext) for ext in _JS_EXTENSIONS]
        return next((found for option in options if (found := lookup.exact(option))), None)
    if language == "go":
        parts = module.split("/")
        for start in range(len(parts)):
            found = lookup.folder("/".join(parts[start:]))
            if found:
                return found
        return None
    if language == "rust":
        parts = [p for p in module.replace("{", "::").split("::") if p and p.isidentifier()]
        while parts and parts[0] in ("crate", "self", "super"):
            parts = parts[1:]
        for end in range(len(parts), 0, -1):
            stem = "/".join(parts[:end])
            found = lookup.suffix(stem + ".rs") or lookup.suffix(stem + "/mod.rs")
            if found:
                return found
        return None
    if language == "java":
        parts = module.removeprefix("static ").split(".")
        for end in range(len(parts), 0, -1):
            found = lookup.suffix("/".join(parts[:end]) + ".java")
            if found:
                return found
        return None
    if language in ("c", "cpp"):
        return lookup.exact(posixpath.join(folder, module)) or lookup.suffix(module)
    if language == "ruby":
        name = module if module.endswith(".rb") else module + ".rb"
        return lookup.exact(posixpath.join(folder, name)) or lookup.suffix(name)
    return None


def resolve_references(
    references: Iterable[tuple[int, int, str]],
    definitions: dict[str, Sequence[tuple[int, int]]],
    imported: dict[int, set[int]],
) -> list[tuple[int | None, int]]:
    """``(target symbol id or None, reference id)`` for each ``(reference id, file id, name)``.

    ``definitions`` maps a name to its ``(symbol id, file id)`` pairs in a stable order;
    ``imported`` a file id to the file ids it imports.
    """
    resolved = []
    for ref_id, file_id, name in references:
        candidates = definitions.get(name)
        target = None
        if candidates:
            if len(candidates) == 1:
                target = candidates[0][0]
            else:
                target = next((s for s, f in candidates if f == file_id), None)
                if target is None:
                    targets = imported.get(file_id, ())
                    target = next((s for s, f in candidates if f in targets), None)
        resolved.append((target, ref_id))
    return resolved
