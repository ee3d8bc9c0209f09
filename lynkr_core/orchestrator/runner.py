"""Running the model's tool calls: decode, judge, run, account.

Each call is decoded into its tool's ``Input``, its effects are judged by
every policy (any ``Denial`` wins; a guarded action also needs a
``Permit``), and it runs under ``LYNKR_TOOL_TIMEOUT_SECONDS``. Whatever
happens, the model gets a ``ToolResult``: a refusal, a bad argument, a
timeout or a tool that raises is an error result, never a failed request.
Calls that only read run concurrently; a call that writes, acts or whose
effects are opaque runs alone, in the order the model gave. Every call is
recorded (``ToolCallRecord``) on the request's current step.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lynkr_core.config import Settings
from lynkr_core.context import RequestContext
from lynkr_core.exchange import ToolCallRecord
from lynkr_core.policy import Denial, Permit, Policy
from lynkr_core.registry import Registry
from lynkr_core.tools import (
    GUARDED_ACTIONS,
    Tool,
    ToolCall,
    ToolContext,
    ToolEffects,
    ToolError,
    ToolLedger,
    ToolResult,
)


@dataclass(slots=True)
class PendingCall:
    """A ``tool_use`` block of the model's answer, to be run."""

    id: str
    name: str
    input: Any


class ToolRunner:
    """Runs registered tools for one app; ``context`` starts the accounting of one request."""

    def __init__(
        self, settings: Settings, tools: Callable[[str], Tool | None], policies: Registry[Policy]
    ) -> None:
        #: The tool the model calls by a name, now (the catalogue changes with tool sources).
        self.lookup = tools
        self.policies = policies
        self.timeout = settings.core.tool_timeout_seconds
        self.workspace = Path(settings.core.workspace_root).expanduser().resolve()

    def context(self, request: RequestContext) -> ToolContext:
        """A fresh ``ToolContext`` (and ledger) for one request."""
        context = ToolContext(
            request=request, workspace=self.workspace, ledger=ToolLedger(), hidden=self._hidden
        )
        # ``invoke`` reaches its context by a weak reference: the context holds ``invoke``, and
        # a strong one both ways would be a cycle that outlives the request until the GC runs.
        context_ref = weakref.ref(context)

        async def invoke(name: str, arguments: Mapping[str, Any]) -> ToolResult:
            context = context_ref()
            assert context is not None  # whoever calls ``context.invoke`` holds the context
            tool = self.lookup(name)
            if tool is None:
                return ToolResult(f"tool {name!r} is not installed", is_error=True)
            try:
                args = tool.parse_input(arguments)
            except ToolError as exc:
                return ToolResult(str(exc), is_error=True)
            return await self._execute(tool, args, context, name)

        context.invoke = invoke
        return context

    def _hidden(self, path: str) -> bool:
        for policy in self.policies:
            try:
                if policy.hides(path):
                    return True
            except Exception:  # a policy that cannot decide hides the path: the safe side
                return True
        return False

    async def run_all(self, calls: list[PendingCall], context: ToolContext) -> list[ToolResult]:
        """Run ``calls`` and return their results in the same order."""
        results: list[ToolResult | None] = [None] * len(calls)
        prepared = [self._prepare(call) for call in calls]
        records = [self._record(call, context) for call in calls]
        position = 0
        while position < len(calls):
            batch = [position]
            if _read_only(prepared[position]):
                while position + len(batch) < len(calls) and _read_only(prepared[position + len(batch)]):
                    batch.append(position + len(batch))
            outcomes = await asyncio.gather(
                *(self._run_prepared(calls[i], prepared[i], context, records[i]) for i in batch)
            )
            for i, outcome in zip(batch, outcomes, strict=True):
                results[i] = outcome
            position += len(batch)
        return [result for result in results if result is not None]

    async def run(self, call: PendingCall, context: ToolContext) -> ToolResult:
        """Run one call (policies included)."""
        return await self._run_prepared(call, self._prepare(call), context, self._record(call, context))

    @staticmethod
    def _record(call: PendingCall, context: ToolContext) -> ToolCallRecord:
        record = ToolCallRecord(id=call.id, name=call.name, input=call.input)
        steps = context.request.steps
        if steps:
            steps[-1].tool_calls.append(record)
        return record

    def _prepare(self, call: PendingCall) -> ToolCall | ToolResult:
        tool = self.lookup(call.name)
        if tool is None:
            return ToolResult(f"tool {call.name!r} is not available on this gateway", is_error=True)
        try:
            args = tool.parse_input(call.input)
            effects = tool.effects(args)
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        except Exception as exc:
            return ToolResult(f"{call.name}: invalid input: {type(exc).__name__}: {exc}", is_error=True)
        return ToolCall(id=call.id, name=call.name, args=args, effects=effects, tool=tool)

    async def _run_prepared(
        self, call: PendingCall, prepared: ToolCall | ToolResult, context: ToolContext, record: ToolCallRecord
    ) -> ToolResult:
        context.ledger.calls += 1
        log = context.request.log
        if isinstance(prepared, ToolResult):
            log.info("tool_refused", tool=call.name, tool_use_id=call.id, reason=prepared.text)
            return _refused(record, prepared)
        record.read_only = prepared.effects.read_only
        refusal = await self._judge(prepared, context, record)
        if refusal is not None:
            log.info("tool_denied", tool=call.name, tool_use_id=call.id, reason=refusal.text)
            return _refused(record, refusal)
        record.started = time.monotonic()
        result = await self._execute(prepared.tool, prepared.args, context, call.id, record)
        record.duration = time.monotonic() - record.started
        record.result, record.is_error = result.text, result.is_error
        if not result.is_error:
            context.ledger.bytes_written += prepared.effects.bytes_written
        return result

    async def _judge(self, call: ToolCall, context: ToolContext, record: ToolCallRecord) -> ToolResult | None:
        permits: list[str] = []
        for policy in self.policies:
            try:
                verdict = await policy.check_tool(call, context)
            except Exception as exc:
                context.request.log.exception("policy_failed", policy=policy.name, tool=call.name)
                record.denied_by = policy.name
                return ToolResult(
                    f"{call.name} was not run: policy {policy.name!r} failed "
                    f"({type(exc).__name__}); see the gateway log", is_error=True
                )
            if isinstance(verdict, Denial):
                record.denied_by = policy.name
                return ToolResult(f"{call.name} was denied by policy {policy.name!r}: {verdict.reason}",
                                  is_error=True)
            if isinstance(verdict, Permit):
                permits.append(policy.name)
        if call.effects.needs_permit and not permits:
            guarded = sorted(call.effects.actions & GUARDED_ACTIONS)
            what = ", ".join(guarded) if guarded else "a tool whose effects lynkr cannot see"
            return ToolResult(
                f"{call.name} was not run: {what} needs an explicit permission from a "
                "policy, and no installed policy gave one", is_error=True
            )
        return None

    async def _execute(
        self, tool: Tool, args: Any, context: ToolContext, call_id: str, record: ToolCallRecord | None = None
    ) -> ToolResult:
        """Run ``tool`` under the time limit; a timeout is marked on ``record`` (a model's call;
        ``context.invoke`` has none)."""
        log = context.request.log
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                outcome = await tool.run(args, context)
            result = outcome if isinstance(outcome, ToolResult) else ToolResult(str(outcome))
        except ToolError as exc:
            result = ToolResult(str(exc), is_error=True)
        except TimeoutError:
            if record is not None:
                record.timed_out = True
            result = ToolResult(f"{tool.name} timed out after {self.timeout:g} s", is_error=True)
        except Exception as exc:
            log.exception("tool_crashed", tool=tool.name, tool_use_id=call_id)
            result = ToolResult(f"{tool.name} failed: {type(exc).__name__}: {exc}", is_error=True)
        log.info(
            "tool_call", tool=tool.name, tool_use_id=call_id, is_error=result.is_error,
            duration_ms=round((time.monotonic() - started) * 1000, 1), result_chars=len(result.text),
        )
        return result


def _refused(record: ToolCallRecord, result: ToolResult) -> ToolResult:
    record.refused, record.is_error, record.result = True, True, result.text
    return result


def _read_only(prepared: ToolCall | ToolResult) -> bool:
    effects = prepared.effects if isinstance(prepared, ToolCall) else ToolEffects()
    return effects.read_only
