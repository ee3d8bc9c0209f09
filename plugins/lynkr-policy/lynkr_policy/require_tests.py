"""``POLICY_GIT_REQUIRE_TESTS``: a commit or push runs only after the project's tests
passed on the current tree.

The tests are the registered tool ``workspace_test_run``, run through
``ToolContext.invoke`` (no policy check, the tool's own timeout). A pass is
remembered by the tree's fingerprint, taken before and after the run (so
files the run itself writes, such as caches or coverage data, don't force a
second run); a commit followed by a push on the same tree runs the tests
once, and any change to a file runs them again. Failures are not
remembered. One test run at a time per gateway: a second commit waiting for
the first sees its result.
"""

from __future__ import annotations

import asyncio

from lynkr_core import ToolContext
from lynkr_policy.fingerprint import RecentTrees, tree_fingerprint

TEST_TOOL = "workspace_test_run"
#: How much of a failed run's output the refusal quotes.
QUOTED_LINES = 20
QUOTED_CHARS = 4000
#: How many passing trees are remembered.
REMEMBERED_TREES = 8


class RequiredTests:
    """Runs the tests before a commit or push, remembering recent passing trees."""

    def __init__(self) -> None:
        self.passed = RecentTrees(REMEMBERED_TREES)
        self._lock = asyncio.Lock()

    async def reason(self, context: ToolContext) -> str | None:
        """Why the commit or push may not run yet (the tests failed or cannot run), or ``None``."""
        if context.invoke is None:
            return (
                "POLICY_GIT_REQUIRE_TESTS=true: commits and pushes need a passing test run first, "
                "and this call cannot run the test tool here. The user can set "
                "POLICY_GIT_REQUIRE_TESTS=false."
            )
        async with self._lock:
            before = await asyncio.to_thread(tree_fingerprint, context.workspace)
            if before in self.passed:
                return None
            result = await context.invoke(TEST_TOOL, {})
            if result.is_error and _missing(result.text):
                return (
                    f"POLICY_GIT_REQUIRE_TESTS=true: commits and pushes need a passing run of "
                    f"{TEST_TOOL}, and no installed plugin provides that tool. The user can "
                    "install the plugin that provides it or set POLICY_GIT_REQUIRE_TESTS=false."
                )
            if result.is_error:
                return (
                    "POLICY_GIT_REQUIRE_TESTS=true: the project's tests must pass on the current "
                    f"files before a commit or push, and {TEST_TOOL} failed. Fix the failures and "
                    f"try again (the user can set POLICY_GIT_REQUIRE_TESTS=false). The end of its "
                    f"output:\n{_tail(result.text)}"
                )
            after = await asyncio.to_thread(tree_fingerprint, context.workspace)
            self.passed.add(before)
            self.passed.add(after)
        return None


def _missing(text: str) -> bool:
    """Whether ``invoke`` answered that the test tool is not registered (not that the
    tool ran and reported, say, a missing test runner)."""
    return text.startswith(f"tool {TEST_TOOL!r}") and "is not installed" in text


def _tail(text: str) -> str:
    """The last ``QUOTED_LINES`` lines of ``text``, at most ``QUOTED_CHARS`` characters."""
    lines = text.rstrip().splitlines()
    tail = "\n".join(lines[-QUOTED_LINES:])
    cut = len(lines) > QUOTED_LINES
    if len(tail) > QUOTED_CHARS:
        tail, cut = tail[-QUOTED_CHARS:], True
    return ("[...earlier output cut]\n" if cut else "") + (tail or "(no output)")
