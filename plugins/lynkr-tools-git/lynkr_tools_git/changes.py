"""What changed between HEAD, the index and the working tree, file by file.

A ``FileChange`` holds both versions of one file (mode and content), so that
the diff, the diff summary and the status read the same facts.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from dulwich.diff_tree import tree_changes
from dulwich.index import Index, IndexEntry, get_unstaged_changes
from dulwich.objects import S_ISGITLINK, Blob, Commit
from dulwich.patch import is_binary
from dulwich.repo import Repo

from lynkr_core import ToolError
from lynkr_tools_git.paths import matches

#: A working-tree file larger than this is not read for a line diff (only its size is told).
MAX_READ_BYTES = 4_000_000

SYMLINK_MODE = stat.S_IFLNK
REGULAR_MODE = stat.S_IFREG | 0o644
EXECUTABLE_MODE = stat.S_IFREG | 0o755

ChangeKind = Literal["added", "deleted", "modified"]


@dataclass(frozen=True, slots=True)
class Version:
    """One side of a change: mode, object id, size and content (``None``: too large to read)."""

    mode: int
    sha: bytes
    size: int
    content: bytes | None


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file's old and new version (``None`` where the file does not exist)."""

    path: bytes
    old: Version | None
    new: Version | None

    @property
    def kind(self) -> ChangeKind:
        """``added``, ``deleted`` or ``modified``."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "deleted"
        return "modified"

    @property
    def binary(self) -> bool:
        """True when either side looks binary (a NUL byte near the start, as git decides)."""
        return any(v is not None and v.content is not None and is_binary(v.content)
                   for v in (self.old, self.new))

    @property
    def too_large(self) -> bool:
        """True when a side was too large to read for a line diff."""
        return any(v is not None and v.content is None for v in (self.old, self.new))


Scope = Literal["staged", "unstaged", "all"]

#: The title of each kind of section.
SECTIONS: dict[str, str] = {
    "staged": "Staged changes (index vs HEAD)",
    "unstaged": "Unstaged changes (working tree vs index)",
}


@dataclass(frozen=True, slots=True)
class Section:
    """The changed paths of one comparison, sorted; each file's versions are read only when
    ``changes`` reaches it, so a capped diff of a huge change reads little."""

    title: str
    paths: list[bytes]
    load: Callable[[bytes], FileChange]

    def changes(self) -> Iterator[FileChange]:
        """Each changed file, read on demand, in path order."""
        for path in self.paths:
            yield self.load(path)


def head_tree(repo: Repo) -> bytes | None:
    """The tree of HEAD, or ``None`` in a repository without commits."""
    try:
        commit = repo[repo.head()]
    except KeyError:
        return None
    assert isinstance(commit, Commit)
    return commit.tree


def open_index(repo: Repo) -> Index:
    """The index; ``ToolError`` when it holds unresolved merge conflicts."""
    index = repo.open_index()
    if index.has_conflicts():
        raise ToolError("the index has unresolved merge conflicts; resolve them with git first")
    return index


def staged_paths(repo: Repo, filters: Sequence[bytes] = ()) -> list[tuple[ChangeKind, bytes]]:
    """What is staged (index against HEAD), as (kind, path) pairs sorted by path, without
    reading any content."""
    entries = _staged_entries(repo, filters)
    return [(_kind(*entries[path]), path) for path in sorted(entries)]


def staged_changes(repo: Repo, filters: Sequence[bytes] = ()) -> Section:
    """Index against HEAD (what a commit would record), limited to ``filters``."""
    entries = _staged_entries(repo, filters)

    def load(path: bytes) -> FileChange:
        old, new = entries[path]
        return FileChange(
            path,
            stored_version(repo, *old) if old is not None else None,
            stored_version(repo, *new) if new is not None else None,
        )

    return Section(SECTIONS["staged"], sorted(entries), load)


def unstaged_changes(repo: Repo, filters: Sequence[bytes] = ()) -> Section:
    """Working tree against the index (what ``git add`` would stage), untracked files excluded."""
    index = open_index(repo)
    checkin = _checkin(repo)

    def load(path: bytes) -> FileChange:
        entry = index[path]
        assert isinstance(entry, IndexEntry)
        return FileChange(path, stored_version(repo, entry.mode, entry.sha),
                          worktree_version(repo, path, checkin))

    changed = sorted(
        path for path in get_unstaged_changes(index, repo.path, checkin)
        if matches(path, filters)
    )
    return Section(SECTIONS["unstaged"], changed, load)


def unstaged_paths(repo: Repo) -> set[bytes]:
    """Tracked paths whose working-tree file differs from the index (content not read twice)."""
    return set(get_unstaged_changes(open_index(repo), repo.path, _checkin(repo)))


_Entry = tuple[int, bytes]


def _staged_entries(
    repo: Repo, filters: Sequence[bytes]
) -> dict[bytes, tuple[_Entry | None, _Entry | None]]:
    """path -> (HEAD's mode and sha, the index's) for each staged path in ``filters``."""
    index = open_index(repo)
    entries = {}
    for (old_path, new_path), (old_mode, new_mode), (old_sha, new_sha) in index.changes_from_tree(
        repo.object_store, head_tree(repo)
    ):
        path = new_path or old_path
        assert path is not None
        if not matches(path, filters):
            continue
        old = (old_mode, old_sha) if old_path is not None else None
        new = (new_mode, new_sha) if new_path is not None else None
        entries[path] = (old, new)
    return entries


def _kind(old: object, new: object) -> ChangeKind:
    return "added" if old is None else "deleted" if new is None else "modified"


def _checkin(repo: Repo) -> Callable[[Blob, bytes], Blob] | None:
    """The repository's check-in filter (line endings, clean filters), if it has one."""
    normalizer = repo.get_blob_normalizer()
    return normalizer.checkin_normalize if normalizer is not None else None


def stored_version(repo: Repo, mode: int | None, sha: bytes | None) -> Version:
    """A version held in the object store (a submodule shows as its commit id, like git)."""
    assert mode is not None and sha is not None
    if S_ISGITLINK(mode):
        content = b"Subproject commit " + sha + b"\n"
        return Version(mode, sha, len(content), content)
    blob = repo.object_store[sha]
    assert isinstance(blob, Blob)
    data = blob.as_raw_string()
    return Version(mode, sha, len(data), data)


def worktree_version(
    repo: Repo, path: bytes, checkin: Callable[[Blob, bytes], Blob] | None = None
) -> Version | None:
    """The working tree's version of ``path``, or ``None`` when there is no file there."""
    full = os.path.join(os.fsencode(repo.path), path)
    try:
        info = os.lstat(full)
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(full)
            return Version(SYMLINK_MODE, Blob.from_string(target).id, len(target), target)
        if not stat.S_ISREG(info.st_mode):
            return None
        mode = EXECUTABLE_MODE if info.st_mode & stat.S_IXUSR else REGULAR_MODE
        if info.st_size > MAX_READ_BYTES:
            return Version(mode, b"0" * 40, info.st_size, None)
        with open(full, "rb") as handle:
            blob = Blob.from_string(handle.read())
    except FileNotFoundError:
        return None
    if checkin is not None:
        blob = checkin(blob, path)
    data = blob.as_raw_string()
    return Version(mode, blob.id, len(data), data)


def changes_in_scope(repo: Repo, scope: Scope, filters: Sequence[bytes] = ()) -> list[Section]:
    """The changes of ``scope``: one section for ``staged`` or ``unstaged``, both (staged
    first) for ``all``."""
    if scope == "all":
        return [staged_changes(repo, filters), unstaged_changes(repo, filters)]
    return [staged_changes(repo, filters) if scope == "staged" else unstaged_changes(repo, filters)]


_TREE_CHANGE_KINDS: dict[str, ChangeKind] = {"add": "added", "delete": "deleted"}


def committed_paths(
    repo: Repo, old_tree: bytes | None, new_tree: bytes | None
) -> list[tuple[ChangeKind, bytes]]:
    """What changed between two trees, as (kind, path) pairs sorted by path."""
    changed = []
    for change in tree_changes(repo.object_store, old_tree, new_tree):
        entry = change.new if change.new is not None and change.new.path else change.old
        assert entry is not None and entry.path is not None
        changed.append((_TREE_CHANGE_KINDS.get(change.type, "modified"), entry.path))
    return sorted(changed, key=lambda item: item[1])


def commit_tree(repo: Repo, sha: bytes) -> bytes:
    """The tree of commit ``sha``."""
    commit = repo[sha]
    assert isinstance(commit, Commit)
    return commit.tree
