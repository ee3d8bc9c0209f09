"""The ``lynkr-policy`` policy: tool lists, per-request caps, paths, git switches, test gate."""

from __future__ import annotations

from lynkr_core import GUARDED_ACTIONS, ConfigError, Denial, Permit, Policy, ToolCall, ToolContext
from lynkr_policy.call_view import CallView
from lynkr_policy.config import PolicySettings
from lynkr_policy.files import FileRules
from lynkr_policy.git_rules import COMMIT, PUSH, GitRules, compile_commit_regex
from lynkr_policy.limits import bytes_cap_reason, call_cap_reason, tool_list_reason
from lynkr_policy.mcp_rules import McpRules
from lynkr_policy.require_tests import RequiredTests

#: Running the project's test command: guarded, permitted by ``POLICY_ALLOW_TEST_COMMAND``.
TEST_COMMAND = "command.test"


class LynkrPolicy(Policy):
    """Judges each tool call on its name and declared effects.

    Checks run cheapest first and the first refusal is the answer: tool
    lists, the call cap, the byte cap, blocked and allowed paths, the git
    switches and commit message rule, then (for a commit or push with
    ``POLICY_GIT_REQUIRE_TESTS``) a test run. A push that passes them all
    gets the ``Permit`` the core requires, and so does a test run when
    ``POLICY_ALLOW_TEST_COMMAND`` holds, unless the call also takes a guarded
    action this policy has no setting for (``shell.run``). An MCP tool (opaque effects)
    is permitted or refused by ``MCP_SANDBOX_PERMISSION_*`` (``mcp_rules``).
    """

    name = "lynkr-policy"

    def __init__(self, config: PolicySettings) -> None:
        """Compile ``config``; ``ConfigError`` for a bad pattern or commit regex."""
        try:
            self.files = FileRules(config.file_blocked_paths, config.file_allowed_paths)
            commit_regex = compile_commit_regex(config.git_commit_regex)
        except ValueError as exc:
            raise ConfigError(f"lynkr-policy: {exc}") from None
        self.config = config
        self.allowed_tools = frozenset(
            name.strip() for name in config.allowed_tools if name.strip()
        )
        self.disallowed_tools = frozenset(
            name.strip() for name in config.disallowed_tools if name.strip()
        )
        self.git = GitRules(
            allow_push=config.git_allow_push,
            allow_pull=config.git_allow_pull,
            allow_commit=config.git_allow_commit,
            commit_regex=commit_regex,
        )
        self.tests = RequiredTests() if config.git_require_tests else None
        self.mcp = McpRules(
            mode=config.mcp_permission_mode,
            allow=tuple(glob.strip() for glob in config.mcp_permission_allow if glob.strip()),
            deny=tuple(glob.strip() for glob in config.mcp_permission_deny if glob.strip()),
        )
        #: Guarded actions this policy permits; a push only gets this far when allowed.
        self.permitted = frozenset({PUSH} | ({TEST_COMMAND} if config.allow_test_command else set()))

    def hides(self, path: str) -> bool:
        """Paths matching ``POLICY_FILE_BLOCKED_PATHS`` stay out of searches, listings and diffs."""
        return self.files.blocks(path)

    async def check_tool(self, call: ToolCall, context: ToolContext) -> Denial | Permit | None:
        """Refuse the call with the reason and the setting behind it, permit an allowed push,
        or have no say."""
        view = CallView.of(call)
        ledger = context.ledger
        reason = (
            tool_list_reason(view.name, self.allowed_tools, self.disallowed_tools)
            or call_cap_reason(ledger.calls, self.config.max_tool_calls)
            or bytes_cap_reason(
                ledger.bytes_written, view.bytes_written, self.config.max_bytes_written
            )
            or await self.files.check(view.reads, view.writes, context.workspace)
            or self.git.reason(view.actions, view.message)
        )
        if reason is None and self.tests is not None and view.actions & {COMMIT, PUSH}:
            reason = await self.tests.reason(context)
        if reason is not None:
            return Denial(reason)
        mcp_verdict = self.mcp.verdict(view.name)
        if mcp_verdict is not None:
            return mcp_verdict
        guarded = view.actions & GUARDED_ACTIONS
        if TEST_COMMAND in guarded and TEST_COMMAND not in self.permitted:
            return Denial(
                "running the project's test command is off on this gateway: no test command is "
                "configured and POLICY_ALLOW_TEST_COMMAND is not set. Do not retry; the user can "
                "set POLICY_GIT_TEST_COMMAND (or WORKSPACE_TEST_COMMAND) to the command, or "
                "POLICY_ALLOW_TEST_COMMAND=true to run the detected one."
            )
        if guarded and guarded <= self.permitted:
            return Permit(", ".join(sorted(_PERMIT_REASONS[action] for action in guarded)))
        return None


_PERMIT_REASONS = {
    PUSH: "pushing is allowed (POLICY_GIT_ALLOW_PUSH=true)",
    TEST_COMMAND: "the test command may run (POLICY_ALLOW_TEST_COMMAND)",
}
