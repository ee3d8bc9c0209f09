"""Heuristic extraction: the preferences, decisions, facts and relationships a message
states, each with a subject (what it is about, so that a later statement about the same
subject contradicts it) and the entities it names.

Pure functions over text; every pattern is here so that what memory recognises can be
read in one place. The patterns read sentences written by a person ("I prefer...",
"we decided...", "our API runs on..."), not code or tool output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lynkr_memory.text import STOPWORDS, keywords

TYPES = ("preference", "decision", "fact", "relationship")
MAX_SENTENCE = 300

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_CODE = re.compile(r"```.*?```", re.S)

_PREFERENCE = re.compile(
    r"\b(?:i|we)\b(?:\s+(?:really|strongly|always|now|still|generally|usually|do|would|'d))*\s+"
    r"(?:prefer|like|love|favou?r|enjoy|hate|dislike|avoid|want)s?\s+(?P<object>.+)", re.I)
_FAVOURITE = re.compile(r"\bmy\s+(?:favou?rite|preferred|go-to)\s+(?P<subject>[\w .+#-]{2,40}?)\s+(?:is|are)\s+(?P<object>.+)", re.I)
_ALWAYS = re.compile(r"^\s*(?:(?:actually|so|ok|okay|and|also|remember)\s*,?\s+)?(?:please\s+)?(?:always|never)\s+(?P<object>.+)", re.I)
_DECISION = re.compile(
    r"\b(?:we|i|let'?s|the team)\b.*?\b(?:decided|decide|chose|chosen|choose|agreed|will use|'ll use|are using|"
    r"going with|go with|settled on|switched|switch|moving|moved|migrated|migrate)\b\s*(?:to|on|with)?\s*(?P<object>.+)",
    re.I)
_FACT = re.compile(
    r"\b(?P<owner>my|our|the project'?s?|this project'?s?|the)\s+(?P<subject>[\w .+#/-]{2,40}?)\s+"
    r"(?:is|are|was|runs on|run on|uses|use|lives in|live in|is hosted on|is deployed (?:on|to)|is called|is named)\s+"
    r"(?P<object>.+)", re.I)
_I_AM = re.compile(r"\bi\s*(?P<verb>am|work|live|'m)\s+(?P<object>.+)", re.I)
_RELATION = re.compile(
    r"\b(?P<left>[\w./-]{2,60})\s+(?P<verb>depends on|imports|calls|extends|inherits from|is part of|belongs to|"
    r"talks to|connects to|reads from|writes to|wraps|replaces)\s+(?P<right>[\w./-]{2,60})", re.I)
_PURPOSE = re.compile(r"\b(?:for|when|in|with|on)\s+(?P<purpose>(?:the\s+|our\s+|my\s+|all\s+)?[\w .+#/-]{3,60})$", re.I)
_ASIDE = re.compile(r"\s*,?\s*\b(?:instead|rather than|over|any ?more|these days|from now on|now)\b.*$", re.I)
_OVER = re.compile(r"\b(?:over|instead of|rather than|to)\b", re.I)

_ENTITY_PATTERNS = (
    ("path", re.compile(r"(?<![\w/])(?:\.{0,2}/)?(?:[\w.-]+/)+[\w.-]+\.\w{1,6}\b")),
    ("identifier", re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b")),
    ("name", re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w+#.-]*[\w+#]\b")),
    ("version", re.compile(r"\bv?\d+\.\d+(?:\.\d+)?\b")),
)

#: A sentence that names a credential is never remembered (it may carry the secret itself).
SECRET = re.compile(r"\b(api[ _-]?keys?|tokens?|passwords?|passwd|passphrases?|secrets?|credentials?|private keys?)\b"
                    r"|\b(sk|pk|ghp|xox[bp])[-_][A-Za-z0-9]{8,}", re.I)

CONTRADICTION = re.compile(
    r"\b(actually|no longer|not anymore|any ?more|instead|rather than|instead of|replaced|switched|changed my mind|"
    r"now prefer|from now on|not .+ but)\b", re.I)
NEGATION = re.compile(r"\b(not|never|no|don'?t|doesn'?t|isn'?t|aren'?t|won'?t|stop)\b", re.I)
EMPHASIS = re.compile(r"\b(important|importantly|always|never|must|remember|critical|crucial|note that|make sure)\b", re.I)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A statement worth remembering, as extracted."""

    type: str
    content: str
    subject: str
    entities: tuple[tuple[str, str], ...]
    emphasis: float


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, code blocks left out."""
    prose = _CODE.sub(" ", text)
    return [s.strip() for s in _SENTENCES.split(prose) if 8 <= len(s.strip())]


def entities(sentence: str) -> tuple[tuple[str, str], ...]:
    """``(kind, name)`` of the paths, identifiers, names and versions ``sentence`` names."""
    found: dict[tuple[str, str], None] = {}
    for kind, pattern in _ENTITY_PATTERNS:
        for match in pattern.finditer(sentence):
            name = match.group(0).strip(".")
            if name.lower() not in STOPWORDS and len(name) > 1:
                found.setdefault((kind, name), None)
    return tuple(found)


def emphasis(sentence: str) -> float:
    """User emphasis, 0..1: emphatic words, capitals, exclamation marks."""
    hits = len(EMPHASIS.findall(sentence)) + sentence.count("!")
    hits += sum(1 for word in re.findall(r"\b[A-Z]{3,}\b", sentence) if word not in {"API", "CSV", "SQL", "URL", "CLI"})
    return min(1.0, 0.5 * hits)


def subject_key(text: str) -> str:
    """A subject as compared: its keywords, sorted."""
    return " ".join(sorted(keywords(text)))[:120]


def _purpose(obj: str) -> str:
    found = _PURPOSE.search(_ASIDE.sub("", obj.rstrip(" .!?")))
    if not found:
        return ""
    # "managing Python packages" and "managing packages" are one subject: named things go
    purpose = found.group("purpose")
    return " ".join(word for word in purpose.split() if not word[:1].isupper()) or purpose


def classify(sentence: str) -> tuple[str, str] | None:
    """``(type, subject)`` of a sentence worth remembering, or ``None``."""
    if (found := _FAVOURITE.search(sentence)) is not None:
        return "preference", subject_key(found.group("subject"))
    if (found := _PREFERENCE.search(sentence)) is not None:
        obj = found.group("object")
        purpose = _purpose(obj)
        return "preference", subject_key(purpose or _OVER.split(obj)[0])
    if (found := _ALWAYS.match(sentence)) is not None:
        return "preference", subject_key(found.group("object"))
    if (found := _RELATION.search(sentence)) is not None:
        return "relationship", subject_key(f"{found.group('left')} {found.group('verb')}")
    if (found := _DECISION.search(sentence)) is not None:
        obj = found.group("object")
        purpose = _purpose(obj)
        return "decision", subject_key(purpose or obj.split(" to ")[0])
    if ((found := _FACT.search(sentence)) is not None and found.group("owner").lower() != "the") \
            or ((found := _FACT.search(sentence)) is not None and len(found.group("subject").split()) <= 3):
        return "fact", subject_key(found.group("subject"))
    if (found := _I_AM.search(sentence)) is not None:
        verb = found.group("verb").lower().replace("'m", "am")
        return "fact", f"self {verb}"
    return None


def candidates(text: str) -> list[Candidate]:
    """The statements of ``text`` worth remembering, in order, each sentence at most once."""
    found: list[Candidate] = []
    for sentence in sentences(text):
        if sentence.endswith("?") or SECRET.search(sentence):
            continue
        kind = classify(sentence)
        if kind is None:
            continue
        content = sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 3] + "..."
        found.append(Candidate(kind[0], content, kind[1], entities(sentence), emphasis(sentence)))
    return found
