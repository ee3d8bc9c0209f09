"""What a finished task teaches: the heuristic rules that turn a task's tool calls and
outcome into playbook changes (supports and contradictions of hints).

Hint kinds, their keys and when an episode supports or contradicts them:

- ``workflow:<type>:test-before-edit`` and ``workflow:<type>:search-first``: a habit of
  the task (a test ran before the first edit; the first step was a search). A good
  outcome supports it, a bad one contradicts it. Not learnt for prompts of no known type.
- ``sequence:<type>:<a>><b>>...``: the task's order of steps (search, read, edit,
  test, ...; repeats collapsed, 2 to 6 steps). Same rule.
- ``verify:<command>``: edits followed by a passing run of that test command support
  it; the command failing to start after edits, or a correction of a task it passed,
  contradicts it.
- ``recovery:<failed>|<error>-><fix>``: a failed call followed by a different call of
  the same purpose that worked (``pytest`` not found, then ``uv run pytest``; an Edit
  whose old_string was not found, then Read, then the Edit worked). The same fix
  failing the same way contradicts it.
- ``retry:<command>``: a failed call repeated unchanged that failed again supports
  "don't"; one that then worked contradicts it.
- ``reread:<type>``: a file read again although nothing changed it supports "don't";
  a re-read after a failed Edit of that file that let the next Edit work contradicts it.
- ``corrected:<path>``: the user corrected a task that edited that file; a task that
  edited it and was accepted contradicts it.

Outcome (``records.Episode``): bad when the tests failed at the end or the user
interjected a correction; good when tests passed after the last edit; otherwise open
until the user's next prompt accepts it (good) or corrects it (bad). Changes that
depend on an open outcome wait in ``Pending.deferred``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from lynkr_reflector import classify
from lynkr_reflector.classify import EDIT, READ, SEARCH, TEST, TEST_FAILURES
from lynkr_reflector.records import BAD, GOOD, OPEN, Action, Change, Episode, Pending, Task, Verdict

MAX_SEQUENCE = 6
#: Categories left out of a task's sequence: they say nothing about the order of work.
_NOT_IN_SEQUENCE = frozenset({classify.OTHER_TOOL, classify.DELEGATE})
_COMMAND_TOOLS = frozenset({"bash"})
#: Why a test command could not run at all.
_CANNOT_START = ("command not found", "module not found")


@dataclass(frozen=True, slots=True)
class Ref:
    """The episode a change is evidence from."""

    session_id: str
    thread: str
    turn: int

    def change(self, key: str, kind: str, text: str, *, support: bool, task_type: str = "",
               note: str = "") -> Change:
        """A change with this episode as its evidence."""
        return Change(key=key, kind=kind, text=text, support=support, session_id=self.session_id,
                      thread=self.thread, turn=self.turn, task_type=task_type, note=note)


@dataclass(slots=True)
class Closing:
    """What closing a task gives: changes now, the episode, and what waits for the verdict."""

    changes: list[Change]
    episode: Episode
    pending: Pending


def ran(action: Action) -> bool:
    """The call did its job, or (a test run) ran and reported failing tests."""
    return action.ok is True or action.error == TEST_FAILURES


def _is_command(action: Action) -> bool:
    return action.tool.lower() in _COMMAND_TOOLS or action.tool.lower().endswith("__bash")


def sequence(actions: list[Action]) -> list[str]:
    """The categories of the calls that ran, in order, repeats collapsed."""
    found: list[str] = []
    for action in actions:
        if not ran(action) or action.category in _NOT_IN_SEQUENCE:
            continue
        if not found or found[-1] != action.category:
            found.append(action.category)
    return found


def tests_verdict(actions: list[Action]) -> tuple[str, str]:
    """``(passed|failed|none, command)``: the last test run after the last successful edit."""
    last_edit = max((i for i, a in enumerate(actions) if a.category == EDIT and a.ok), default=None)
    if last_edit is None:
        return "none", ""
    for action in reversed(actions[last_edit + 1:]):
        if action.category == TEST and action.ok is not None and ran(action):
            return ("passed" if action.ok else "failed"), action.sig
    return "none", ""


def describe(action: Action) -> str:
    """One line for the model and the report: ``test `uv run pytest` FAILED (test failures)``."""
    what = f"`{action.sig}`" if _is_command(action) else action.tool
    if action.target:
        what += f" {action.target}"
    state = "pending" if action.ok is None else "ok" if action.ok else f"FAILED ({action.error})"
    return f"{action.category} {what} {state}"


def close(task: Task, ref: Ref) -> Closing:
    """The changes a finished task makes now, its episode, and what waits for the verdict."""
    actions = [a for a in task.actions if a.ok is not None]
    verdict, test_command = tests_verdict(actions)
    outcome = BAD if task.interjection or verdict == "failed" else GOOD if verdict == "passed" else OPEN
    steps = sequence(actions)
    episode = Episode(
        session_id=ref.session_id, thread=ref.thread, turn=ref.turn, kind=task.kind,
        prompt=task.prompt[:160], sequence=steps, actions=[describe(a) for a in actions[:40]],
        steps=task.steps, input_tokens=task.input_tokens, output_tokens=task.output_tokens,
        seconds=round(task.seconds, 3), tests=verdict, outcome=outcome,
        corrected=task.interjection[:160],
    )
    note = (f"{task.steps} steps, {task.input_tokens + task.output_tokens} tokens, "
            f"{task.seconds:.0f}s, tests {verdict}")
    habits = _habits(task.kind, actions, steps, ref, note) if task.kind != classify.OTHER else []
    now: list[Change] = []
    pending = Pending(turn=ref.turn, kind=task.kind, edited=_edited(actions))
    if outcome == OPEN:
        pending.deferred = habits
    else:
        now += [_with(change, support=outcome == GOOD) for change in habits]
        pending.supported += [change for change in now if change.support]
    if verdict == "passed":
        passed = ref.change(f"verify:{test_command}", "verify",
                            f"After editing, run `{test_command}` to check the change",
                            support=True, note=note)
        now.append(passed)
        pending.supported.append(passed)
    now += _broken_test_commands(actions, ref)
    now += _recoveries(actions, ref)
    now += _retries(actions, ref)
    if task.kind != classify.OTHER:
        now += _rereads(task.kind, actions, ref)
    return Closing(now, episode, pending)


def judge(pending: Pending, prompt: str, ref: Ref) -> tuple[list[Change], Verdict]:
    """The user's next prompt after a finished task: a correction contradicts what the task
    supported and marks the files it edited; anything else accepts the task."""
    corrected = classify.is_correction(prompt)
    note = f'user: "{" ".join(prompt.split())[:100]}"'
    changes: list[Change] = []
    if corrected:
        changes += [_with(change, support=False, note=note) for change in pending.supported]
        changes += [_with(change, support=False, note=note) for change in pending.deferred]
    else:
        changes += pending.deferred
    for path in pending.edited:
        changes.append(ref.change(
            f"corrected:{path}", "corrected",
            f"Confirm the approach with the user before changing {path}: edits to it were corrected",
            support=corrected, note=note,
        ))
    verdict = Verdict(session_id=ref.session_id, thread=ref.thread, turn=ref.turn,
                      kind=pending.kind, corrected=corrected, note=note if corrected else "")
    return changes, verdict


def _with(change: Change, *, support: bool, note: str | None = None) -> Change:
    return Change(key=change.key, kind=change.kind, text=change.text, support=support,
                  session_id=change.session_id, thread=change.thread, turn=change.turn,
                  task_type=change.task_type, note=change.note if note is None else note)


def _edited(actions: list[Action]) -> list[str]:
    seen: list[str] = []
    for action in actions:
        if action.category == EDIT and action.ok and action.target and action.target not in seen:
            seen.append(action.target)
    return seen[:20]


def _habits(kind: str, actions: list[Action], steps: list[str], ref: Ref, note: str) -> list[Change]:
    """The task's habits, whose worth its outcome decides."""
    found: list[Change] = []
    worked = [a for a in actions if ran(a)]
    first_edit = next((i for i, a in enumerate(worked) if a.category == EDIT), None)
    if first_edit is not None and any(a.category == TEST for a in worked[:first_edit]):
        text = ("For debug tasks, run the failing test before editing" if kind == "debug"
                else f"For {kind} tasks, run the tests before editing")
        found.append(ref.change(f"workflow:{kind}:test-before-edit", "workflow", text,
                                support=True, task_type=kind, note=note))
    if worked and worked[0].category == SEARCH and any(a.category in (READ, EDIT) for a in worked[1:]):
        found.append(ref.change(f"workflow:{kind}:search-first", "workflow",
                                f"For {kind} tasks, search the code before opening files",
                                support=True, task_type=kind, note=note))
    if 2 <= len(steps) <= MAX_SEQUENCE:
        found.append(ref.change(f"sequence:{kind}:{'>'.join(steps)}", "sequence",
                                f"For {kind} tasks, this order of work succeeded: {' -> '.join(steps)}",
                                support=True, task_type=kind, note=note))
    return found


def _next_of_kind(actions: list[Action], after: int, failed: Action) -> int | None:
    """The next call with the same purpose as ``failed``: a command of the same category,
    or an edit of the same file."""
    for j in range(after + 1, len(actions)):
        other = actions[j]
        if failed.category == EDIT:
            if other.category == EDIT and other.target == failed.target:
                return j
        elif _is_command(failed) and _is_command(other) and other.category == failed.category:
            return j
        elif not _is_command(failed) and other.tool == failed.tool:
            return j
    return None


def _recoveries(actions: list[Action], ref: Ref) -> list[Change]:
    found: list[Change] = []
    for i, failed in enumerate(actions):
        if failed.ok is not False or failed.error == TEST_FAILURES:
            continue
        j = _next_of_kind(actions, i, failed)
        if j is None or actions[j].call == failed.call:
            continue
        fix = actions[j]
        note = f"{failed.sig}: {failed.error}"
        if _is_command(failed):
            if fix.sig == failed.sig:
                continue  # other arguments, same program: too specific to generalise
            key = f"recovery:{failed.sig}|{failed.error}->{fix.sig}"
            text = f"If `{failed.sig}` fails ({failed.error}), run `{fix.sig}` instead"
            if ran(fix):
                found.append(ref.change(key, "recovery", text, support=True, note=note))
            elif fix.error == failed.error:
                found.append(ref.change(key, "recovery", text, support=False,
                                        note=f"{fix.sig} failed too: {fix.error}"))
        elif failed.category == EDIT and fix.ok:
            found.append(_edit_recovery(failed, actions[i + 1:j], ref, note))
    return found


def _edit_recovery(failed: Action, between: list[Action], ref: Ref, note: str) -> Change:
    reread = any(a.category == READ and a.target == failed.target and a.ok for a in between)
    if reread and failed.error == "file not read first":
        fix, how = "read", "Read the file before changing it"
    elif reread:
        fix, how = "read", "Read the file again before retrying"
    elif failed.error == "old_string matches several places":
        fix, how = "unique", "include more surrounding lines in old_string, or set replace_all"
    else:
        fix, how = "retry", "copy old_string exactly as Read shows it"
    return ref.change(f"recovery:{failed.tool}|{failed.error}->{fix}", "recovery",
                      f"If {failed.tool} fails ({failed.error}), {how}", support=True, note=note)


def _retries(actions: list[Action], ref: Ref) -> list[Change]:
    found: dict[str, Change] = {}
    for failed, again in itertools.pairwise(actions):
        if failed.ok is not False or again.call != failed.call or not failed.call:
            continue
        name = f"`{failed.sig}`" if _is_command(failed) else f"a {failed.tool} call"
        key = f"retry:{failed.sig}"
        found.setdefault(key, ref.change(
            key, "retry", f"Do not repeat {name} unchanged after it fails; change something first",
            support=again.ok is False, note=f"{failed.sig}: {failed.error}",
        ))
    return list(found.values())


def _rereads(kind: str, actions: list[Action], ref: Ref) -> list[Change]:
    """A file read again with nothing that could change it in between (an edit of it, any
    command); a re-read after a failed edit of the file that let the next edit work is
    the counter-example."""
    wasted = needed = False
    last_read: dict[str, int] = {}
    for i, action in enumerate(actions):
        if action.category != READ or not action.target or not action.ok:
            continue
        before = last_read.get(action.target)
        last_read[action.target] = i
        if before is None:
            continue
        between = actions[before + 1:i]
        failed_edit = any(a.category == EDIT and a.target == action.target and a.ok is False for a in between)
        changed = any((a.category == EDIT and a.target == action.target and a.ok) or _is_command(a)
                      for a in between)
        if failed_edit:
            following = next(
                (a for a in actions[i + 1:] if a.category == EDIT and a.target == action.target), None
            )
            needed = needed or bool(following and following.ok)
        elif not changed and actions[before].call == action.call:
            wasted = True
    text = f"In {kind} tasks, do not re-read a file that has not changed since you read it"
    found = []
    if wasted:
        found.append(ref.change(f"reread:{kind}", "reread", text, support=True, task_type=kind))
    if needed:
        found.append(ref.change(f"reread:{kind}", "reread", text, support=False, task_type=kind,
                                note="re-reading after a failed Edit fixed it"))
    return found


def _broken_test_commands(actions: list[Action], ref: Ref) -> list[Change]:
    """A test command that could not start after an edit: it is no way to check a change."""
    first_edit = next((i for i, a in enumerate(actions) if a.category == EDIT and a.ok), None)
    if first_edit is None:
        return []
    found: dict[str, Change] = {}
    for action in actions[first_edit + 1:]:
        if action.category == TEST and action.ok is False and action.error in _CANNOT_START:
            found.setdefault(action.sig, ref.change(
                f"verify:{action.sig}", "verify", f"After editing, run `{action.sig}` to check the change",
                support=False, note=f"{action.sig}: {action.error}"))
    return list(found.values())
