"""``workspace_release_notes``: commits since a tag, grouped by Conventional Commit type."""

from __future__ import annotations

from typing import Annotated

import msgspec
from dulwich.objects import Commit
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects, ToolError
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.conventional import SECTION_ORDER, parse_message
from lynkr_tools_git.refs import TAG_PREFIX, head_sha, short

#: Commits beyond this many are counted but not listed.
MAX_RELEASE_COMMITS = 500


class ReleaseNotesInput(msgspec.Struct, kw_only=True):
    """Where the release notes start."""

    since_tag: Annotated[str | None, msgspec.Meta(
        description="Tag of the previous release; the notes cover the commits after it up to "
        "HEAD. Omit for the most recent tag reachable from HEAD (all commits when there is "
        "no tag)",
    )] = None


class GitReleaseNotes(GitTool):
    """Drafts release notes from commit messages."""

    name = "workspace_release_notes"
    description = (
        "Draft release notes as Markdown from the commits since a tag (default: the most "
        "recent tag reachable from HEAD; all commits when there is none), grouped by "
        "Conventional Commit type: breaking changes ('!' or a 'BREAKING CHANGE:' footer) "
        "first, then Features (feat), Fixes (fix), Performance (perf), Documentation (docs), "
        "Refactoring (refactor), Tests (test), Maintenance (chore, ci, build) and Other "
        "changes. Each entry ends with its short commit id. Merge commits are left out."
    )
    Input = ReleaseNotesInput

    def effects(self, args: ReleaseNotesInput) -> ToolEffects:
        """Reads the repository's history."""
        return ToolEffects(reads=(".",))

    async def run(self, args: ReleaseNotesInput, context: ToolContext) -> str:
        """The release notes, in Markdown."""
        return await self.git(context, lambda repo: release_notes(repo, args.since_tag))


def release_notes(repo: Repo, since_tag: str | None) -> str:
    """Markdown release notes for the commits from ``since_tag`` (or the latest tag) to HEAD."""
    head = head_sha(repo)
    if head is None:
        return "No commits yet: nothing to write release notes about.\n"
    tags = _tags_by_commit(repo)
    if since_tag:
        base = _tag_commit(repo, since_tag)
        tag = since_tag
    else:
        tag, base = _latest_tag(repo, head, tags)
    walker = repo.get_walker(include=[head], exclude=[base] if base else None)
    commits = [entry.commit for entry in walker]
    merges = sum(1 for commit in commits if len(commit.parents) > 1)
    commits = [commit for commit in commits if len(commit.parents) <= 1]
    title = f"## Changes since {tag}" if tag else "## All changes (no tag found)"
    if not commits:
        return f"{title}\n\nNo commits since {tag}.\n" if tag else f"{title}\n\nNo commits.\n"
    sections: dict[str, list[str]] = {name: [] for name in SECTION_ORDER}
    for commit in commits[:MAX_RELEASE_COMMITS]:
        parsed = parse_message(commit.message.decode("utf-8", "replace"))
        scope = f"**{parsed.scope}:** " if parsed.scope else ""
        note = f" ({parsed.breaking_note})" if parsed.breaking_note else ""
        sections[parsed.section].append(f"- {scope}{parsed.description}{note} ({short(commit.id)})")
    noun = "commit" if len(commits) == 1 else "commits"
    parts = [title, f"{len(commits)} {noun} up to {short(head)}."]
    for name in SECTION_ORDER:
        if sections[name]:
            parts.append(f"### {name}\n\n" + "\n".join(sections[name]))
    if len(commits) > MAX_RELEASE_COMMITS:
        parts.append(f"_{len(commits) - MAX_RELEASE_COMMITS} older commits not listed._")
    if merges:
        parts.append(f"_{merges} merge commit{'s' if merges > 1 else ''} left out._")
    return "\n\n".join(parts) + "\n"


def _tags_by_commit(repo: Repo) -> dict[bytes, list[str]]:
    """Each tagged commit with its tag names (annotated tags peeled to their commit)."""
    tagged: dict[bytes, list[str]] = {}
    for ref in repo.refs.keys(base=TAG_PREFIX):
        try:
            commit = repo.get_peeled(TAG_PREFIX + ref)
        except KeyError:
            continue
        tagged.setdefault(commit, []).append(ref.decode("utf-8", "replace"))
    return tagged


def _latest_tag(
    repo: Repo, head: bytes, tags: dict[bytes, list[str]]
) -> tuple[str | None, bytes | None]:
    """The first tagged commit walking back from HEAD (newest first), and its tag."""
    if not tags:
        return None, None
    for entry in repo.get_walker(include=[head]):
        names = tags.get(entry.commit.id)
        if names:
            return sorted(names)[-1], entry.commit.id
    return None, None


def _tag_commit(repo: Repo, tag: str) -> bytes:
    """The commit tag ``tag`` points to; ``ToolError`` naming the known tags otherwise."""
    try:
        commit = repo.get_peeled(TAG_PREFIX + tag.encode())
    except KeyError:
        known = sorted(ref.decode("utf-8", "replace") for ref in repo.refs.keys(base=TAG_PREFIX))
        listed = ", ".join(known[-20:]) if known else "there are no tags"
        raise ToolError(f"there is no tag {tag!r} (tags: {listed})") from None
    if not isinstance(repo[commit], Commit):
        raise ToolError(f"tag {tag!r} does not point to a commit")
    return commit
