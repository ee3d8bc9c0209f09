"""Settings of the git tools, from ``[plugins.lynkr-tools-git]`` or the environment."""

from __future__ import annotations

from typing import Annotated

import msgspec

PLUGIN_NAME = "lynkr-tools-git"


class GitSettings(msgspec.Struct, kw_only=True):
    """``author`` is the commit identity used when git's config and environment name none
    (``"Name <email>"``); ``max_diff_bytes`` caps what a diff tool returns;
    ``max_listed_paths`` caps the paths a status or stage listing shows."""

    author: str = ""
    max_diff_bytes: Annotated[int, msgspec.Meta(ge=1_000)] = 200_000
    max_listed_paths: Annotated[int, msgspec.Meta(ge=1)] = 200


ENV = {
    "author": "LYNKR_GIT_AUTHOR",
    "max_diff_bytes": "LYNKR_GIT_MAX_DIFF_BYTES",
    "max_listed_paths": "LYNKR_GIT_MAX_LISTED_PATHS",
}
