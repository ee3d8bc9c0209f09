"""Following one conversation across requests: the cursor, the task under way, its close
and the verdict the user's next prompt gives it.

``read(thread, messages, ...)`` is pure apart from the ``Thread`` it advances: it reads
only the messages after the thread's cursor, so an event is counted once however often
the history is sent again. A request whose messages are all among those read (a retry of
an older request) reads nothing; one that departs from them (the user rewound the
conversation) reads on from where they part. It returns the playbook changes, the
finished episodes and the verdicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from lynkr_core import anthropic
from lynkr_reflector import classify, lessons, transcript
from lynkr_reflector.records import Action, Change, Episode, Task, Thread, Verdict
from lynkr_reflector.transcript import AnswerEnd, Event, Interjection, Prompt, ToolResult, ToolUse

MAX_ACTIONS = 400
_PATH_FIELDS = ("file_path", "path", "notebook_path")
_COMMENTS = frozenset({"description"})


@dataclass(slots=True)
class Usage:
    """What one exchange cost: model calls, tokens, seconds."""

    steps: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class Reading:
    """What reading one exchange found."""

    changes: list[Change] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    rewound: bool = False
    replayed: bool = False


def new_thread(session_id: str, key: str) -> Thread:
    """The state of a conversation seen for the first time."""
    return Thread(session_id=session_id, key=key)


def read(
    thread: Thread,
    messages: Sequence[anthropic.Message],
    *,
    usage: Usage,
    server_events: Sequence[Event] = (),
    answered: bool = False,
    workspace: str = "",
    cwd: str = "",
) -> Reading:
    """Advance ``thread`` over the messages after its cursor, then the exchange's own tool
    calls (``server_events``) and its answer (``answered``: it called no tool)."""
    reading = Reading()
    if cwd:
        thread.cwd = cwd
    start = thread.cursor
    moved = start > len(messages) or (start and transcript.fingerprint(messages[start - 1]) != thread.seen[-1])
    if moved:
        common = _common_prefix(thread.seen, messages)
        if common == len(messages):
            reading.replayed = True  # an older request again: every message of it was read
            return reading
        # Rewound or edited: what followed the common part is gone. Read on from there,
        # keeping the turn count (new turns are new episodes).
        reading.rewound = True
        thread.task = None
        thread.pending = None
        del thread.seen[common:]
        start = common
    state = _State(thread, reading, workspace)
    for event in transcript.events(messages, start):
        state.feed(event)
    if thread.task is not None:
        task = thread.task
        task.exchanges += 1
        task.steps += usage.steps
        task.input_tokens += usage.input_tokens
        task.output_tokens += usage.output_tokens
        task.seconds += usage.seconds
    for event in server_events:
        state.feed(event)
    if answered:
        state.close()
    thread.seen += [transcript.fingerprint(message) for message in messages[start:]]
    return reading


def _common_prefix(seen: list[str], messages: Sequence[anthropic.Message]) -> int:
    """How many first messages are the ones read before."""
    for index in range(min(len(seen), len(messages))):
        if transcript.fingerprint(messages[index]) != seen[index]:
            return index
    return min(len(seen), len(messages))


class _State:
    """Feeds events to a thread."""

    def __init__(self, thread: Thread, reading: Reading, workspace: str) -> None:
        self.thread = thread
        self.reading = reading
        self.roots = tuple(root.rstrip("/") + "/" for root in (workspace, thread.cwd) if root)

    def ref(self, turn: int) -> lessons.Ref:
        return lessons.Ref(self.thread.session_id, self.thread.key, turn)

    def feed(self, event: Event) -> None:
        task = self.thread.task
        if isinstance(event, Prompt):
            self.close()
            self.judge(event.text)
            self.open(event.text)
        elif isinstance(event, ToolUse):
            if task is not None and len(task.actions) < MAX_ACTIONS:
                task.actions.append(self.action(event))
        elif isinstance(event, ToolResult):
            if task is not None:
                self.resolve(task, event)
        elif isinstance(event, Interjection):
            if task is not None and classify.is_correction(event.text):
                task.interjection = " ".join(event.text.split())[:200]
        elif isinstance(event, AnswerEnd):
            self.close()

    def open(self, prompt: str) -> None:
        thread = self.thread
        thread.turns += 1
        kind = classify.task_type(prompt)
        if kind == classify.OTHER and thread.kind:
            kind = thread.kind  # "no, the other file": the task goes on
        thread.kind = kind
        thread.task = Task(turn=thread.turns, kind=kind, prompt=" ".join(prompt.split())[:200])

    def close(self) -> None:
        task = self.thread.task
        if task is None:
            return
        self.thread.task = None
        closing = lessons.close(task, self.ref(task.turn))
        self.reading.changes += closing.changes
        self.reading.episodes.append(closing.episode)
        self.thread.pending = closing.pending

    def judge(self, prompt: str) -> None:
        pending = self.thread.pending
        if pending is None:
            return
        self.thread.pending = None
        changes, verdict = lessons.judge(pending, prompt, self.ref(pending.turn))
        self.reading.changes += changes
        self.reading.verdicts.append(verdict)

    def action(self, event: ToolUse) -> Action:
        arguments = event.input
        command = arguments.get("command")
        command = command if isinstance(command, str) else ""
        kind = classify.category(event.name, command)
        return Action(
            id=event.id, tool=event.name, category=kind,
            sig=classify.command_signature(command) if command else event.name,
            target=self.target(arguments), call=_digest(event.name, arguments), source=event.source,
        )

    def target(self, arguments: dict[str, object]) -> str:
        for name in _PATH_FIELDS:
            value = arguments.get(name)
            if isinstance(value, str) and value:
                for root in self.roots:
                    if value.startswith(root):
                        return value[len(root):]
                return value
        return ""

    def resolve(self, task: Task, result: ToolResult) -> None:
        for action in reversed(task.actions):
            if action.id != result.tool_use_id or action.ok is not None:
                continue
            if action.category == classify.TEST:
                action.ok, action.error = classify.test_verdict(result.text, result.is_error)
            elif result.is_error:
                action.ok, action.error = False, classify.error_class(result.text)
            else:
                action.ok = True
            return


def _digest(name: str, arguments: dict[str, object]) -> str:
    """The exact call, for telling a repeat from a change (a Bash call's ``description``
    is the model's comment, not part of the call)."""
    essential = {key: value for key, value in arguments.items() if key not in _COMMENTS}
    try:
        encoded = msgspec.json.encode(essential, order="sorted")
    except (TypeError, msgspec.EncodeError):
        encoded = repr(sorted(essential.items())).encode()
    return hashlib.blake2b(name.encode() + b"\0" + encoded, digest_size=6).hexdigest()
