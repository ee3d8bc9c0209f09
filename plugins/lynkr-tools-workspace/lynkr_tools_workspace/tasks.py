"""The task tracker's tools: create, update, list and complete tasks of this workspace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_tools_workspace.taskstore import LIST_ORDER, MAX_LISTED, Task, TaskStore

Status = Literal["todo", "in_progress", "blocked", "done"]
TaskId = Annotated[int, msgspec.Meta(ge=1, description="The task's number, as workspace_tasks_list shows it (#3 is 3).")]
TitleText = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
DescriptionText = Annotated[str, msgspec.Meta(max_length=10_000)]
WRITES = ToolEffects(actions=frozenset({"tasks.write"}))
#: Characters of a description shown under a listed task.
SNIPPET_CHARS = 100


class TaskCreateInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_task_create."""

    title: Annotated[TitleText, msgspec.Meta(description="A short title saying what is to be done.")]
    description: Annotated[
        DescriptionText, msgspec.Meta(description="Details: what, why, how to know it is done.")
    ] = ""
    status: Annotated[Status, msgspec.Meta(description="Initial status (default todo).")] = "todo"


class TaskUpdateInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_task_update."""

    id: TaskId
    title: Annotated[TitleText | None, msgspec.Meta(description="New title; omit to keep it.")] = None
    description: Annotated[
        DescriptionText | None, msgspec.Meta(description="New description; omit to keep it.")
    ] = None
    status: Annotated[
        Status | None,
        msgspec.Meta(description="New status: todo, in_progress, blocked or done; omit to keep it."),
    ] = None


class TasksListInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_tasks_list."""

    status: Annotated[Status | None, msgspec.Meta(description="Only list tasks with this status; omit for all.")] = None


class TaskCompleteInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_task_complete."""

    id: TaskId


class _TaskTool(Tool):
    """A task tool: the store is the SQLite file ``db_path``, rows of this workspace only."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def store(self, context: ToolContext) -> TaskStore:
        """The tasks of the workspace ``context`` runs in."""
        return TaskStore(self.db_path, str(context.workspace))


class CreateTask(_TaskTool):
    """Adds a task to the workspace's tracker."""

    name = "workspace_task_create"
    description = (
        "Add a task to this workspace's task list, to plan multi-step work and keep track of it "
        "across turns and sessions. Returns the new task's number (#id) for later updates."
    )
    Input = TaskCreateInput

    def effects(self, args: TaskCreateInput) -> ToolEffects:
        """Writes to the task tracker."""
        return WRITES

    async def run(self, args: TaskCreateInput, context: ToolContext) -> str:
        """Create the task."""
        title = _title(args.title)
        task = await asyncio.to_thread(self.store(context).create, title, args.description, args.status)
        return f"Created task {_line(task)}"


class UpdateTask(_TaskTool):
    """Changes a task's title, description or status."""

    name = "workspace_task_update"
    description = (
        "Change a task of this workspace: its title, description or status (todo, in_progress, "
        "blocked, done). Give only what changes. Returns the task as it now is."
    )
    Input = TaskUpdateInput

    def effects(self, args: TaskUpdateInput) -> ToolEffects:
        """Writes to the task tracker."""
        return WRITES

    async def run(self, args: TaskUpdateInput, context: ToolContext) -> str:
        """Apply the changes."""
        changes: dict[str, str] = {}
        if args.title is not None:
            changes["title"] = _title(args.title)
        if args.description is not None:
            changes["description"] = args.description
        if args.status is not None:
            changes["status"] = args.status
        if not changes:
            raise ToolError("nothing to change: give a new title, description or status")
        before, after = await asyncio.to_thread(self.store(context).update, args.id, changes)
        what = [f"{name} changed" for name in ("title", "description") if getattr(before, name) != getattr(after, name)]
        if before.status != after.status:
            what.append(f"status {before.status} -> {after.status}")
        return f"Updated task {_line(after)}" + (f" ({'; '.join(what)})" if what else " (nothing changed)")


class ListTasks(_TaskTool):
    """Lists the workspace's tasks."""

    name = "workspace_tasks_list"
    description = (
        "List this workspace's tasks: number, status, title and when each was last updated, "
        "in progress first, then todo, blocked and done. Filter by status to see fewer."
    )
    Input = TasksListInput

    def effects(self, args: TasksListInput) -> ToolEffects:
        """Reads nothing in the workspace and changes nothing."""
        return ToolEffects()

    async def run(self, args: TasksListInput, context: ToolContext) -> str:
        """The listing."""
        tasks, counts = await asyncio.to_thread(self.store(context).tasks, args.status)
        total = sum(counts.values())
        if not tasks:
            which = f" with status {args.status}" if args.status else ""
            return f"No tasks{which} in this workspace. workspace_task_create adds one."
        breakdown = ", ".join(f"{counts[s]} {s}" for s in LIST_ORDER if counts.get(s))
        lines = [f"{total} task{'s' if total != 1 else ''} ({breakdown}):"]
        for task in tasks:
            lines.append(f"{_line(task)}  (updated {task.updated})")
            first = task.description.strip().split("\n", 1)[0]
            if first:
                more = len(first) > SNIPPET_CHARS or "\n" in task.description.strip()
                lines.append(f"    {first[:SNIPPET_CHARS]}{'…' if more else ''}")
        if total > len(tasks):
            lines.append(f"[{total - len(tasks)} more not shown (at most {MAX_LISTED}); filter by status]")
        return "\n".join(lines)


class CompleteTask(_TaskTool):
    """Marks a task done."""

    name = "workspace_task_complete"
    description = "Mark a task of this workspace as done. Returns the task."
    Input = TaskCompleteInput

    def effects(self, args: TaskCompleteInput) -> ToolEffects:
        """Writes to the task tracker."""
        return WRITES

    async def run(self, args: TaskCompleteInput, context: ToolContext) -> str:
        """Set the status to done."""
        before, after = await asyncio.to_thread(self.store(context).update, args.id, {"status": "done"})
        if before.status == "done":
            return f"Task {_line(after)} was already done."
        return f"Completed task {_line(after)}"


def _title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ToolError("the title is blank; give a short title")
    return cleaned


def _line(task: Task) -> str:
    return f"#{task.id} [{task.status}] {task.title}"
