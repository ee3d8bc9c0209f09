"""``REFLECTOR_MODE=model``: the model reads a compact summary of the episodes that just
finished and the current hints, and proposes a delta as JSON::

    {"add": [{"text": "...", "turn": 3}],
     "support": [{"id": 12, "turn": 3}],
     "contradict": [{"id": 7, "turn": 2}]}

Only what the heuristics' evidence backs is applied (``accept``): every item names an
episode (a ``turn``) that this reading saw; a supported or contradicted ``id`` must exist;
a support needs an episode that did not go badly, a contradiction one that did, and
neither may go against what the heuristics recorded for that hint in that episode. An
added hint is a ``model`` hint, keyed by its normalised text, and needs repeated
evidence like any other. The heuristic delta is applied in every case;
a malformed answer only loses the model's part.
"""

from __future__ import annotations

import re

import msgspec

from lynkr_core import anthropic
from lynkr_reflector.episodes import Reading
from lynkr_reflector.playbook import Hint
from lynkr_reflector.records import BAD, Change, Episode

MAX_HINT_CHARS = 160
MAX_HINTS_SHOWN = 40

SYSTEM = (
    "You maintain a playbook of short lessons for a coding agent working in one repository. "
    "You read what the agent just did and propose small changes to the playbook. A lesson is "
    "one line, specific to this repository or task type, and actionable (what to do, or what "
    "to avoid), under 120 characters. Propose nothing rather than something vague. Answer "
    "with one JSON object and nothing else."
)

ANSWER_FORMAT = (
    'Answer with JSON: {"add": [{"text": "<new lesson>", "turn": <episode turn>}], '
    '"support": [{"id": <hint id>, "turn": <episode turn>}], '
    '"contradict": [{"id": <hint id>, "turn": <episode turn>}]}. Every item names the episode '
    "(turn) that shows it. Use empty lists when there is nothing to change."
)


class Added(msgspec.Struct, kw_only=True):
    text: str
    turn: int


class Judged(msgspec.Struct, kw_only=True):
    id: int
    turn: int


class Proposal(msgspec.Struct, kw_only=True):
    """The model's delta."""

    add: list[Added] = []
    support: list[Judged] = []
    contradict: list[Judged] = []


class BadProposal(ValueError):
    """The model's answer is not the JSON delta asked for."""


def worth_asking(reading: Reading) -> bool:
    """Whether the reading finished or judged an episode."""
    return bool(reading.episodes or reading.verdicts)


def request(model: str, reading: Reading, hints: list[Hint]) -> anthropic.MessagesRequest:
    """The request for the model: the episodes, what the heuristics made of them, the hints."""
    lines = ["Episodes that just finished or were judged by the user's next message:"]
    for episode in reading.episodes:
        lines += _episode_lines(episode)
    for verdict in reading.verdicts:
        said = f"corrected it ({verdict.note})" if verdict.corrected else "went on without a correction"
        lines.append(f"- turn {verdict.turn} ({verdict.kind} task): the user's next message {said}")
    if reading.changes:
        lines.append("The heuristics counted:")
        for change in reading.changes[:30]:
            sign = "+" if change.support else "-"
            lines.append(f"  {sign} turn {change.turn}: {change.text}")
    lines.append("Current playbook hints (id, supporting/contradicting episodes, text):")
    for hint in hints[:MAX_HINTS_SHOWN]:
        lines.append(f"  [{hint.id}] +{hint.supports}/-{hint.contradicts} ({hint.kind}) {hint.text}")
    if not hints:
        lines.append("  (none yet)")
    lines.append(ANSWER_FORMAT)
    return anthropic.MessagesRequest(
        model=model,
        max_tokens=1024,
        system=SYSTEM,
        messages=[anthropic.Message(role="user", content="\n".join(lines))],
    )


def _episode_lines(episode: Episode) -> list[str]:
    tokens = episode.input_tokens + episode.output_tokens
    lines = [
        f"- turn {episode.turn} ({episode.kind} task): {episode.prompt!r}",
        f"  {episode.steps} model calls, {tokens} tokens, {episode.seconds:.0f} s; tests after the "
        f"last edit: {episode.tests}; outcome so far: {episode.outcome}",
    ]
    if episode.corrected:
        lines.append(f"  the user interjected: {episode.corrected!r}")
    lines += [f"  {number}. {action}" for number, action in enumerate(episode.actions[:25], 1)]
    return lines


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)
_decoder = msgspec.json.Decoder(Proposal)


def parse(message: anthropic.MessageResponse) -> Proposal:
    """The delta in the model's answer (a JSON object, possibly in a code fence);
    ``BadProposal`` when there is none."""
    text = message.text()
    found = _JSON_OBJECT.search(text)
    if found is None:
        raise BadProposal(f"no JSON object in the answer: {text[:80]!r}")
    try:
        return _decoder.decode(found.group(0))
    except msgspec.DecodeError as exc:
        raise BadProposal(f"not the delta asked for: {exc}") from exc


def normalise(text: str) -> str:
    """A hint's text as a key: lower case, words only."""
    return " ".join(re.findall(r"[a-z0-9_./`-]+", text.lower()))


Counted = dict[int, set[tuple[str, str, int, bool]]]


def accept(proposal: Proposal, reading: Reading, hints: list[Hint], counted: Counted) -> list[Change]:
    """The part of the model's delta the heuristic evidence backs (see the module's doc).
    ``counted`` holds the evidence already recorded for the hints the proposal names:
    ``(session, thread, turn, support)`` by hint id."""
    episodes = {episode.turn: episode for episode in reading.episodes}
    bad = {turn for turn, episode in episodes.items() if episode.outcome == BAD}
    kinds = {turn: episode.kind for turn, episode in episodes.items()}
    for verdict in reading.verdicts:
        kinds.setdefault(verdict.turn, verdict.kind)
        if verdict.corrected:
            bad.add(verdict.turn)
    session, thread = _identity(reading)
    if session is None:
        return []
    by_id = {hint.id: hint for hint in hints}
    accepted: list[Change] = []
    for item in proposal.add:
        text = " ".join(item.text.split())
        if item.turn not in kinds or not 8 <= len(text) <= MAX_HINT_CHARS:
            continue
        accepted.append(Change(key=f"model:{normalise(text)}", kind="model", text=text, support=True,
                               session_id=session, thread=thread, turn=item.turn,
                               task_type=kinds[item.turn], note="proposed by the model"))
    for item, support in [(i, True) for i in proposal.support] + [(i, False) for i in proposal.contradict]:
        hint = by_id.get(item.id)
        if hint is None or item.turn not in kinds:
            continue
        against = (session, thread, item.turn, not support) in counted.get(hint.id, set())
        if against or (support and item.turn in bad) or (not support and item.turn not in bad):
            continue
        accepted.append(Change(key=hint.key, kind=hint.kind, text=hint.text, support=support,
                               session_id=session, thread=thread, turn=item.turn,
                               task_type=hint.task_type, note="judged by the model"))
    return accepted


def named(proposal: Proposal) -> set[int]:
    """The hint ids the proposal supports or contradicts."""
    return {item.id for item in [*proposal.support, *proposal.contradict]}


def _identity(reading: Reading) -> tuple[str | None, str]:
    for record in [*reading.episodes, *reading.verdicts]:
        return record.session_id, record.thread
    return None, ""
