"""What lynkr-policy permits that widens what the model may do, for ``lynkr doctor --security``."""

from __future__ import annotations

from collections.abc import Iterator

from lynkr_core import Finding, Settings
from lynkr_policy.config import TEST_COMMAND_SETTINGS, load_settings

#: The plugin whose tool runs the test command this policy may permit.
TEST_TOOL_PLUGIN = "lynkr-tools-workspace"


def security_findings(settings: Settings, enabled_plugins: frozenset[str]) -> Iterator[Finding]:
    """A permitted push, and a permitted test command when the tool that runs it is there."""
    config = load_settings(settings)
    if config.git_allow_push:
        yield Finding("POLICY_GIT_ALLOW_PUSH=true",
                      "the model may push commits to your remotes (workspace_git_push)",
                      "unset POLICY_GIT_ALLOW_PUSH; push yourself after review")
    if config.allow_test_command and TEST_TOOL_PLUGIN in enabled_plugins:
        command = next((value for name in TEST_COMMAND_SETTINGS if (value := (settings.get(name) or "").strip())),
                       "the test command")
        yield Finding(
            "POLICY_ALLOW_TEST_COMMAND (a test command is configured)",
            f"the model may run `{command}` on this host, and tests run any code the model wrote",
            "set POLICY_ALLOW_TEST_COMMAND=false, or run lynkr in a container or VM",
        )
