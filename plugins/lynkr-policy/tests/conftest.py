"""Fake tools that declare the effects the policy judges and record whether they ran,
and ``make_bench``: the policy plugin and those tools under ``ToolBench``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

import lynkr_policy
import msgspec
import pytest

from lynkr_core import Tool, ToolContext, ToolEffects, ToolResult
from lynkr_core.testing.tools import ToolBench


class NoInput(msgspec.Struct, kw_only=True):
    """No arguments."""


class PathInput(msgspec.Struct, kw_only=True):
    path: Annotated[str, msgspec.Meta(description="A path in the workspace")]


class WriteInput(msgspec.Struct, kw_only=True):
    path: Annotated[str, msgspec.Meta(description="File to write")]
    content: Annotated[str, msgspec.Meta(description="What to write")] = ""


class CommitInput(msgspec.Struct, kw_only=True):
    message: Annotated[str | None, msgspec.Meta(description="The commit message")] = None


class Recorded(Tool):
    """A fake that remembers its runs."""

    def __init__(self) -> None:
        self.runs: list[object] = []

    async def run(self, args: object, context: ToolContext) -> str:
        self.runs.append(args)
        return f"{self.name} ran"


class FakeEcho(Recorded):
    name = "fake_echo"
    description = "Does nothing."
    Input = NoInput

    def effects(self, args: NoInput) -> ToolEffects:
        return ToolEffects()  # declared: reads nothing, changes nothing


class FakeRead(Recorded):
    name = "fake_read"
    description = "Pretends to read a file."
    Input = PathInput

    def effects(self, args: PathInput) -> ToolEffects:
        return ToolEffects(reads=(args.path,))


class FakeWrite(Recorded):
    name = "fake_write"
    description = "Writes a file."
    Input = WriteInput

    def effects(self, args: WriteInput) -> ToolEffects:
        return ToolEffects(writes=(args.path,), bytes_written=len(args.content.encode()))

    async def run(self, args: WriteInput, context: ToolContext) -> str:
        target = context.resolve(args.path, writing=True)

        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(args.content)

        await asyncio.to_thread(write)
        return await super().run(args, context)


class FakePush(Recorded):
    name = "fake_push"
    description = "Pretends to push."
    Input = NoInput

    def effects(self, args: NoInput) -> ToolEffects:
        return ToolEffects(actions=frozenset({"git.push"}))


class FakePull(Recorded):
    name = "fake_pull"
    description = "Pretends to pull."
    Input = NoInput

    def effects(self, args: NoInput) -> ToolEffects:
        return ToolEffects(actions=frozenset({"git.pull"}))


class FakeCommit(Recorded):
    name = "fake_commit"
    description = "Pretends to commit."
    Input = CommitInput

    def effects(self, args: CommitInput) -> ToolEffects:
        return ToolEffects(actions=frozenset({"git.commit"}))


class FakeShellPush(Recorded):
    name = "fake_shell_push"
    description = "Pretends to run a shell command that pushes."
    Input = NoInput

    def effects(self, args: NoInput) -> ToolEffects:
        return ToolEffects(actions=frozenset({"git.push", "shell.run"}))


class FakeTests(Tool):
    """``workspace_test_run`` that passes or fails on demand and counts its runs."""

    name = "workspace_test_run"
    description = "Runs the project's tests."
    Input = NoInput

    def __init__(self) -> None:
        self.passing = True
        self.runs = 0

    def effects(self, args: NoInput) -> ToolEffects:
        return ToolEffects(actions=frozenset({"command.test"}))

    async def run(self, args: NoInput, context: ToolContext) -> ToolResult:
        self.runs += 1
        if self.passing:
            return ToolResult("3 passed")
        lines = [f"failure line {n}" for n in range(1, 31)]
        return ToolResult("\n".join(lines), is_error=True)


@dataclass
class Fakes:
    """One of each fake tool, fresh for each test."""

    echo: FakeEcho = field(default_factory=FakeEcho)
    read: FakeRead = field(default_factory=FakeRead)
    write: FakeWrite = field(default_factory=FakeWrite)
    push: FakePush = field(default_factory=FakePush)
    pull: FakePull = field(default_factory=FakePull)
    commit: FakeCommit = field(default_factory=FakeCommit)
    shell_push: FakeShellPush = field(default_factory=FakeShellPush)
    tests: FakeTests = field(default_factory=FakeTests)

    def all(self) -> list[Tool]:
        """Every fake."""
        return [
            self.echo,
            self.read,
            self.write,
            self.push,
            self.pull,
            self.commit,
            self.shell_push,
            self.tests,
        ]


@pytest.fixture
def fakes() -> Fakes:
    """Fresh fake tools."""
    return Fakes()


@pytest.fixture
def make_bench(tmp_path, fakes):
    """``make_bench(**env)``: lynkr-policy with the fakes on ``tmp_path``;
    ``without=("workspace_test_run",)`` leaves tools out."""

    def make(*, without: tuple[str, ...] = (), **env: str) -> ToolBench:
        tools = [tool for tool in fakes.all() if tool.name not in without]
        return ToolBench(tmp_path, plugins=[lynkr_policy], tools=tools, env=env)

    return make
