"""Settings, with the original project's variable names where it had one."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-policy"

#: Paths no tool may read or write unless the user says otherwise: dotenv files,
#: private keys. See ``globs`` for how a pattern matches.
DEFAULT_BLOCKED_PATHS = (
    ".env",
    ".env.*",
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/id_rsa",
    "**/id_ed25519",
)

#: The per-request cap on bytes that tools may write: 5 MiB.
DEFAULT_MAX_BYTES_WRITTEN = 5 * 1024 * 1024


class PolicySettings(msgspec.Struct, kw_only=True):
    """What the policy allows; each field's environment variable is in ``ENV``.

    Lists are comma-separated in the environment. ``allowed_tools`` empty
    means every tool; ``file_allowed_paths`` empty means writing anywhere in
    the workspace.
    """

    allowed_tools: list[str] = []
    disallowed_tools: list[str] = []
    max_tool_calls: Annotated[int, msgspec.Meta(ge=1)] = 12
    max_bytes_written: Annotated[int, msgspec.Meta(ge=0)] = DEFAULT_MAX_BYTES_WRITTEN
    file_allowed_paths: list[str] = []
    file_blocked_paths: list[str] = msgspec.field(
        default_factory=lambda: list(DEFAULT_BLOCKED_PATHS)
    )
    git_allow_push: bool = False
    git_allow_pull: bool = True
    git_allow_commit: bool = True
    git_commit_regex: str = ""
    git_require_tests: bool = False
    allow_test_command: bool | None = None
    mcp_permission_mode: Literal["auto", "require", "deny"] = "auto"
    mcp_permission_allow: list[str] = []
    mcp_permission_deny: list[str] = []


ENV = {
    "allowed_tools": "POLICY_ALLOWED_TOOLS",
    "disallowed_tools": "POLICY_DISALLOWED_TOOLS",
    "max_tool_calls": "POLICY_MAX_TOOL_CALLS",
    "max_bytes_written": "POLICY_MAX_BYTES_WRITTEN",
    "file_allowed_paths": "POLICY_FILE_ALLOWED_PATHS",
    "file_blocked_paths": "POLICY_FILE_BLOCKED_PATHS",
    "git_allow_push": "POLICY_GIT_ALLOW_PUSH",
    "git_allow_pull": "POLICY_GIT_ALLOW_PULL",
    "git_allow_commit": "POLICY_GIT_ALLOW_COMMIT",
    "git_commit_regex": "POLICY_GIT_COMMIT_REGEX",
    "git_require_tests": "POLICY_GIT_REQUIRE_TESTS",
    "allow_test_command": "POLICY_ALLOW_TEST_COMMAND",
    "mcp_permission_mode": "MCP_SANDBOX_PERMISSION_MODE",
    "mcp_permission_allow": "MCP_SANDBOX_PERMISSION_ALLOW",
    "mcp_permission_deny": "MCP_SANDBOX_PERMISSION_DENY",
}

#: Settings in which an operator names the project's test command. Naming one is
#: consent to running it, so ``POLICY_ALLOW_TEST_COMMAND`` defaults to true then.
TEST_COMMAND_SETTINGS = ("POLICY_GIT_TEST_COMMAND", "WORKSPACE_TEST_COMMAND")


def load_settings(settings: Settings) -> PolicySettings:
    """The policy's settings (``ConfigError`` naming the variable when one has the wrong type).

    ``allow_test_command`` left unset becomes true when the operator named a test
    command (``TEST_COMMAND_SETTINGS``), false when the command would be guessed.
    """
    config = settings.plugin_config(PLUGIN_NAME, PolicySettings, ENV)
    if config.allow_test_command is None:
        named = any((settings.get(name) or "").strip() for name in TEST_COMMAND_SETTINGS)
        config = msgspec.structs.replace(config, allow_test_command=named)
    return config
