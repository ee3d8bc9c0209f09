"""Which files of the workspace are indexed: every file of a known language that no
``.gitignore`` (at any depth, with git's own matching rules through ``pathspec``) and no
exclusion pattern leaves out. Vendored and build directories are excluded by default."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from lynkr_indexer.languages import language_for

#: gitignore-style patterns left out unless the settings say otherwise: VCS and tool
#: directories, vendored dependencies, build output, minified and generated files.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git/", ".hg/", ".svn/", "node_modules/", "bower_components/", "vendor/", "third_party/",
    "third-party/", ".venv/", "venv/", "site-packages/", "__pycache__/", ".tox/", ".nox/",
    ".mypy_cache/", ".pytest_cache/", "dist/", "build/", "target/", "out/", ".next/", "coverage/",
    "*.min.js", "*.min.mjs", "*.bundle.js", "*-bundle.js", "*_pb2.py", "*_pb2_grpc.py", "*.pb.go",
    "*.generated.*", "*.g.dart",
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file to index: its path relative to the root (POSIX), language and stat."""

    path: str
    language: str
    size: int
    mtime_ns: int


class _Ignores:
    """The exclusion patterns and the ``.gitignore`` files met on the way down, each
    ``.gitignore`` matching paths relative to its folder."""

    def __init__(self, exclude: Sequence[str]) -> None:
        # Plain folder names ("node_modules/") and file-name globs ("*.min.js") are checked
        # on the name alone (a set, one regex); the rest go through pathspec.
        self.folder_names = {p[:-1] for p in exclude if p.endswith("/") and not set(p[:-1]) & set("/*?[!")}
        globs = [p for p in exclude if "/" not in p and not p.startswith("!")]
        self.file_names = re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None
        rest = [p for p in exclude if p[:-1] not in self.folder_names and p not in globs]
        self.exclude = exclusion_spec(rest) if rest else None
        self.specs: list[tuple[str, pathspec.PathSpec]] = []

    def load(self, folder: str, absolute: str) -> None:
        try:
            with open(os.path.join(absolute, ".gitignore"), encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return
        self.specs.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))

    def unload(self, folder: str) -> None:
        self.specs = [(base, spec) for base, spec in self.specs if base != folder]

    def ignored(self, path: str, is_dir: bool) -> bool:
        name = path.rsplit("/", 1)[-1]
        if (name in self.folder_names) if is_dir else (self.file_names is not None and self.file_names.match(name)):
            return True
        probe = path + "/" if is_dir else path
        if self.exclude is not None and self.exclude.match_file(probe):
            return True
        ignored = False
        for base, spec in self.specs:
            if base and not probe.startswith(base + "/"):
                continue
            relative = probe[len(base) + 1:] if base else probe
            result = spec.check_file(relative)
            if result.include is not None:
                ignored = result.include
        return ignored


def exclusion_spec(patterns: Sequence[str]) -> pathspec.PathSpec:
    """The exclusion patterns as one gitignore-style matcher."""
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def walk(root: Path, exclude: Sequence[str] = DEFAULT_EXCLUDE) -> Iterator[Candidate]:
    """Every indexable file under ``root``, in a stable order; symlinks are not followed."""
    ignores = _Ignores(exclude)
    yield from _walk_folder(str(root), "", ignores)


def _walk_folder(absolute: str, folder: str, ignores: _Ignores) -> Iterator[Candidate]:
    ignores.load(folder, absolute)
    try:
        entries = sorted(os.scandir(absolute), key=lambda entry: entry.name)
    except OSError:
        entries = []
    subfolders = []
    for entry in entries:
        path = f"{folder}/{entry.name}" if folder else entry.name
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if not ignores.ignored(path, True):
                    subfolders.append((entry.path, path))
                continue
            if not entry.is_file():
                continue
            language = language_for(entry.name)
            if language is None or ignores.ignored(path, False):
                continue
            info = entry.stat()
        except OSError:
            continue
        yield Candidate(path, language, info.st_size, info.st_mtime_ns)
    for sub_absolute, sub_path in subfolders:
        yield from _walk_folder(sub_absolute, sub_path, ignores)
    ignores.unload(folder)
