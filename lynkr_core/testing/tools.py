"""Run tools the way the gateway runs them, without a model: the harness of tool and
policy plugin tests.

``ToolBench`` collects the tools and policies that plugin modules register (through
their real ``lynkr_register_tools``/``lynkr_register_policies`` hookimpls), with
``WORKSPACE_ROOT`` set to a test directory, and runs one call at a time through the
core's ``ToolRunner``: input decoding, effects, every policy, guarded actions, the
timeout, the ledger::

    bench = ToolBench(tmp_path, plugins=[lynkr_tools_workspace], env={"LYNKR_HOME": ...})
    result = await bench.call("workspace_read", path="README.md")
    assert not result.is_error

Policies may also be given as objects (``policies=[DenyEverything()]``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import structlog

from lynkr_core.config import Settings
from lynkr_core.context import RequestContext
from lynkr_core.orchestrator.runner import PendingCall, ToolRunner
from lynkr_core.policy import Policy
from lynkr_core.registry import Registry
from lynkr_core.tools import Tool, ToolContext, ToolResult

__all__ = ["ToolBench"]


class ToolBench:
    """Tools and policies from plugin modules, run against ``workspace``."""

    def __init__(
        self,
        workspace: Path,
        *,
        plugins: Iterable[ModuleType | object] = (),
        tools: Iterable[Tool] = (),
        policies: Iterable[Policy] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = Settings({"WORKSPACE_ROOT": str(workspace), **(env or {})})
        self.tools: Registry[Tool] = Registry("tool")
        self.policies: Registry[Policy] = Registry("policy")
        for plugin in plugins:
            owner = getattr(plugin, "__name__", type(plugin).__name__)
            register_tools = getattr(plugin, "lynkr_register_tools", None)
            if register_tools is not None:
                register_tools(register=lambda t, o=owner: self.tools.add(o, t), settings=self.settings)
            register_policies = getattr(plugin, "lynkr_register_policies", None)
            if register_policies is not None:
                register_policies(
                    register=lambda p, o=owner: self.policies.add(o, p), settings=self.settings
                )
        for tool in tools:
            self.tools.add("test", tool)
        for policy in policies:
            self.policies.add("test", policy)
        self.runner = ToolRunner(self.settings, self.tools.get, self.policies)
        self._ids = itertools.count(1)
        self.context = self.new_request()

    def new_request(self) -> ToolContext:
        """Start a new request: a fresh ledger (caps count per request)."""
        request = RequestContext(
            request_id=f"req_test_{next(self._ids)}",
            http=cast(Any, None),
            settings=self.settings,
            log=structlog.get_logger("lynkr.test"),
        )
        self.context = self.runner.context(request)
        return self.context

    async def call(self, name: str, /, **arguments: Any) -> ToolResult:
        """Run tool ``name`` with ``arguments`` as one call of the current request."""
        return await self.call_raw(name, arguments)

    async def call_raw(self, name: str, arguments: Any) -> ToolResult:
        """Run tool ``name`` with ``arguments`` exactly as a model sent them (any JSON value)."""
        call = PendingCall(id=f"toolu_test_{next(self._ids)}", name=name, input=arguments)
        return await self.runner.run(call, self.context)

    def schema(self, name: str) -> dict[str, Any]:
        """The input schema the model sees for tool ``name``."""
        tool = self.tools.get(name)
        assert tool is not None, f"no tool {name!r} registered (have: {self.tools.names()})"
        return tool.input_schema()
