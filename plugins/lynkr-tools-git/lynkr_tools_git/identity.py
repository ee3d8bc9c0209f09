"""Who a commit is by: git's config, then git's environment variables, then LYNKR_GIT_AUTHOR.

Each of name and email is looked up in this order, for the author and the
committer separately:

1. the git config (the repository's, then the user's global one: dulwich's
   ``StackedConfig``): ``author.*``/``committer.*``, then ``user.*``;
2. ``GIT_AUTHOR_NAME``/``GIT_AUTHOR_EMAIL`` (``GIT_COMMITTER_*`` for the
   committer), read from lynkr's settings;
3. the plugin setting ``LYNKR_GIT_AUTHOR`` (``"Name <email>"``).

The committer falls back to the author. Unlike git and dulwich, nothing is
guessed from the login and host name: without an identity the commit is
refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dulwich.config import Config

from lynkr_core import Settings, ToolError

_NAME_EMAIL = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*$")
_FORBIDDEN = ("<", ">", "\n", "\r", "\x00")

MISSING = (
    "no commit {what} is configured: set user.name and user.email in the repository's git "
    "config or in ~/.gitconfig, or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, or "
    'LYNKR_GIT_AUTHOR="Name <email>" in lynkr\'s settings'
)


@dataclass(frozen=True, slots=True)
class Identity:
    """A name and an email, as a commit records them."""

    name: str
    email: str

    def header(self) -> bytes:
        """``Name <email>``, UTF-8, for dulwich's ``author=``/``committer=``."""
        return f"{self.name} <{self.email}>".encode()


def parse_identity(value: str, setting: str) -> Identity:
    """``"Name <email>"`` as an ``Identity``; ``ToolError`` naming ``setting`` otherwise."""
    match = _NAME_EMAIL.match(value)
    if match is None or not match["name"] or not match["email"].strip():
        raise ToolError(f'{setting}={value!r} is not of the form "Name <email>"')
    return Identity(match["name"], match["email"].strip())


def commit_identities(
    config: Config, settings: Settings, fallback: str
) -> tuple[Identity, Identity]:
    """The author and the committer for a new commit; ``ToolError`` when none is configured.

    ``fallback`` is the value of ``LYNKR_GIT_AUTHOR`` (empty: not set).
    """
    plugin = parse_identity(fallback, "LYNKR_GIT_AUTHOR") if fallback.strip() else None
    author = _identity(config, settings, "author", "AUTHOR", plugin)
    if author is None:
        raise ToolError(MISSING.format(what="author"))
    committer = _identity(config, settings, "committer", "COMMITTER", plugin) or author
    return author, committer


def _identity(
    config: Config, settings: Settings, section: str, env_kind: str, plugin: Identity | None
) -> Identity | None:
    name = _first(
        _config(config, section, "name"), _config(config, "user", "name"),
        settings.get(f"GIT_{env_kind}_NAME"), plugin.name if plugin else None,
    )
    email = _first(
        _config(config, section, "email"), _config(config, "user", "email"),
        settings.get(f"GIT_{env_kind}_EMAIL"), plugin.email if plugin else None,
    )
    if name is None or email is None:
        return None
    email = email.removeprefix("<").removesuffix(">")
    for value in (name, email):
        if any(mark in value for mark in _FORBIDDEN):
            raise ToolError(
                f"the configured commit identity {value!r} contains '<', '>' or a line break"
            )
    return Identity(name, email)


def _config(config: Config, section: str, key: str) -> str | None:
    try:
        value = config.get((section.encode(),), key.encode())
    except KeyError:
        return None
    return value.decode("utf-8", "replace")


def _first(*values: str | None) -> str | None:
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None
